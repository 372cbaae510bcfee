// Reconciliation of a day in core (core/reconciliation.ts): Stripe's balance transactions against
// the ledger's transactions, matched by id, compared in minor units; stable codes and actions;
// the postings of a fee billed apart. Worked cases, then properties over random days.
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { billedFeePostings, ledgerAmounts, reconcileDay, treatmentOf, utcDay, type LedgerMovement, type StripeMovement } from "../../core";

const DAY = "2026-03-02";
const T = 1_772_445_600; // 2026-03-02T10:00:00Z

function bt(over: Partial<StripeMovement> & Pick<StripeMovement, "id" | "type" | "amount_minor">): StripeMovement {
  return { reporting_category: over.type, fee_minor: 0, currency: "eur", created_s: T, source: null, description: null, ...over };
}

function txn(over: Partial<LedgerMovement> & Pick<LedgerMovement, "transaction_id" | "kind">): LedgerMovement {
  return { stripe_object: null, balance_transaction_id: null, currency: "eur", customers_minor: 0, transfers_minor: 0, fees_minor: 0, billed_fees_minor: 0, ...over };
}

/** A day at Stripe and the ledger that agrees with it: a payment, a refund, a dispute withdrawn, a transfer, a Billing fee, a payout to the bank. */
function cleanDay() {
  const stripe = [
    bt({ id: "txn_ch", type: "charge", amount_minor: 10_000, fee_minor: 175, source: "ch_1" }),
    bt({ id: "txn_re", type: "refund", amount_minor: -2_500, source: "re_1" }),
    bt({ id: "txn_dp", type: "adjustment", reporting_category: "dispute", amount_minor: -5_000, fee_minor: 1_500, source: "dp_1" }),
    bt({ id: "txn_tr", type: "transfer", amount_minor: -4_913, source: "tr_1" }),
    bt({ id: "txn_fee", type: "stripe_fee", reporting_category: "fee", amount_minor: -1_234, description: "Billing - Usage Fee (2026-02-01 - 2026-02-28)" }),
    bt({ id: "txn_po", type: "payout", amount_minor: -50_000, source: "po_1" }),
  ];
  const ledger = [
    txn({ transaction_id: "txn_pay_pi_1", kind: "payment", balance_transaction_id: "txn_ch", customers_minor: -10_000, fees_minor: 175 }),
    txn({ transaction_id: "txn_refund_re_1", kind: "refund", stripe_object: "re_1", customers_minor: 2_500 }),
    txn({ transaction_id: "txn_dispute_withdrawn_txn_dp", kind: "dispute_withdrawn", stripe_object: "txn_dp", customers_minor: 5_000, fees_minor: 1_500 }),
    txn({ transaction_id: "txn_payout_1", kind: "payout", stripe_object: "tr_1", transfers_minor: 4_913 }),
    txn({ transaction_id: "txn_stripe_fee_txn_fee", kind: "stripe_fee", stripe_object: "txn_fee", billed_fees_minor: 1_234 }),
    txn({ transaction_id: "txn_manual_1", kind: "payout_manual", currency: "eur" }),
  ];
  return { stripe, ledger };
}

describe("a day that reconciles", () => {
  it("matches every balance transaction the ledger books by id, leaves payouts to the bank aside, and finds no difference", () => {
    const { stripe, ledger } = cleanDay();
    expect(reconcileDay(DAY, stripe, ledger)).toEqual({
      matched: 5,
      outside: 1,
      differences: [],
      // 9,825 − 2,500 − 6,500 − 4,913 − 1,234 = −5,322 on both sides
      totals: [{ currency: "eur", stripe_net_minor: -5_322, ledger_net_minor: -5_322 }],
    });
  });

  it("reads each ledger transaction as Stripe states it: amount and fee from its postings on Stripe's accounts", () => {
    const { ledger } = cleanDay();
    expect(ledger.map((m) => [m.kind, ledgerAmounts(m)])).toEqual([
      ["payment", { amount_minor: 10_000, fee_minor: 175 }],
      ["refund", { amount_minor: -2_500, fee_minor: 0 }],
      ["dispute_withdrawn", { amount_minor: -5_000, fee_minor: 1_500 }],
      ["payout", { amount_minor: -4_913, fee_minor: 0 }],
      ["stripe_fee", { amount_minor: -1_234, fee_minor: 0 }],
      ["payout_manual", { amount_minor: 0, fee_minor: 0 }],
    ]);
  });
});

