// What the split needs to know about a payment, read from Stripe's objects. The Stripe
// shapes are narrowed with zod to the fields used here, so a surprise in Stripe's answer
// is a clear, permanent "cannot read" rather than an undefined deep in the arithmetic.
//
// Weights are read as Stripe charged them, in the session's or invoice's currency: each line
// weighs what was charged for it after its discounts and pretax credits, without tax (a
// proration credit weighs a negative amount), the tax weighs the tax collected, shipping its
// amount without tax. They must add up to what the customer was charged.
import type Stripe from "stripe";
import type { StripeApi } from "./stripe-api";
import { z } from "zod";
import { MAX_PAYMENT_LINES } from "../core";
import { NotYetAtStripe, PermanentPaymentProblem } from "./failures";

export interface PaymentLineFacts {
  price_id: string | null;
  /** What was charged for the line after discounts and pretax credits, without tax: a signed pro-rata weight. */
  weight_minor: number;
  description: string | null;
  /** An invoice line that prorates a plan change (a credit for the plan left is negative). */
  proration: boolean;
}

export interface PaymentFacts {
  payment_intent_id: string;
  charge_id: string;
  balance_transaction_id: string;
  /** When Stripe created that balance transaction (null if it did not say): the day reconciliation finds the payment on. */
  balance_transaction_created_s: number | null;
  source_type: "checkout.session" | "invoice";
  source_id: string;
  /** When the customer paid (the charge's creation, or the invoice's paid_at): picks the rule version and the offer as it was. */
  paid_at_s: number;
  /** What the customer saw: `presentment_details` when Stripe sends them (Adaptive Pricing), else the session's or invoice's. */
  presentment_currency: string;
  presentment_amount_minor: number;
  /** What was charged, in the charge's currency: refunds and disputes are measured against it. */
  charge_amount_minor: number;
  /** Settlement currency and amounts, from the charge's balance transaction. */
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  /** Stripe's rate from the charged currency to the settlement one, as Stripe wrote it; null when they are the same. Never used in arithmetic. */
  exchange_rate: string | null;
  /** Weights, in the currency of the lines: the tax collected and shipping without tax. */
  tax_weight_minor: number;
  shipping_weight_minor: number;
  /** `metadata.offer_id` of the session or invoice, when set. */
  offer_hint: string | null;
  lines: PaymentLineFacts[];
}

const MAX_LINES = MAX_PAYMENT_LINES;
/** Paid invoice payments read for one invoice: one is what can be split today; a few more are read to say so. */
const MAX_INVOICE_PAYMENTS = 20;
const minor = z.number().int().nonnegative();
const signed = z.number().int();

const balanceTransaction = z.object({
  id: z.string(),
  amount: minor,
  fee: minor,
  net: z.number().int(),
  currency: z.string(),
  exchange_rate: z.number().nullish(),
  created: z.number().int().optional(),
});

const presentmentDetails = z.object({ presentment_amount: minor, presentment_currency: z.string() }).nullish();

const charge = z.object({
  id: z.string(),
  amount: minor,
  created: z.number().int(),
  balance_transaction: z.union([balanceTransaction, z.string(), z.null()]),
  presentment_details: presentmentDetails,
});

const paymentIntent = z.object({
  id: z.string(),
  amount: minor,
  status: z.string(),
  latest_charge: z.union([charge, z.string(), z.null()]),
});

const metadata = z.record(z.string(), z.string()).nullish();

const checkoutLineItem = z.object({
  amount_total: minor,
  amount_tax: minor,
  description: z.string().nullish(),
  price: z.object({ id: z.string() }).nullish(),
});

const checkoutSession = z.object({
  id: z.string(),
  mode: z.string(),
  payment_status: z.string(),
  amount_total: minor.nullable(),
  currency: z.string().nullable(),
  metadata,
  payment_intent: z.union([paymentIntent, z.string(), z.null()]),
  line_items: z.object({ data: z.array(z.unknown()), has_more: z.boolean() }).nullish(),
  total_details: z.object({ amount_tax: minor, amount_shipping: minor.nullish() }).nullish(),
  shipping_cost: z.object({ amount_total: minor, amount_tax: minor }).nullish(),
  presentment_details: presentmentDetails,
});

