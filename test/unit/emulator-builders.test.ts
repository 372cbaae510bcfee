// The emulator's builders with tax, discounts, pretax credits, shipping, prorations, Adaptive
// Pricing, a balance transaction that comes later and invoices paid outside Stripe: every total
// adds up exactly, for random inputs; and the emulator serves them as Stripe does (lists cut at
// 10, includables only when expanded).
import fc from "fast-check";
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";

import { createStripeEmulator, type StripeEmulator } from "../../infra/stripe-emulator/app";
import {
  attachBalanceTransaction,
  buildHostingPayment,
  buildInvoicePaidOffStripe,
  buildSubscriptionCheckout,
  buildTrainingPayment,
  emulatorObjects,
  type DiscountOption,
  type HostingPayment,
  type OffStripeInvoice,
  type TaxOption,
  type TrainingPayment,
} from "../../infra/stripe-emulator/objects";

type Json = Record<string, any>;
const KEY = "sk_test_local";
let app: StripeEmulator;

beforeEach(() => {
  app = createStripeEmulator();
});

async function get(path: string): Promise<Json> {
  const res = await app.fetch(new Request(`http://127.0.0.1:12111${path}`, { headers: { Authorization: `Bearer ${KEY}` } }));
  expect(res.status, path).toBe(200);
  return (await res.json()) as Json;
}
async function put(objects: unknown): Promise<void> {
  const res = await app.fetch(new Request("http://127.0.0.1:12111/_emulator/objects", { method: "POST", body: JSON.stringify(objects) }));
  expect(res.status).toBe(200);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// Invariants, checked on every invoice and session the properties build
// ---------------------------------------------------------------------------------------------

function lineCredit(l: Stripe.InvoiceLineItem): number {
  return sum((l.pretax_credit_amounts ?? []).filter((p) => p.type === "credit_balance_transaction").map((p) => p.amount));
}

function checkInvoice(built: HostingPayment | OffStripeInvoice): void {
  const inv = built.invoice;
  const lines = built.invoice_lines.data;
  const behavior = built.tax_rates[0] ? (built.tax_rates[0].inclusive ? "inclusive" : "exclusive") : null;
  let exclusiveTax = 0;
  let inclusiveTax = 0;
  for (const l of lines) {
    const discount = sum((l.discount_amounts ?? []).map((d) => d.amount));
    const credit = lineCredit(l);
    const tax = sum((l.taxes ?? []).map((t) => t.amount));
    // Discounts appear in pretax_credit_amounts too, as type "discount", with the same amounts.
    expect((l.pretax_credit_amounts ?? []).filter((p) => p.type === "discount").map((p) => [p.amount, p.discount])).toEqual((l.discount_amounts ?? []).map((d) => [d.amount, d.discount]));
    expect(l.subtotal).toBe(l.amount);
    if (behavior) {
      expect(l.taxes).toHaveLength(1);
      const t = l.taxes![0]!;
      expect(t.tax_behavior).toBe(behavior);
      expect(t.tax_rate_details?.tax_rate).toBe(built.tax_rates[0]!.id);
      expect(t.taxable_amount! + (behavior === "inclusive" ? t.amount : 0)).toBe(l.amount - discount - credit);
      if (behavior === "exclusive") exclusiveTax += tax;
      else inclusiveTax += tax;
    } else {
      expect(l.taxes).toEqual([]);
    }
  }
  const discounts = sum(lines.flatMap((l) => (l.discount_amounts ?? []).map((d) => d.amount)));
  const credits = sum(lines.map(lineCredit));
  expect(inv.subtotal).toBe(sum(lines.map((l) => l.amount)));
  expect(inv.total).toBe(inv.subtotal - discounts - credits + exclusiveTax);
  expect(inv.total_excluding_tax).toBe(inv.total - exclusiveTax - inclusiveTax);
  expect(inv.subtotal_excluding_tax).toBe(inv.subtotal - inclusiveTax);
  expect(sum((inv.total_taxes ?? []).map((t) => t.amount))).toBe(exclusiveTax + inclusiveTax);
  expect(sum((inv.total_taxes ?? []).map((t) => t.taxable_amount ?? 0))).toBe(sum(lines.flatMap((l) => (l.taxes ?? []).map((t) => t.taxable_amount ?? 0))));
  expect(inv.total_taxes!.length).toBe(behavior ? 1 : 0);
  expect(sum((inv.total_discount_amounts ?? []).map((d) => d.amount))).toBe(discounts);
  expect(new Set((inv.total_discount_amounts ?? []).map((d) => d.discount)).size).toBe(inv.total_discount_amounts!.length);
  expect(sum((inv.total_pretax_credit_amounts ?? []).map((d) => d.amount))).toBe(discounts + credits);
  expect([inv.amount_due, inv.amount_paid, inv.amount_remaining]).toEqual([inv.total, inv.total, 0]);
  // What was paid: the card's payment intent and the payments recorded outside Stripe.
  expect(sum(built.invoice_payments.map((p) => p.amount_paid ?? 0))).toBe(inv.amount_paid);
  if ("payment_intent" in built) {
    expect(built.payment_intent.amount + built.amount_paid_off_stripe).toBe(inv.amount_paid);
    expect(built.charge.amount).toBe(built.payment_intent.amount);
    expect(built.invoice_payment.amount_paid).toBe(built.payment_intent.amount);
  }
  // Stripe embeds the first 10 lines.
  expect(inv.lines.data).toEqual(lines.slice(0, 10));
  expect(inv.lines.has_more).toBe(lines.length > 10);
  expect(built.event.data.object).toEqual(inv);
  for (const v of [inv.subtotal, inv.total, inv.total_excluding_tax, ...lines.flatMap((l) => [l.amount, ...(l.taxes ?? []).flatMap((t) => [t.amount, t.taxable_amount])])]) {
    expect(Number.isSafeInteger(v)).toBe(true);
  }
}

function checkSession(t: TrainingPayment): void {
  const s = t.session;
  const items = t.line_items.data;
  const inclusive = t.tax_rates[0]?.inclusive ?? false;
  for (const i of items) {
    expect(i.amount_total).toBe(i.amount_subtotal - i.amount_discount + (inclusive ? 0 : i.amount_tax));
    expect(sum((i.taxes ?? []).map((x) => x.amount))).toBe(i.amount_tax);
    expect(sum((i.discounts ?? []).map((x) => x.amount))).toBe(i.amount_discount);
    if (i.taxes?.[0]) expect(i.taxes[0].taxable_amount! + (inclusive ? i.amount_tax : 0)).toBe(i.amount_subtotal - i.amount_discount);
  }
  const shipping = s.shipping_cost;
  const td = s.total_details!;
  const exclusiveTax = inclusive ? 0 : td.amount_tax;
  expect(s.amount_subtotal).toBe(sum(items.map((i) => i.amount_subtotal)));
  expect(td.amount_discount).toBe(sum(items.map((i) => i.amount_discount)));
  expect(td.amount_tax).toBe(sum(items.map((i) => i.amount_tax)) + (shipping?.amount_tax ?? 0));
  expect(td.amount_shipping).toBe(shipping?.amount_subtotal ?? 0);
  if (shipping) expect(shipping.amount_total).toBe(shipping.amount_subtotal + (inclusive ? 0 : shipping.amount_tax));
  expect(s.amount_total).toBe(s.amount_subtotal! - td.amount_discount + td.amount_shipping! + exclusiveTax);
  expect(s.amount_total).toBe(sum(items.map((i) => i.amount_total)) + (shipping?.amount_total ?? 0));
  expect(t.payment_intent.amount).toBe(s.amount_total);
  expect(t.charge.amount).toBe(s.amount_total);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const taxOption: fc.Arbitrary<TaxOption | undefined> = fc.option(
  fc.record({
    rate_bps: fc.integer({ min: 0, max: 3_000 }),
    behavior: fc.constantFrom("exclusive" as const, "inclusive" as const),
    calculation: fc.constantFrom("automatic" as const, "tax_rates" as const),
  }),
  { nil: undefined },
);
const discountOption: fc.Arbitrary<DiscountOption | undefined> = fc.option(fc.record({ percent_bps: fc.integer({ min: 0, max: 10_000 }) }), { nil: undefined });
const priced = fc.record({
  unit_amount_minor: fc.integer({ min: 0, max: 2_000_000 }),
  quantity: fc.integer({ min: 1, max: 4 }),
  discount: discountOption,
  credit_per_mille: fc.integer({ min: 0, max: 1000 }),
});

/** A pretax credit of at most what the line's discounts leave. */
function creditFor(l: { unit_amount_minor: number; quantity: number; discount?: DiscountOption; credit_per_mille: number }, payment?: DiscountOption): number {
  let left = l.unit_amount_minor * l.quantity;
  for (const d of [l.discount, payment]) if (d) left -= Math.floor((left * d.percent_bps) / 10_000 + 0.5);
  return Math.floor((Math.max(left, 0) * l.credit_per_mille) / 1000);
}

// ---------------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------------

describe("an invoice with tax, discounts and pretax credits", () => {
  it("adds up exactly, line by line and in its totals, for random prices, rates, discounts, credits and 1 to 14 lines", () => {
    fc.assert(
      fc.property(fc.array(priced, { minLength: 1, maxLength: 14 }), taxOption, discountOption, (lines, tax, discount) => {
        const h = buildHostingPayment({
          currency: "eur",
          price_id: "unused",
          fee_minor: 0,
          ...(tax ? { tax } : {}),
          ...(discount ? { discount } : {}),
          lines: lines.map((l, i) => ({
            price_id: `price_${i}`,
            unit_amount_minor: l.unit_amount_minor,
            quantity: l.quantity,
            ...(l.discount ? { discount: l.discount } : {}),
            pretax_credit_minor: creditFor(l, discount),
          })),
        });
        checkInvoice(h);
        expect(h.invoice_lines.data.map((l) => l.amount)).toEqual(lines.map((l) => l.unit_amount_minor * l.quantity));
      }),
      { numRuns: 150 },
    );
  });

  it("with 20% exclusive VAT on a 100.00 plan, 10% off and a 5.00 credit: 100 − 10 − 5 = 85, + 17 VAT = 102", () => {
    const h = buildHostingPayment({ currency: "eur", price_id: "price_hosting_basic", unit_amount_minor: 10_000, tax: { rate_bps: 2000 }, discount: { percent_bps: 1000, coupon_id: "TENOFF" }, pretax_credit_minor: 500, fee_minor: 0 });
    const [line] = h.invoice.lines.data;
    const discountId = h.discounts[0]!.id;
    expect(line).toMatchObject({
      amount: 10_000,
      discount_amounts: [{ amount: 1000, discount: discountId }],
      discounts: [],
      pretax_credit_amounts: [
        { amount: 1000, discount: discountId, type: "discount" },
        { amount: 500, credit_balance_transaction: expect.stringMatching(/^cbtxn_/), type: "credit_balance_transaction" },
      ],
      taxes: [{ amount: 1700, tax_behavior: "exclusive", taxable_amount: 8500, taxability_reason: "standard_rated", type: "tax_rate_details" }],
    });
    expect(h.invoice).toMatchObject({ subtotal: 10_000, subtotal_excluding_tax: 10_000, total_excluding_tax: 8500, total: 10_200, amount_paid: 10_200, discounts: [discountId] });
    expect(h.coupons).toEqual([expect.objectContaining({ id: "TENOFF", percent_off: 10, amount_off: null })]);
    expect(h.discounts[0]).toMatchObject({ source: { coupon: "TENOFF", type: "coupon" }, subscription: (h.invoice.parent as Json).subscription_details.subscription, customer: h.invoice.customer });
    expect(h.tax_rates[0]).toMatchObject({ percentage: 20, inclusive: false, country: "FR", tax_type: "vat" });
    expect(h.prices[0]).toMatchObject({ unit_amount: 10_000, tax_behavior: "exclusive" });
    expect(h.payment_intent.amount).toBe(10_200);
  });

  it("with 20% VAT included in a 120.00 plan: the line's amount includes it, the total is the price", () => {
    const h = buildHostingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic", tax: { rate_bps: 2000, behavior: "inclusive", calculation: "tax_rates" } });
    expect(h.invoice).toMatchObject({ subtotal: 12_000, subtotal_excluding_tax: 10_000, total: 12_000, total_excluding_tax: 10_000, amount_paid: 12_000 });
    expect(h.invoice.lines.data[0]!.taxes).toEqual([{ amount: 2000, tax_behavior: "inclusive", tax_rate_details: { tax_rate: h.tax_rates[0]!.id }, taxability_reason: "not_available", taxable_amount: 10_000, type: "tax_rate_details" }]);
    expect(h.invoice.automatic_tax).toMatchObject({ enabled: false });
    expect(h.prices[0]).toMatchObject({ unit_amount: 12_000, tax_behavior: "inclusive" });
  });

  it("a line's own discount is listed on the line and applies before the invoice's", () => {
    const h = buildHostingPayment({
      currency: "eur",
      price_id: "x",
      fee_minor: 0,
      discount: { percent_bps: 5000 },
      lines: [{ price_id: "price_a", unit_amount_minor: 1000, discount: { percent_bps: 1000 } }, { price_id: "price_b", unit_amount_minor: 1000 }],
    });
    const [a, b] = h.invoice.lines.data;
    const own = a!.discounts[0] as string;
    const invoiceWide = h.invoice.discounts[0] as string;
    expect(a!.discount_amounts).toEqual([{ amount: 100, discount: own }, { amount: 450, discount: invoiceWide }]);
    expect(b!.discounts).toEqual([]);
    expect(b!.discount_amounts).toEqual([{ amount: 500, discount: invoiceWide }]);
    expect(h.invoice.total_discount_amounts).toEqual([{ amount: 100, discount: own }, { amount: 950, discount: invoiceWide }]);
    expect(h.invoice.total).toBe(2000 - 1050);
    expect(h.discounts.map((d) => d.id)).toEqual([own, invoiceWide]);
  });

  it("finds the price for what the customer paid, or names the nearest totals that can be paid (both of which build)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000_000 }), taxOption, discountOption, fc.integer({ min: 1, max: 3 }), (amount, tax, discount, quantity) => {
        fc.pre(!discount || discount.percent_bps < 10_000);
        const opts = { currency: "eur", price_id: "price_p", quantity, fee_minor: 0, ...(tax ? { tax } : {}), ...(discount ? { discount } : {}) };
        try {
          const h = buildHostingPayment({ ...opts, amount_minor: amount });
          expect(h.invoice.amount_paid).toBe(amount);
          checkInvoice(h);
        } catch (err) {
          const m = /nearest reachable totals are (\d+) and (\d+)/.exec((err as Error).message);
          if (!m && !tax && !discount) {
            expect((err as Error).message).toMatch(/not a multiple of quantity/);
            return;
          }
          expect(m, (err as Error).message).not.toBeNull();
          const [below, above] = [Number(m![1]), Number(m![2])];
          expect(below).toBeLessThan(amount);
          expect(above).toBeGreaterThan(amount);
          expect(buildHostingPayment({ ...opts, amount_minor: below }).invoice.total).toBe(below);
          expect(buildHostingPayment({ ...opts, amount_minor: above }).invoice.total).toBe(above);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("refuses a pretax credit above what the line has left, and amounts and prices that disagree", () => {
    expect(() => buildHostingPayment({ currency: "eur", price_id: "p", unit_amount_minor: 1000, discount: { percent_bps: 5000 }, pretax_credit_minor: 501 })).toThrow(/more than the 500 left/);
    expect(() => buildHostingPayment({ amount_minor: 1001, currency: "eur", price_id: "p", unit_amount_minor: 1000 })).toThrow(/lines add up to 1000, but amount_minor is 1001/);
    expect(() => buildHostingPayment({ currency: "eur", price_id: "p" })).toThrow(/give amount_minor \(what the customer pays\) or unit_amount_minor/);
    expect(() => buildHostingPayment({ currency: "eur", price_id: "p", tax: { rate_bps: 10_001 }, unit_amount_minor: 1 })).toThrow(/tax\.rate_bps/);
  });
});

describe("an invoice with the prorations of a change of plan", () => {
  const upgrade = fc.record({
    from_unit: fc.integer({ min: 0, max: 500_000 }),
    to_unit: fc.integer({ min: 0, max: 500_000 }),
    quantity: fc.integer({ min: 1, max: 3 }),
    denominator: fc.integer({ min: 1, max: 31 }),
    numerator_per_mille: fc.integer({ min: 0, max: 1000 }),
    with_next_period: fc.boolean(),
  });

  it("credits the unused part of the old plan, charges the rest of the period on the new one, and adds up", () => {
    fc.assert(
      fc.property(upgrade, taxOption, discountOption, (u, tax, discount) => {
        const numerator = Math.floor((u.denominator * u.numerator_per_mille) / 1000);
        const prorate = (amount: number) => Math.floor((2 * amount * numerator + u.denominator) / (2 * u.denominator)); // half up
        // an upgrade: what is charged is well above what is credited (a discount reduces only the next period)
        const nextPeriod = u.with_next_period ? u.to_unit * u.quantity - Math.ceil((u.to_unit * u.quantity * (discount?.percent_bps ?? 0)) / 10_000) : 0;
        fc.pre(prorate(u.to_unit * u.quantity) + nextPeriod >= prorate(u.from_unit * u.quantity) * 1.5 + 10);
        const h = buildHostingPayment({
          currency: "eur",
          price_id: "price_hosting_plus",
          unit_amount_minor: u.to_unit,
          quantity: u.quantity,
          fee_minor: 0,
          ...(tax ? { tax } : {}),
          ...(discount ? { discount } : {}),
          upgrade: { from_price_id: "price_hosting_basic", from_unit_amount_minor: u.from_unit, unused: { numerator, denominator: u.denominator }, with_next_period: u.with_next_period, credited_invoice_id: "in_before" },
          created: 1_800_000_000,
        });
        checkInvoice(h);
        const lines = h.invoice_lines.data;
        expect(lines).toHaveLength(u.with_next_period ? 3 : 2);
        const [credit, debit, next] = lines;
        expect(credit!.amount).toBe(-prorate(u.from_unit * u.quantity) || 0);
        expect(debit!.amount).toBe(prorate(u.to_unit * u.quantity));
        for (const l of [credit!, debit!]) {
          expect(l.parent?.subscription_item_details?.proration).toBe(true);
          expect(l.discountable).toBe(false);
          expect(l.discount_amounts).toEqual([]);
        }
        expect(credit!.parent?.subscription_item_details?.proration_details?.credited_items).toEqual({ invoice: "in_before", invoice_line_items: [expect.stringMatching(/^il_/)] });
        expect(debit!.parent?.subscription_item_details?.proration_details?.credited_items).toBeNull();
        expect(credit!.pricing?.price_details?.price).toBe("price_hosting_basic");
        expect(debit!.pricing?.price_details?.price).toBe("price_hosting_plus");
        expect(new Set(lines.map((l) => l.parent?.subscription_item_details?.subscription_item)).size).toBe(1);
        if (next) {
          expect(next.amount).toBe(u.to_unit * u.quantity);
          expect(next.parent?.subscription_item_details?.proration).toBe(false);
          expect(next.period.start).toBe(debit!.period.end);
        }
        expect(h.invoice.billing_reason).toBe(u.with_next_period ? "subscription_cycle" : "subscription_update");
      }),
      { numRuns: 150 },
    );
  });

  it("with 20% exclusive VAT, from a 30.00 plan to a 60.00 one half-way: −15.00 −3.00 VAT, +30.00 +6.00 VAT, 18.00 paid", () => {
    const h = buildHostingPayment({
      currency: "eur",
      price_id: "price_hosting_plus",
      unit_amount_minor: 6000,
      tax: { rate_bps: 2000 },
      upgrade: { from_price_id: "price_hosting_basic", from_unit_amount_minor: 3000, unused: { numerator: 15, denominator: 30 } },
      created: 1_800_000_000,
      fee_minor: 0,
    });
    const [credit, debit] = h.invoice.lines.data;
    expect(credit).toMatchObject({ amount: -1500, description: "Unused time on Hosting basic after 15 Jan 2027", taxes: [{ amount: -300, taxable_amount: -1500 }], period: { start: 1_800_000_000, end: 1_800_000_000 + 15 * 86400 } });
    expect(debit).toMatchObject({ amount: 3000, description: "Remaining time on Hosting plus after 15 Jan 2027", taxes: [{ amount: 600, taxable_amount: 3000 }] });
    expect(h.invoice).toMatchObject({ subtotal: 1500, total: 1800, total_excluding_tax: 1500, amount_paid: 1800, billing_reason: "subscription_update" });
    expect(h.invoice.total_taxes).toEqual([expect.objectContaining({ amount: 300, taxable_amount: 1500 })]);
    expect(h.prices.map((p) => [p.id, p.unit_amount])).toEqual([["price_hosting_basic", 3000], ["price_hosting_plus", 6000]]);
    expect(h.payment_intent.amount).toBe(1800);
  });

  it("finds the new plan's price for what the customer paid", () => {
    const h = buildHostingPayment({ amount_minor: 6000, currency: "eur", price_id: "price_hosting_plus", tax: { rate_bps: 2000 }, upgrade: { from_price_id: "price_hosting_basic", from_unit_amount_minor: 5000, unused: { numerator: 1, denominator: 2 } } });
    expect(h.invoice.total).toBe(6000);
    expect(h.invoice_lines.data.map((l) => l.amount)).toEqual([-2500, 7500]);
  });

  it("refuses a change to the same price, a fraction above 1 and an invoice that would be negative", () => {
    const base = { currency: "eur", price_id: "price_b", unit_amount_minor: 1000 };
    expect(() => buildHostingPayment({ ...base, upgrade: { from_price_id: "price_b", from_unit_amount_minor: 1, unused: { numerator: 1, denominator: 2 } } })).toThrow(/from one price to another/);
    expect(() => buildHostingPayment({ ...base, upgrade: { from_price_id: "price_a", from_unit_amount_minor: 1, unused: { numerator: 3, denominator: 2 } } })).toThrow(/from 0 to 1/);
    expect(() => buildHostingPayment({ ...base, upgrade: { from_price_id: "price_a", from_unit_amount_minor: 5000, unused: { numerator: 1, denominator: 2 } } })).toThrow(/credited to the customer's balance/);
  });
});

describe("an invoice paid outside Stripe", () => {
  it("in part: a payment record and its invoice payment next to the card's; amount_paid counts both", async () => {
    const h = buildHostingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_hosting_basic", paid_off_stripe_minor: 4_000, fee_minor: 0 });
    checkInvoice(h);
    expect(h.payment_intent.amount).toBe(6_000);
    expect(h.invoice.amount_paid).toBe(10_000);
    expect(h.invoice).not.toHaveProperty("amount_paid_off_stripe"); // includable only, never in events
    const [card, recorded] = h.invoice_payments;
    expect(card).toMatchObject({ amount_paid: 6_000, is_default: true, payment: { type: "payment_intent", payment_intent: h.payment_intent.id } });
    expect(recorded).toMatchObject({ amount_paid: 4_000, is_default: false, payment: { type: "payment_record", payment_record: h.payment_records[0]!.id } });
    expect(h.payment_records[0]).toMatchObject({ object: "payment_record", amount: { currency: "eur", value: 4_000 }, reported_by: "self", processor_details: { type: "custom" } });
    await put(emulatorObjects(h));
    expect((await get(`/v1/invoices/${h.invoice.id}?expand[]=amount_paid_off_stripe`)).amount_paid_off_stripe).toBe(4_000);
    expect(await get(`/v1/invoices/${h.invoice.id}`)).not.toHaveProperty("amount_paid_off_stripe");
    const listed = await get(`/v1/invoice_payments?invoice=${h.invoice.id}&payment[type]=payment_record`);
    expect(listed.data.map((p: Json) => p.id)).toEqual([recorded!.id]);
    expect((await get(`/v1/payment_records/${h.payment_records[0]!.id}`)).amount.value).toBe(4_000);
    expect(() => buildHostingPayment({ amount_minor: 1000, currency: "eur", price_id: "p", paid_off_stripe_minor: 1000 })).toThrow(/buildInvoicePaidOffStripe/);
  });

  it("wholly: no payment intent and no charge, one invoice payment of type payment_record", async () => {
    const o = buildInvoicePaidOffStripe({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic", tax: { rate_bps: 2000 } });
    checkInvoice(o);
    expect(o).not.toHaveProperty("payment_intent");
    expect(o.invoice_payments).toEqual([expect.objectContaining({ amount_paid: 12_000, payment: { type: "payment_record", payment_record: o.payment_records[0]!.id } })]);
    await put(emulatorObjects(o));
    expect((await get(`/v1/invoices/${o.invoice.id}?expand[]=amount_paid_off_stripe`)).amount_paid_off_stripe).toBe(12_000);
    expect((await get(`/v1/invoice_payments?invoice=${o.invoice.id}&payment[type]=payment_intent`)).data).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Checkout
// ---------------------------------------------------------------------------------------------

describe("a Checkout Session with tax, a discount and shipping", () => {
  it("adds up exactly for random prices, rates, one coupon and shipping", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ unit_amount_minor: fc.integer({ min: 0, max: 2_000_000 }), quantity: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 14 }),
        taxOption,
        discountOption,
        fc.option(fc.record({ amount_minor: fc.integer({ min: 0, max: 5_000 }), taxed: fc.boolean() }), { nil: undefined }),
        (lines, tax, discount, shipping) => {
          const t = buildTrainingPayment({
            currency: "eur",
            price_id: "x",
            fee_minor: 0,
            lines: lines.map((l, i) => ({ price_id: `price_${i}`, ...l })),
            ...(tax ? { tax } : {}),
            ...(discount ? { discount } : {}),
            ...(shipping ? { shipping } : {}),
          });
          checkSession(t);
          expect(t.line_items.data.map((i) => i.amount_subtotal)).toEqual(lines.map((l) => l.unit_amount_minor * l.quantity));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("paid 100.01 with 20% VAT included, 10% off and 5.00 of shipping: the price is found, tax and shipping stated", async () => {
    const t = buildTrainingPayment({ amount_minor: 10_001, currency: "eur", price_id: "price_training_intro", tax: { rate_bps: 2000, behavior: "inclusive" }, discount: { percent_bps: 1000 }, shipping: { amount_minor: 500 } });
    checkSession(t);
    expect(t.line_items.data[0]).toMatchObject({ amount_subtotal: 10_557, amount_discount: 1056, amount_tax: 1584, amount_total: 9501, price: { unit_amount: 10_557, tax_behavior: "inclusive" } });
    expect(t.session).toMatchObject({
      amount_subtotal: 10_557,
      amount_total: 10_001,
      total_details: { amount_discount: 1056, amount_shipping: 500, amount_tax: 1584 + 83 },
      shipping_cost: { amount_subtotal: 500, amount_tax: 83, amount_total: 500, shipping_rate: t.shipping_rates[0]!.id },
      shipping_options: [{ shipping_amount: 500, shipping_rate: t.shipping_rates[0]!.id }],
      discounts: [{ coupon: t.coupons[0]!.id, promotion_code: null }],
      automatic_tax: { enabled: true, status: "complete" },
    });
    expect(t.line_items.data[0]!.taxes).toEqual([{ amount: 1584, rate: t.tax_rates[0], taxability_reason: "standard_rated", taxable_amount: 7917 }]);
    expect(t.line_items.data[0]!.discounts).toEqual([{ amount: 1056, discount: expect.objectContaining({ id: t.discounts[0]!.id, checkout_session: t.session.id }) }]);
    await put(emulatorObjects(t));
    expect((await get(`/v1/shipping_rates/${t.shipping_rates[0]!.id}`)).fixed_amount).toEqual({ amount: 500, currency: "eur" });
    expect((await get(`/v1/tax_rates/${t.tax_rates[0]!.id}`)).percentage).toBe(20);
    expect((await get(`/v1/coupons/${t.coupons[0]!.id}`)).percent_off).toBe(10);
  });

  it("with 20% exclusive VAT: the line's total is subtotal − discount + tax", () => {
    const t = buildTrainingPayment({ amount_minor: 10_800, currency: "eur", price_id: "price_training_intro", tax: { rate_bps: 2000 }, discount: { percent_bps: 1000 } });
    expect(t.line_items.data[0]).toMatchObject({ amount_subtotal: 10_000, amount_discount: 1000, amount_tax: 1800, amount_total: 10_800 });
    expect(t.session).toMatchObject({ amount_subtotal: 10_000, amount_total: 10_800, total_details: { amount_discount: 1000, amount_shipping: 0, amount_tax: 1800 } });
  });

  it("takes one coupon only, as Checkout does, and no pretax credit", () => {
    expect(() =>
      buildTrainingPayment({ currency: "eur", price_id: "x", discount: { percent_bps: 1000 }, lines: [{ price_id: "a", unit_amount_minor: 100, discount: { percent_bps: 500 } }] }),
    ).toThrow(/takes one coupon/);
    expect(() => buildTrainingPayment({ currency: "eur", price_id: "x", lines: [{ price_id: "a", unit_amount_minor: 100, pretax_credit_minor: 10 }] })).toThrow(/no pretax credits/);
  });

  it("serves a line item's taxes and discounts only when they are expanded", async () => {
    const t = buildTrainingPayment({ amount_minor: 10_800, currency: "eur", price_id: "price_training_intro", tax: { rate_bps: 2000 }, discount: { percent_bps: 1000 } });
    await put(emulatorObjects(t));
    const plain = await get(`/v1/checkout/sessions/${t.session.id}/line_items`);
    expect(plain.data[0]).not.toHaveProperty("taxes");
    expect(plain.data[0]).not.toHaveProperty("discounts");
    const expanded = await get(`/v1/checkout/sessions/${t.session.id}/line_items?expand[]=data.taxes&expand[]=data.discounts`);
    expect(expanded.data).toEqual(t.line_items.data);
    const session = await get(`/v1/checkout/sessions/${t.session.id}?expand[]=line_items.data.taxes`);
    expect(session.line_items.data[0].taxes).toEqual(t.line_items.data[0]!.taxes);
    expect(session.line_items.data[0]).not.toHaveProperty("discounts");
  });

  it("a subscription's first Checkout shows the invoice's prices, tax rate and coupon, to the cent", () => {
    const s = buildSubscriptionCheckout({ amount_minor: 10_800, currency: "eur", price_id: "price_hosting_basic", tax: { rate_bps: 2000 }, discount: { percent_bps: 1000 } });
    checkInvoice(s);
    expect(s.session.amount_total).toBe(s.invoice.total);
    expect(s.session.total_details).toMatchObject({ amount_discount: 1000, amount_tax: 1800 });
    expect(s.line_items.data[0]!.taxes![0]!.rate.id).toBe(s.tax_rates[0]!.id);
    expect(s.session.discounts).toEqual([{ coupon: s.coupons[0]!.id, promotion_code: null }]);
    expect(s.invoice.discounts).toEqual([s.discounts[0]!.id]);
    expect(() => buildSubscriptionCheckout({ amount_minor: 100, currency: "eur", price_id: "p", pretax_credit_minor: 1 })).toThrow(/first Checkout/);
  });
});

// ---------------------------------------------------------------------------------------------
// Adaptive Pricing, a balance transaction attached later
// ---------------------------------------------------------------------------------------------

describe("Adaptive Pricing", () => {
  it("states what the customer saw in presentment_details; the session's currency and amounts stay the merchant's", () => {
    const t = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", presentment: { currency: "USD", amount_minor: 10_837 } });
    const presentment = { presentment_amount: 10_837, presentment_currency: "usd" };
    expect(t.session).toMatchObject({ currency: "eur", amount_total: 10_000, adaptive_pricing: { enabled: true }, presentment_details: presentment, currency_conversion: null });
    expect(t.payment_intent).toMatchObject({ currency: "eur", amount: 10_000, presentment_details: presentment });
    expect(t.charge).toMatchObject({ currency: "eur", amount: 10_000, presentment_details: presentment });
    expect(t.balance_transaction).toMatchObject({ currency: "eur", amount: 10_000 });
    const h = buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "p", presentment: { currency: "chf", amount_minor: 2750 } });
    expect(h.payment_intent.presentment_details).toEqual({ presentment_amount: 2750, presentment_currency: "chf" });
    expect(buildTrainingPayment({ amount_minor: 100, currency: "eur", price_id: "p", fee_minor: 0 }).session).toMatchObject({ adaptive_pricing: { enabled: false } });
    expect(buildTrainingPayment({ amount_minor: 100, currency: "eur", price_id: "p", fee_minor: 0 }).session).not.toHaveProperty("presentment_details");
    expect(() => buildTrainingPayment({ amount_minor: 100, currency: "eur", price_id: "p", presentment: { currency: "euro", amount_minor: 1 } })).toThrow(/currency code/);
  });
});

describe("a balance transaction not there yet", () => {
  it("is null on the charge and not stored; attachBalanceTransaction gives the charge and transaction to store later", async () => {
    const t = buildTrainingPayment({ amount_minor: 5000, currency: "eur", price_id: "price_training_intro", balance_transaction_pending: true });
    expect(t.charge.balance_transaction).toBeNull();
    expect(emulatorObjects(t).map((o) => o.id)).not.toContain(t.balance_transaction.id);
    await put(emulatorObjects(t));
    const before = await get(`/v1/payment_intents/${t.payment_intent.id}?expand[]=latest_charge.balance_transaction`);
    expect(before.latest_charge.balance_transaction).toBeNull();
    const [charge, bt] = attachBalanceTransaction(t);
    expect(charge).toEqual({ ...t.charge, balance_transaction: t.balance_transaction.id });
    await put([charge, bt]);
    const after = await get(`/v1/payment_intents/${t.payment_intent.id}?expand[]=latest_charge.balance_transaction`);
    expect(after.latest_charge.balance_transaction).toEqual(t.balance_transaction);
    expect(buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "p", balance_transaction_pending: true }).charge.balance_transaction).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Lists embedded in an object: 10 items, has_more
// ---------------------------------------------------------------------------------------------

describe("embedded lists", () => {
  const twelve = Array.from({ length: 12 }, (_, i) => ({ price_id: `price_${i}`, amount_minor: 1000 + i }));
  const total = twelve.reduce((a, l) => a + l.amount_minor, 0);

  it("an invoice embeds its first 10 lines with has_more; GET /lines pages through all 12", async () => {
    const h = buildHostingPayment({ amount_minor: total, currency: "eur", price_id: "x", lines: twelve });
    expect(h.invoice.lines.data).toHaveLength(10);
    expect(h.invoice.lines.has_more).toBe(true);
    expect(h.invoice_lines.data).toHaveLength(12);
    expect((h.event.data.object as Stripe.Invoice).lines.data).toHaveLength(10);
    await put(emulatorObjects(h));
    const inv = await get(`/v1/invoices/${h.invoice.id}`);
    expect(inv.lines).toEqual({ object: "list", data: h.invoice_lines.data.slice(0, 10), has_more: true, url: `/v1/invoices/${h.invoice.id}/lines` });
    const page1 = await get(`/v1/invoices/${h.invoice.id}/lines`);
    expect([page1.data.length, page1.has_more]).toEqual([10, true]);
    const page2 = await get(`/v1/invoices/${h.invoice.id}/lines?starting_after=${page1.data[9].id}`);
    expect([page2.data.length, page2.has_more]).toEqual([2, false]);
    expect((await get(`/v1/invoices/${h.invoice.id}/lines?limit=100`)).data).toEqual(h.invoice_lines.data);
  });

  it("an invoice posted with all 12 lines embedded is cut to 10 by the emulator, as Stripe would", async () => {
    const h = buildHostingPayment({ amount_minor: total, currency: "eur", price_id: "x", lines: twelve });
    await put({ ...h.invoice, lines: h.invoice_lines });
    expect((await get(`/v1/invoices/${h.invoice.id}`)).lines.data).toHaveLength(10);
    expect((await get(`/v1/invoices/${h.invoice.id}/lines?limit=20`)).data).toHaveLength(12);
  });

  it("a session's expanded line_items hold 10 of its 12 items with has_more", async () => {
    const t = buildTrainingPayment({ amount_minor: total, currency: "eur", price_id: "x", lines: twelve });
    await put(emulatorObjects(t));
    const s = await get(`/v1/checkout/sessions/${t.session.id}?expand[]=line_items`);
    expect([s.line_items.data.length, s.line_items.has_more]).toEqual([10, true]);
    expect((await get(`/v1/checkout/sessions/${t.session.id}/line_items?limit=100`)).data).toHaveLength(12);
  });

  it("expands an invoice's discounts, a list of ids", async () => {
    const h = buildHostingPayment({ amount_minor: 9000, currency: "eur", price_id: "p", discount: { percent_bps: 1000 } });
    await put(emulatorObjects(h));
    const inv = await get(`/v1/invoices/${h.invoice.id}?expand[]=discounts&expand[]=lines.data.discount_amounts.discount`);
    expect(inv.discounts).toEqual([h.discounts[0]]);
    expect(inv.lines.data[0].discount_amounts[0].discount).toEqual(h.discounts[0]);
  });
});

describe("the stripe SDK reads what the builders make", () => {
  it("an invoice with its off-Stripe amount, lines paged, and a session with taxes", async () => {
    const stripe = new Stripe(KEY, {
      httpClient: Stripe.createFetchHttpClient(async (url, init) => app.fetch(new Request(url, init))),
      host: "127.0.0.1",
      port: 12111,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const lines = Array.from({ length: 11 }, (_, i) => ({ price_id: `price_${i}`, unit_amount_minor: 1000 }));
    const h = buildHostingPayment({ currency: "eur", price_id: "x", lines, tax: { rate_bps: 2000 }, paid_off_stripe_minor: 2000 });
    const t = buildTrainingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_training_intro", tax: { rate_bps: 2000 } });
    await put([...emulatorObjects(h), ...emulatorObjects(t)]);
    const invoice = await stripe.invoices.retrieve(h.invoice.id, { expand: ["amount_paid_off_stripe"] });
    expect([invoice.amount_paid, invoice.amount_paid_off_stripe, invoice.total]).toEqual([13_200, 2000, 13_200]);
    const all: Stripe.InvoiceLineItem[] = [];
    for await (const l of stripe.invoices.listLineItems(h.invoice.id)) all.push(l);
    expect(all.map((l) => l.id)).toEqual(h.invoice_lines.data.map((l) => l.id));
    const items = await stripe.checkout.sessions.listLineItems(t.session.id, { expand: ["data.taxes"] });
    expect(items.data[0]!.taxes![0]!.amount).toBe(2000);
  });
});
