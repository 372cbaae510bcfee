/**
 * Builders of consistent sets of Stripe objects, cloned from Stripe's own example objects
 * (infra/stripe-fixtures, MIT) with ids, amounts and placeholder values replaced.
 *
 * Amounts follow Stripe's arithmetic (amounts.ts): discounts, pretax credits and tax per line,
 * each rounded to the minor unit half away from zero, and every total the exact sum of its
 * parts. A builder takes what the customer pays (`amount_minor`, for the payment or per line:
 * it finds the prices that give it) or the prices (`unit_amount_minor`: the totals follow).
 *
 *   amounts.ts       the arithmetic: discounts, credits, tax, totals, finding a price
 *   catalog.ts       prices, products, tax rates, coupons, discounts, shipping rates
 *   pricing.ts       options → priced lines (prorations of an upgrade included)
 *   payment-core.ts  payment intent → charge → balance transaction
 *   balance.ts       balance transactions, and amounts converted into the settlement currency
 *   checkout.ts      line items and the Checkout Session
 *   invoice.ts       invoice lines, the invoice, invoice payments, payment records
 *   refund.ts        refunds of a built payment: created, succeeded, failed, canceled
 *   dispute.ts       disputes of a built payment: withdrawn, won, lost; inquiries
 *   events.ts        events around snapshots of objects
 *   connect.ts       connected accounts, transfers to them and their reversals
 *   fees.ts          Stripe fees billed apart from payments (Billing, Tax)
 *   webhook-endpoints.ts  webhook endpoints and their signing secrets
 *
 * Pure and web-standard (no node: imports): used by the emulator, by `npm run stripe:trigger`
 * and by integration tests running in workerd.
 */
import type Stripe from "stripe";

import { type TaxBehavior } from "./amounts.ts";
import { buildProduct, buildPrice, uniqueBy, type DiscountOption, type ShippingOption, type TaxOption } from "./catalog.ts";
import { buildItems, buildSession, sessionId } from "./checkout.ts";
import { buildDispute, buildInquiry, closeInquiry, DEFAULT_DISPUTE_FEE_MINOR, loseDispute, winDispute, type BuiltDispute, type DisputeOptions, type WinDisputeOptions } from "./dispute.ts";
import { buildEvent } from "./events.ts";
import { EMBEDDED_LIST_LIMIT, STRIPE_API_VERSION, stripeId, type StripeObject } from "./ids.ts";
import { buildInvoice, buildInvoiceLines, buildInvoicePayment, buildPaymentRecord, type InvoiceIds } from "./invoice.ts";
import { attachBalanceTransaction, buildPaymentCore, defaultStripeFee, presentmentDetails, type PaymentCore } from "./payment-core.ts";
import { planPayment, pricePayment, type PaymentLine, type Plans, type Pricing, type UpgradeOption } from "./pricing.ts";
import {
  buildRefund,
  cancelRefund,
  chargeAsSent,
  failRefund,
  succeedRefund,
  type BuiltRefund,
  type FailRefundOptions,
  type RefundOptions,
  type RefundSettlement,
  type RefundStatus,
} from "./refund.ts";

export { AmountError, parsePercentBps } from "./amounts.ts";
export { buildConnectedAccount, buildTransfer, buildTransferReversal, type BuiltTransfer, type BuiltTransferReversal, type ConnectedAccountOptions, type TransferFields, type TransferReversalOptions } from "./connect.ts";
export { buildStripeFee, type BilledService, type StripeFeeOptions } from "./fees.ts";
export { buildWebhookEndpoint, withoutSecret } from "./webhook-endpoints.ts";
export {
  attachBalanceTransaction,
  buildDispute,
  buildEvent,
  buildInquiry,
  buildRefund,
  cancelRefund,
  chargeAsSent,
  closeInquiry,
  DEFAULT_DISPUTE_FEE_MINOR,
  failRefund,
  loseDispute,
  succeedRefund,
  winDispute,
  type BuiltDispute,
  type BuiltRefund,
  type DisputeOptions,
  type FailRefundOptions,
  type PaymentCore,
  type RefundOptions,
  type RefundSettlement,
  type RefundStatus,
  type WinDisputeOptions,
  defaultStripeFee,
  EMBEDDED_LIST_LIMIT,
  STRIPE_API_VERSION,
  stripeId,
  type DiscountOption,
  type PaymentLine,
  type ShippingOption,
  type StripeObject,
  type TaxBehavior,
  type TaxOption,
  type UpgradeOption,
};