const amountOf = z.object({ amount: signed });

const invoiceLine = z.object({
  amount: signed,
  description: z.string().nullish(),
  discount_amounts: z.array(amountOf).nullish(),
  pretax_credit_amounts: z.array(z.object({ amount: signed, type: z.string() })).nullish(),
  taxes: z.array(z.object({ amount: signed, tax_behavior: z.enum(["exclusive", "inclusive"]) })).nullish(),
  parent: z.object({ subscription_item_details: z.object({ proration: z.boolean() }).nullish(), invoice_item_details: z.object({ proration: z.boolean() }).nullish() }).nullish(),
  pricing: z
    .object({ price_details: z.object({ price: z.union([z.string(), z.object({ id: z.string() })]) }).nullish() })
    .nullish(),
});

const invoice = z.object({
  id: z.string(),
  amount_paid: minor,
  amount_paid_off_stripe: minor.nullish(),
  total: signed,
  currency: z.string(),
  metadata,
  total_taxes: z.array(amountOf).nullish(),
  status_transitions: z.object({ paid_at: z.number().int().nullable() }),
  parent: z.object({ subscription_details: z.object({ metadata }).nullish() }).nullish(),
  lines: z.object({ data: z.array(z.unknown()), has_more: z.boolean() }),
});

const invoicePayment = z.object({
  status: z.string(),
  amount_paid: minor.nullable(),
  payment: z.object({ type: z.string(), payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish() }),
});

