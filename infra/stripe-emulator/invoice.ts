/**
 * A subscription invoice: its lines (prorations included), its totals, its payments.
 *
 * A line's `amount` is the price × quantity (or the prorated part of it): exclusive tax left
 * out, inclusive tax in, before discounts. `discount_amounts` lists the discounts that applied
 * (the line's own, then the invoice's), `pretax_credit_amounts` lists them again (type
 * `discount`) with the billing credits (type `credit_balance_transaction`), and `taxes` the tax.
 * The invoice: subtotal = Σ amounts; total = subtotal − discounts − credit grants + exclusive
 * tax; total_excluding_tax = total − every tax; subtotal_excluding_tax = subtotal − inclusive
 * tax; amount_due = amount_paid = total (no customer balance). Pure and web-standard.
 */
import type Stripe from "stripe";

import { formatMinor } from "../../core/currency";
import { divRound } from "./amounts.ts";
import { clone, wireDecimal } from "./catalog.ts";
import { EMBEDDED_LIST_LIMIT, stripeId } from "./ids.ts";
import type { Pricing, UpgradeOption } from "./pricing.ts";

import invoiceFx from "../stripe-fixtures/invoice.json" with { type: "json" };
import invoicePaymentFx from "../stripe-fixtures/invoice_payment.json" with { type: "json" };
import lineItemFx from "../stripe-fixtures/line_item.json" with { type: "json" };
import paymentRecordFx from "../stripe-fixtures/payment_record.json" with { type: "json" };

const PERIOD_S = 30 * 86400;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** 1_800_000_000 → "15 Jan 2027", as Stripe writes dates in proration descriptions (UTC). */
function stripeDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** n / q as an exact decimal string ("1450", "-483.3333333333"): Stripe's unit_amount_decimal. */
export function decimalString(n: number, q: number): string {
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(n);
  const whole = Math.floor(abs / q);
  let rest = abs % q;
  let digits = "";
  for (let i = 0; i < 10 && rest !== 0; i++) {
    rest *= 10;
    digits += String(Math.floor(rest / q));
    rest %= q;
  }
  return `${sign}${whole}${digits ? `.${digits}` : ""}`;
}

export interface InvoiceIds {
  invoice: string;
  subscription: string;
  customer: string;
}

