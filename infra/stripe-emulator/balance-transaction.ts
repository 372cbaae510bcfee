/**
 * A balance transaction: what moved in the Stripe balance, in the settlement currency, with
 * the keys of Stripe's example (infra/stripe-fixtures/balance_transaction.json; the shape tests
 * compare them) and the SDK's type (tsc checks it). Written out rather than cloned from the
 * example, and importing nothing but ids and the arithmetic's error: the emulator's routes build
 * transfers with it, and app.ts, which vitest.config.ts loads in the test host, must import no
 * JSON and no extensionless path. Pure and web-standard.
 */
import type Stripe from "stripe";

import { AmountError } from "./amounts.ts";
import { stripeId } from "./ids.ts";

export interface BalanceTransactionFields {
  id?: string;
  /** Signed minor units of `currency`: positive comes in, negative goes out. */
  amount: number;
  currency: string;
  created: number;
  /** Default: a week after `created`, as the emulator's charges. */
  available_on?: number;
  description: string | null;
  /** Stripe's rate (major units of `currency` per major unit of the charge's), or null for one currency. */
  exchange_rate: number | null;
  /** Signed minor units: what Stripe keeps (positive) or gives back (negative). */
  fee_minor: number;
  /** The fee_details line's description, e.g. "Stripe processing fees", "Dispute fee". */
  fee_description: string;
  reporting_category: string;
  /** The object that moved the money; null for a fee billed apart. */
  source: string | null;
  status?: "pending" | "available";
  type: Stripe.BalanceTransaction.Type;
}

/** −n without a −0 (JSON prints both as 0, but tests compare with Object.is). */
export function negate(n: number): number {
  return n === 0 ? 0 : -n;
}

/** A balance transaction in the shape of Stripe's example: `net` = amount − fee, one fee line when there is a fee. */
export function buildBalanceTransaction(f: BalanceTransactionFields): Stripe.BalanceTransaction {
  for (const [name, value] of [["amount", f.amount], ["fee_minor", f.fee_minor]] as const) {
    if (!Number.isSafeInteger(value)) throw new AmountError(`balance transaction ${name} must be an integer number of minor units, got ${value}`);
  }
  const currency = f.currency.toLowerCase();
  return {
    id: f.id ?? stripeId("txn_"),
    object: "balance_transaction",
    amount: f.amount,
    available_on: f.available_on ?? f.created + 7 * 86400,
    created: f.created,
    currency,
    description: f.description,
    exchange_rate: f.exchange_rate,
    fee: f.fee_minor,
    fee_details: f.fee_minor !== 0 ? [{ amount: f.fee_minor, application: null, currency, description: f.fee_description, type: "stripe_fee" }] : [],
    net: f.amount - f.fee_minor || 0,
    reporting_category: f.reporting_category,
    source: f.source,
    status: f.status ?? "pending",
    type: f.type,
    balance_type: "payments",
  } satisfies Stripe.BalanceTransaction;
}
