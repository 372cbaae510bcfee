/**
 * Balance transactions: what moved in the Stripe balance, in the settlement currency. One
 * builder for a charge's, a refund's and its failure's, a dispute's withdrawal and its
 * reinstatement; and the conversion of an amount in the charge's currency into the settlement
 * currency. Pure and web-standard.
 */
import { minorUnitExponent } from "../../core/currency";
import { convertMinor } from "./amounts.ts";

export { buildBalanceTransaction, negate, type BalanceTransactionFields } from "./balance-transaction.ts";

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