// ---------------------------------------------------------------------------------------------
// Options and results
// ---------------------------------------------------------------------------------------------

export interface PaymentOptions {
  /**
   * What the customer paid, in minor units of `currency`: tax included, discounts, credits and
   * shipping counted. Required unless the prices are given (`unit_amount_minor`); when both
   * are given they must agree.
   */
  amount_minor?: number;
  /** Lower-case ISO code, e.g. "eur". */
  currency: string;
  /** Price of the single line (ignored when `lines` is given). */
  price_id: string;
  /** The single line's price (see PaymentLine.unit_amount_minor), instead of amount_minor. */
  unit_amount_minor?: number;
  /** Written to metadata.offer_id (session metadata; invoice + subscription metadata). */
  offer_id?: string;
  /** Quantity of the single line (default 1). */
  quantity?: number;
  /** Several lines; they add up to amount_minor. */
  lines?: PaymentLine[];
  /** Tax on every line (and on shipping). */
  tax?: TaxOption;
  /** A discount on the whole payment, applied to each line after the line's own discount. */
  discount?: DiscountOption;
  /**
   * Adaptive Pricing: what the customer saw and paid, in their currency. Sets
   * `presentment_details` on the session (Checkout), the payment intent and the charge; their
   * `currency` and amounts stay in the merchant's currency.
   */
  presentment?: { currency: string; amount_minor: number };
  /**
   * The charge's balance transaction is not there yet (`balance_transaction: null`, and
   * emulatorObjects leaves the transaction out): attachBalanceTransaction(built) gives what
   * to store when Stripe attaches it.
   */
  balance_transaction_pending?: boolean;
  /** Stripe's fee in minor units of the settlement currency (default: defaultStripeFee). */
  fee_minor?: number;
  /** Currency of the balance transaction (default: `currency`). */
  settlement_currency?: string;
  /** Major units of settlement currency per major unit of `currency`, as Stripe reports it. */
  exchange_rate?: number;
  /** Amount credited in the settlement currency (default: derived from exchange_rate). */
  settlement_amount_minor?: number;
  /** Unix seconds for every object built (default: now). */
  created?: number;
  /** Extra metadata merged into the metadata that carries offer_id. */
  metadata?: Record<string, string>;
  /** Force some ids (tests of idempotency); the others are random. */
  ids?: Partial<Record<"session" | "payment_intent" | "charge" | "balance_transaction" | "event" | "invoice" | "invoice_payment" | "subscription" | "customer", string>>;
}

export interface TrainingPaymentOptions extends PaymentOptions {
  /**
   * "paid" (default) or "unpaid" (delayed method such as SEPA debit still processing: the payment
   * intent is `processing`, the charge `pending`). For a subscription-mode Checkout Session use
   * buildSubscriptionCheckout.
   */
  payment_status?: "paid" | "unpaid";
  mode?: "payment";
  /** A shipping rate chosen at checkout: `shipping_cost`, counted in total_details.amount_shipping. */
  shipping?: ShippingOption;
}

export interface HostingPaymentOptions extends PaymentOptions {
  /** Default "subscription_cycle" ("subscription_update" for an upgrade invoiced at once); the first invoice of a subscription is "subscription_create". */
  billing_reason?: "subscription_cycle" | "subscription_create" | "subscription_update";
  /** The prorations of a change of plan, on the first line. */
  upgrade?: UpgradeOption;
  /** A billing credit applied before tax to the first line (see PaymentLine.pretax_credit_minor). */
  pretax_credit_minor?: number;
  /**
   * Part of the invoice paid outside Stripe (a bank transfer), recorded as a payment record and
   * an invoice payment of type `payment_record`; the rest is paid by card. Below the total: for
   * an invoice paid wholly outside Stripe, use buildInvoicePaidOffStripe.
   */
  paid_off_stripe_minor?: number;
}