describe("differences, each with a stable code and what to do", () => {
  it("a charge Stripe has and the ledger does not: missing_in_ledger, retry its event", () => {
    const { stripe, ledger } = cleanDay();
    const result = reconcileDay(DAY, stripe, ledger.filter((m) => m.kind !== "payment"));
    expect(result.matched).toBe(4);
    expect(result.differences).toEqual([
      {
        code: "missing_in_ledger",
        stripe_object: "ch_1",
        balance_transaction: "txn_ch",
        stripe_type: "charge",
        transaction_id: null,
        kind: null,
        currency: "eur",
        stripe_amount_minor: 10_000,
        ledger_amount_minor: null,
        stripe_fee_minor: 175,
        ledger_fee_minor: null,
        action:
          "Stripe received 100.00 EUR (balance transaction txn_ch, ch_1) and the ledger has no payment for it. Find the payment's event (GET /api/v1/events?status=parked, or failed) and retry it once its cause is fixed; if Stripe never delivered one, resend checkout.session.completed or invoice.paid from the Stripe Dashboard (Developers, Events).",
      },
    ]);
    expect(result.totals).toEqual([{ currency: "eur", stripe_net_minor: -5_322, ledger_net_minor: -5_322 - 9_825 }]);
  });

  it("a transfer Stripe made that the ledger does not show: a contributor paid without the ledger knowing", () => {
    const { stripe, ledger } = cleanDay();
    const [difference] = reconcileDay(DAY, stripe, ledger.filter((m) => m.kind !== "payout")).differences;
    expect(difference).toMatchObject({ code: "missing_in_ledger", stripe_object: "tr_1", stripe_type: "transfer", stripe_amount_minor: -4_913 });
    expect(difference!.action).toBe(
      "Stripe transferred 49.13 EUR to a connected account (transfer tr_1) and the ledger shows no payout for it: a contributor was paid without the ledger knowing. Look at the payout run named by the transfer's transfer_group (GET /api/v1/payouts/{run_id}) and do not pay that contributor again before the transfer is on the ledger.",
    );
  });

  it("a ledger transaction Stripe does not list that day: missing_at_stripe", () => {
    const { stripe, ledger } = cleanDay();
    const result = reconcileDay(DAY, stripe.filter((b) => b.type !== "refund"), ledger);
    expect(result.differences).toEqual([
      {
        code: "missing_at_stripe",
        stripe_object: "re_1",
        balance_transaction: null,
        stripe_type: null,
        transaction_id: "txn_refund_re_1",
        kind: "refund",
        currency: "eur",
        stripe_amount_minor: null,
        ledger_amount_minor: -2_500,
        stripe_fee_minor: null,
        ledger_fee_minor: 0,
        action:
          "The ledger's refund txn_refund_re_1 (re_1) is dated 2026-03-02 at Stripe, but Stripe lists no balance transaction for it that day. Look it up in the Stripe Dashboard: if Stripe has it on another day, reconcile that day; if Stripe never had it, it was posted in error and needs a correcting transaction.",
      },
    ]);
  });

  it("amounts and fees that differ, and a currency that differs, each said with both ids and the gap", () => {
    const { stripe, ledger } = cleanDay();
    const changed = ledger.map((m) =>
      m.kind === "payment" ? { ...m, customers_minor: -9_999, fees_minor: 170 } : m.kind === "refund" ? { ...m, currency: "usd" } : m,
    );
    const result = reconcileDay(DAY, stripe, changed);
    expect(result.matched).toBe(3);
    expect(result.differences.map((d) => [d.code, d.balance_transaction, d.transaction_id, d.stripe_amount_minor, d.ledger_amount_minor, d.stripe_fee_minor, d.ledger_fee_minor])).toEqual([
      ["amount_differs", "txn_ch", "txn_pay_pi_1", 10_000, 9_999, 175, 170],
      ["fee_differs", "txn_ch", "txn_pay_pi_1", 10_000, 9_999, 175, 170],
      ["currency_differs", "txn_re", "txn_refund_re_1", -2_500, -2_500, 0, 0],
    ]);
    expect(result.differences[0]!.action).toBe(
      "Stripe moved 100.00 EUR with balance transaction txn_ch, the ledger's payment txn_pay_pi_1 says 99.99 EUR: 0.01 EUR apart. The ledger is corrected by a new transaction, never in place: report both ids to the developers.",
    );
    expect(result.differences[1]!.action).toBe(
      "Stripe's fee on balance transaction txn_ch is 1.75 EUR, the ledger's payment txn_pay_pi_1 booked 1.70 EUR: 0.05 EUR apart. The ledger is corrected by a new transaction: report both ids to the developers.",
    );
  });

  it("a movement Pot Commun does not book (a transfer reversed, another adjustment): not_booked", () => {
    const result = reconcileDay(DAY, [bt({ id: "txn_trr", type: "transfer_refund", reporting_category: "transfer_reversal", amount_minor: 1_000, source: "trr_1" }), bt({ id: "txn_adj", type: "adjustment", reporting_category: "other_adjustment", amount_minor: -300 })], []);
    expect(result.differences.map((d) => [d.code, d.stripe_object, d.action])).toEqual([
      ["not_booked", "trr_1", "A transfer to a connected account came back: 10.00 EUR (balance transaction txn_trr, trr_1, type transfer_refund, category transfer_reversal). Pot Commun does not book transfer reversals yet: the contributor's payout is still on the ledger as paid. Record it with the accountant and tell the developers."],
      ["not_booked", "txn_adj", "Stripe moved -3.00 EUR (balance transaction txn_adj, type adjustment, category other_adjustment), a kind of movement Pot Commun does not book. If it is the cooperative's money, book it by hand with the accountant; tell the developers if it comes again."],
    ]);
  });

  it("two ledger transactions for one Stripe movement: duplicate_in_ledger, the first one matched", () => {
    const { stripe, ledger } = cleanDay();
    const twice = [...ledger, txn({ transaction_id: "txn_refund_again", kind: "refund", stripe_object: "re_1", customers_minor: 2_500 })];
    const result = reconcileDay(DAY, stripe, twice);
    expect(result.matched).toBe(5);
    expect(result.differences.map((d) => [d.code, d.balance_transaction, d.transaction_id])).toEqual([["duplicate_in_ledger", "txn_re", "txn_refund_again"]]);
  });
});

