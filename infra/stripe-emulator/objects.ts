/**
 * Builders of consistent sets of Stripe objects, cloned from Stripe's own example objects
 * (infra/stripe-fixtures, MIT) with ids, amounts and placeholder values replaced.
 *
 * Pure and web-standard (no node: imports): used by the emulator, by `npm run stripe:trigger`
 * and by integration tests running in workerd.
 */
import type Stripe from "stripe";

import { minorUnitExponent } from "../../core/currency";
import { STRIPE_API_VERSION, stripeId, type StripeObject } from "./ids.ts";

export { STRIPE_API_VERSION, stripeId, type StripeObject };

import balanceTransactionFx from "../stripe-fixtures/balance_transaction.json" with { type: "json" };
import chargeFx from "../stripe-fixtures/charge.json" with { type: "json" };
import checkoutSessionFx from "../stripe-fixtures/checkout.session.json" with { type: "json" };
import eventFx from "../stripe-fixtures/event.json" with { type: "json" };
import invoiceFx from "../stripe-fixtures/invoice.json" with { type: "json" };
import invoicePaymentFx from "../stripe-fixtures/invoice_payment.json" with { type: "json" };
import itemFx from "../stripe-fixtures/item.json" with { type: "json" };
import lineItemFx from "../stripe-fixtures/line_item.json" with { type: "json" };
import paymentIntentFx from "../stripe-fixtures/payment_intent.json" with { type: "json" };
import priceFx from "../stripe-fixtures/price.json" with { type: "json" };
import productFx from "../stripe-fixtures/product.json" with { type: "json" };

// ---------------------------------------------------------------------------------------------
// Currencies, fees, ids
// ---------------------------------------------------------------------------------------------

/**
 * The emulator's default Stripe fee, in minor units of `currency`: 1.5% of the amount rounded
 * half up, plus 25 minor units (no fixed part for zero-decimal currencies). Integers only.
 */
export function defaultStripeFee(amount_minor: number, currency: string): number {
  assertMinor(amount_minor, "amount_minor");
  const percent = Math.floor((amount_minor * 15 + 500) / 1000);
  return percent + (minorUnitExponent(currency.toLowerCase()) === 0 ? 0 : 25);
}

