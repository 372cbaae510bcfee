/**
 * Refunds of a built payment, in Stripe's shapes for the pinned API version: the refund, its
 * balance transactions, the charge after it and the events Stripe sends, step by step.
 * Pure and web-standard.
 *
 *   buildRefund(payment, opts)   a refund is created: refund.created, charge.refunded
 *   succeedRefund(built)         a pending refund succeeds: refund.updated
 *   failRefund(built)            a refund fails later (a week, by default): refund.updated, refund.failed
 *   cancelRefund(built)          a refund waiting for the customer is canceled: refund.updated
 *
 * What the SDK's types (stripe 23) and Stripe's docs say, and the emulator follows:
 * - `balance_transaction` is the refund's debit: type `refund`, reporting_category `refund`,
 *   a negative amount in the settlement currency, no fee unless given (Stripe keeps the
 *   charge's fee and charges nothing for most refunds). A refund of a payment settled in
 *   another currency is converted at the refund day's rate, which need not be the payment's.
 * - A refund that fails after succeeding gets `failure_balance_transaction` (type and
 *   reporting_category `refund_failure`, positive: it "reverses the initial balance
 *   transaction", the SDK says) and `failure_reason`; keys absent before, as in Stripe's
 *   example refund. Stripe's own example of a canceled refund (API reference, "Cancel a
 *   refund") has both balance transactions and failure_reason `merchant_request`; only a
 *   refund in `requires_action` can be canceled.
 * - Since API version 2022-11-15 a charge does not embed its refunds unless asked
 *   (`expand[]=refunds`); the builder's charge carries the list (Stripe's example charge has
 *   the key), the emulator serves it only when expanded, and events leave it out.
 *
 * Not confirmed, chosen and marked here:
 * - `amount_refunded` counts pending refunds and drops a refund that failed or was canceled;
 *   `charge.refunded` is sent for every new refund (pending ones too) with previous_attributes
 *   `amount_refunded` (and `refunded` when it changed); no charge event when a refund fails.
 * - refund.updated's previous_attributes name `failure_balance_transaction` and
 *   `failure_reason` as null, as a real charge.refund.updated of 2020 did (Zulip's fixture),
 *   although the keys are now absent before the failure.
 * - The failure gives back what the refund took (same settlement amount, no fee) unless
 *   `settlement_amount_minor` says otherwise. Balance transactions are `pending`, available a
 *   week later, like the emulator's charges. Descriptions "REFUND FOR CHARGE (…)" and
 *   "REFUND FAILURE" come from third-party notes, not from Stripe.
 * - A pending refund has a balance transaction when `pending_reason` is `processing` (money
 *   left the balance) and none when the balance lacked funds or the charge is still pending.
 * - `charge.refund.updated` (which Stripe documents next to refund.updated) is not sent.
 */
import type Stripe from "stripe";

import { divRound } from "./amounts.ts";
import { buildBalanceTransaction, negate, settle } from "./balance.ts";
import { assertMinor, clone } from "./catalog.ts";
import { buildEvent } from "./events.ts";
import { EMBEDDED_LIST_LIMIT, stripeId } from "./ids.ts";
import type { PaymentCore } from "./payment-core.ts";

import refundFx from "../stripe-fixtures/refund.json" with { type: "json" };

export type RefundStatus = "pending" | "requires_action" | "succeeded" | "failed" | "canceled";

/** The refund day's conversion into the settlement currency (one currency: nothing to give). */
export interface RefundSettlement {
  /** Stripe's rate that day, as it writes it (default: the payment's own rate). */
  exchange_rate?: number;
  /** What leaves the balance, positive minor units of the settlement currency, instead of a rate. */
  amount_minor?: number;
}

export interface FailRefundOptions {
  /** Unix seconds (default: a week after the refund). */
  created?: number;
  /** Default `expired_or_canceled_card` (a cancellation: `merchant_request`). */
  failure_reason?: string;
  /** What comes back to the balance (default: what the refund took). */
  settlement_amount_minor?: number;
  /** The failure balance transaction's id. */
  id?: string;
}