export interface CatalogObjects {
  prices: Stripe.Price[];
  products: Stripe.Product[];
  tax_rates: Stripe.TaxRate[];
  coupons: Stripe.Coupon[];
  discounts: Stripe.Discount[];
}

export interface PaymentObjects extends CatalogObjects, PaymentCore {}

export interface TrainingPayment extends PaymentObjects {
  session: Stripe.Checkout.Session;
  /**
   * All the session's line items (what GET /line_items pages through), each with its `taxes`
   * and `discounts` as `expand[]=data.taxes&expand[]=data.discounts` shows them: the emulator
   * serves those two only when they are expanded, as Stripe does.
   */
  line_items: Stripe.ApiList<Stripe.LineItem>;
  shipping_rates: Stripe.ShippingRate[];
  /** checkout.session.completed */
  event: Stripe.Event;
}

export interface InvoiceObjects extends CatalogObjects {
  /** As Stripe sends it: `lines` embeds the first 10 lines, with `has_more` when there are more. */
  invoice: Stripe.Invoice;
  /** Every line of the invoice (what GET /v1/invoices/:id/lines pages through). */
  invoice_lines: Stripe.ApiList<Stripe.InvoiceLineItem>;
  /** Every invoice payment: the card's, and the one recorded outside Stripe if any. */
  invoice_payments: Stripe.InvoicePayment[];
  /** Payments made outside Stripe, as reported to it. */
  payment_records: Stripe.PaymentRecord[];
  /** What Stripe answers for `amount_paid_off_stripe` (an includable property: expand[]=amount_paid_off_stripe). */
  amount_paid_off_stripe: number;
  /** invoice.paid */
  event: Stripe.Event;
}

export interface HostingPayment extends PaymentObjects, InvoiceObjects {
  /** The invoice payment of the payment intent. */
  invoice_payment: Stripe.InvoicePayment;
}

/** An invoice paid wholly outside Stripe: no payment intent, no charge, no fee. */
export type OffStripeInvoice = InvoiceObjects;

export interface SubscriptionCheckout extends HostingPayment {
  /** Checkout Session in subscription mode: no payment_intent, points at `invoice`. */
  session: Stripe.Checkout.Session;
  line_items: Stripe.ApiList<Stripe.LineItem>;
  /** checkout.session.completed for the subscription-mode session (must not be split). */
  checkout_event: Stripe.Event;
}

export type BuiltPayment = TrainingPayment | HostingPayment | SubscriptionCheckout | OffStripeInvoice;

// ---------------------------------------------------------------------------------------------
// Shared steps
// ---------------------------------------------------------------------------------------------

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function metadataWithOffer(opts: PaymentOptions): Record<string, string> {
  return { ...(opts.metadata ?? {}), ...(opts.offer_id !== undefined ? { offer_id: opts.offer_id } : {}) };
}

function catalog(pricing: Pricing, currency: string, created: number, recurring: boolean): CatalogObjects {
  const tax = pricing.plans.tax;
  return {
    prices: uniqueBy(pricing.lines.map((l) => buildPrice(l, currency, created, recurring, tax))),
    products: uniqueBy(pricing.lines.map((l) => buildProduct(l, created))),
    tax_rates: tax ? [tax.rate] : [],
    coupons: uniqueBy(pricing.discounts.map((d) => d.coupon)),
    discounts: pricing.discounts.map((d) => d.discount),
  };
}

interface InvoiceParts {
  pricing: Pricing;
  invoice: Stripe.Invoice;
  invoice_lines: Stripe.ApiList<Stripe.InvoiceLineItem>;
  ids: InvoiceIds;
  created: number;
  currency: string;
}