function assertMinor(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer number of minor units, got ${value}`);
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// ---------------------------------------------------------------------------------------------
// Options and results
// ---------------------------------------------------------------------------------------------

export interface PaymentLine {
  price_id: string;
  amount_minor: number;
  quantity?: number;
  /** Defaults to a name derived from the price id. */
  description?: string;
}

export interface PaymentOptions {
  /** What the customer paid, in minor units of `currency`. */
  amount_minor: number;
  /** Lower-case ISO code, e.g. "eur". */
  currency: string;
  /** Price of the single line (ignored when `lines` is given). */
  price_id: string;
  /** Written to metadata.offer_id (session metadata; invoice + subscription metadata). */
  offer_id?: string;
  /** Quantity of the single line (default 1); amount_minor must be a multiple of it. */
  quantity?: number;
  /** Several lines; their amounts must add up to amount_minor. */
  lines?: PaymentLine[];
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
}

export interface HostingPaymentOptions extends PaymentOptions {
  /** Default "subscription_cycle"; the first invoice of a subscription is "subscription_create". */
  billing_reason?: "subscription_cycle" | "subscription_create";
}

export interface PaymentObjects {
  payment_intent: Stripe.PaymentIntent;
  charge: Stripe.Charge;
  balance_transaction: Stripe.BalanceTransaction;
  prices: Stripe.Price[];
  products: Stripe.Product[];
}

export interface TrainingPayment extends PaymentObjects {
  session: Stripe.Checkout.Session;
  /** The session's line items: a list of `item` objects (what /line_items returns). */
  line_items: Stripe.ApiList<Stripe.LineItem>;
  /** checkout.session.completed */
  event: Stripe.Event;
}

export interface HostingPayment extends PaymentObjects {
  invoice: Stripe.Invoice;
  invoice_payment: Stripe.InvoicePayment;
  /** invoice.paid */
  event: Stripe.Event;
}

export interface SubscriptionCheckout extends HostingPayment {
  /** Checkout Session in subscription mode: no payment_intent, points at `invoice`. */
  session: Stripe.Checkout.Session;
  line_items: Stripe.ApiList<Stripe.LineItem>;
  /** checkout.session.completed for the subscription-mode session (must not be split). */
  checkout_event: Stripe.Event;
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

interface ResolvedLine {
  price_id: string;
  product_id: string;
  amount_minor: number;
  quantity: number;
  unit_amount: number;
  description: string;
}

function productIdFor(price_id: string): string {
  return `prod_${price_id.replace(/^price_/, "")}`;
}

function nameFor(price_id: string): string {
  const base = price_id.replace(/^price_/, "").replace(/[_-]+/g, " ").trim();
  return base ? base.charAt(0).toUpperCase() + base.slice(1) : price_id;
}

function resolveLines(opts: PaymentOptions): ResolvedLine[] {
  assertMinor(opts.amount_minor, "amount_minor");
  const raw: PaymentLine[] = opts.lines?.length
    ? opts.lines
    : [{ price_id: opts.price_id, amount_minor: opts.amount_minor, quantity: opts.quantity ?? 1 }];
  const lines = raw.map((l, i): ResolvedLine => {
    assertMinor(l.amount_minor, `lines[${i}].amount_minor`);
    const quantity = l.quantity ?? 1;
    if (!Number.isSafeInteger(quantity) || quantity < 1) throw new Error(`lines[${i}].quantity must be a positive integer`);
    if (l.amount_minor % quantity !== 0) {
      throw new Error(`lines[${i}]: amount_minor ${l.amount_minor} is not a multiple of quantity ${quantity}`);
    }
    return {
      price_id: l.price_id,
      product_id: productIdFor(l.price_id),
      amount_minor: l.amount_minor,
      quantity,
      unit_amount: l.amount_minor / quantity,
      description: l.description ?? nameFor(l.price_id),
    };
  });
  const sum = lines.reduce((s, l) => s + l.amount_minor, 0);
  if (sum !== opts.amount_minor) {
    throw new Error(`lines add up to ${sum}, but amount_minor is ${opts.amount_minor}`);
  }
  return lines;
}

function settlement(opts: PaymentOptions): { currency: string; amount: number; exchange_rate: number | null } {
  const currency = (opts.settlement_currency ?? opts.currency).toLowerCase();
  const same = currency === opts.currency.toLowerCase();
  if (opts.settlement_amount_minor !== undefined) {
    assertMinor(opts.settlement_amount_minor, "settlement_amount_minor");
    return { currency, amount: opts.settlement_amount_minor, exchange_rate: same ? null : (opts.exchange_rate ?? null) };
  }
  if (same) return { currency, amount: opts.amount_minor, exchange_rate: null };
  if (opts.exchange_rate === undefined || !(opts.exchange_rate > 0)) {
    throw new Error(`settlement_currency ${currency} differs from ${opts.currency}: give exchange_rate or settlement_amount_minor`);
  }
  // Stripe converts and rounds to the settlement currency's minor unit; so does the emulator.
  const shift = 10 ** (minorUnitExponent(currency) - minorUnitExponent(opts.currency.toLowerCase()));
  return { currency, amount: Math.round(opts.amount_minor * opts.exchange_rate * shift), exchange_rate: opts.exchange_rate };
}

function buildPrice(line: ResolvedLine, currency: string, created: number, recurring: boolean): Stripe.Price {
  return {
    ...clone(priceFx),
    id: line.price_id,
    created,
    currency,
    product: line.product_id,
    custom_unit_amount: null,
    transform_quantity: null,
    type: recurring ? "recurring" : "one_time",
    recurring: recurring
      ? { interval: "month", interval_count: 1, meter: null, usage_type: "licensed", trial_period_days: null }
      : null,
    unit_amount: line.unit_amount,
    unit_amount_decimal: String(line.unit_amount),
  } as unknown as Stripe.Price;
}

function buildProduct(line: ResolvedLine, created: number): Stripe.Product {
  return {
    ...clone(productFx),
    id: line.product_id,
    created,
    updated: created,
    default_price: line.price_id,
    description: null,
    name: line.description,
    package_dimensions: null,
    type: "service",
  } as unknown as Stripe.Product;
}

function uniqueBy<T extends { id: string }>(items: T[]): T[] {
  const seen = new Map<string, T>();
  for (const it of items) if (!seen.has(it.id)) seen.set(it.id, it);
  return [...seen.values()];
}

interface CoreIds {
  payment_intent: string;
  charge: string;
  balance_transaction: string;
  payment_method: string;
}

/** What every payment carries: its intent, charge and balance transaction, its prices and products. */
function paymentObjects(core: ReturnType<typeof buildPaymentCore>, lines: ResolvedLine[], currency: string, created: number, recurring: boolean): PaymentObjects {
  return {
    payment_intent: core.payment_intent,
    charge: core.charge,
    balance_transaction: core.balance_transaction,
    prices: uniqueBy(lines.map((l) => buildPrice(l, currency, created, recurring))),
    products: uniqueBy(lines.map((l) => buildProduct(l, created))),
  };
}

/** payment_intent → latest_charge → balance_transaction, all consistent. */
function buildPaymentCore(
  opts: PaymentOptions,
  created: number,
  description: string | null,
  succeeded: boolean,
): { payment_intent: Stripe.PaymentIntent; charge: Stripe.Charge; balance_transaction: Stripe.BalanceTransaction; ids: CoreIds } {
  const currency = opts.currency.toLowerCase();
  const ids: CoreIds = {
    payment_intent: opts.ids?.payment_intent ?? stripeId("pi_"),
    charge: opts.ids?.charge ?? stripeId("ch_"),
    balance_transaction: opts.ids?.balance_transaction ?? stripeId("txn_"),
    payment_method: stripeId("pm_"),
  };
  const settle = settlement(opts);
  const fee = opts.fee_minor ?? defaultStripeFee(settle.amount, settle.currency);
  assertMinor(fee, "fee_minor");
  if (fee > settle.amount) throw new Error(`fee ${fee} exceeds the settled amount ${settle.amount} (Stripe's minimum charge prevents that): pass fee_minor`);

  const balance_transaction = {
    ...clone(balanceTransactionFx),
    id: ids.balance_transaction,
    amount: settle.amount,
    available_on: created + 7 * 86400,
    created,
    currency: settle.currency,
    description,
    exchange_rate: settle.exchange_rate,
    fee,
    fee_details: fee > 0 ? [{ amount: fee, application: null, currency: settle.currency, description: "Stripe processing fees", type: "stripe_fee" }] : [],
    net: settle.amount - fee,
    reporting_category: "charge",
    source: ids.charge,
    status: "pending",
    type: "charge",
  } as unknown as Stripe.BalanceTransaction;

  const chargeBase = clone(chargeFx);
  const charge = {
    ...chargeBase,
    id: ids.charge,
    amount: opts.amount_minor,
    amount_captured: succeeded ? opts.amount_minor : 0,
    amount_refunded: 0,
    balance_transaction: ids.balance_transaction,
    billing_details: { ...chargeBase.billing_details, email: "customer@example.com", name: "Test Customer" },
    calculated_statement_descriptor: "POT COMMUN",
    captured: succeeded,
    created,
    currency,
    description,
    outcome: {
      ...chargeBase.outcome,
      network_status: "approved_by_network",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: succeeded,
    payment_intent: ids.payment_intent,
    payment_method: ids.payment_method,
    payment_method_details: {
      ...chargeBase.payment_method_details,
      card: {
        ...chargeBase.payment_method_details.card,
        amount_authorized: opts.amount_minor,
        overcapture: { maximum_amount_capturable: opts.amount_minor, status: "unavailable" },
        wallet: null,
      },
    },
    receipt_url: null,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${ids.charge}/refunds` },
    source: null,
    status: succeeded ? "succeeded" : "pending",
    transfer_data: null,
  } as unknown as Stripe.Charge;

  const payment_intent = {
    ...clone(paymentIntentFx),
    id: ids.payment_intent,
    amount: opts.amount_minor,
    amount_received: succeeded ? opts.amount_minor : 0,
    canceled_at: null,
    client_secret: `${ids.payment_intent}_secret_${stripeId("", 25)}`,
    created,
    currency,
    description,
    last_payment_error: null,
    latest_charge: ids.charge,
    next_action: null,
    payment_method: ids.payment_method,
    processing: succeeded ? null : { type: "card" },
    shipping: null,
    status: succeeded ? "succeeded" : "processing",
    transfer_data: null,
  } as unknown as Stripe.PaymentIntent;

  return { payment_intent, charge, balance_transaction, ids };
}

function buildItems(lines: ResolvedLine[], currency: string, created: number, recurring: boolean, url: string): Stripe.ApiList<Stripe.LineItem> {
  const data = lines.map((l) => ({
    ...clone(itemFx),
    id: stripeId("li_"),
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: l.amount_minor,
    amount_tax: 0,
    amount_total: l.amount_minor,
    currency,
    description: l.description,
    metadata: {},
    price: buildPrice(l, currency, created, recurring),
    quantity: l.quantity,
  })) as unknown as Stripe.LineItem[];
  return { object: "list", data, has_more: false, url } as Stripe.ApiList<Stripe.LineItem>;
}

function buildSession(
  fields: {
    id: string;
    mode: "payment" | "subscription";
    payment_status: "paid" | "unpaid";
    amount: number;
    currency: string;
    created: number;
    metadata: Record<string, string>;
    payment_intent: string | null;
    invoice: string | null;
    subscription: string | null;
    customer: string | null;
  },
): Stripe.Checkout.Session {
  const fx = clone(checkoutSessionFx);
  return {
    ...fx,
    id: fields.id,
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    amount_subtotal: fields.amount,
    amount_total: fields.amount,
    automatic_tax: { enabled: false, liability: null, status: null, provider: null },
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: fields.created,
    currency: fields.currency,
    currency_conversion: null,
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: fields.customer,
    customer_creation: fields.mode === "subscription" ? "always" : "if_required",
    customer_details: { ...fx.customer_details, email: "customer@example.com", name: "Test Customer", tax_ids: [] },
    discounts: [],
    expires_at: fields.created + 86400,
    invoice: fields.invoice,
    invoice_creation: fields.mode === "payment" ? { ...fx.invoice_creation, enabled: false } : null,
    managed_payments: { enabled: false },
    metadata: fields.metadata,
    mode: fields.mode,
    payment_intent: fields.payment_intent,
    payment_method_collection: fields.mode === "subscription" ? "always" : null,
    payment_method_configuration_details: null,
    payment_status: fields.payment_status,
    permissions: null,
    saved_payment_method_options: null,
    shipping_address_collection: null,
    shipping_cost: null,
    status: "complete",
    subscription: fields.subscription,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: null,
    wallet_options: null,
  } as unknown as Stripe.Checkout.Session;
}

function metadataWithOffer(opts: PaymentOptions): Record<string, string> {
  return { ...(opts.metadata ?? {}), ...(opts.offer_id !== undefined ? { offer_id: opts.offer_id } : {}) };
}

/** A Stripe event around a snapshot of `object` (e.g. refund.created, charge.dispute.closed). */
export function buildEvent(
  type: string,
  object: object,
  opts: { id?: string; created?: number; previous_attributes?: Record<string, unknown> } = {},
): Stripe.Event {
  return {
    ...clone(eventFx),
    id: opts.id ?? stripeId("evt_"),
    api_version: STRIPE_API_VERSION,
    created: opts.created ?? nowSeconds(),
    data: { object: clone(object), ...(opts.previous_attributes ? { previous_attributes: opts.previous_attributes } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as unknown as Stripe.Event;
}

// ---------------------------------------------------------------------------------------------
// Public builders
// ---------------------------------------------------------------------------------------------

/** One-off Checkout payment (a training): session, line items, PI, charge, balance tx, event. */
export function buildTrainingPayment(opts: TrainingPaymentOptions): TrainingPayment {
  if (opts.mode !== undefined && opts.mode !== "payment") {
    throw new Error(`buildTrainingPayment builds mode "payment" sessions; use buildSubscriptionCheckout`);
  }
  const created = opts.created ?? nowSeconds();
  const currency = opts.currency.toLowerCase();
  const lines = resolveLines(opts);
  const paid = (opts.payment_status ?? "paid") === "paid";
  const core = buildPaymentCore(opts, created, null, paid);
  const sessionId = opts.ids?.session ?? stripeId("cs_test_", 58);
  const line_items = buildItems(lines, currency, created, false, `/v1/checkout/sessions/${sessionId}/line_items`);
  const session = buildSession({
    id: sessionId,
    mode: "payment",
    payment_status: paid ? "paid" : "unpaid",
    amount: opts.amount_minor,
    currency,
    created,
    metadata: metadataWithOffer(opts),
    payment_intent: core.ids.payment_intent,
    invoice: null,
    subscription: null,
    customer: null,
  });
  return {
    session,
    line_items,
    ...paymentObjects(core, lines, currency, created, false),
    event: buildEvent("checkout.session.completed", session, { id: opts.ids?.event, created }),
  };
}

/**
 * What Stripe sends when a delayed payment (SEPA debit) of an `unpaid` training session clears:
 * the session paid, the PI succeeded, the charge succeeded, and
 * checkout.session.async_payment_succeeded.
 */
export function buildAsyncPaymentSucceeded(training: TrainingPayment, opts: { created?: number; event_id?: string } = {}): TrainingPayment {
  const session = { ...clone(training.session), payment_status: "paid" } as Stripe.Checkout.Session;
  const amount = training.payment_intent.amount;
  return {
    ...clone(training),
    session,
    payment_intent: { ...clone(training.payment_intent), status: "succeeded", amount_received: amount, processing: null },
    charge: { ...clone(training.charge), status: "succeeded", paid: true, captured: true, amount_captured: amount },
    event: buildEvent("checkout.session.async_payment_succeeded", session, { id: opts.event_id, created: opts.created ?? nowSeconds() }),
  };
}

/** One paid subscription invoice (hosting): invoice, invoice payment, PI, charge, balance tx, event. */
export function buildHostingPayment(opts: HostingPaymentOptions): HostingPayment {
  const created = opts.created ?? nowSeconds();
  const currency = opts.currency.toLowerCase();
  const lines = resolveLines(opts);
  const billing_reason = opts.billing_reason ?? "subscription_cycle";
  const description = billing_reason === "subscription_create" ? "Subscription creation" : "Subscription update";
  const core = buildPaymentCore(opts, created, description, true);
  const invoiceId = opts.ids?.invoice ?? stripeId("in_");
  const subscriptionId = opts.ids?.subscription ?? stripeId("sub_");
  const customerId = opts.ids?.customer ?? stripeId("cus_");
  const metadata = metadataWithOffer(opts);
  const periodEnd = created + 30 * 86400;

  const lineData = lines.map((l) => {
    const fx = clone(lineItemFx);
    return {
      ...fx,
      id: stripeId("il_"),
      amount: l.amount_minor,
      currency,
      description: `${l.quantity} × ${l.description}`,
      discount_amounts: [],
      discounts: [],
      invoice: invoiceId,
      metadata: {},
      parent: {
        type: "subscription_item_details",
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: null,
          proration: false,
          proration_details: { credited_items: null },
          subscription: subscriptionId,
          subscription_item: stripeId("si_"),
        },
      },
      period: { start: created, end: periodEnd },
      pretax_credit_amounts: [],
      pricing: {
        type: "price_details",
        price_details: { price: l.price_id, product: l.product_id },
        unit_amount_decimal: String(l.unit_amount),
      },
      quantity: l.quantity,
      subscription: subscriptionId,
      subtotal: l.amount_minor,
      taxes: [],
    };
  });

  const invoice = {
    ...clone(invoiceFx),
    id: invoiceId,
    account_country: "FR",
    account_name: "Pot Commun (emulator)",
    amount_due: opts.amount_minor,
    amount_overpaid: 0,
    amount_paid: opts.amount_minor,
    amount_remaining: 0,
    attempt_count: 1,
    attempted: true,
    auto_advance: false,
    automatic_tax: { enabled: false, liability: null, status: null, disabled_reason: null, provider: null },
    billing_reason,
    created,
    currency,
    customer: customerId,
    customer_address: null,
    customer_email: "customer@example.com",
    customer_name: "Test Customer",
    customer_shipping: null,
    due_date: null,
    effective_at: created,
    ending_balance: 0,
    from_invoice: null,
    hosted_invoice_url: null,
    last_finalization_error: null,
    lines: { object: "list", data: lineData, has_more: false, url: `/v1/invoices/${invoiceId}/lines` },
    metadata,
    next_payment_attempt: null,
    number: `${stripeId("", 8).toUpperCase()}-0001`,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata, subscription: subscriptionId },
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: created,
    period_start: created,
    shipping_cost: null,
    shipping_details: null,
    status: "paid",
    status_transitions: { finalized_at: created, marked_uncollectible_at: null, paid_at: created, voided_at: null },
    subtotal: opts.amount_minor,
    subtotal_excluding_tax: opts.amount_minor,
    total: opts.amount_minor,
    total_excluding_tax: opts.amount_minor,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  } as unknown as Stripe.Invoice;

  const invoice_payment = {
    ...clone(invoicePaymentFx),
    id: opts.ids?.invoice_payment ?? stripeId("inpay_"),
    amount_paid: opts.amount_minor,
    amount_requested: opts.amount_minor,
    created,
    currency,
    invoice: invoiceId,
    is_default: true,
    livemode: false,
    payment: { type: "payment_intent", payment_intent: core.ids.payment_intent },
    status: "paid",
    status_transitions: { canceled_at: null, paid_at: created },
  } as unknown as Stripe.InvoicePayment;

  return {
    invoice,
    invoice_payment,
    ...paymentObjects(core, lines, currency, created, true),
    event: buildEvent("invoice.paid", invoice, { id: opts.ids?.event, created }),
  };
}

/**
 * A subscription started through Checkout: the first invoice paid (as buildHostingPayment, with
 * billing_reason subscription_create) plus the subscription-mode Checkout Session that points at
 * it and its checkout.session.completed event. Splitting both events would count the money twice.
 */
export function buildSubscriptionCheckout(opts: HostingPaymentOptions): SubscriptionCheckout {
  const hosting = buildHostingPayment({ billing_reason: "subscription_create", ...opts });
  const created = hosting.invoice.created;
  const currency = hosting.invoice.currency;
  const parent = hosting.invoice.parent as { subscription_details: { subscription: string } };
  const sessionId = opts.ids?.session ?? stripeId("cs_test_", 58);
  const session = buildSession({
    id: sessionId,
    mode: "subscription",
    payment_status: "paid",
    amount: opts.amount_minor,
    currency,
    created,
    metadata: metadataWithOffer(opts),
    payment_intent: null,
    invoice: hosting.invoice.id,
    subscription: parent.subscription_details.subscription,
    customer: hosting.invoice.customer as string,
  });
  const line_items = buildItems(resolveLines(opts), currency, created, true, `/v1/checkout/sessions/${sessionId}/line_items`);
  return { ...hosting, session, line_items, checkout_event: buildEvent("checkout.session.completed", session, { created }) };
}

/**
 * Everything a build result holds, as the array to POST to the emulator's /_emulator/objects
 * (sessions carry their `line_items` so the emulator can serve /line_items). Events included.
 */
export function emulatorObjects(built: TrainingPayment | HostingPayment | SubscriptionCheckout): StripeObject[] {
  const out: unknown[] = [...built.prices, ...built.products, built.payment_intent, built.charge, built.balance_transaction];
  if ("invoice" in built) out.push(built.invoice, built.invoice_payment);
  if ("session" in built) out.push({ ...built.session, line_items: built.line_items });
  out.push(built.event);
  if ("checkout_event" in built) out.push(built.checkout_event);
  return out as StripeObject[];
}
