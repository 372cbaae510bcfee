/**
 * Balance transactions: what moved in the Stripe balance, in the settlement currency. One
 * builder for a charge's, a refund's and its failure's, a dispute's withdrawal and its
 * reinstatement; and the conversion of an amount in the charge's currency into the settlement
 * currency. Pure and web-standard.
 */
import type Stripe from "stripe";

import { minorUnitExponent } from "../../core/currency";
import { AmountError, convertMinor } from "./amounts.ts";
import { clone } from "./catalog.ts";
import { stripeId } from "./ids.ts";

import balanceTransactionFx from "../stripe-fixtures/balance_transaction.json" with { type: "json" };

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
  source: string;
  status?: "pending" | "available";
  type: Stripe.BalanceTransaction.Type;
}

/** −n without a −0 (JSON prints both as 0, but tests compare with Object.is). */
export function negate(n: number): number {
  return n === 0 ? 0 : -n;
}

/** A balance transaction cloned from Stripe's example: `net` = amount − fee, one fee line when there is a fee. */
export function buildBalanceTransaction(f: BalanceTransactionFields): Stripe.BalanceTransaction {
  for (const [name, value] of [["amount", f.amount], ["fee_minor", f.fee_minor]] as const) {
    if (!Number.isSafeInteger(value)) throw new AmountError(`balance transaction ${name} must be an integer number of minor units, got ${value}`);
  }
  const currency = f.currency.toLowerCase();
  return {
    ...clone(balanceTransactionFx),
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
  } satisfies Stripe.BalanceTransaction;
}

/** How an amount in the charge's currency reaches the balance. */
export interface SettlementOptions {
  /** The charge's currency. */
  currency: string;
  /** The balance's currency (default: `currency`). */
  settlement_currency?: string;
  /** Major units of settlement currency per major unit of `currency`, as Stripe reports it. */
  exchange_rate?: number;
  /** The settled amount itself (non-negative), instead of converting at exchange_rate. */
  settlement_amount_minor?: number;
}

export interface Settled {
  currency: string;
  /** Non-negative minor units of `currency`. */
  amount: number;
  exchange_rate: number | null;
}

/**
 * `amount_minor` of `opts.currency` in the settlement currency: the same amount in one
 * currency; else `settlement_amount_minor` when given, or the conversion at `exchange_rate`
 * rounded to the settlement currency's minor unit, halves away from zero (convertMinor).
 */
export function settle(opts: SettlementOptions, amount_minor: number): Settled {
  const from = opts.currency.toLowerCase();
  const currency = (opts.settlement_currency ?? from).toLowerCase();
  const same = currency === from;
  if (opts.settlement_amount_minor !== undefined) {
    if (!Number.isSafeInteger(opts.settlement_amount_minor) || opts.settlement_amount_minor < 0) {
      throw new Error(`settlement_amount_minor must be a non-negative integer number of minor units, got ${opts.settlement_amount_minor}`);
    }
    return { currency, amount: opts.settlement_amount_minor, exchange_rate: same ? null : (opts.exchange_rate ?? null) };
  }
  if (same) return { currency, amount: amount_minor, exchange_rate: null };
  if (opts.exchange_rate === undefined || !(opts.exchange_rate > 0)) {
    throw new Error(`settlement_currency ${currency} differs from ${from}: give exchange_rate or settlement_amount_minor`);
  }
  return { currency, amount: convertMinor(amount_minor, opts.exchange_rate, minorUnitExponent(from), minorUnitExponent(currency)), exchange_rate: opts.exchange_rate };
}
