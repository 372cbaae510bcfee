// What the split needs to know about a payment, read from Stripe's objects. The Stripe
// shapes are narrowed with zod to the fields used here, so a surprise in Stripe's answer
// is a clear, permanent "cannot read" rather than an undefined deep in the arithmetic.
import type Stripe from "stripe";
import { z } from "zod";
import { MAX_PAYMENT_LINES } from "../core";
import { NotYetAtStripe, PermanentPaymentProblem } from "./failures";

export interface PaymentLineFacts {
  price_id: string | null;
  /** The line's amount in the presentment currency: only a pro-rata weight. */
  amount_minor: number;
  description: string | null;
}

export interface PaymentFacts {
  payment_intent_id: string;
  source_type: "checkout.session" | "invoice";
  source_id: string;
  /** When the customer paid (the charge's creation, or the invoice's paid_at): picks the rule version. */
  paid_at_s: number;
  presentment_currency: string;
  presentment_amount_minor: number;
  /** Settlement currency and amounts, from the charge's balance transaction. */
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  /** `metadata.offer_id` of the session or invoice, when set. */
  offer_hint: string | null;
  lines: PaymentLineFacts[];
}

const MAX_LINES = MAX_PAYMENT_LINES;
/** Paid invoice payments read for one invoice: one is what can be split today; a few more are read to say so. */
const MAX_INVOICE_PAYMENTS = 20;
const minor = z.number().int().nonnegative();

const balanceTransaction = z.object({
  id: z.string(),
  amount: minor,
  fee: minor,
  net: z.number().int(),
  currency: z.string(),
});

const charge = z.object({
  id: z.string(),
  created: z.number().int(),
  balance_transaction: z.union([balanceTransaction, z.string(), z.null()]),
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
});

const invoiceLine = z.object({
  amount: z.number().int(),
  description: z.string().nullish(),
  pricing: z
    .object({ price_details: z.object({ price: z.union([z.string(), z.object({ id: z.string() })]) }).nullish() })
    .nullish(),
});

const invoice = z.object({
  id: z.string(),
  amount_paid: minor,
  currency: z.string(),
  metadata,
  status_transitions: z.object({ paid_at: z.number().int().nullable() }),
  parent: z.object({ subscription_details: z.object({ metadata }).nullish() }).nullish(),
  lines: z.object({ data: z.array(z.unknown()), has_more: z.boolean() }),
});

const invoicePayment = z.object({
  status: z.string(),
  amount_paid: minor.nullable(),
  payment: z.object({ type: z.string(), payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish() }),
});

function read<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
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

export async function fetchCheckoutFacts(stripe: Stripe, sessionId: string): Promise<PaymentFacts> {
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
  return {
    payment_intent_id: session.payment_intent.id,
    source_type: "checkout.session",
    source_id: session.id,
    paid_at_s: ch.created,
    presentment_currency: session.currency ?? bt.currency,
    presentment_amount_minor: session.amount_total ?? bt.amount,
    currency: bt.currency,
    gross_minor: bt.amount,
    fee_minor: bt.fee,
    net_minor: bt.net,
    offer_hint: session.metadata?.offer_id ?? null,
    lines: items.map((item) => ({
      price_id: item.price?.id ?? null,
      amount_minor: item.amount_total,
      description: item.description ?? null,
    })),
  };
}

export async function fetchInvoiceFacts(stripe: Stripe, invoiceId: string): Promise<PaymentFacts> {
  const inv = read(invoice, await stripe.invoices.retrieve(invoiceId), `invoice ${invoiceId}`);
  // Since API 2025-03-31 an invoice no longer names its payment intent: its paid invoice payments do.
  const paid: z.infer<typeof invoicePayment>[] = [];
  for await (const p of stripe.invoicePayments.list({ invoice: invoiceId, status: "paid", limit: 100 })) {
    if (paid.length >= MAX_INVOICE_PAYMENTS) throw new PermanentPaymentProblem(`invoice ${invoiceId} has more than ${MAX_INVOICE_PAYMENTS} paid invoice payments`);
    paid.push(read(invoicePayment, p, `invoice payment of ${invoiceId}`));
  }
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
  const lines = await allLines(inv.lines, invoiceLine, () => stripe.invoices.listLineItems(invoiceId, { limit: MAX_LINES }), `invoice ${invoiceId}`);
  const hint = inv.metadata?.offer_id ?? inv.parent?.subscription_details?.metadata?.offer_id ?? null;
  return {
    payment_intent_id: pi.id,
    source_type: "invoice",
    source_id: inv.id,
    paid_at_s: inv.status_transitions.paid_at ?? ch.created,
    presentment_currency: inv.currency,
    presentment_amount_minor: inv.amount_paid,
    currency: bt.currency,
    gross_minor: bt.amount,
    fee_minor: bt.fee,
    net_minor: bt.net,
    offer_hint: hint,
    // Credit lines (negative amounts, e.g. proration) reduce what was paid; the split
    // weighs the lines that were charged, so only positive lines carry weight.
    lines: lines
      .filter((l) => l.amount > 0)
      .map((l) => {
        const price = l.pricing?.price_details?.price;
        return { price_id: price === undefined || price === null ? null : typeof price === "string" ? price : price.id, amount_minor: l.amount, description: l.description ?? null };
      }),
  };
}