export function buildInvoiceLines(pricing: Pricing, currency: string, created: number, ids: InvoiceIds, upgrade: UpgradeOption | undefined): Stripe.InvoiceLineItem[] {
  const tax = pricing.plans.tax;
  // The time left after the change of plan (display only: amounts use the exact fraction).
  const leftS = upgrade ? Number(divRound(BigInt(PERIOD_S) * BigInt(upgrade.unused.numerator), BigInt(upgrade.unused.denominator))) : 0;
  const changeEnd = created + leftS;
  // One subscription item per input line: a change of price keeps it, so the credit, the debit
  // and the next period of an upgrade share one.
  const items = new Map<number, string>();
  const itemOf = (group: number) => items.get(group) ?? items.set(group, stripeId("si_")).get(group)!;
  return pricing.lines.map((l): Stripe.InvoiceLineItem => {
    const a = l.amounts;
    const proration = l.role !== "regular";
    const qty = l.quantity > 1 ? `${l.quantity} × ` : "";
    const description =
      l.role === "proration_credit"
        ? `Unused time on ${qty}${l.description} after ${stripeDate(created)}`
        : l.role === "proration_debit"
          ? `Remaining time on ${qty}${l.description} after ${stripeDate(created)}`
          : `${l.quantity} × ${l.description} (at ${formatMinor(l.unit_amount, currency)} ${currency.toUpperCase()} / month)`;
    const period = proration
      ? { start: created, end: changeEnd }
      : upgrade
        ? { start: changeEnd, end: changeEnd + PERIOD_S }
        : { start: created, end: created + PERIOD_S };
    const creditTxn = a.pretax_credit_minor > 0 ? stripeId("cbtxn_") : null;
    const taxes: Stripe.InvoiceLineItem.Tax[] = tax
      ? [
          {
            amount: a.tax_minor,
            tax_behavior: tax.rule.behavior,
            tax_rate_details: { tax_rate: tax.rate.id },
            taxability_reason: tax.automatic ? "standard_rated" : "not_available",
            taxable_amount: a.taxable_minor,
            type: "tax_rate_details",
          },
        ]
      : [];
    return {
      ...clone(lineItemFx),
      id: stripeId("il_"),
      object: "line_item",
      amount: a.amount_minor,
      currency,
      description,
      discount_amounts: l.discounts.map((d, k) => ({ amount: a.discounts_minor[k]!, discount: d.discount.id })),
      discountable: !proration,
      discounts: l.line_discount ? [l.line_discount.discount.id] : [],
      invoice: ids.invoice,
      livemode: false,
      metadata: {},
      parent: {
        type: "subscription_item_details",
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: proration ? stripeId("ii_") : null,
          proration,
          proration_details: {
            credited_items:
              l.role === "proration_credit"
                ? { invoice: upgrade?.credited_invoice_id ?? stripeId("in_"), invoice_line_items: [upgrade?.credited_line_item_id ?? stripeId("il_")] }
                : null,
          },
          subscription: ids.subscription,
          subscription_item: itemOf(l.group),
        },
      },
      period,
      // Stripe lists the discounts here again (type "discount") next to credit grants: add one list or the other, never both.
      pretax_credit_amounts: [
        ...l.discounts.map((d, k): Stripe.InvoiceLineItem.PretaxCreditAmount => ({ amount: a.discounts_minor[k]!, discount: d.discount.id, type: "discount" })),
        ...(creditTxn ? [{ amount: a.pretax_credit_minor, credit_balance_transaction: creditTxn, type: "credit_balance_transaction" } satisfies Stripe.InvoiceLineItem.PretaxCreditAmount] : []),
      ],
      pricing: {
        type: "price_details",
        price_details: { price: l.price_id, product: l.product_id },
        unit_amount_decimal: wireDecimal(decimalString(a.amount_minor, l.quantity)),
      },
      quantity: l.quantity,
      quantity_decimal: wireDecimal(String(l.quantity)),
      subscription: ids.subscription,
      subtotal: a.amount_minor,
      taxes,
    };
  });
}

/** Sums amounts by key, in first-seen order: Stripe's invoice totals list each discount, credit and tax once. */
function aggregate<T extends { amount: number }>(items: T[], key: (t: T) => string, merge: (into: T, from: T) => void = () => {}): T[] {
  const out = new Map<string, T>();
  for (const it of items) {
    const k = key(it);
    const seen = out.get(k);
    if (seen) {
      seen.amount += it.amount;
      merge(seen, it);
    } else out.set(k, { ...it });
  }
  return [...out.values()];
}

/** The first 10 items, and whether there are more: how Stripe embeds a list in an object. */
export function embeddedList<T>(all: T[], url: string): Stripe.ApiList<T> {
  return { object: "list", data: all.slice(0, EMBEDDED_LIST_LIMIT), has_more: all.length > EMBEDDED_LIST_LIMIT, url };
}

