// The emulator's refunds and disputes of a built payment (infra/stripe-emulator/refund.ts and
// dispute.ts): Stripe's shapes (the keys of its example objects, the SDK's types through tsc),
// balance transactions whose amounts follow from the payment, the charge after each step and
// the events each step sends; and the emulator serving them (retrieve, expand, lists).
import { readFileSync } from "node:fs";

import fc from "fast-check";
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";

import { convertMinor } from "../../infra/stripe-emulator/amounts";
import { createStripeEmulator, type StripeEmulator } from "../../infra/stripe-emulator/app";
import {
  buildDispute,
  buildHostingPayment,
  buildInquiry,
  buildRefund,
  buildTrainingPayment,
  cancelRefund,
  closeInquiry,
  DEFAULT_DISPUTE_FEE_MINOR,
  emulatorObjects,
  failRefund,
  loseDispute,
  succeedRefund,
  winDispute,
  type BuiltRefund,
  type PaymentCore,
} from "../../infra/stripe-emulator/objects";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../infra/stripe-fixtures/${name}.json`, import.meta.url), "utf8")) as Record<string, unknown>;
const keys = (o: object) => Object.keys(o).sort();
const REFUND_KEYS = keys(fixture("refund"));
const DISPUTE_KEYS = keys(fixture("dispute"));
const BT_KEYS = keys(fixture("balance_transaction"));
const CHARGE_KEYS = keys(fixture("charge"));

/** 2026-01-01T00:00:00Z, and a week. */
const T0 = 1_767_225_600;
const WEEK = 7 * 86400;

function training(amount_minor = 10_000, extra: Partial<Parameters<typeof buildTrainingPayment>[0]> = {}) {
  return buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro", created: T0, fee_minor: 175, ...extra });
}
/** Paid 100.00 usd, settled in eur at 0.9213: 9213 eur. */
function dollars() {
  return buildTrainingPayment({ amount_minor: 10_000, currency: "usd", price_id: "price_x", settlement_currency: "eur", exchange_rate: 0.9213, created: T0, fee_minor: 163 });
}
const types = (events: Stripe.Event[]) => events.map((e) => e.type);
const previous = (e: Stripe.Event) => (e.data as { previous_attributes?: Record<string, unknown> }).previous_attributes;

describe("a refund", () => {
  it("of the whole payment, by default: the refund, its balance transaction out of the balance, the charge fully refunded, refund.created and charge.refunded", () => {
    const t = training();
    const r = buildRefund(t, { created: T0 + 3600, ids: { refund: "re_full", balance_transaction: "txn_re_full" } });
    expect(keys(r.refund)).toEqual(REFUND_KEYS);
    expect(r.refund).toMatchObject({
      id: "re_full",
      object: "refund",
      amount: 10_000,
      currency: "eur",
      charge: t.charge.id,
      payment_intent: t.payment_intent.id,
      payment_method: t.charge.payment_method,
      balance_transaction: "txn_re_full",
      status: "succeeded",
      created: T0 + 3600,
      destination_details: { card: { type: "refund" }, type: "card" },
    });
    expect(r.balance_transactions).toHaveLength(1);
    const bt = r.balance_transactions[0]!;
    expect(keys(bt)).toEqual(BT_KEYS);
    expect(bt).toMatchObject({ id: "txn_re_full", amount: -10_000, currency: "eur", exchange_rate: null, fee: 0, fee_details: [], net: -10_000, type: "refund", reporting_category: "refund", source: "re_full", created: T0 + 3600 });

    const charge = r.payment.charge;
    expect(keys(charge)).toEqual(CHARGE_KEYS);
    expect(charge).toMatchObject({ id: t.charge.id, amount: 10_000, amount_refunded: 10_000, refunded: true });
    expect(charge.refunds).toEqual({ object: "list", data: [r.refund], has_more: false, url: `/v1/charges/${t.charge.id}/refunds` });
    // the payment it came from is left as it was
    expect(t.charge).toMatchObject({ amount_refunded: 0, refunded: false });

    expect(types(r.events)).toEqual(["refund.created", "charge.refunded"]);
    expect(r.events[0]!.data.object).toEqual(r.refund);
    // Webhooks carry the charge without its refunds, an includable since API version 2022-11-15.
    const { refunds: _, ...sent } = charge;
    expect(r.events[1]!.data.object).toEqual(sent);
    expect(previous(r.events[1]!)).toEqual({ amount_refunded: 0, refunded: false });
    expect(r.events.map((e) => e.created)).toEqual([T0 + 3600, T0 + 3600]);
  });

  it("in parts: each takes what it asks, the last takes exactly what is left, and no refund takes more", () => {
    const t = training(10_001);
    const a = buildRefund(t, { amount_minor: 3000, created: T0 + 1 });
    const b = buildRefund(a.payment, { amount_minor: 2000, created: T0 + 2 });
    const c = buildRefund(b.payment, { created: T0 + 3 });
    expect([a.refund.amount, b.refund.amount, c.refund.amount]).toEqual([3000, 2000, 5001]);
    expect([a.payment.charge.amount_refunded, b.payment.charge.amount_refunded, c.payment.charge.amount_refunded]).toEqual([3000, 5000, 10_001]);
    expect([a.payment.charge.refunded, b.payment.charge.refunded, c.payment.charge.refunded]).toEqual([false, false, true]);
    // newest first, as Stripe lists
    expect(c.payment.charge.refunds!.data.map((x) => x.id)).toEqual([c.refund.id, b.refund.id, a.refund.id]);
    expect(previous(b.events[1]!)).toEqual({ amount_refunded: 3000 });
    expect(previous(c.events[1]!)).toEqual({ amount_refunded: 5000, refunded: false });
    expect(() => buildRefund(c.payment, { created: T0 + 4 })).toThrow(/nothing to refund: .* has 0 of 10001 eur left/);
    expect(() => buildRefund(b.payment, { amount_minor: 5002 })).toThrow(/a refund of 5002 is more than the 5001 eur left to refund/);
    expect(() => buildRefund(t, { amount_minor: 0 })).toThrow(/nothing to refund/);
    expect(() => buildRefund(t, { amount_minor: 1.5 })).toThrow(/integer/);
  });

  it("of many parts embeds the 10 newest on the charge, with has_more", () => {
    let p: PaymentCore = training(1200);
    const made: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = buildRefund(p, { amount_minor: 100, created: T0 + i });
      made.push(r.refund.id);
      p = r.payment;
    }
    expect(p.charge.refunds!.data.map((r) => r.id)).toEqual(made.slice(2).reverse());
    expect(p.charge.refunds!.has_more).toBe(true);
    expect(p.charge).toMatchObject({ amount_refunded: 1200, refunded: true });
  });

  it("of a payment settled in another currency is converted at the refund day's rate, or the payment's when none is given, or is the settled amount given", () => {
    const t = dollars();
    expect(t.balance_transaction).toMatchObject({ amount: 9213, currency: "eur", exchange_rate: 0.9213 });
    // 2500 × 0.9301 = 2325.25 → 2325
    const sameDayLater = buildRefund(t, { amount_minor: 2500, settlement: { exchange_rate: 0.9301 } });
    expect(sameDayLater.refund).toMatchObject({ amount: 2500, currency: "usd" });
    expect(sameDayLater.balance_transactions[0]).toMatchObject({ amount: -2325, net: -2325, currency: "eur", exchange_rate: 0.9301 });
    // 2500 × 0.9213 = 2303.25 → 2303
    expect(buildRefund(t, { amount_minor: 2500 }).balance_transactions[0]).toMatchObject({ amount: -2303, exchange_rate: 0.9213 });
    expect(buildRefund(t, { amount_minor: 2500, settlement: { amount_minor: 2290 } }).balance_transactions[0]).toMatchObject({ amount: -2290, currency: "eur" });
    // the whole payment at the payment's own rate gives back exactly what came in
    expect(buildRefund(t).balance_transactions[0]!.amount).toBe(-9213);
  });

  it("is −amount at the given rate, to the cent, for any amount and rate; a fee, when given, is on top", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 0, max: 500 }), (amount, rate_e4, fee) => {
        const rate = rate_e4 / 10_000;
        const r = buildRefund(dollars(), { amount_minor: amount, settlement: { exchange_rate: rate }, fee_minor: fee });
        const bt = r.balance_transactions[0]!;
        expect(bt.amount).toBe(0 - convertMinor(amount, rate, 2, 2));
        expect([bt.fee, bt.net]).toEqual([fee, bt.amount - fee]);
        expect(bt.fee_details).toEqual(fee > 0 ? [{ amount: fee, application: null, currency: "eur", description: "Stripe refund fees", type: "stripe_fee" }] : []);
      }),
    );
  });

  it("that succeeds, then fails a week later: refund.updated from succeeded, refund.failed, a refund_failure that gives the money back, the charge no longer counting it", () => {
    const t = dollars();
    const r = buildRefund(t, { amount_minor: 2500, status: "failed", created: T0 + 3600, settlement: { exchange_rate: 0.9301 } });
    expect(keys(r.refund)).toEqual([...REFUND_KEYS, "failure_balance_transaction", "failure_reason"].sort());
    const [debit, credit] = r.balance_transactions;
    expect(r.refund).toMatchObject({ status: "failed", failure_reason: "expired_or_canceled_card", balance_transaction: debit!.id, failure_balance_transaction: credit!.id });
    expect(debit).toMatchObject({ type: "refund", amount: -2325 });
    expect(keys(credit!)).toEqual(BT_KEYS);
    expect(credit).toMatchObject({ type: "refund_failure", reporting_category: "refund_failure", amount: 2325, fee: 0, net: 2325, currency: "eur", exchange_rate: 0.9301, source: r.refund.id, created: T0 + 3600 + WEEK });
    expect(debit!.net + credit!.net).toBe(0);
    expect(types(r.events)).toEqual(["refund.created", "charge.refunded", "refund.updated", "refund.failed"]);
    expect((r.events[0]!.data.object as Stripe.Refund).status).toBe("succeeded");
    expect(previous(r.events[2]!)).toEqual({ status: "succeeded", failure_balance_transaction: null, failure_reason: null });
    expect(r.events[2]!.data.object).toEqual(r.refund);
    expect(r.events[3]!.data.object).toEqual(r.refund);
    expect(r.events.map((e) => e.created)).toEqual([T0 + 3600, T0 + 3600, T0 + 3600 + WEEK, T0 + 3600 + WEEK]);
    expect(r.payment.charge).toMatchObject({ amount_refunded: 0, refunded: false });
    expect(r.payment.charge.refunds!.data).toEqual([r.refund]);
  });

  it("fails in a later step too (failRefund), with its own reason, date and amount; only a succeeded or pending refund fails", () => {
    const made = buildRefund(training(), { amount_minor: 4000, created: T0 });
    const failed = failRefund(made, { created: T0 + 10, failure_reason: "lost_or_stolen_card", settlement_amount_minor: 3999, id: "txn_fail" });
    expect(types(failed.events)).toEqual(["refund.updated", "refund.failed"]);
    expect(failed.refund).toMatchObject({ status: "failed", failure_reason: "lost_or_stolen_card", failure_balance_transaction: "txn_fail" });
    expect(failed.balance_transactions.map((bt) => [bt.type, bt.amount, bt.created])).toEqual([
      ["refund", -4000, T0],
      ["refund_failure", 3999, T0 + 10],
    ]);
    expect(failed.payment.charge.amount_refunded).toBe(0);
    // the money can be refunded again
    expect(buildRefund(failed.payment).refund.amount).toBe(10_000);
    expect(() => failRefund(failed)).toThrow(/only a succeeded or pending refund fails; .* is failed/);
  });

  it("that was canceled: it waited in requires_action with the money held, then came back with failure_reason merchant_request", () => {
    const r = buildRefund(training(), { amount_minor: 1000, status: "canceled", created: T0 });
    expect(r.refund).toMatchObject({ status: "canceled", failure_reason: "merchant_request" });
    expect(r.balance_transactions.map((bt) => [bt.type, bt.amount])).toEqual([
      ["refund", -1000],
      ["refund_failure", 1000],
    ]);
    expect(types(r.events)).toEqual(["refund.created", "charge.refunded", "refund.updated"]);
    expect((r.events[0]!.data.object as Stripe.Refund).status).toBe("requires_action");
    expect(previous(r.events[2]!)).toEqual({ status: "requires_action", failure_balance_transaction: null, failure_reason: null });
    expect(r.payment.charge.amount_refunded).toBe(0);
    expect(() => cancelRefund(buildRefund(training()))).toThrow(/only a refund in requires_action can be canceled/);
  });

  it("pending: with its money out while processing, without while the balance lacks funds; succeedRefund then takes it and sends refund.updated", () => {
    const processing = buildRefund(training(), { amount_minor: 1000, status: "pending", created: T0 });
    expect(processing.refund).toMatchObject({ status: "pending", pending_reason: "processing", destination_details: { card: { type: "pending" }, type: "card" } });
    expect(processing.balance_transactions).toHaveLength(1);
    expect(processing.payment.charge.amount_refunded).toBe(1000);

    const waiting = buildRefund(training(), { amount_minor: 1000, status: "pending", pending_reason: "insufficient_funds", created: T0 });
    expect(waiting.refund.balance_transaction).toBeNull();
    expect(waiting.balance_transactions).toEqual([]);
    const done = succeedRefund(waiting, { created: T0 + 86400, balance_transaction_id: "txn_later" });
    expect(done.refund).toMatchObject({ status: "succeeded", balance_transaction: "txn_later", destination_details: { card: { type: "refund" } } });
    expect(done.refund).not.toHaveProperty("pending_reason");
    expect(done.balance_transactions.map((bt) => [bt.id, bt.amount, bt.created])).toEqual([["txn_later", -1000, T0 + 86400]]);
    expect(types(done.events)).toEqual(["refund.updated"]);
    expect(previous(done.events[0]!)).toEqual({ status: "pending", pending_reason: "insufficient_funds", destination_details: { card: { type: "pending" }, type: "card" }, balance_transaction: null });
    expect(done.payment.charge.amount_refunded).toBe(1000);
    expect(() => succeedRefund(done)).toThrow(/only a pending refund succeeds later/);
  });

  it("of an invoice's payment, and of an Adaptive Pricing payment (its share of what the customer saw)", () => {
    const h = buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic", created: T0 });
    const r = buildRefund(h, { amount_minor: 900 });
    expect(r.refund).toMatchObject({ charge: h.charge.id, payment_intent: h.payment_intent.id, amount: 900 });
    expect(r.payment.invoice.id).toBe(h.invoice.id); // the rest of the build result is carried along

    const a = training(10_000, { presentment: { currency: "usd", amount_minor: 10_837 } });
    // 3333 × 10837 / 10000 = 3611.97… → 3612
    expect(buildRefund(a, { amount_minor: 3333 }).refund.presentment_details).toEqual({ presentment_amount: 3612, presentment_currency: "usd" });
    expect(buildRefund(a).refund.presentment_details).toEqual({ presentment_amount: 10_837, presentment_currency: "usd" });
  });

  it("is refused for a charge that has not succeeded", () => {
    const unpaid = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "p", payment_status: "unpaid" });
    expect(() => buildRefund(unpaid)).toThrow(/only a succeeded charge is refunded here; .* is pending/);
  });
});

describe("a dispute", () => {
  it("withdraws the disputed amount and Stripe's dispute fee in one adjustment, marks the charge disputed, sends charge.dispute.created and funds_withdrawn", () => {
    const t = training(10_001);
    const d = buildDispute(t, { created: T0 + WEEK, ids: { dispute: "dp_1", balance_transaction: "txn_dp_1" } });
    expect(keys(d.dispute)).toEqual(DISPUTE_KEYS);
    expect(d.dispute).toMatchObject({
      id: "dp_1",
      amount: 10_001,
      currency: "eur",
      charge: t.charge.id,
      payment_intent: t.payment_intent.id,
      status: "needs_response",
      reason: "fraudulent",
      is_charge_refundable: false,
      created: T0 + WEEK,
      payment_method_details: { card: { case_type: "chargeback", network_reason_code: "10.4" }, type: "card" },
    });
    const [w] = d.balance_transactions;
    expect(keys(w!)).toEqual(BT_KEYS);
    expect(w).toMatchObject({
      id: "txn_dp_1",
      type: "adjustment",
      reporting_category: "dispute",
      amount: -10_001,
      fee: DEFAULT_DISPUTE_FEE_MINOR,
      fee_details: [{ amount: 1500, application: null, currency: "eur", description: "Dispute fee", type: "stripe_fee" }],
      net: -11_501,
      source: "dp_1",
      description: `Chargeback withdrawal for ${t.charge.id}`,
    });
    expect(d.dispute.balance_transactions).toEqual([w]);
    expect(d.payment.charge.disputed).toBe(true);
    expect(t.charge.disputed).toBe(false);
    expect(types(d.events)).toEqual(["charge.dispute.created", "charge.dispute.funds_withdrawn"]);
    for (const e of d.events) expect(e.data.object).toEqual(d.dispute);
    expect(() => buildDispute(d.payment)).toThrow(/already disputed/);
  });

  it("nets −amount − fee for any amount and fee, at the dispute day's rate when the payment settled in another currency", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 30_000 }), (amount, fee, rate_e4) => {
        const rate = rate_e4 / 10_000;
        const w = buildDispute(dollars(), { amount_minor: amount, fee_minor: fee, settlement: { exchange_rate: rate } }).balance_transactions[0]!;
        expect(w.amount).toBe(0 - convertMinor(amount, rate, 2, 2));
        expect([w.currency, w.exchange_rate, w.fee, w.net]).toEqual(["eur", rate, fee, w.amount - fee]);
      }),
    );
    expect(buildDispute(dollars()).balance_transactions[0]).toMatchObject({ amount: -9213, exchange_rate: 0.9213, fee: 1500, net: -10_713 });
    const yen = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "p", settlement_currency: "jpy", exchange_rate: 160, fee_minor: 0 });
    expect(() => buildDispute(yen)).toThrow(/give fee_minor/);
    expect(buildDispute(yen, { fee_minor: 2300 }).balance_transactions[0]).toMatchObject({ amount: -1600, fee: 2300, net: -3900, currency: "jpy" });
    expect(() => buildDispute(training(), { amount_minor: 10_001 })).toThrow(/not within the charge's 10000 eur/);
  });

  it("won with the fee returned: a dispute_reversal of +amount and −fee, so withdrawal and reinstatement cancel out; closed, then funds_reinstated", () => {
    const d = buildDispute(training(10_001), { created: T0 });
    const won = winDispute(d, { fee_returned: true, created: T0 + 30 * 86400, id: "txn_back" });
    const [w, r] = won.balance_transactions;
    expect(keys(r!)).toEqual(BT_KEYS);
    expect(r).toMatchObject({
      id: "txn_back",
      type: "adjustment",
      reporting_category: "dispute_reversal",
      amount: 10_001,
      fee: -1500,
      fee_details: [{ amount: -1500, application: null, currency: "eur", description: "Dispute fee", type: "stripe_fee" }],
      net: 11_501,
      source: d.dispute.id,
      created: T0 + 30 * 86400,
    });
    expect(w!.net + r!.net).toBe(0);
    expect(won.dispute).toMatchObject({ status: "won", balance_transactions: [w, r], evidence_details: { has_evidence: true, submission_count: 1 } });
    expect(types(won.events)).toEqual(["charge.dispute.closed", "charge.dispute.funds_reinstated"]);
    expect(previous(won.events[0]!)).toEqual({ status: "needs_response" });
    for (const e of won.events) expect(e.data.object).toEqual(won.dispute);
  });

  it("won with the fee kept (the default): +amount, no fee, the balance short of the dispute fee", () => {
    const d = buildDispute(training(10_001), { created: T0 });
    const won = winDispute(d);
    const [w, r] = won.balance_transactions;
    expect(r).toMatchObject({ amount: 10_001, fee: 0, fee_details: [], net: 10_001, reporting_category: "dispute_reversal", created: T0 + 30 * 86400 });
    expect(w!.net + r!.net).toBe(-1500);
    expect(() => winDispute(won)).toThrow(/only an open chargeback is won; .* is won/);
  });

  it("lost: closed with status lost, no money moves beyond the withdrawal", () => {
    const d = buildDispute(training(), { created: T0 });
    const lost = loseDispute(d, { created: T0 + 60 });
    expect(lost.dispute).toMatchObject({ status: "lost" });
    expect(lost.balance_transactions).toEqual(d.balance_transactions);
    expect(types(lost.events)).toEqual(["charge.dispute.closed"]);
    expect(lost.events[0]!.created).toBe(T0 + 60);
    expect(() => closeInquiry(d)).toThrow(/only an open inquiry/);
    expect(() => loseDispute(lost)).toThrow(/only an open chargeback is lost/);
  });

  it("an inquiry moves no money and leaves the charge refundable: created, then closed as warning_closed, no funds events", () => {
    const t = training();
    const q = buildInquiry(t, { created: T0, reason: "general" });
    expect(keys(q.dispute)).toEqual(DISPUTE_KEYS);
    expect(q.dispute).toMatchObject({ status: "warning_needs_response", is_charge_refundable: true, balance_transactions: [], reason: "general", payment_method_details: { card: { case_type: "inquiry", network_reason_code: null } }, enhanced_eligibility_types: [] });
    expect(q.balance_transactions).toEqual([]);
    expect(types(q.events)).toEqual(["charge.dispute.created"]);
    const closed = closeInquiry(q);
    expect(closed.dispute).toMatchObject({ status: "warning_closed", balance_transactions: [] });
    expect(types(closed.events)).toEqual(["charge.dispute.closed"]);
    expect(previous(closed.events[0]!)).toEqual({ status: "warning_needs_response" });
    expect(() => winDispute(q)).toThrow(/only an open chargeback is won; .* is warning_needs_response/);
    // an inquired charge can still be refunded
    expect(buildRefund(q.payment).refund.status).toBe("succeeded");
  });
});

describe("refunds and disputes are typed by the SDK", () => {
  it("a refund chain keeps the builder's payment type", () => {
    const r: BuiltRefund<ReturnType<typeof training>> = buildRefund(training());
    expect(r.payment.session.id).toMatch(/^cs_test_/);
  });
});

// ---------------------------------------------------------------------------------------------
// The emulator serves them
// ---------------------------------------------------------------------------------------------

describe("the emulator serves refunds, disputes and balance transactions", () => {
  const KEY = "sk_test_local";
  type Json = Record<string, any>;
  let app: StripeEmulator;
  beforeEach(() => {
    app = createStripeEmulator();
  });
  async function call(path: string): Promise<{ status: number; body: Json }> {
    const res = await app.fetch(new Request(`http://127.0.0.1:12111${path}`, { headers: { Authorization: `Bearer ${KEY}` } }));
    return { status: res.status, body: (await res.json()) as Json };
  }
  async function get(path: string): Promise<Json> {
    const r = await call(path);
    expect(r.status, path).toBe(200);
    return r.body;
  }
  async function put(objects: unknown[]): Promise<void> {
    const res = await app.fetch(new Request("http://127.0.0.1:12111/_emulator/objects", { method: "POST", body: JSON.stringify(objects) }));
    expect(res.status).toBe(200);
  }
  const ids = (list: Json) => (list.data as Json[]).map((o) => o.id);

  it("a refund, its balance transactions and its charge, expanded as Stripe allows", async () => {
    const t = dollars();
    const r = buildRefund(t, { amount_minor: 2500, status: "failed", created: T0 + 60, settlement: { exchange_rate: 0.9301 } });
    await put([...emulatorObjects(t), ...emulatorObjects(r)]);
    expect(await get(`/v1/refunds/${r.refund.id}`)).toEqual(r.refund);
    for (const bt of r.balance_transactions) expect(await get(`/v1/balance_transactions/${bt.id}`)).toEqual(bt);
    const expanded = await get(`/v1/refunds/${r.refund.id}?expand[]=balance_transaction&expand[]=failure_balance_transaction&expand[]=charge&expand[]=payment_intent`);
    expect(expanded.balance_transaction).toEqual(r.balance_transactions[0]);
    expect(expanded.failure_balance_transaction).toEqual(r.balance_transactions[1]);
    expect(expanded.payment_intent).toEqual(t.payment_intent);
    expect(expanded.charge).toMatchObject({ id: t.charge.id, amount_refunded: 0, refunded: false });
    // the charge: its refunded amount always, its refunds only when expanded
    const charge = await get(`/v1/charges/${t.charge.id}`);
    expect(charge).not.toHaveProperty("refunds");
    expect((await get(`/v1/charges/${t.charge.id}?expand[]=refunds`)).refunds).toEqual(r.payment.charge.refunds);
    expect(await get(`/v1/charges/${t.charge.id}/refunds`)).toEqual(r.payment.charge.refunds);
    // a balance transaction's source, expanded, is the refund
    expect((await get(`/v1/balance_transactions/${r.balance_transactions[1]!.id}?expand[]=source`)).source).toEqual(r.refund);
    for (const e of r.events) expect(await get(`/v1/events/${e.id}`)).toEqual(e);
  });

  it("a refund that has not failed is retrieved with expand[]=failure_balance_transaction, which stays absent, as the money-back workflow asks", async () => {
    const t = training();
    const r = buildRefund(t, { amount_minor: 1000, created: T0 });
    await put([...emulatorObjects(t), ...emulatorObjects(r)]);
    const got = await get(`/v1/refunds/${r.refund.id}?expand[]=balance_transaction&expand[]=failure_balance_transaction`);
    expect(got).toEqual({ ...r.refund, balance_transaction: r.balance_transactions[0] });
    expect(got).not.toHaveProperty("failure_balance_transaction");
    // a property that is never expandable is still refused, as Stripe does
    const bad = await call(`/v1/refunds/${r.refund.id}?expand[]=reason_code`);
    expect([bad.status, bad.body.error.message]).toEqual([400, "This property cannot be expanded (reason_code)."]);
  });

  it("a dispute with its balance transactions embedded, its charge and payment intent expanded", async () => {
    const t = training();
    const won = winDispute(buildDispute(t, { created: T0 }), { fee_returned: true });
    await put([...emulatorObjects(t), ...emulatorObjects(won)]);
    expect(await get(`/v1/disputes/${won.dispute.id}`)).toEqual(won.dispute);
    // embedded whole at Stripe: asking to expand them changes nothing
    expect((await get(`/v1/disputes/${won.dispute.id}?expand[]=balance_transactions`)).balance_transactions).toEqual(won.balance_transactions);
    const expanded = await get(`/v1/disputes/${won.dispute.id}?expand[]=charge&expand[]=payment_intent`);
    expect(expanded.charge).toMatchObject({ id: t.charge.id, disputed: true });
    expect(expanded.payment_intent).toEqual(t.payment_intent);
    for (const bt of won.balance_transactions) expect(await get(`/v1/balance_transactions/${bt.id}`)).toEqual(bt);
    expect(ids(await get(`/v1/disputes?charge=${t.charge.id}`))).toEqual([won.dispute.id]);
    expect(ids(await get(`/v1/disputes?payment_intent=${t.payment_intent.id}`))).toEqual([won.dispute.id]);
    expect((await get(`/v1/disputes?charge=ch_other`)).data).toEqual([]);
  });

  it("lists refunds by charge or payment intent, newest first, paged with starting_after and ending_before", async () => {
    const a = training();
    const b = training();
    await put([...emulatorObjects(a), ...emulatorObjects(b)]);
    let p: PaymentCore = a;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = buildRefund(p, { amount_minor: 1000, created: T0 + 100 * i });
      await put(emulatorObjects(r));
      made.push(r.refund.id);
      p = r.payment;
    }
    const other = buildRefund(b, { amount_minor: 500, created: T0 + 50 });
    await put(emulatorObjects(other));
    const newest = [...made].reverse();
    const page1 = await get(`/v1/refunds?charge=${a.charge.id}&limit=2`);
    expect([ids(page1), page1.has_more, page1.url]).toEqual([newest.slice(0, 2), true, "/v1/refunds"]);
    const page2 = await get(`/v1/refunds?charge=${a.charge.id}&limit=2&starting_after=${newest[1]}`);
    expect([ids(page2), page2.has_more]).toEqual([newest.slice(2), false]);
    expect(ids(await get(`/v1/refunds?charge=${a.charge.id}&limit=2&ending_before=${newest[2]}`))).toEqual(newest.slice(0, 2));
    expect(ids(await get(`/v1/refunds?payment_intent=${b.payment_intent.id}`))).toEqual([other.refund.id]);
    expect(ids(await get("/v1/refunds"))).toEqual([made[2], made[1], other.refund.id, made[0]]);
    expect(ids(await get(`/v1/refunds?created[gte]=${T0 + 50}&created[lt]=${T0 + 200}`))).toEqual([made[1], other.refund.id]);
    const charge = await get(`/v1/charges/${a.charge.id}?expand[]=refunds`);
    expect([charge.amount_refunded, ids(charge.refunds)]).toEqual([3000, newest]);
    const missing = await call(`/v1/refunds?starting_after=re_nope`);
    expect([missing.status, missing.body.error.code, missing.body.error.param]).toEqual([404, "resource_missing", "starting_after"]);
  });

  it("lists balance transactions by creation window, type and source, newest first, paged", async () => {
    const t = training(10_000); // its charge's balance transaction: created T0
    const r = buildRefund(t, { amount_minor: 1000, status: "failed", created: T0 + 3600 }); // refund at T0+3600, failure a week later
    const d = buildDispute(r.payment, { created: T0 + 2 * 86400 });
    await put([...emulatorObjects(t), ...emulatorObjects(r), ...emulatorObjects(d)]);
    const [refundBt, failureBt] = r.balance_transactions;
    const withdrawal = d.balance_transactions[0]!;
    expect(ids(await get("/v1/balance_transactions?limit=100"))).toEqual([failureBt!.id, withdrawal.id, refundBt!.id, t.balance_transaction.id]);
    expect(ids(await get(`/v1/balance_transactions?created[gte]=${T0}&created[lt]=${T0 + WEEK}`))).toEqual([withdrawal.id, refundBt!.id, t.balance_transaction.id]);
    expect(ids(await get(`/v1/balance_transactions?created[gt]=${T0}&created[lte]=${T0 + 3600}`))).toEqual([refundBt!.id]);
    expect(ids(await get(`/v1/balance_transactions?created=${T0}`))).toEqual([t.balance_transaction.id]);
    expect(ids(await get("/v1/balance_transactions?type=refund"))).toEqual([refundBt!.id]);
    expect(ids(await get("/v1/balance_transactions?type=adjustment"))).toEqual([withdrawal.id]);
    expect(ids(await get(`/v1/balance_transactions?source=${r.refund.id}`))).toEqual([failureBt!.id, refundBt!.id]);
    expect(ids(await get("/v1/balance_transactions?currency=usd"))).toEqual([]);
    const page1 = await get("/v1/balance_transactions?limit=3");
    const page2 = await get(`/v1/balance_transactions?limit=3&starting_after=${page1.data[2].id}`);
    expect([page1.has_more, ids(page2), page2.has_more]).toEqual([true, [t.balance_transaction.id], false]);
    const bad = await call("/v1/balance_transactions?created[gte]=yesterday");
    expect([bad.status, bad.body.error.code, bad.body.error.param]).toEqual([400, "parameter_invalid_integer", "created[gte]"]);
  });

  it("the stripe SDK lists them, paging on its own, with the filters as it encodes them", async () => {
    const stripe = new Stripe(KEY, {
      httpClient: Stripe.createFetchHttpClient(async (url, init) => app.fetch(new Request(url, init))),
      host: "127.0.0.1",
      port: 12111,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    let p: PaymentCore = training(2400);
    await put(emulatorObjects(p as ReturnType<typeof training>));
    const made: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = buildRefund(p, { amount_minor: 200, created: T0 + 10 + i });
      await put(emulatorObjects(r));
      made.push(r.refund.id);
      p = r.payment;
    }
    const refunds = await stripe.refunds.list({ charge: p.charge.id, limit: 5 }).autoPagingToArray({ limit: 100 });
    expect(refunds.map((r) => r.id)).toEqual([...made].reverse());
    const bts = await stripe.balanceTransactions.list({ created: { gte: T0 + 10, lt: T0 + 20 }, type: "refund", limit: 3 }).autoPagingToArray({ limit: 100 });
    expect(bts.map((bt) => bt.amount)).toEqual(Array.from({ length: 10 }, () => -200));
    expect(bts.map((bt) => bt.created)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 19 - i));
    const charge = await stripe.charges.retrieve(p.charge.id, { expand: ["refunds"] });
    expect([charge.amount_refunded, charge.refunded, charge.refunds!.data.length, charge.refunds!.has_more]).toEqual([2400, true, 10, true]);
  });
});
