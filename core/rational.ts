/**
 * Exact rationals on bigint. Shares such as "12.5%" or "1/3" and the exact amounts they give
 * are rationals; only the final rounding turns them into integer minor units. No float is ever
 * involved, not even to parse a percentage.
 */
import { invariant } from "./invariant";

/** Always normalized: den > 0 and gcd(|num|, den) = 1, so equal values have equal fields. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

/** Longest digit string we parse: bounds the size of every rational a rule can hold. */
const MAX_DIGITS = 12;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Builds num/den in normal form. Division by zero is a bug. */
export function rational(num: bigint, den: bigint = 1n): Rational {
  invariant(den !== 0n, "rational with a zero denominator");
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den);
  const divisor = g === 0n ? 1n : g;
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

/** An integer number of minor units as a rational. */
export function fromInteger(value: number): Rational {
  invariant(Number.isSafeInteger(value), `not a safe integer: ${String(value)}`);
  return { num: BigInt(value), den: 1n };
}

export const ZERO: Rational = { num: 0n, den: 1n };
export const ONE: Rational = { num: 1n, den: 1n };

export function add(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function div(a: Rational, b: Rational): Rational {
  invariant(b.num !== 0n, "division of a rational by zero");
  return rational(a.num * b.den, a.den * b.num);
}

/** -1, 0 or 1 as a < b, a = b, a > b. Dens are positive, so cross-multiplying keeps the order. */
export function compare(a: Rational, b: Rational): -1 | 0 | 1 {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function min(a: Rational, b: Rational): Rational {
  return compare(a, b) <= 0 ? a : b;
}

export function sum(values: readonly Rational[]): Rational {
  return values.reduce(add, ZERO);
}

/** Largest integer <= value. bigint division truncates toward zero, so negatives need a step. */
export function floor(value: Rational): bigint {
  const quotient = value.num / value.den;
  return value.num < 0n && quotient * value.den !== value.num ? quotient - 1n : quotient;
}

/** value - floor(value), in [0, 1): what flooring loses. */
export function fractionalPart(value: Rational): Rational {
  return sub(value, rational(floor(value)));
}

export function isInteger(value: Rational): boolean {
  return value.den === 1n;
}

/** "12.5%" -> 1/8. Digits, an optional decimal point, digits, "%". Null if malformed. */
export function parsePercentage(text: string): Rational | null {
  const match = /^(\d{1,3})(?:\.(\d{1,9}))?%$/.exec(text);
  if (match === null) return null;
  const whole = match[1] ?? "";
  const decimals = match[2] ?? "";
  const scale = 10n ** BigInt(decimals.length);
  return rational(BigInt(whole + decimals), 100n * scale);
}

/** "1/3" -> 1/3. Null if malformed or the denominator is zero. */
export function parseFraction(text: string): Rational | null {
  const pattern = new RegExp(`^(\\d{1,${MAX_DIGITS}})/(\\d{1,${MAX_DIGITS}})$`);
  const match = pattern.exec(text);
  if (match === null) return null;
  const den = BigInt(match[2] ?? "0");
  if (den === 0n) return null;
  return rational(BigInt(match[1] ?? "0"), den);
}

/** "1/8" or "3" : for messages and debugging, never for arithmetic. */
export function formatRational(value: Rational): string {
  return value.den === 1n ? `${value.num}` : `${value.num}/${value.den}`;
}

/** 1/8 -> "12.5%" when the value has a finite decimal percentage, else null. */
export function formatPercentage(value: Rational): string | null {
  const hundredths = mul(value, rational(100n));
  let scaled = hundredths;
  let decimals = 0;
  while (!isInteger(scaled) && decimals < 12) {
    scaled = mul(scaled, rational(10n));
    decimals += 1;
  }
  if (!isInteger(scaled) || scaled.num < 0n) return null;
  const digits = scaled.num.toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return decimals === 0 ? `${whole}%` : `${whole}.${fraction}%`;
}
