// Issue 8: every payment is split as Stripe charged it: tax to the tax account, discounts and
// pretax credits taken off each line, prorations by each line's own offer and sign, shipping
// to the cooperative, and the facts refunds will need kept on the payment.
import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { attachBalanceTransaction } from "../../infra/stripe-emulator/payment-core";
import { buildHostingPayment, buildInvoicePaidOffStripe, buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { BALANCE_WAITS_S } from "../../workflows/split-payment";
import { api, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog, stripeRequests } from "./helpers";

interface PaymentView {
  tax_minor: number;
  shipping_minor: number;
  gross_minor: number;
  fee_minor: number;
  presentment: { currency: string; amount_minor: number };
  charge_id: string | null;
  balance_transaction_id: string | null;
  exchange_rate: string | null;
  lines: { offer_id: string; weight_minor: number | null; gross_minor: number; fee_minor: number; basis_minor: number }[];
  shares: { party_id: string; amount_minor: number }[];
}

async function payment(id: string): Promise<PaymentView> {
  const res = await api(`/payments/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as PaymentView;
}

const byParty = (p: PaymentView) => Object.fromEntries(p.shares.map((s) => [s.party_id, s.amount_minor]));

async function postingsOf(paymentIntentId: string): Promise<Record<string, number>> {
  const rows = await env.DB.prepare("SELECT account, amount_minor FROM postings WHERE transaction_id = ? ORDER BY id").bind(`txn_pay_${paymentIntentId}`).all<{ account: string; amount_minor: number }>();
  return Object.fromEntries(rows.results.map((r) => [r.account, r.amount_minor]));
}

async function ledgerCheck() {
  return (await (await api("/ledger/check")).json()) as { ok: boolean; imbalances: unknown[] };
}

beforeEach(async () => {
  await seedCatalog();
  // A second hosting plan, with its own contributor, to move between plans.
  expect((await api("/parties", { method: "POST", body: { id: "noa", kind: "contributor", name: "Noa" } })).status).toBe(201);
  expect((await api("/offers", { method: "POST", body: { id: "hosting-plus", kind: "hosting", name: "Hosting plus", stripe_price_ids: ["price_hosting_plus"], contributors: [{ party_id: "noa", weight: 1 }] } })).status).toBe(201);
});

describe("taxes are not revenue", () => {
  it("a 120.00 € hosting invoice with 20% VAT posts 20.00 € to the tax account and splits the 100.00 € less the fee", async () => {
    const built = buildHostingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic", tax: { rate_bps: 2_000 } });
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
    const p = await payment(built.payment_intent.id);
    // Fee 205 (1.5% + 0.25 €); basis 10000 - 205 = 9795: 979.5 / 1469.25 / 7346.25 → 980 / 1469 / 7346.
    expect({ tax_minor: p.tax_minor, gross_minor: p.gross_minor, fee_minor: p.fee_minor }).toEqual({ tax_minor: 2_000, gross_minor: 12_000, fee_minor: 205 });
    expect(p.lines.map((l) => ({ weight_minor: l.weight_minor, gross_minor: l.gross_minor, basis_minor: l.basis_minor }))).toEqual([{ weight_minor: 10_000, gross_minor: 10_000, basis_minor: 9_795 }]);
    expect(await postingsOf(built.payment_intent.id)).toEqual({ "stripe:customers": -12_000, "stripe:fees": 205, "tax:collected": 2_000, "party:commons": 980, "party:reserve": 1_469, "party:sacha": 7_346 });
    expect(await ledgerCheck()).toMatchObject({ ok: true, imbalances: [] });
  });

  it("a Checkout training of 120.00 € with the VAT included weighs what was charged less its tax", async () => {
    const built = buildTrainingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_training_intro", tax: { rate_bps: 2_000, behavior: "inclusive" } });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    // As above, and 7346 by 2:1 is 4897.33 / 2448.67 → 4897 / 2449.
    expect(p.tax_minor).toBe(2_000);
    expect(byParty(p)).toEqual({ commons: 980, reserve: 1_469, camille: 4_897, dominique: 2_449 });
  });

  it("the ledger check finds a payment whose tax account does not hold its tax", async () => {
    const built = buildHostingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic", tax: { rate_bps: 2_000 } });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    await env.DB.prepare("UPDATE postings SET account = 'party:commons' WHERE transaction_id = ? AND account = 'tax:collected'").bind(`txn_pay_${built.payment_intent.id}`).run();
    const check = await ledgerCheck();
    expect(check.ok).toBe(false);
    expect(check.imbalances).toContainEqual({ transaction_id: `txn_pay_${built.payment_intent.id}`, currency: "eur", invariant: "tax_held", sum_minor: 0, expected_minor: 2_000 });
  });
});

describe("discounts, credits and shipping", () => {
  it("a two-offer cart with 10% off splits each line by what was charged for it after the discount", async () => {
    const built = buildTrainingPayment({
      currency: "eur",
      price_id: "price_training_intro",
      lines: [
        { price_id: "price_training_intro", unit_amount_minor: 20_000 },
        { price_id: "price_hosting_basic", unit_amount_minor: 5_000 },
      ],
      discount: { percent_bps: 1_000 },
    });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    // test/golden/payments.json, "a two-offer cart with 10% off each line", worked out by hand.
    expect(p.lines.map((l) => [l.offer_id, l.weight_minor, l.gross_minor, l.fee_minor, l.basis_minor])).toEqual([
      ["training-intro", 18_000, 18_000, 290, 17_710],
      ["hosting-basic", 4_500, 4_500, 73, 4_427],
    ]);
    expect(byParty(p)).toEqual({ commons: 2_214, reserve: 3_321, camille: 8_855, dominique: 4_427, sacha: 3_320 });
  });

  it("shipping goes to the cooperative, is not split, and bears none of the fee", async () => {
    const built = buildTrainingPayment({ currency: "eur", price_id: "price_training_intro", unit_amount_minor: 10_000, shipping: { amount_minor: 500, taxed: false } });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect({ shipping_minor: p.shipping_minor, fee_minor: p.fee_minor }).toEqual({ shipping_minor: 500, fee_minor: 183 });
    expect(await postingsOf(built.payment_intent.id)).toEqual({ "stripe:customers": -10_500, "stripe:fees": 183, "coop:shipping": 500, "party:commons": 982, "party:reserve": 1_472, "party:camille": 4_909, "party:dominique": 2_454 });
  });

  it("an invoice line with a pretax credit weighs what was charged after it", async () => {
    const built = buildHostingPayment({ currency: "eur", price_id: "price_hosting_basic", unit_amount_minor: 10_000, pretax_credit_minor: 2_000 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect(p.lines.map((l) => l.weight_minor)).toEqual([8_000]);
    expect(p.gross_minor).toBe(8_000);
  });
});

describe("prorations", () => {
  it("an upgrade takes back from the plan left, by its rule, the unused part it credits, and the new plan's line pays its parties", async () => {
    const built = buildHostingPayment({
      currency: "eur",
      price_id: "price_hosting_plus",
      unit_amount_minor: 6_000,
      tax: { rate_bps: 2_000 },
      upgrade: { from_price_id: "price_hosting_basic", from_unit_amount_minor: 3_000, unused: { numerator: 15, denominator: 30 } },
    });
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
    const p = await payment(built.payment_intent.id);
    // test/golden/payments.json, "an upgrade with a proration credit".
    expect(p.lines.map((l) => [l.offer_id, l.weight_minor, l.gross_minor, l.fee_minor, l.basis_minor])).toEqual([
      ["hosting-basic", -1_500, -1_500, 0, -1_500],
      ["hosting-plus", 3_000, 3_000, 52, 2_948],
    ]);
    expect(await postingsOf(built.payment_intent.id)).toEqual({ "stripe:customers": -1_800, "stripe:fees": 52, "tax:collected": 300, "party:commons": 145, "party:reserve": 217, "party:sacha": -1_125, "party:noa": 2_211 });
    expect(await ledgerCheck()).toMatchObject({ ok: true });
  });
});

describe("what refunds will need", () => {
  it("a payment keeps its charge, its balance transaction, Stripe's exchange rate and what the customer saw (Adaptive Pricing)", async () => {
    const built = buildTrainingPayment({
      amount_minor: 10_800,
      currency: "usd",
      price_id: "price_training_intro",
      tax: { rate_bps: 2_000 },
      settlement_currency: "eur",
      settlement_amount_minor: 10_000,
      exchange_rate: 0.9259,
      fee_minor: 175,
      presentment: { currency: "gbp", amount_minor: 8_020 },
    });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect({ presentment: p.presentment, charge_id: p.charge_id, balance_transaction_id: p.balance_transaction_id, exchange_rate: p.exchange_rate }).toEqual({
      presentment: { currency: "gbp", amount_minor: 8_020 },
      charge_id: built.charge.id,
      balance_transaction_id: built.balance_transaction.id,
      exchange_rate: "0.9259",
    });
    // test/golden/payments.json, "paid in dollars, settled in euros": 9000 $ and 1800 $ of tax over 10000 €.
    expect(p.tax_minor).toBe(1_667);
    expect(byParty(p)).toEqual({ commons: 816, reserve: 1_224, camille: 4_079, dominique: 2_039 });
  });
});

describe("a balance transaction not there yet", () => {
  it("is waited for with a workflow sleep, then the payment is split", async () => {
    const built = buildTrainingPayment({ amount_minor: 5_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
    await putStripeObjects(built);
    const output = await deliverAndSettle(built.event, async (m) => {
      // Stripe had not attached it at the first look: the step asks to wait a minute.
      await m.mockStepResult({ name: "take the event in hand, and split a payment" }, { go: true, source: "checkout.session", objectId: built.session.id, first: { ok: "wait", seconds: 60, kind: "balance" } });
      await m.disableSleeps();
    });
    expect(output).toMatchObject({ status: "processed", posted: true });
  });

  it("is looked for again and again, doubling from a minute to an hour, then the event is parked after about a day, saying so", async () => {
    const built = buildTrainingPayment({ amount_minor: 5_100, currency: "eur", price_id: "price_training_intro", balance_transaction_pending: true });
    await putStripeObjects(built);
    const output = await deliverAndSettle(built.event, async (m) => m.disableSleeps());
    expect(BALANCE_WAITS_S.slice(0, 7)).toEqual([60, 120, 240, 480, 960, 1_920, 3_600]);
    const hours = Math.round(BALANCE_WAITS_S.reduce((a, b) => a + b, 0) / 3600);
    expect(hours).toBe(23);
    expect(output).toMatchObject({ status: "parked", reason: `charge ${built.charge.id} has no balance transaction yet after 23 hours of waiting for it: retry the event once Stripe shows it` });
    expect(await stripeRequests(`/v1/checkout/sessions/${built.session.id}`)).toHaveLength(BALANCE_WAITS_S.length + 1);

    // Stripe attaches it; a retry splits the payment.
    const [charge, balance] = attachBalanceTransaction(built);
    await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([charge, balance]) });
    await using again = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    const retry = await api(`/events/${built.event.id}/retry`, { method: "POST", body: {} });
    expect(await retry.json()).toMatchObject({ outcome: "started" });
    await again.waitForStatus("complete");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed" });
  });
});

describe("invoices paid outside Stripe", () => {
  it("wholly outside Stripe: parked, saying so", async () => {
    const built = buildInvoicePaidOffStripe({ amount_minor: 9_000, currency: "eur", price_id: "price_hosting_basic" });
    await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) });
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect((await eventStatus(built.event.id)).reason).toBe(`invoice ${built.invoice.id} was paid outside Stripe (amount_paid_off_stripe 9000): Stripe holds no charge and no fee for that money, so it is not split automatically`);
  });

  it("in part outside Stripe: parked, saying so", async () => {
    const built = buildHostingPayment({ amount_minor: 9_000, currency: "eur", price_id: "price_hosting_basic", paid_off_stripe_minor: 4_000 });
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect((await eventStatus(built.event.id)).reason).toBe(`invoice ${built.invoice.id} was paid outside Stripe (amount_paid_off_stripe 4000): Stripe holds no charge and no fee for that money, so it is not split automatically`);
  });
});

describe("lists cut at 10, as Stripe embeds them", () => {
  it("an invoice of 12 lines is read through its lines endpoint, and every line is split", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => ({ price_id: i % 2 === 0 ? "price_hosting_basic" : "price_hosting_plus", unit_amount_minor: 1_000 + i }));
    const built = buildHostingPayment({ currency: "eur", price_id: "price_hosting_basic", lines, fee_minor: 0 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect(p.lines.map((l) => l.weight_minor)).toEqual(lines.map((l) => l.unit_amount_minor));
    expect((await stripeRequests(`/v1/invoices/${built.invoice.id}/lines`)).length).toBe(1);
  });
});
