/**
 * Disputes of a built payment, in Stripe's shapes for the pinned API version: the dispute, its
 * balance transactions, the charge marked disputed and the events Stripe sends, step by step.
 * Pure and web-standard.
 *
 *   buildDispute(payment, opts)  a chargeback: needs_response, the money and the dispute fee
 *                                withdrawn: charge.dispute.created, charge.dispute.funds_withdrawn
 *   winDispute(built, opts)      won: the money back, and the fee if `fee_returned`:
 *                                charge.dispute.closed, charge.dispute.funds_reinstated
 *   loseDispute(built)           lost: nothing moves: charge.dispute.closed
 *   buildInquiry(payment, opts)  an inquiry (warning_needs_response): no money, the charge
 *                                still refundable: charge.dispute.created
 *   closeInquiry(built)          warning_closed: charge.dispute.closed
 *
 * What the SDK's types, Stripe's example dispute and Stripe's docs say, and the emulator follows:
 * - `balance_transactions` holds the dispute's balance transactions as whole objects (zero, one
 *   or two): the withdrawal (type `adjustment`, reporting_category `dispute`: amount −disputed,
 *   fee +dispute fee, `fee_details` "Dispute fee", net = −amount − fee: "a single balance
 *   transaction for the dispute amount and fee", Stripe's dispute fees FAQ), then, if won, the
 *   reinstatement (reporting_category `dispute_reversal`, +amount). An inquiry (`warning_*`)
 *   moves no money.
 * - Whether the dispute fee comes back on a win changed: Stripe's older FAQ says it is refunded;
 *   its current disputes page says a separate "dispute countered fee" (charged when evidence is
 *   submitted) comes back and the dispute received fee does not. So `fee_returned` is an
 *   option, default false; when true the reinstatement's fee is the withdrawal's, negated.
 *   The countered fee itself is not built.
 * - Stripe's example dispute lacks `intended_submission_method` and
 *   `evidence_details.submission_method`, which the SDK's Dispute has: the emulator keeps the
 *   example's keys (as it does for the charge).
 *
 * Not confirmed, chosen and marked here:
 * - The withdrawal is at the dispute day's rate for a payment settled in another currency
 *   (`settlement`, default the payment's rate); the reinstatement gives back the same settled
 *   amount unless `settlement_amount_minor` says otherwise.
 * - Descriptions "Chargeback withdrawal for ch_…" / "Chargeback reversal for ch_…" (as in a
 *   2017 event and third-party notes). Balance transactions are `pending`, available a week
 *   later.
 * - charge.dispute.created already carries the withdrawal; charge.dispute.closed comes before
 *   charge.dispute.funds_reinstated ("funds are reinstated to your account after a dispute is
 *   closed", Stripe's event list) and both show the dispute won with both transactions;
 *   closed's previous_attributes names only `status`. The review in between
 *   (`under_review`, charge.dispute.updated) and an inquiry escalating into a chargeback are
 *   not built.
 * - `network_reason_code` is Visa's 10.4 (card-absent fraud) for `fraudulent`, null otherwise;
 *   `enhanced_eligibility_types` lists visa_compelling_evidence_3 for a fraudulent Visa dispute.
 * - The disputed amount defaults to the charge's amount, even after a partial refund (Stripe's
 *   handling of disputes on partially refunded payments is not built).
 */
import type Stripe from "stripe";

import { minorUnitExponent } from "../../core/currency";
import { buildBalanceTransaction, negate, settle } from "./balance.ts";
import { assertMinor, clone, exampleShaped } from "./catalog.ts";
import { buildEvent } from "./events.ts";
import { stripeId } from "./ids.ts";
import type { PaymentCore } from "./payment-core.ts";

import disputeFx from "../stripe-fixtures/dispute.json" with { type: "json" };

/** The emulator's default dispute fee, in minor units of a two-decimal settlement currency (15.00). */
export const DEFAULT_DISPUTE_FEE_MINOR = 1500;

export interface DisputeOptions {
  /** In the charge's currency (default: the charge's amount). */
  amount_minor?: number;
  /** Stripe's dispute fee, minor units of the settlement currency (default 1500 for two-decimal currencies). */
  fee_minor?: number;
  /** Default `fraudulent`. */
  reason?: string;
  /** Unix seconds (default: now). */
  created?: number;
  /** The dispute day's conversion (default: the payment's rate). */
  settlement?: { exchange_rate?: number; amount_minor?: number };
  metadata?: Record<string, string>;
  ids?: Partial<Record<"dispute" | "balance_transaction", string>>;
}

