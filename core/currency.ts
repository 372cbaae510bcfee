/**
 * Currencies as Stripe names them: three lower-case letters. Amounts are integers of the
 * currency's minor unit; the exponent says how many minor units make one major unit
 * (10^exponent). We follow Stripe's API, not ISO 4217, where they differ: Stripe counts
 * ISK, HUF and TWD with two decimals (amounts divisible by 100), so they stay at 2 here.
 */
import { assertSignedMinor, invariant } from "./invariant";

export type MinorUnitExponent = 0 | 2 | 3;

/** Stripe's zero-decimal currencies: an amount of 500 jpy is ¥500. */
const ZERO_DECIMAL: ReadonlySet<string> = new Set([
  "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
  "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
]);

/** Stripe's three-decimal currencies (Stripe also wants the last digit to be 0 on charges). */
const THREE_DECIMAL: ReadonlySet<string> = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

/** True for a code shaped like Stripe's: exactly three lower-case ASCII letters. */
export function isCurrencyCode(value: string): boolean {
  return /^[a-z]{3}$/.test(value);
}

export function assertCurrency(currency: string): void {
  invariant(isCurrencyCode(currency), `not a lower-case ISO currency code: ${JSON.stringify(currency)}`);
}

/** Minor-unit exponent: 0 for jpy, 3 for bhd, 2 for every other currency (eur, usd, ...). */
export function minorUnitExponent(currency: string): MinorUnitExponent {
  assertCurrency(currency);
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

/** 12345 eur -> "123.45", 12345 bhd -> "12.345", 500 jpy -> "500"; string work, no float. */
export function formatMinor(amount_minor: number, currency: string): string {
  assertSignedMinor(amount_minor, "amount_minor");
  const exponent = minorUnitExponent(currency);
  const sign = amount_minor < 0 ? "-" : "";
  const digits = Math.abs(amount_minor).toString().padStart(exponent + 1, "0");
  if (exponent === 0) return `${sign}${digits}`;
  const cut = digits.length - exponent;
  return `${sign}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}