export interface RefundOptions {
  /** In the charge's currency (default: what is left to refund). */
  amount_minor?: number;
  /**
   * Where it ends (default `succeeded`). `failed`: it succeeds, then fails (`failure`, a week
   * later by default); `canceled`: it waits in `requires_action`, then is canceled.
   */
  status?: RefundStatus;
  /** For `pending` (default `processing`). */
  pending_reason?: "processing" | "insufficient_funds" | "charge_pending";
  reason?: "duplicate" | "fraudulent" | "requested_by_customer" | null;
  /** Unix seconds (default: now). */
  created?: number;
  /** A fee on the refund, positive minor units of the settlement currency (default 0). */
  fee_minor?: number;
  settlement?: RefundSettlement;
  /** When and how a `failed` or `canceled` refund ends. */
  failure?: FailRefundOptions;
  metadata?: Record<string, string>;
  ids?: Partial<Record<"refund" | "balance_transaction", string>>;
}

/** A refund as it stands after a step, with what that step sent. */
export interface BuiltRefund<P extends PaymentCore = PaymentCore> {
  refund: Stripe.Refund;
  /** Its balance transactions so far: the refund's (type refund), then the failure's (type refund_failure). */
  balance_transactions: Stripe.BalanceTransaction[];
  /** The payment with its charge after the step: amount_refunded, refunded, refunds (newest first, 10 at most). */
  payment: P;
  /** What Stripe sends for this step, in order. */
  events: Stripe.Event[];
}

const WEEK_S = 7 * 86400;

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The charge as events and unexpanded retrievals show it: no `refunds` (an includable since 2022-11-15). */
export function chargeAsSent(charge: Stripe.Charge): Stripe.Charge {
  const { refunds: _, ...rest } = clone(charge);
  return rest as Stripe.Charge;
}

/** The charge after a refund is added or changes, and the refunded amount moves by `delta_minor`. */
function chargeWith(charge: Stripe.Charge, refund: Stripe.Refund, delta_minor: number): Stripe.Charge {
  const list = charge.refunds?.data ?? [];
  const known = list.some((r) => r.id === refund.id);
  const data = known ? list.map((r) => (r.id === refund.id ? clone(refund) : r)) : [clone(refund), ...list];
  const amount_refunded = charge.amount_refunded + delta_minor;
  if (amount_refunded < 0 || amount_refunded > charge.amount) throw new Error(`internal: ${charge.id} would have refunded ${amount_refunded} of ${charge.amount}`);
  return {
    ...clone(charge),
    amount_refunded,
    refunded: amount_refunded === charge.amount,
    refunds: {
      object: "list",
      data: data.slice(0, EMBEDDED_LIST_LIMIT),
      has_more: (charge.refunds?.has_more ?? false) || data.length > EMBEDDED_LIST_LIMIT,
      url: `/v1/charges/${charge.id}/refunds`,
    },
  };
}

/** What changed on the charge, as charge.refunded's previous_attributes says it. */
function chargeChanges(before: Stripe.Charge, after: Stripe.Charge): Record<string, unknown> {
  return { amount_refunded: before.amount_refunded, ...(before.refunded !== after.refunded ? { refunded: before.refunded } : {}) };
}

function refundDebit(payment: PaymentCore, refund_id: string, amount_minor: number, created: number, opts: Pick<RefundOptions, "fee_minor" | "settlement"> & { id?: string }) {
  const charge = payment.charge;
  const bt = payment.balance_transaction;
  const settled = settle(
    {
      currency: charge.currency,
      settlement_currency: bt.currency,
      ...(opts.settlement?.exchange_rate !== undefined ? { exchange_rate: opts.settlement.exchange_rate } : bt.exchange_rate !== null ? { exchange_rate: bt.exchange_rate } : {}),
      ...(opts.settlement?.amount_minor !== undefined ? { settlement_amount_minor: opts.settlement.amount_minor } : {}),
    },
    amount_minor,
  );
  const fee = opts.fee_minor ?? 0;
  assertMinor(fee, "fee_minor");
  return buildBalanceTransaction({
    ...(opts.id ? { id: opts.id } : {}),
    amount: negate(settled.amount),
    currency: settled.currency,
    created,
    description: charge.description ? `REFUND FOR CHARGE (${charge.description})` : "REFUND FOR CHARGE",
    exchange_rate: settled.exchange_rate,
    fee_minor: fee,
    fee_description: "Stripe refund fees",
    reporting_category: "refund",
    source: refund_id,
    type: "refund",
  });
}

/** Adaptive Pricing: the refund's share of what the customer paid in their currency, rounded half away from zero. */
function refundPresentment(charge: Stripe.Charge, amount_minor: number): Stripe.Refund.PresentmentDetails | undefined {
  const p = charge.presentment_details;
  if (!p) return undefined;
  const share = divRound(BigInt(amount_minor) * BigInt(p.presentment_amount), BigInt(charge.amount));
  return { presentment_amount: Number(share), presentment_currency: p.presentment_currency };
}