export interface WinDisputeOptions {
  /** Does the dispute fee come back with the money? (default false: see above) */
  fee_returned?: boolean;
  /** Unix seconds (default: 30 days after the dispute). */
  created?: number;
  /** What comes back, positive minor units of the settlement currency (default: what was withdrawn, fee apart). */
  settlement_amount_minor?: number;
  /** The reinstatement's id. */
  id?: string;
}

/** A dispute as it stands after a step, with what that step sent. */
export interface BuiltDispute<P extends PaymentCore = PaymentCore> {
  dispute: Stripe.Dispute;
  /** Its balance transactions so far (the same objects as dispute.balance_transactions). */
  balance_transactions: Stripe.BalanceTransaction[];
  /** The payment with its charge marked disputed. */
  payment: P;
  /** What Stripe sends for this step, in order. */
  events: Stripe.Event[];
}

const DAY_S = 86400;
const OPEN_CHARGEBACK: ReadonlySet<string> = new Set(["needs_response", "under_review"]);
const OPEN_INQUIRY: ReadonlySet<string> = new Set(["warning_needs_response", "warning_under_review"]);

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function defaultFee(currency: string): number {
  if (minorUnitExponent(currency) !== 2) throw new Error(`give fee_minor: the emulator's default dispute fee (${DEFAULT_DISPUTE_FEE_MINOR}) is for two-decimal currencies, not ${currency}`);
  return DEFAULT_DISPUTE_FEE_MINOR;
}

function openDispute<P extends PaymentCore>(payment: P, opts: DisputeOptions, inquiry: boolean): BuiltDispute<P> {
  const charge = payment.charge;
  if (charge.status !== "succeeded") throw new Error(`only a succeeded charge is disputed here; ${charge.id} is ${charge.status}`);
  if (charge.disputed) throw new Error(`${charge.id} is already disputed: Stripe opens one dispute per charge`);
  const amount = opts.amount_minor ?? charge.amount;
  assertMinor(amount, "amount_minor");
  if (amount < 1 || amount > charge.amount) throw new Error(`a dispute of ${amount} is not within the charge's ${charge.amount} ${charge.currency}`);
  const created = opts.created ?? nowSeconds();
  const id = opts.ids?.dispute ?? stripeId("dp_");
  const reason = opts.reason ?? "fraudulent";

  let withdrawal: Stripe.BalanceTransaction | null = null;
  if (!inquiry) {
    const bt = payment.balance_transaction;
    const settled = settle(
      {
        currency: charge.currency,
        settlement_currency: bt.currency,
        ...(opts.settlement?.exchange_rate !== undefined ? { exchange_rate: opts.settlement.exchange_rate } : bt.exchange_rate !== null ? { exchange_rate: bt.exchange_rate } : {}),
        ...(opts.settlement?.amount_minor !== undefined ? { settlement_amount_minor: opts.settlement.amount_minor } : {}),
      },
      amount,
    );
    const fee = opts.fee_minor ?? defaultFee(settled.currency);
    assertMinor(fee, "fee_minor");
    withdrawal = buildBalanceTransaction({
      ...(opts.ids?.balance_transaction ? { id: opts.ids.balance_transaction } : {}),
      amount: negate(settled.amount),
      currency: settled.currency,
      created,
      description: `Chargeback withdrawal for ${charge.id}`,
      exchange_rate: settled.exchange_rate,
      fee_minor: fee,
      fee_description: "Dispute fee",
      reporting_category: "dispute",
      source: id,
      type: "adjustment",
    });
  }

  const card = charge.payment_method_details?.card;
  const network = card?.network ?? card?.brand ?? "visa";
  const fx = clone(disputeFx);
  const due = Math.floor((created + 14 * DAY_S) / DAY_S) * DAY_S + DAY_S - 1; // the end of a day, as Stripe's example
  const dispute = exampleShaped<Stripe.Dispute, "intended_submission_method">({
    ...fx,
    id,
    object: "dispute",
    amount,
    balance_transactions: withdrawal ? [withdrawal] : [],
    charge: charge.id,
    created,
    currency: charge.currency,
    enhanced_eligibility_types: reason === "fraudulent" && network === "visa" ? ["visa_compelling_evidence_3"] : [],
    // Stripe's example has no evidence_details.submission_method (the SDK's type does): kept as the example.
    evidence_details: { ...fx.evidence_details, due_by: due, has_evidence: false, past_due: false, submission_count: 0 } as unknown as Stripe.Dispute.EvidenceDetails,
    is_charge_refundable: inquiry,
    livemode: false,
    metadata: opts.metadata ?? {},
    payment_intent: payment.payment_intent.id,
    payment_method_details: {
      card: { brand: card?.brand ?? "visa", case_type: inquiry ? "inquiry" : "chargeback", network, network_reason_code: reason === "fraudulent" ? "10.4" : null },
      type: "card",
    },
    reason,
    status: inquiry ? "warning_needs_response" : "needs_response",
  });

  const after: Stripe.Charge = { ...clone(charge), disputed: true };
  const events = [buildEvent("charge.dispute.created", dispute, { created })];
  if (withdrawal) events.push(buildEvent("charge.dispute.funds_withdrawn", dispute, { created }));
  return { dispute, balance_transactions: withdrawal ? [withdrawal] : [], payment: { ...payment, charge: after }, events };
}