function invoiceParts(opts: HostingPaymentOptions, plans?: Plans): InvoiceParts {
  const created = opts.created ?? nowSeconds();
  const currency = opts.currency.toLowerCase();
  const pricing = pricePayment(opts, created, plans ?? planPayment(opts, created), {
    ...(opts.upgrade ? { upgrade: opts.upgrade } : {}),
    ...(opts.pretax_credit_minor !== undefined ? { pretax_credit_minor: opts.pretax_credit_minor } : {}),
  });
  const ids: InvoiceIds = {
    invoice: opts.ids?.invoice ?? stripeId("in_"),
    subscription: opts.ids?.subscription ?? stripeId("sub_"),
    customer: opts.ids?.customer ?? stripeId("cus_"),
  };
  for (const d of pricing.discounts) Object.assign(d.discount, { customer: ids.customer, subscription: ids.subscription });
  const billing_reason = opts.billing_reason ?? (opts.upgrade && !opts.upgrade.with_next_period ? "subscription_update" : "subscription_cycle");
  const lines = buildInvoiceLines(pricing, currency, created, ids, opts.upgrade);
  const invoice = buildInvoice({ pricing, lines, ids, created, currency, billing_reason, metadata: metadataWithOffer(opts) });
  return { pricing, invoice, invoice_lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${ids.invoice}/lines` }, ids, created, currency };
}

// ---------------------------------------------------------------------------------------------
// Public builders
// ---------------------------------------------------------------------------------------------

/**
 * One-off Checkout payment (a training): session, line items, PI, charge, balance tx, event,
 * and the tax rate, coupon and shipping rate it uses.
 */
export function buildTrainingPayment(opts: TrainingPaymentOptions): TrainingPayment {
  if (opts.mode !== undefined && opts.mode !== "payment") {
    throw new Error(`buildTrainingPayment builds mode "payment" sessions; use buildSubscriptionCheckout`);
  }
  if (opts.lines?.some((l) => l.pretax_credit_minor)) throw new Error("a Checkout Session has no pretax credits (they are billing credits, on invoices)");
  const created = opts.created ?? nowSeconds();
  const currency = opts.currency.toLowerCase();
  const pricing = pricePayment(opts, created, planPayment(opts, created), opts.shipping ? { shipping: opts.shipping } : {});
  const paid = (opts.payment_status ?? "paid") === "paid";
  const core = buildPaymentCore(opts, pricing.paid_minor, created, null, paid);
  const id = opts.ids?.session ?? sessionId();
  for (const d of pricing.discounts) Object.assign(d.discount, { checkout_session: id });
  const session = buildSession({
    id,
    mode: "payment",
    payment_status: paid ? "paid" : "unpaid",
    currency,
    created,
    metadata: metadataWithOffer(opts),
    payment_intent: core.payment_intent.id,
    invoice: null,
    subscription: null,
    customer: null,
    pricing,
    presentment: presentmentDetails(opts),
  });
  return {
    session,
    line_items: buildItems(pricing, currency, created, false, id),
    ...core,
    ...catalog(pricing, currency, created, false),
    shipping_rates: pricing.shipping ? [pricing.shipping.rate] : [],
    event: buildEvent("checkout.session.completed", session, { id: opts.ids?.event, created }),
  };
}

/**
 * What Stripe sends when a delayed payment (SEPA debit) of an `unpaid` training session clears:
 * the session paid, the PI succeeded, the charge succeeded, and
 * checkout.session.async_payment_succeeded.
 */
export function buildAsyncPaymentSucceeded(training: TrainingPayment, opts: { created?: number; event_id?: string } = {}): TrainingPayment {
  const session = { ...structuredClone(training.session), payment_status: "paid" } as Stripe.Checkout.Session;
  const amount = training.payment_intent.amount;
  return {
    ...structuredClone(training),
    session,
    payment_intent: { ...structuredClone(training.payment_intent), status: "succeeded", amount_received: amount, processing: null },
    charge: { ...structuredClone(training.charge), status: "succeeded", paid: true, captured: true, amount_captured: amount },
    event: buildEvent("checkout.session.async_payment_succeeded", session, { id: opts.event_id, created: opts.created ?? nowSeconds() }),
  };
}

function hostingPayment(opts: HostingPaymentOptions, plans?: Plans): HostingPayment {
  const parts = invoiceParts(opts, plans);
  const { invoice, ids, created, currency } = parts;
  const total = parts.pricing.totals.total_minor;
  const off = opts.paid_off_stripe_minor ?? 0;
  if (!Number.isSafeInteger(off) || off < 0) throw new Error(`paid_off_stripe_minor must be a non-negative integer number of minor units, got ${off}`);
  if (off > 0 && off >= total) {
    throw new Error(`paid_off_stripe_minor ${off} is the whole invoice (${total}) or more: use buildInvoicePaidOffStripe for an invoice paid wholly outside Stripe`);
  }
  const description = invoice.billing_reason === "subscription_create" ? "Subscription creation" : "Subscription update";
  const core = buildPaymentCore(opts, total - off, created, description, true);
  const invoice_payment = buildInvoicePayment({
    ...(opts.ids?.invoice_payment ? { id: opts.ids.invoice_payment } : {}),
    invoice: ids.invoice,
    amount_minor: total - off,
    currency,
    created,
    is_default: true,
    payment: { type: "payment_intent", payment_intent: core.payment_intent.id },
  });
  const payment_records = off > 0 ? [buildPaymentRecord(off, currency, created, ids.customer)] : [];
  const recorded = payment_records.map((pr) =>
    buildInvoicePayment({ invoice: ids.invoice, amount_minor: off, currency, created, is_default: false, payment: { type: "payment_record", payment_record: pr.id } }),
  );
  return {
    invoice,
    invoice_lines: parts.invoice_lines,
    invoice_payment,
    invoice_payments: [invoice_payment, ...recorded],
    payment_records,
    amount_paid_off_stripe: off,
    ...core,
    ...catalog(parts.pricing, currency, created, true),
    event: buildEvent("invoice.paid", invoice, { id: opts.ids?.event, created }),
  };
}

/**
 * One paid subscription invoice (hosting): invoice, invoice payment(s), PI, charge, balance tx,
 * event; with tax, discounts, pretax credits, the prorations of an upgrade, and a part paid
 * outside Stripe, when asked.
 */
export function buildHostingPayment(opts: HostingPaymentOptions): HostingPayment {
  return hostingPayment(opts);
}

/**
 * A subscription invoice paid wholly outside Stripe (marked paid after a bank transfer): its
 * only invoice payment is of type `payment_record`; there is no payment intent, charge or fee.
 * `amount_paid` counts it; `amount_paid_off_stripe` (includable) says so.
 */
export function buildInvoicePaidOffStripe(
  opts: Omit<HostingPaymentOptions, "paid_off_stripe_minor" | "fee_minor" | "settlement_currency" | "exchange_rate" | "settlement_amount_minor" | "presentment" | "balance_transaction_pending">,
): OffStripeInvoice {
  const parts = invoiceParts(opts);
  const { invoice, ids, created, currency } = parts;
  const total = parts.pricing.totals.total_minor;
  if (total <= 0) throw new Error(`an invoice of ${total} is not paid outside Stripe: nothing is due`);
  const record = buildPaymentRecord(total, currency, created, ids.customer);
  const payment = buildInvoicePayment({
    ...(opts.ids?.invoice_payment ? { id: opts.ids.invoice_payment } : {}),
    invoice: ids.invoice,
    amount_minor: total,
    currency,
    created,
    is_default: true,
    payment: { type: "payment_record", payment_record: record.id },
  });
  return {
    invoice,
    invoice_lines: parts.invoice_lines,
    invoice_payments: [payment],
    payment_records: [record],
    amount_paid_off_stripe: total,
    ...catalog(parts.pricing, currency, created, true),
    event: buildEvent("invoice.paid", invoice, { id: opts.ids?.event, created }),
  };
}

/**
 * A subscription started through Checkout: the first invoice paid (as buildHostingPayment, with
 * billing_reason subscription_create) plus the subscription-mode Checkout Session that points at
 * it and its checkout.session.completed event. Splitting both events would count the money twice.
 * The session's line items have the invoice's prices, tax rate and coupons, so both agree to the cent.
 */
export function buildSubscriptionCheckout(opts: HostingPaymentOptions): SubscriptionCheckout {
  if (opts.upgrade || opts.pretax_credit_minor || opts.paid_off_stripe_minor || opts.lines?.some((l) => l.pretax_credit_minor)) {
    throw new Error("a subscription's first Checkout has no upgrade, pretax credit or payment outside Stripe");
  }
  const created = opts.created ?? nowSeconds();
  const plans = planPayment(opts, created);
  const hosting = hostingPayment({ billing_reason: "subscription_create", ...opts, created }, plans);
  const currency = hosting.invoice.currency;
  const parent = hosting.invoice.parent as { subscription_details: { subscription: string } };
  const id = opts.ids?.session ?? sessionId();
  const unitOf = new Map(hosting.prices.map((p) => [p.id, p.unit_amount!]));
  const lines = opts.lines?.length ? opts.lines : [{ price_id: opts.price_id, quantity: opts.quantity ?? 1 }];
  const pricing = pricePayment(
    { ...opts, amount_minor: undefined, unit_amount_minor: undefined, lines: lines.map(({ amount_minor: _, ...l }) => ({ ...l, unit_amount_minor: unitOf.get(l.price_id)! })) },
    created,
    plans,
  );
  if (pricing.paid_minor !== hosting.invoice.total) throw new Error(`internal: the session (${pricing.paid_minor}) and its invoice (${hosting.invoice.total}) disagree`);
  const session = buildSession({
    id,
    mode: "subscription",
    payment_status: "paid",
    currency,
    created,
    metadata: metadataWithOffer(opts),
    payment_intent: null,
    invoice: hosting.invoice.id,
    subscription: parent.subscription_details.subscription,
    customer: hosting.invoice.customer as string,
    pricing,
    presentment: presentmentDetails(opts),
  });
  return {
    ...hosting,
    session,
    line_items: buildItems(pricing, currency, created, true, id),
    checkout_event: buildEvent("checkout.session.completed", session, { created }),
  };
}

/**
 * Everything a build result holds, as the array to POST to the emulator's /_emulator/objects:
 * a session carries all its `line_items` and an invoice all its `lines` (the emulator keeps
 * them for the list endpoints and embeds the first 10, as Stripe does). Events included. A
 * balance transaction still pending is left out (see attachBalanceTransaction). For a refund
 * or a dispute step: the charge after it, the balance transactions, the refund or dispute and
 * the step's events (the emulator keeps a charge's refunds apart and serves them expanded).
 */
export function emulatorObjects(built: BuiltPayment | BuiltRefund | BuiltDispute): StripeObject[] {
  if ("refund" in built) return [built.payment.charge, ...built.balance_transactions, built.refund, ...built.events] as unknown as StripeObject[];
  if ("dispute" in built) return [built.payment.charge, ...built.balance_transactions, built.dispute, ...built.events] as unknown as StripeObject[];
  const out: unknown[] = [...built.prices, ...built.products, ...built.tax_rates, ...built.coupons, ...built.discounts];
  if ("shipping_rates" in built) out.push(...built.shipping_rates);
  if ("payment_intent" in built) {
    out.push(built.payment_intent, built.charge);
    if (built.charge.balance_transaction !== null) out.push(built.balance_transaction);
  }
  if ("invoice" in built) {
    // `invoice_payment` first, as given: a test may have replaced it (a partial payment, say).
    const card = "invoice_payment" in built ? [built.invoice_payment] : [];
    const others = built.invoice_payments.filter((p) => !card.some((c) => c.id === p.id));
    // An invoice whose embedded lines are all of them is posted as it is (a test may have changed them).
    const invoice = built.invoice.lines.has_more ? { ...built.invoice, lines: built.invoice_lines } : built.invoice;
    out.push(invoice, ...card, ...others, ...built.payment_records);
  }
  if ("session" in built) out.push({ ...built.session, line_items: built.line_items });
  out.push(built.event);
  if ("checkout_event" in built) out.push(built.checkout_event);
  return out as StripeObject[];
}