describe("how a balance transaction is reconciled", () => {
  it.each([
    [{ id: "txn_1", type: "charge", reporting_category: "charge", source: "ch_1" }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "payment", reporting_category: "charge", source: "py_1" }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "refund", reporting_category: "refund", source: "re_1" }, { kind: "key", key: "refund:re_1" }],
    [{ id: "txn_1", type: "payment_refund", reporting_category: "refund", source: "re_1" }, { kind: "key", key: "refund:re_1" }],
    [{ id: "txn_1", type: "refund_failure", reporting_category: "refund_failure", source: "re_1" }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "adjustment", reporting_category: "dispute", source: "dp_1" }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "adjustment", reporting_category: "dispute_reversal", source: "dp_1" }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "adjustment", reporting_category: "other_adjustment", source: null }, { kind: "not_booked" }],
    [{ id: "txn_1", type: "transfer", reporting_category: "transfer", source: "tr_1" }, { kind: "key", key: "transfer:tr_1" }],
    [{ id: "txn_1", type: "stripe_fee", reporting_category: "fee", source: null }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "tax_fee", reporting_category: "tax", source: null }, { kind: "key", key: "bt:txn_1" }],
    [{ id: "txn_1", type: "payout", reporting_category: "payout", source: "po_1" }, { kind: "outside" }],
    [{ id: "txn_1", type: "topup", reporting_category: "topup", source: "tu_1" }, { kind: "outside" }],
    [{ id: "txn_1", type: "transfer_refund", reporting_category: "transfer_reversal", source: "trr_1" }, { kind: "not_booked" }],
    [{ id: "txn_1", type: "application_fee", reporting_category: "platform_earning", source: "fee_1" }, { kind: "not_booked" }],
  ] as const)("%j → %j", (b, expected) => {
    expect(treatmentOf(b)).toEqual(expected);
  });
});