/** A chargeback of a built payment: needs_response, the disputed amount and the fee withdrawn. */
export function buildDispute<P extends PaymentCore>(payment: P, opts: DisputeOptions = {}): BuiltDispute<P> {
  return openDispute(payment, opts, false);
}

/** An inquiry (a `warning_*` dispute): no money moves, the charge can still be refunded. */
export function buildInquiry<P extends PaymentCore>(payment: P, opts: Omit<DisputeOptions, "fee_minor" | "settlement"> = {}): BuiltDispute<P> {
  return openDispute(payment, opts, true);
}

function close<P extends PaymentCore>(built: BuiltDispute<P>, status: Stripe.Dispute.Status, created: number, extra: Stripe.BalanceTransaction | null, submitted: boolean): BuiltDispute<P> {
  const before = built.dispute;
  const balance_transactions = [...built.balance_transactions, ...(extra ? [extra] : [])];
  const dispute: Stripe.Dispute = {
    ...clone(before),
    balance_transactions: clone(balance_transactions),
    evidence_details: submitted ? { ...clone(before.evidence_details), has_evidence: true, submission_count: Math.max(1, before.evidence_details.submission_count) } : clone(before.evidence_details),
    status,
  };
  const events = [buildEvent("charge.dispute.closed", dispute, { created, previous_attributes: { status: before.status } })];
  if (extra) events.push(buildEvent("charge.dispute.funds_reinstated", dispute, { created }));
  return { dispute, balance_transactions, payment: built.payment, events };
}

/**
 * The cooperative wins (evidence submitted, by default 30 days later): status `won`, the money
 * back through a reinstatement (+amount; the dispute fee too when `fee_returned`).
 */
export function winDispute<P extends PaymentCore>(built: BuiltDispute<P>, opts: WinDisputeOptions = {}): BuiltDispute<P> {
  const d = built.dispute;
  if (!OPEN_CHARGEBACK.has(d.status)) throw new Error(`only an open chargeback is won; ${d.id} is ${d.status}`);
  const withdrawal = built.balance_transactions.find((bt) => bt.reporting_category === "dispute");
  if (!withdrawal) throw new Error(`internal: chargeback ${d.id} has no withdrawal`);
  const created = opts.created ?? d.created + 30 * DAY_S;
  const amount = opts.settlement_amount_minor ?? negate(withdrawal.amount);
  assertMinor(amount, "settlement_amount_minor");
  const charge = typeof d.charge === "string" ? d.charge : d.charge.id;
  const reinstatement = buildBalanceTransaction({
    ...(opts.id ? { id: opts.id } : {}),
    amount,
    currency: withdrawal.currency,
    created,
    description: `Chargeback reversal for ${charge}`,
    exchange_rate: withdrawal.exchange_rate,
    fee_minor: opts.fee_returned ? negate(withdrawal.fee) : 0,
    fee_description: "Dispute fee",
    reporting_category: "dispute_reversal",
    source: d.id,
    type: "adjustment",
  });
  return close(built, "won", created, reinstatement, true);
}

/** The cardholder wins: status `lost`; what was withdrawn stays withdrawn, nothing else moves. */
export function loseDispute<P extends PaymentCore>(built: BuiltDispute<P>, opts: { created?: number } = {}): BuiltDispute<P> {
  const d = built.dispute;
  if (!OPEN_CHARGEBACK.has(d.status)) throw new Error(`only an open chargeback is lost; ${d.id} is ${d.status}`);
  return close(built, "lost", opts.created ?? d.created + 30 * DAY_S, null, false);
}

/** An inquiry closes without becoming a chargeback: status `warning_closed`, no money. */
export function closeInquiry<P extends PaymentCore>(built: BuiltDispute<P>, opts: { created?: number } = {}): BuiltDispute<P> {
  const d = built.dispute;
  if (!OPEN_INQUIRY.has(d.status)) throw new Error(`only an open inquiry closes as warning_closed; ${d.id} is ${d.status}`);
  return close(built, "warning_closed", opts.created ?? d.created + 30 * DAY_S, null, false);
}
