// What Stripe says about money going back: a refund (and its failure) or a dispute (and its
// withdrawal and reinstatement), read from Stripe's objects as movements of money, each with
// the balance transaction that moved it. A run reads every movement the object has made so
// far, so that events arriving out of order or twice leave the same ledger.
import type Stripe from "stripe";
import type { StripeApi } from "./stripe-api";
import { z } from "zod";
import type { TransactionKind } from "../db/schema";
import { PermanentPaymentProblem } from "./failures";
import { read } from "./payment-facts";

export interface Movement {
  /** The idempotency key: the Stripe object that moved the money. */
  key: string;
  kind: Exclude<TransactionKind, "payment">;
  stripe_object: string;
  /** What it takes back (+) or returns (−), in the charge's currency. */
  charge_amount_minor: number;
  /** To the customer (+) or back from them (−), in the settlement currency at the day's rate. */
  paid_out_minor: number;
  /** Stripe's fee on it: + charged (a dispute fee), − returned. */
  stripe_fee_minor: number;
  currency: string;
  created_s: number;
}

export interface MoneyBackFacts {
  payment_intent_id: string | null;
  charge_id: string;
  movements: Movement[];
  /** A dispute's last known state, to record (its outcome moves no money by itself). */
  dispute: { id: string; status: string; reason: string | null; amount_minor: number; currency: string } | null;
  /** Why nothing moved, when nothing did. */
  note: string | null;
}

const balanceTransaction = z.object({ id: z.string(), amount: z.number().int(), fee: z.number().int(), currency: z.string(), created: z.number().int() });
const idOf = z.union([z.string(), z.object({ id: z.string() })]);

const refund = z.object({
  id: z.string(),
  amount: z.number().int().nonnegative(),
  status: z.string().nullable(),
  charge: idOf.nullable(),
  payment_intent: idOf.nullable(),
  balance_transaction: z.union([balanceTransaction, z.string(), z.null()]),
  failure_balance_transaction: z.union([balanceTransaction, z.string(), z.null()]).optional(),
});

const dispute = z.object({
  id: z.string(),
  amount: z.number().int().nonnegative(),
  currency: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  charge: idOf,
  payment_intent: idOf.nullable(),
  balance_transactions: z.array(balanceTransaction),
});

const charge = z.object({ id: z.string(), payment_intent: idOf.nullable() });

const id = (ref: string | { id: string }) => (typeof ref === "string" ? ref : ref.id);

function expanded(bt: z.infer<typeof balanceTransaction> | string | null | undefined, what: string): z.infer<typeof balanceTransaction> | null {
  if (bt === null || bt === undefined) return null;
  if (typeof bt === "string") throw new PermanentPaymentProblem(`${what}: its balance transaction ${bt} was not expanded`);
  return bt;
}

/** The payment intent a charge belongs to, when the object itself does not say. */
async function paymentIntentOf(stripe: StripeApi, chargeId: string): Promise<string | null> {
  const ch = read(charge, await stripe.charges.retrieve(chargeId), `charge ${chargeId}`);
  return ch.payment_intent === null ? null : id(ch.payment_intent);
}

export async function fetchRefundFacts(stripe: StripeApi, refundId: string): Promise<MoneyBackFacts> {
  const r = read(refund, await stripe.refunds.retrieve(refundId, { expand: ["balance_transaction", "failure_balance_transaction"] }), `refund ${refundId}`);
  if (r.charge === null) throw new PermanentPaymentProblem(`refund ${refundId} names no charge: it is not the refund of a payment Pot Commun splits`);
  const chargeId = id(r.charge);
  const payment_intent_id = r.payment_intent === null ? await paymentIntentOf(stripe, chargeId) : id(r.payment_intent);
  const moved = expanded(r.balance_transaction, `refund ${refundId}`);
  const failure = expanded(r.failure_balance_transaction, `refund ${refundId}`);
  const movements: Movement[] = [];
  if (moved && (r.status === "succeeded" || r.status === "failed" || r.status === "canceled")) {
    movements.push({ key: `refund:${r.id}`, kind: "refund", stripe_object: r.id, charge_amount_minor: r.amount, paid_out_minor: -moved.amount, stripe_fee_minor: moved.fee, currency: moved.currency, created_s: moved.created });
  }
  if (failure && moved) {
    movements.push({ key: `refund_failure:${failure.id}`, kind: "refund_failed", stripe_object: failure.id, charge_amount_minor: -r.amount, paid_out_minor: -failure.amount, stripe_fee_minor: failure.fee, currency: failure.currency, created_s: failure.created });
  }
  const note = movements.length > 0 ? null : `refund ${refundId} is ${r.status ?? "without a status"} and has moved no money${moved ? "" : " yet"}: nothing to take back`;
  return { payment_intent_id, charge_id: chargeId, movements, dispute: null, note };
}

export async function fetchDisputeFacts(stripe: StripeApi, disputeId: string): Promise<MoneyBackFacts> {
  const d = read(dispute, await stripe.disputes.retrieve(disputeId), `dispute ${disputeId}`);
  const chargeId = id(d.charge);
  const payment_intent_id = d.payment_intent === null ? await paymentIntentOf(stripe, chargeId) : id(d.payment_intent);
  const record = { id: d.id, status: d.status, reason: d.reason, amount_minor: d.amount, currency: d.currency };
  // An inquiry (warning_*) moves no money; whatever its balance transactions say, take nothing back.
  if (d.status.startsWith("warning_")) return { payment_intent_id, charge_id: chargeId, movements: [], dispute: record, note: `dispute ${d.id} is an inquiry (${d.status}): it moves no money` };
  const movements = d.balance_transactions
    .filter((bt) => bt.amount !== 0)
    .map((bt): Movement => {
      const withdrawn = bt.amount < 0;
      return {
        key: `dispute:${bt.id}`,
        kind: withdrawn ? "dispute_withdrawn" : "dispute_reinstated",
        stripe_object: bt.id,
        charge_amount_minor: withdrawn ? d.amount : -d.amount,
        paid_out_minor: -bt.amount,
        stripe_fee_minor: bt.fee,
        currency: bt.currency,
        created_s: bt.created,
      };
    })
    .sort((a, b) => a.created_s - b.created_s || (a.kind === "dispute_withdrawn" ? -1 : 1));
  const note = movements.length > 0 ? null : `dispute ${d.id} is ${d.status} and has moved no money`;
  return { payment_intent_id, charge_id: chargeId, movements, dispute: record, note };
}