describe("a fee billed apart", () => {
  it("is the cooperative's cost: stripe:fees takes it, coop:stripe_billing bears it", () => {
    expect(billedFeePostings({ id: "txn_f", type: "stripe_fee", amount_minor: -1_234, fee_minor: 0, currency: "eur" })).toEqual([
      { account: "stripe:fees", role: "billed_fee", amount_minor: 1_234, currency: "eur" },
      { account: "coop:stripe_billing", role: "billed_fee", amount_minor: -1_234, currency: "eur" },
    ]);
    // a credit of a fee goes the other way; a fee on the fee is its own posting
    expect(billedFeePostings({ id: "txn_c", type: "stripe_fee", amount_minor: 200, fee_minor: 0, currency: "eur" })).toEqual([
      { account: "stripe:fees", role: "billed_fee", amount_minor: -200, currency: "eur" },
      { account: "coop:stripe_billing", role: "billed_fee", amount_minor: 200, currency: "eur" },
    ]);
    expect(billedFeePostings({ id: "txn_t", type: "tax_fee", amount_minor: -100, fee_minor: 5, currency: "eur" })).toEqual([
      { account: "stripe:fees", role: "billed_fee", amount_minor: 100, currency: "eur" },
      { account: "stripe:fees", role: "fee", amount_minor: 5, currency: "eur" },
      { account: "coop:stripe_billing", role: "billed_fee", amount_minor: -105, currency: "eur" },
    ]);
  });

  it("reads back from its postings as the balance transaction it came from", () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: -1_000, max: 1_000 }), (amount_minor, fee_minor) => {
        const postings = billedFeePostings({ id: "txn_x", type: "stripe_fee", amount_minor, fee_minor, currency: "eur" });
        const sum = (role: string) => postings.filter((p) => p.account === "stripe:fees" && p.role === role).reduce((a, p) => a + p.amount_minor, 0);
        expect(ledgerAmounts(txn({ transaction_id: "t", kind: "stripe_fee", stripe_object: "txn_x", billed_fees_minor: sum("billed_fee"), fees_minor: sum("fee") }))).toEqual({ amount_minor: amount_minor === 0 ? 0 : amount_minor, fee_minor });
      }),
    );
  });

  it("is refused for a balance transaction that is not one", () => {
    expect(() => billedFeePostings({ id: "txn_ch", type: "charge", amount_minor: 100, fee_minor: 0, currency: "eur" })).toThrow(/not a fee billed apart/);
  });
});