export function buildInvoice(fields: {
  pricing: Pricing;
  lines: Stripe.InvoiceLineItem[];
  ids: InvoiceIds;
  created: number;
  currency: string;
  billing_reason: Stripe.Invoice.BillingReason;
  metadata: Record<string, string>;
}): Stripe.Invoice {
  const { pricing, lines, ids, created, currency, metadata } = fields;
  const t = pricing.totals;
  const tax = pricing.plans.tax;
  const total_taxes: Stripe.Invoice.TotalTax[] = aggregate(
    lines.flatMap((l) => l.taxes ?? []),
    (x) => `${x.tax_rate_details?.tax_rate}|${x.tax_behavior}|${x.taxability_reason}`,
    (into, from) => {
      into.taxable_amount = (into.taxable_amount ?? 0) + (from.taxable_amount ?? 0);
    },
  );
  const total_discount_amounts: Stripe.Invoice.TotalDiscountAmount[] = aggregate(
    lines.flatMap((l) => l.discount_amounts ?? []),
    (x) => String(x.discount),
  );
  const total_pretax_credit_amounts: Stripe.Invoice.TotalPretaxCreditAmount[] = aggregate(
    lines.flatMap((l) => l.pretax_credit_amounts ?? []),
    (x) => `${x.type}|${String(x.discount ?? x.credit_balance_transaction)}`,
  );
  return {
    ...clone(invoiceFx),
    id: ids.invoice,
    object: "invoice",
    account_country: "FR",
    account_name: "Pot Commun (emulator)",
    amount_due: t.total_minor,
    amount_overpaid: 0,
    amount_paid: t.total_minor,
    amount_remaining: 0,
    amount_shipping: 0,
    attempt_count: 1,
    attempted: true,
    auto_advance: false,
    automatic_tax: tax?.automatic
      ? { enabled: true, liability: { type: "self" }, status: "complete", disabled_reason: null, provider: "stripe" }
      : { enabled: false, liability: null, status: null, disabled_reason: null, provider: null },
    billing_reason: fields.billing_reason,
    collection_method: "charge_automatically",
    created,
    currency,
    customer: ids.customer,
    customer_address: null,
    customer_email: "customer@example.com",
    customer_name: "Test Customer",
    customer_shipping: null,
    discounts: pricing.plans.payment_discount ? [pricing.plans.payment_discount.discount.id] : [],
    due_date: null,
    effective_at: created,
    ending_balance: 0,
    from_invoice: null,
    hosted_invoice_url: null,
    last_finalization_error: null,
    lines: embeddedList(lines, `/v1/invoices/${ids.invoice}/lines`),
    livemode: false,
    metadata,
    next_payment_attempt: null,
    number: `${stripeId("", 8).toUpperCase()}-0001`,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata, subscription: ids.subscription },
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: created,
    period_start: created,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    status: "paid",
    status_transitions: { finalized_at: created, marked_uncollectible_at: null, paid_at: created, voided_at: null },
    subtotal: t.subtotal_minor,
    subtotal_excluding_tax: t.subtotal_minor - t.tax_inclusive_minor,
    total: t.total_minor,
    total_discount_amounts,
    total_excluding_tax: t.total_minor - t.tax_exclusive_minor - t.tax_inclusive_minor,
    total_pretax_credit_amounts,
    total_taxes,
    webhooks_delivered_at: null,
  } satisfies Stripe.Invoice;
}

export function buildInvoicePayment(fields: {
  id?: string;
  invoice: string;
  amount_minor: number;
  currency: string;
  created: number;
  is_default: boolean;
  payment: Stripe.InvoicePayment.Payment;
}): Stripe.InvoicePayment {
  return {
    ...clone(invoicePaymentFx),
    id: fields.id ?? stripeId("inpay_"),
    object: "invoice_payment",
    amount_paid: fields.amount_minor,
    amount_requested: fields.amount_minor,
    created: fields.created,
    currency: fields.currency,
    invoice: fields.invoice,
    is_default: fields.is_default,
    livemode: false,
    payment: fields.payment,
    status: "paid",
    status_transitions: { canceled_at: null, paid_at: fields.created },
  };
}

/** A payment made outside Stripe (a bank transfer), as reported to Stripe in a payment record. */
export function buildPaymentRecord(amount_minor: number, currency: string, created: number, customer: string): Stripe.PaymentRecord {
  const money = (value: number) => ({ currency, value });
  return {
    ...clone(paymentRecordFx),
    id: stripeId("pr_"),
    object: "payment_record",
    amount: money(amount_minor),
    amount_authorized: money(amount_minor),
    amount_canceled: money(0),
    amount_failed: money(0),
    amount_guaranteed: money(amount_minor),
    amount_refunded: money(0),
    amount_requested: money(amount_minor),
    application: null,
    created,
    customer_details: { customer, email: "customer@example.com", name: "Test Customer", phone: null },
    customer_presence: "off_session",
    description: "Bank transfer (paid outside Stripe)",
    latest_payment_attempt_record: null,
    livemode: false,
    metadata: {},
    payment_method_details: {
      billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null },
      payment_method: null,
      type: "custom",
    },
    processor_details: { type: "custom", custom: { payment_reference: `VIR-${created}` } },
    reported_by: "self",
    shipping_details: null,
  };
}