function createRefund<P extends PaymentCore>(payment: P, opts: RefundOptions, status: "pending" | "requires_action" | "succeeded"): BuiltRefund<P> {
  const charge = payment.charge;
  if (charge.status !== "succeeded") throw new Error(`only a succeeded charge is refunded here; ${charge.id} is ${charge.status}`);
  const left = charge.amount - charge.amount_refunded;
  const amount = opts.amount_minor ?? left;
  assertMinor(amount, "amount_minor");
  if (amount < 1) throw new Error(`nothing to refund: ${charge.id} has ${left} of ${charge.amount} ${charge.currency} left to refund`);
  if (amount > left) throw new Error(`a refund of ${amount} is more than the ${left} ${charge.currency} left to refund on ${charge.id} (amount ${charge.amount}, refunded ${charge.amount_refunded})`);
  const created = opts.created ?? nowSeconds();
  const id = opts.ids?.refund ?? stripeId("re_");
  const pending_reason = status === "pending" ? (opts.pending_reason ?? "processing") : undefined;
  const movesMoney = status !== "pending" || pending_reason === "processing";
  const debit = movesMoney ? refundDebit(payment, id, amount, created, { ...opts, ...(opts.ids?.balance_transaction ? { id: opts.ids.balance_transaction } : {}) }) : null;
  const presentment = refundPresentment(charge, amount);

  const refund = {
    ...clone(refundFx),
    id,
    object: "refund",
    amount,
    balance_transaction: debit?.id ?? null,
    charge: charge.id,
    created,
    currency: charge.currency,
    customer: typeof charge.customer === "string" ? charge.customer : (charge.customer?.id ?? null),
    customer_account: null,
    destination_details: { card: { type: status === "pending" ? "pending" : "refund" }, type: "card" },
    metadata: opts.metadata ?? {},
    payment_intent: payment.payment_intent.id,
    payment_method: typeof charge.payment_method === "string" ? charge.payment_method : null,
    ...(pending_reason ? { pending_reason } : {}),
    ...(presentment ? { presentment_details: presentment } : {}),
    reason: opts.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status,
    transfer_reversal: null,
  } satisfies Stripe.Refund;

  const after = chargeWith(charge, refund, amount);
  return {
    refund,
    balance_transactions: debit ? [debit] : [],
    payment: { ...payment, charge: after },
    events: [
      buildEvent("refund.created", refund, { created }),
      buildEvent("charge.refunded", chargeAsSent(after), { created, previous_attributes: chargeChanges(charge, after) }),
    ],
  };
}

/**
 * A refund of a built payment (any builder's result: its payment intent, charge and balance
 * transaction), in the charge's currency; `status` says where it ends (see RefundOptions).
 * Chain refunds through `.payment`: buildRefund(first.payment, …) sees the first one.
 */
export function buildRefund<P extends PaymentCore>(payment: P, opts: RefundOptions = {}): BuiltRefund<P> {
  const status = opts.status ?? "succeeded";
  if (status === "failed") {
    const made = createRefund(payment, opts, "succeeded");
    const failed = failRefund(made, opts.failure);
    return { ...failed, events: [...made.events, ...failed.events] };
  }
  if (status === "canceled") {
    const made = createRefund(payment, opts, "requires_action");
    const canceled = cancelRefund(made, opts.failure);
    return { ...canceled, events: [...made.events, ...canceled.events] };
  }
  return createRefund(payment, opts, status);
}

/** The refund after a change of status; the charge follows; one refund.updated, with what changed. */
function changeRefund<P extends PaymentCore>(
  built: BuiltRefund<P>,
  change: { status: RefundStatus; created: number; fields: Partial<Stripe.Refund>; previous: Record<string, unknown>; extra_bt?: Stripe.BalanceTransaction | null; refunded_delta_minor: number },
): BuiltRefund<P> & { created: number } {
  const { pending_reason: _, ...rest } = clone(built.refund);
  const refund: Stripe.Refund = { ...rest, ...change.fields, status: change.status };
  const charge = chargeWith(built.payment.charge, refund, change.refunded_delta_minor);
  return {
    refund,
    balance_transactions: [...built.balance_transactions, ...(change.extra_bt ? [change.extra_bt] : [])],
    payment: { ...built.payment, charge },
    events: [buildEvent("refund.updated", refund, { created: change.created, previous_attributes: change.previous })],
    created: change.created,
  };
}

