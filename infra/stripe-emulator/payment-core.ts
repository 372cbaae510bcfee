/**
 * The money that moved through Stripe: payment intent → latest charge → balance transaction,
 * consistent with each other. Pure and web-standard.
 */
import type Stripe from "stripe";

import { minorUnitExponent } from "../../core/currency";
import { assertMinor, clone, exampleShaped } from "./catalog.ts";
import { stripeId } from "./ids.ts";

import balanceTransactionFx from "../stripe-fixtures/balance_transaction.json" with { type: "json" };
import chargeFx from "../stripe-fixtures/charge.json" with { type: "json" };
import paymentIntentFx from "../stripe-fixtures/payment_intent.json" with { type: "json" };

/** What the payment core reads from a builder's options. */
export interface PaymentCoreOptions {
  currency: string;
  presentment?: { currency: string; amount_minor: number };
  balance_transaction_pending?: boolean;
  fee_minor?: number;
  settlement_currency?: string;
  exchange_rate?: number;
  settlement_amount_minor?: number;
  ids?: Partial<Record<"payment_intent" | "charge" | "balance_transaction", string>>;
}

export interface PaymentCore {
  payment_intent: Stripe.PaymentIntent;
  charge: Stripe.Charge;
  balance_transaction: Stripe.BalanceTransaction;
}

/**
 * The emulator's default Stripe fee, in minor units of `currency`: 1.5% of the amount rounded
 * half up, plus 25 minor units (no fixed part for zero-decimal currencies). Integers only.
 */
export function defaultStripeFee(amount_minor: number, currency: string): number {
  assertMinor(amount_minor, "amount_minor");
  const percent = Math.floor((amount_minor * 15 + 500) / 1000);
  return percent + (minorUnitExponent(currency.toLowerCase()) === 0 ? 0 : 25);
}

function settlement(opts: PaymentCoreOptions, amount_minor: number): { currency: string; amount: number; exchange_rate: number | null } {
  const currency = (opts.settlement_currency ?? opts.currency).toLowerCase();
  const same = currency === opts.currency.toLowerCase();
  if (opts.settlement_amount_minor !== undefined) {
    assertMinor(opts.settlement_amount_minor, "settlement_amount_minor");
    return { currency, amount: opts.settlement_amount_minor, exchange_rate: same ? null : (opts.exchange_rate ?? null) };
  }
  if (same) return { currency, amount: amount_minor, exchange_rate: null };
  if (opts.exchange_rate === undefined || !(opts.exchange_rate > 0)) {
    throw new Error(`settlement_currency ${currency} differs from ${opts.currency}: give exchange_rate or settlement_amount_minor`);
  }
  // Stripe converts and rounds to the settlement currency's minor unit; so does the emulator.
  const shift = 10 ** (minorUnitExponent(currency) - minorUnitExponent(opts.currency.toLowerCase()));
  return { currency, amount: Math.round(amount_minor * opts.exchange_rate * shift), exchange_rate: opts.exchange_rate };
}

/** Adaptive Pricing: the currency and amount the customer saw, or null. */
export function presentmentDetails(opts: PaymentCoreOptions): Stripe.PaymentIntent.PresentmentDetails | null {
  if (!opts.presentment) return null;
  const currency = opts.presentment.currency.toLowerCase();
  minorUnitExponent(currency); // throws on a code that is not one
  assertMinor(opts.presentment.amount_minor, "presentment.amount_minor");
  return { presentment_amount: opts.presentment.amount_minor, presentment_currency: currency };
}

/** payment_intent → latest_charge → balance_transaction for `amount_minor` of `opts.currency`. */
export function buildPaymentCore(opts: PaymentCoreOptions, amount_minor: number, created: number, description: string | null, succeeded: boolean): PaymentCore {
  assertMinor(amount_minor, "amount_minor");
  const currency = opts.currency.toLowerCase();
  const ids = {
    payment_intent: opts.ids?.payment_intent ?? stripeId("pi_"),
    charge: opts.ids?.charge ?? stripeId("ch_"),
    balance_transaction: opts.ids?.balance_transaction ?? stripeId("txn_"),
    payment_method: stripeId("pm_"),
  };
  const settle = settlement(opts, amount_minor);
  const fee = opts.fee_minor ?? defaultStripeFee(settle.amount, settle.currency);
  assertMinor(fee, "fee_minor");
  if (fee > settle.amount) throw new Error(`fee ${fee} exceeds the settled amount ${settle.amount} (Stripe's minimum charge prevents that): pass fee_minor`);
  const presentment = presentmentDetails(opts);

  const balance_transaction = {
    ...clone(balanceTransactionFx),
    id: ids.balance_transaction,
    object: "balance_transaction",
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
  } satisfies Stripe.BalanceTransaction;

  const chargeBase = clone(chargeFx);
  const charge = {
    ...chargeBase,
    id: ids.charge,
    object: "charge",
    amount: amount_minor,
    amount_captured: succeeded ? amount_minor : 0,
    amount_refunded: 0,
    balance_transaction: opts.balance_transaction_pending ? null : ids.balance_transaction,
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
        amount_authorized: amount_minor,
        overcapture: { maximum_amount_capturable: amount_minor, status: "unavailable" },
        wallet: null,
      },
    },
    ...(presentment ? { presentment_details: presentment satisfies Stripe.Charge.PresentmentDetails } : {}),
    receipt_url: null,
    refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${ids.charge}/refunds` },
    source: null,
    status: succeeded ? "succeeded" : "pending",
    transfer_data: null,
    // Stripe's example charge (fixtures3.json) has no payment_method_details.card
    // .electronic_commerce_indicator, which the SDK's Charge requires: the emulator keeps the example's keys.
  } as unknown as Stripe.Charge;

  const payment_intent = exampleShaped<Stripe.PaymentIntent, "allowed_payment_method_types" | "payment_record">({
    ...clone(paymentIntentFx),
    id: ids.payment_intent,
    object: "payment_intent",
    amount: amount_minor,
    amount_received: succeeded ? amount_minor : 0,
    canceled_at: null,
    client_secret: `${ids.payment_intent}_secret_${stripeId("", 25)}`,
    created,
    currency,
    description,
    last_payment_error: null,
    latest_charge: ids.charge,
    next_action: null,
    payment_method: ids.payment_method,
    ...(presentment ? { presentment_details: presentment } : {}),
    processing: succeeded ? null : { type: "card" },
    shipping: null,
    status: succeeded ? "succeeded" : "processing",
    transfer_data: null,
  });

  return { payment_intent, charge, balance_transaction };
}

/**
 * What to store when Stripe attaches the balance transaction that a payment built with
 * `balance_transaction_pending` lacked: the charge pointing at it, and the transaction.
 */
export function attachBalanceTransaction(built: PaymentCore): [Stripe.Charge, Stripe.BalanceTransaction] {
  return [{ ...clone(built.charge), balance_transaction: built.balance_transaction.id }, clone(built.balance_transaction)];
}