/** A Stripe object checked against the shape this code reads; any other shape parks the event with where it differs. */
export function read<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new PermanentPaymentProblem(`Stripe ${what} has an unexpected shape at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
}

/** Only a payment intent that succeeded moved money that can be split. */
function assertSucceeded(pi: z.infer<typeof paymentIntent>): void {
  if (pi.status !== "succeeded") throw new PermanentPaymentProblem(`payment intent ${pi.id} is ${pi.status}, not succeeded: nothing is split until it succeeds`);
}

function settledCharge(pi: z.infer<typeof paymentIntent>) {
  const latest = pi.latest_charge;
  if (latest === null || typeof latest === "string") {
    throw new PermanentPaymentProblem(`payment intent ${pi.id} has no charge to read the fee from`);
  }
  const bt = latest.balance_transaction;
  if (bt === null || typeof bt === "string") {
    // Stripe attaches the balance transaction when the charge settles into the balance.
    throw new NotYetAtStripe(`charge ${latest.id} has no balance transaction yet`);
  }
  if (bt.fee > bt.amount) {
    throw new PermanentPaymentProblem(`balance transaction ${bt.id}: the fee ${bt.fee} is larger than the amount ${bt.amount}`);
  }
  if (bt.net !== bt.amount - bt.fee) {
    throw new PermanentPaymentProblem(`balance transaction ${bt.id}: net ${bt.net} is not amount ${bt.amount} minus fee ${bt.fee}`);
  }
  return { charge: latest, bt };
}

/** What the balance transaction and charge say, common to both sources. */
function settlement(ch: z.infer<typeof charge>, bt: z.infer<typeof balanceTransaction>) {
  return {
    charge_id: ch.id,
    charge_amount_minor: ch.amount,
    balance_transaction_id: bt.id,
    balance_transaction_created_s: bt.created ?? null,
    currency: bt.currency,
    gross_minor: bt.amount,
    fee_minor: bt.fee,
    net_minor: bt.net,
    exchange_rate: bt.exchange_rate === null || bt.exchange_rate === undefined ? null : String(bt.exchange_rate),
  };
}

/**
 * The lines, checked to add up (with tax and shipping) to what the customer was charged, or
 * the split would share a wrong amount. Without line items (an invoice of credits only, say),
 * the payment is one line of everything that is neither tax nor shipping.
 */
function weighedLines(what: string, lines: PaymentLineFacts[], tax_minor: number, shipping_minor: number, total_minor: number): PaymentLineFacts[] {
  if (lines.length === 0) return [{ price_id: null, weight_minor: total_minor - tax_minor - shipping_minor, description: null, proration: false }];
  const sum = lines.reduce((acc, line) => acc + line.weight_minor, 0) + tax_minor + shipping_minor;
  if (sum !== total_minor) {
    throw new PermanentPaymentProblem(`${what}: its lines (after discounts, without tax), tax and shipping add up to ${sum}, not to the ${total_minor} charged`);
  }
  return lines;
}

/**
 * A list embedded in an object (or expanded) holds its first 10 items only: when Stripe
 * says there are more, read them from the list endpoint, up to MAX_LINES.
 */
async function allLines<T>(embedded: { data: unknown[]; has_more: boolean }, schema: z.ZodType<T>, listMore: () => Promise<{ data: unknown[]; has_more: boolean }>, what: string): Promise<T[]> {
  const list = embedded.has_more ? await listMore() : embedded;
  if (list.has_more || list.data.length > MAX_LINES) {
    throw new PermanentPaymentProblem(`${what} has more than ${MAX_LINES} lines, above what one split handles`);
  }
  return list.data.map((item, i) => read(schema, item, `${what} line ${i + 1}`));
}

export async function fetchCheckoutFacts(stripe: StripeApi, sessionId: string): Promise<PaymentFacts> {
  const raw = await stripe.checkout.sessions.retrieve(sessionId, {
    expand: ["line_items", "payment_intent.latest_charge.balance_transaction"],
  });
  const session = read(checkoutSession, raw, `checkout session ${sessionId}`);
  if (session.mode !== "payment" || session.payment_status !== "paid") {
    throw new PermanentPaymentProblem(`checkout session ${sessionId} is not a paid one-off payment (mode ${session.mode}, payment_status ${session.payment_status})`);
  }
  if (session.payment_intent === null || typeof session.payment_intent === "string") {
    throw new PermanentPaymentProblem(`checkout session ${sessionId} has no payment intent`);
  }
  assertSucceeded(session.payment_intent);
  const { charge: ch, bt } = settledCharge(session.payment_intent);
  const items = await allLines(session.line_items ?? { data: [], has_more: false }, checkoutLineItem, () => stripe.checkout.sessions.listLineItems(sessionId, { limit: MAX_LINES }), `checkout session ${sessionId}`);
  // A Checkout line's amount_total holds its tax (inclusive or exclusive) and is after its discounts.
  const charged = items.map((item) => ({ price_id: item.price?.id ?? null, weight_minor: item.amount_total - item.amount_tax, description: item.description ?? null, proration: false }));
  const tax_weight_minor = session.total_details?.amount_tax ?? items.reduce((acc, item) => acc + item.amount_tax, 0);
  const shipping_weight_minor = session.shipping_cost ? session.shipping_cost.amount_total - session.shipping_cost.amount_tax : 0;
  const total_minor = session.amount_total ?? bt.amount;
  const lines = weighedLines(`checkout session ${sessionId}`, charged, tax_weight_minor, shipping_weight_minor, total_minor);
  const presentment = session.presentment_details ?? ch.presentment_details;
  return {
    payment_intent_id: session.payment_intent.id,
    source_type: "checkout.session",
    source_id: session.id,
    paid_at_s: ch.created,
    presentment_currency: presentment?.presentment_currency ?? session.currency ?? bt.currency,
    presentment_amount_minor: presentment?.presentment_amount ?? total_minor,
    ...settlement(ch, bt),
    tax_weight_minor,
    shipping_weight_minor,
    offer_hint: session.metadata?.offer_id ?? null,
    lines,
  };
}

/** An invoice line's weight: its amount (without exclusive tax, with inclusive tax, before discounts) less discounts, pretax credits and inclusive tax. */
function invoiceLineWeight(line: z.infer<typeof invoiceLine>): number {
  const sum = (items: readonly { amount: number }[] | null | undefined) => (items ?? []).reduce((acc, item) => acc + item.amount, 0);
  // Stripe lists a line's discounts again among its pretax credit amounts (type "discount"): count them once.
  const credits = (line.pretax_credit_amounts ?? []).filter((c) => c.type !== "discount");
  const inclusiveTax = (line.taxes ?? []).filter((t) => t.tax_behavior === "inclusive");
  return line.amount - sum(line.discount_amounts) - sum(credits) - sum(inclusiveTax);
}

export async function fetchInvoiceFacts(stripe: StripeApi, invoiceId: string): Promise<PaymentFacts> {
  // amount_paid_off_stripe comes only when asked for.
  const inv = read(invoice, await stripe.invoices.retrieve(invoiceId, { expand: ["amount_paid_off_stripe"] }), `invoice ${invoiceId}`);
  if ((inv.amount_paid_off_stripe ?? 0) > 0) {
    throw new PermanentPaymentProblem(`invoice ${invoiceId} was paid outside Stripe (amount_paid_off_stripe ${inv.amount_paid_off_stripe}): Stripe holds no charge and no fee for that money, so it is not split automatically`);
  }
  // Since API 2025-03-31 an invoice no longer names its payment intent: its paid invoice payments do.
  const paid: z.infer<typeof invoicePayment>[] = [];
  for await (const p of stripe.invoicePayments.list({ invoice: invoiceId, status: "paid", limit: 100 })) {
    if (paid.length >= MAX_INVOICE_PAYMENTS) throw new PermanentPaymentProblem(`invoice ${invoiceId} has more than ${MAX_INVOICE_PAYMENTS} paid invoice payments`);
    paid.push(read(invoicePayment, p, `invoice payment of ${invoiceId}`));
  }
  const outside = paid.find((p) => p.status === "paid" && p.payment.type !== "payment_intent");
  if (outside) throw new PermanentPaymentProblem(`invoice ${invoiceId} was paid outside Stripe (an invoice payment of type ${outside.payment.type}): it is not split automatically`);
  const byIntent = paid.filter((p) => p.status === "paid" && p.payment.type === "payment_intent");
  const piRef = byIntent[0]?.payment.payment_intent;
  if (!piRef) throw new PermanentPaymentProblem(`invoice ${invoiceId} has no paid invoice payment with a payment intent`);
  if (byIntent.length > 1) throw new PermanentPaymentProblem(`invoice ${invoiceId} was paid by ${byIntent.length} payments (partial or shared payments are not split yet)`);
  const piId = typeof piRef === "string" ? piRef : piRef.id;
  const pi = read(paymentIntent, await stripe.paymentIntents.retrieve(piId, { expand: ["latest_charge.balance_transaction"] }), `payment intent ${piId}`);
  assertSucceeded(pi);
  const { charge: ch, bt } = settledCharge(pi);
  const payment = byIntent[0];
  // One payment intent for one whole invoice is what the ledger is keyed by; a partial
  // payment, or one payment for several invoices, would need prorating: park it instead.
  if (payment?.amount_paid !== null && payment?.amount_paid !== undefined && (payment.amount_paid !== inv.amount_paid || pi.amount !== inv.amount_paid)) {
    throw new PermanentPaymentProblem(`invoice ${invoiceId}: payment ${pi.id} of ${pi.amount} does not pay exactly the invoice's ${inv.amount_paid} (partial or shared payments are not split yet)`);
  }
  const raw = await allLines(inv.lines, invoiceLine, () => stripe.invoices.listLineItems(invoiceId, { limit: MAX_LINES }), `invoice ${invoiceId}`);
  const charged = raw.map((l) => {
    const price = l.pricing?.price_details?.price;
    return {
      price_id: price === undefined || price === null ? null : typeof price === "string" ? price : price.id,
      weight_minor: invoiceLineWeight(l),
      description: l.description ?? null,
      proration: (l.parent?.subscription_item_details?.proration ?? l.parent?.invoice_item_details?.proration) === true,
    };
  });
  const tax_weight_minor = (inv.total_taxes ?? []).reduce((acc, t) => acc + t.amount, 0);
  const lines = weighedLines(`invoice ${invoiceId}`, charged, tax_weight_minor, 0, inv.total);
  const hint = inv.metadata?.offer_id ?? inv.parent?.subscription_details?.metadata?.offer_id ?? null;
  return {
    payment_intent_id: pi.id,
    source_type: "invoice",
    source_id: inv.id,
    paid_at_s: inv.status_transitions.paid_at ?? ch.created,
    presentment_currency: ch.presentment_details?.presentment_currency ?? inv.currency,
    presentment_amount_minor: ch.presentment_details?.presentment_amount ?? inv.amount_paid,
    ...settlement(ch, bt),
    tax_weight_minor,
    shipping_weight_minor: 0,
    offer_hint: hint,
    lines,
  };
}