describe("properties over random days", () => {
  /** A random day at Stripe, and the ledger that mirrors it. */
  const day = fc
    .array(
      fc.record({
        type: fc.constantFrom("charge", "refund", "refund_failure", "dispute", "dispute_reversal", "transfer", "stripe_fee", "payout"),
        amount: fc.integer({ min: 1, max: 1_000_000 }),
        fee: fc.integer({ min: 0, max: 5_000 }),
        currency: fc.constantFrom("eur", "usd", "jpy"),
      }),
      { maxLength: 40 },
    )
    .map((rows) => {
      const stripe: StripeMovement[] = [];
      const ledger: LedgerMovement[] = [];
      rows.forEach((r, i) => {
        const id = `txn_${i}`;
        const currency = r.currency;
        switch (r.type) {
          case "charge":
            stripe.push(bt({ id, type: "charge", amount_minor: r.amount, fee_minor: r.fee, currency, source: `ch_${i}` }));
            ledger.push(txn({ transaction_id: `t${i}`, kind: "payment", balance_transaction_id: id, currency, customers_minor: -r.amount, fees_minor: r.fee }));
            break;
          case "refund":
            stripe.push(bt({ id, type: "refund", amount_minor: -r.amount, currency, source: `re_${i}` }));
            ledger.push(txn({ transaction_id: `t${i}`, kind: "refund", stripe_object: `re_${i}`, currency, customers_minor: r.amount }));
            break;
          case "refund_failure":
            stripe.push(bt({ id, type: "refund_failure", amount_minor: r.amount, currency, source: `re_${i}` }));
            ledger.push(txn({ transaction_id: `t${i}`, kind: "refund_failed", stripe_object: id, currency, customers_minor: -r.amount }));
            break;
          case "dispute":
            stripe.push(bt({ id, type: "adjustment", reporting_category: "dispute", amount_minor: -r.amount, fee_minor: r.fee, currency, source: `dp_${i}` }));
            ledger.push(txn({ transaction_id: `t${i}`, kind: "dispute_withdrawn", stripe_object: id, currency, customers_minor: r.amount, fees_minor: r.fee }));
            break;
          case "dispute_reversal":
            stripe.push(bt({ id, type: "adjustment", reporting_category: "dispute_reversal", amount_minor: r.amount, fee_minor: -r.fee, currency, source: `dp_${i}` }));
            ledger.push(txn({ transaction_id: `t${i}`, kind: "dispute_reinstated", stripe_object: id, currency, customers_minor: -r.amount, fees_minor: -r.fee }));
            break;
          case "transfer":
            stripe.push(bt({ id, type: "transfer", amount_minor: -r.amount, currency, source: `tr_${i}` }));
            ledger.push(txn({ transaction_id: `t${i}`, kind: "payout", stripe_object: `tr_${i}`, currency, transfers_minor: r.amount }));
            break;
          case "stripe_fee": {
            const fee = bt({ id, type: "stripe_fee", reporting_category: "fee", amount_minor: -r.amount, currency });
            stripe.push(fee);
            const postings = billedFeePostings(fee);
            ledger.push(txn({ transaction_id: `t${i}`, kind: "stripe_fee", stripe_object: id, currency, billed_fees_minor: postings.filter((p) => p.account === "stripe:fees").reduce((a, p) => a + p.amount_minor, 0) }));
            break;
          }
          case "payout":
            stripe.push(bt({ id, type: "payout", amount_minor: -r.amount, currency, source: `po_${i}` }));
            break;
        }
      });
      return { stripe, ledger };
    });

  it("a ledger that mirrors Stripe reconciles: every movement matched, no difference, the same net per currency", () => {
    fc.assert(
      fc.property(day, ({ stripe, ledger }) => {
        const result = reconcileDay(DAY, stripe, ledger);
        expect(result.differences).toEqual([]);
        expect(result.matched).toBe(ledger.length);
        expect(result.matched + result.outside).toBe(stripe.length);
        for (const t of result.totals) expect(t.stripe_net_minor).toBe(t.ledger_net_minor);
      }),
    );
  });

  it("a transaction taken out of the ledger is exactly one missing_in_ledger, naming its balance transaction; one taken out of Stripe exactly one missing_at_stripe, naming the ledger's", () => {
    fc.assert(
      fc.property(
        day.filter(({ ledger }) => ledger.length > 0),
        fc.nat(),
        ({ stripe, ledger }, pick) => {
          const gone = ledger[pick % ledger.length]!;
          const withoutLedger = reconcileDay(DAY, stripe, ledger.filter((m) => m !== gone));
          expect(withoutLedger.differences.map((d) => d.code)).toEqual(["missing_in_ledger"]);
          expect(withoutLedger.matched).toBe(ledger.length - 1);
          const key = gone.kind === "payment" ? gone.balance_transaction_id : gone.stripe_object;
          expect([withoutLedger.differences[0]!.balance_transaction, withoutLedger.differences[0]!.stripe_object]).toContain(key);

          const atStripe = stripe.find((b) => treatmentOf(b).kind === "key" && [b.id, b.source].includes(key));
          const withoutStripe = reconcileDay(DAY, stripe.filter((b) => b !== atStripe), ledger);
          expect(withoutStripe.differences.map((d) => [d.code, d.transaction_id])).toEqual([["missing_at_stripe", gone.transaction_id]]);
        },
      ),
    );
  });

  it("an amount changed by any number of minor units is amount_differs, with that gap", () => {
    fc.assert(
      fc.property(
        day.filter(({ ledger }) => ledger.some((m) => m.kind === "payment")),
        fc.integer({ min: -1_000, max: 1_000 }).filter((n) => n !== 0),
        ({ stripe, ledger }, gap) => {
          const target = ledger.find((m) => m.kind === "payment")!;
          const result = reconcileDay(DAY, stripe, ledger.map((m) => (m === target ? { ...m, customers_minor: m.customers_minor - gap } : m)));
          expect(result.differences.map((d) => [d.code, d.transaction_id])).toEqual([["amount_differs", target.transaction_id]]);
          expect(result.differences[0]!.stripe_amount_minor! - result.differences[0]!.ledger_amount_minor!).toBe(-gap);
        },
      ),
    );
  });
});

describe("a day", () => {
  it("is a calendar date in UTC, from midnight to midnight", () => {
    expect(utcDay("2026-03-02")).toEqual({ start_s: 1_772_409_600, end_s: 1_772_496_000 });
    expect(utcDay("2024-02-29")).toEqual({ start_s: 1_709_164_800, end_s: 1_709_251_200 });
    for (const bad of ["2026-02-30", "2026-13-01", "2026-3-2", "02/03/2026", "2026-03-02T00:00:00Z", ""]) expect(utcDay(bad)).toBeNull();
  });
});