function previousPending(refund: Stripe.Refund): Record<string, unknown> {
  return refund.pending_reason !== undefined ? { pending_reason: refund.pending_reason } : {};
}

/**
 * A refund that moved money fails later (by default a week after it was made): its
 * failure_balance_transaction gives the money back to the balance, the charge no longer
 * counts it; refund.updated (from its status, with previous_attributes) then refund.failed.
 */
export function failRefund<P extends PaymentCore>(built: BuiltRefund<P>, opts: FailRefundOptions = {}): BuiltRefund<P> {
  const refund = built.refund;
  if (refund.status !== "succeeded" && refund.status !== "pending") throw new Error(`only a succeeded or pending refund fails; ${refund.id} is ${refund.status}`);
  return endRefund(built, "failed", opts.failure_reason ?? "expired_or_canceled_card", opts, (changed) => [buildEvent("refund.failed", changed.refund, { created: changed.created })]);
}

/**
 * A refund in `requires_action` (a payment method that needs the customer to act) is canceled:
 * status `canceled`, failure_reason `merchant_request`, the money back through a
 * failure_balance_transaction; refund.updated.
 */
export function cancelRefund<P extends PaymentCore>(built: BuiltRefund<P>, opts: FailRefundOptions = {}): BuiltRefund<P> {
  const refund = built.refund;
  if (refund.status !== "requires_action") throw new Error(`only a refund in requires_action can be canceled (as at Stripe); ${refund.id} is ${refund.status}`);
  return endRefund(built, "canceled", opts.failure_reason ?? "merchant_request", opts, () => []);
}

function endRefund<P extends PaymentCore>(
  built: BuiltRefund<P>,
  status: "failed" | "canceled",
  failure_reason: string,
  opts: FailRefundOptions,
  more: (changed: BuiltRefund<P> & { created: number }) => Stripe.Event[],
): BuiltRefund<P> {
  const refund = built.refund;
  const created = opts.created ?? refund.created + WEEK_S;
  const debit = built.balance_transactions.find((bt) => bt.type === "refund");
  const credit = debit
    ? buildBalanceTransaction({
        ...(opts.id ? { id: opts.id } : {}),
        amount: opts.settlement_amount_minor ?? negate(debit.amount),
        currency: debit.currency,
        created,
        description: "REFUND FAILURE",
        exchange_rate: debit.exchange_rate,
        fee_minor: 0,
        fee_description: "Stripe refund fees",
        reporting_category: "refund_failure",
        source: refund.id,
        type: "refund_failure",
      })
    : null;
  if (credit && credit.amount < 0) throw new Error(`a failed refund gives money back: settlement_amount_minor must not be negative, got ${credit.amount}`);
  const changed = changeRefund(built, {
    status,
    created,
    fields: { failure_reason, ...(credit ? { failure_balance_transaction: credit.id } : {}) },
    previous: { status: refund.status, ...previousPending(refund), ...(credit ? { failure_balance_transaction: null } : {}), failure_reason: null },
    extra_bt: credit,
    refunded_delta_minor: negate(refund.amount),
  });
  const { created: _, ...result } = changed;
  return { ...result, events: [...changed.events, ...more(changed)] };
}

/** A pending refund succeeds: its balance transaction now if it had none (at `settlement`); refund.updated. */
export function succeedRefund<P extends PaymentCore>(
  built: BuiltRefund<P>,
  opts: { created?: number; settlement?: RefundSettlement; fee_minor?: number; balance_transaction_id?: string } = {},
): BuiltRefund<P> {
  const refund = built.refund;
  if (refund.status !== "pending") throw new Error(`only a pending refund succeeds later; ${refund.id} is ${refund.status}`);
  const created = opts.created ?? refund.created + 86400;
  const debit = refund.balance_transaction === null ? refundDebit(built.payment, refund.id, refund.amount, created, { ...opts, ...(opts.balance_transaction_id ? { id: opts.balance_transaction_id } : {}) }) : null;
  const { created: _, ...result } = changeRefund(built, {
    status: "succeeded",
    created,
    fields: { destination_details: { card: { type: "refund" }, type: "card" }, ...(debit ? { balance_transaction: debit.id } : {}) },
    previous: { status: "pending", ...previousPending(refund), destination_details: clone(refund.destination_details), ...(debit ? { balance_transaction: null } : {}) },
    extra_bt: debit,
    refunded_delta_minor: 0,
  });
  return result;
}
