/**
 * The money that moved through Stripe: payment intent → latest charge → balance transaction,
 * consistent with each other. Pure and web-standard.
 */
import type Stripe from "stripe";

import { minorUnitExponent } from "../../core/currency";
import { buildBalanceTransaction, settle } from "./balance.ts";
import { assertMinor, clone, exampleShaped } from "./catalog.ts";
import { stripeId } from "./ids.ts";

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
  const settled = settle(opts, amount_minor);
  const fee = opts.fee_minor ?? defaultStripeFee(settled.amount, settled.currency);
  assertMinor(fee, "fee_minor");
  if (fee > settled.amount) throw new Error(`fee ${fee} exceeds the settled amount ${settled.amount} (Stripe's minimum charge prevents that): pass fee_minor`);
  const presentment = presentmentDetails(opts);

  const balance_transaction = buildBalanceTransaction({
    id: ids.balance_transaction,
    amount: settled.amount,
    currency: settled.currency,
    created,
    description,
    exchange_rate: settled.exchange_rate,
    fee_minor: fee,
    fee_description: "Stripe processing fees",
    reporting_category: "charge",
    source: ids.charge,
    type: "charge",
  });

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
