/**
 * The arithmetic behind the emulator's amounts: discounts, pretax credits and tax per line,
 * then the totals of a Checkout Session or an invoice, in integer minor units.
 *
 * Rates are integers of basis points (2000 = 20%); products and quotients go through bigint,
 * so no float ever touches an amount. Every rounding is to the nearest minor unit, halves away
 * from zero (half up for the positive amounts, and a credit line mirrors the debit it undoes),
 * once per line, as Stripe rounds tax per line item.
 *
 * Pure and web-standard: imported by objects.ts (which runs in workerd too) and by the trigger.
 */

export type TaxBehavior = "exclusive" | "inclusive";

export interface TaxRule {
  /** 2000 = 20%. */
  rate_bps: number;
  behavior: TaxBehavior;
}

const BPS = 10_000n;
/** A rate above 100% (tax) or a discount above 100% is refused. */
const MAX_BPS = 10_000;

export class AmountError extends Error {}

function assertInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) throw new AmountError(`${name} must be an integer number of minor units, got ${value}`);
}

function assertNonNegative(value: number, name: string): void {
  assertInteger(value, name);
  if (value < 0) throw new AmountError(`${name} must not be negative, got ${value}`);
}

/** A non-negative integer number of minor units, or an error naming it. */
export function assertMinor(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer number of minor units, got ${value}`);
  }
}

export function assertBps(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_BPS) {
    throw new AmountError(`${name} must be an integer number of basis points from 0 to ${MAX_BPS} (2000 = 20%), got ${value}`);
  }
}

/** numerator / denominator rounded to the nearest integer, halves away from zero. denominator > 0. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new AmountError("divRound needs a positive denominator");
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  const q = (2n * n + denominator) / (2n * denominator);
  return negative ? -q : q;
}

function toSafe(value: bigint, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new AmountError(`${what} is out of range: ${value}`);
  return n;
}

/** amount × bps / 10000, rounded half away from zero: a percentage of an amount. */
export function percentOf(amount_minor: number, rate_bps: number): number {
  assertInteger(amount_minor, "amount_minor");
  assertBps(rate_bps, "rate_bps");
  return toSafe(divRound(BigInt(amount_minor) * BigInt(rate_bps), BPS), "percentage");
}

/**
 * The tax on `base_minor` (the line's amount after discounts and pretax credits).
 * Exclusive: tax = base × rate, on top of the base; taxable amount = base.
 * Inclusive: the base already holds the tax: tax = base × rate / (1 + rate); taxable = base − tax.
 */
export function taxOf(base_minor: number, tax: TaxRule): { tax_minor: number; taxable_minor: number } {
  assertInteger(base_minor, "base_minor");
  assertBps(tax.rate_bps, "tax rate_bps");
  const base = BigInt(base_minor);
  const rate = BigInt(tax.rate_bps);
  if (tax.behavior === "exclusive") return { tax_minor: toSafe(divRound(base * rate, BPS), "tax"), taxable_minor: base_minor };
  const tax_minor = toSafe(divRound(base * rate, BPS + rate), "tax");
  return { tax_minor, taxable_minor: base_minor - tax_minor };
}

export interface LineInput {
  /**
   * What the line is priced at (unit amount × quantity): an invoice line's `amount`, a Checkout
   * line's `amount_subtotal`. Excludes exclusive tax, includes inclusive tax, before discounts.
   * Negative for a credit (the unused time of a plan left).
   */
  amount_minor: number;
  /** Percentage discounts in the order they apply (the line's own first, then the payment's), each on what is left. */
  discounts_bps: number[];
  /** A credit applied before tax (a billing credit grant), after the discounts. */
  pretax_credit_minor: number;
  tax: TaxRule | null;
}

export interface LineAmounts {
  amount_minor: number;
  /** One per entry of `discounts_bps`, same order. */
  discounts_minor: number[];
  pretax_credit_minor: number;
  /** amount − discounts − pretax credit: what the tax is computed on. */
  base_minor: number;
  tax_minor: number;
  taxable_minor: number;
  /** What the line adds to what the customer pays: base, plus the tax when it is exclusive. */
  total_minor: number;
}

/** One line: discounts, then the pretax credit, then tax on what is left. */
export function lineAmounts(input: LineInput): LineAmounts {
  assertInteger(input.amount_minor, "amount_minor");
  assertNonNegative(input.pretax_credit_minor, "pretax_credit_minor");
  if (input.amount_minor < 0 && (input.discounts_bps.some((d) => d > 0) || input.pretax_credit_minor > 0)) {
    // Stripe: "discountable: always false for prorations"; credits reduce what is charged, not credits.
    throw new AmountError(`a credit line (amount ${input.amount_minor}) takes no discount and no pretax credit`);
  }
  let left = input.amount_minor;
  const discounts_minor = input.discounts_bps.map((bps) => {
    const d = percentOf(left, bps);
    left -= d;
    return d;
  });
  if (input.pretax_credit_minor > Math.max(left, 0)) {
    throw new AmountError(`pretax credit ${input.pretax_credit_minor} is more than the ${left} left on the line after discounts`);
  }
  const base_minor = left - input.pretax_credit_minor;
  const { tax_minor, taxable_minor } = input.tax ? taxOf(base_minor, input.tax) : { tax_minor: 0, taxable_minor: base_minor };
  const exclusive = input.tax?.behavior === "exclusive";
  return {
    amount_minor: input.amount_minor,
    discounts_minor,
    pretax_credit_minor: input.pretax_credit_minor,
    base_minor,
    tax_minor,
    taxable_minor,
    total_minor: base_minor + (exclusive ? tax_minor : 0),
  };
}

export interface Totals {
  /** Σ line amounts (invoice `subtotal`, session `amount_subtotal`). */
  subtotal_minor: number;
  discount_minor: number;
  pretax_credit_minor: number;
  tax_exclusive_minor: number;
  tax_inclusive_minor: number;
  /** subtotal − discounts − pretax credits + exclusive tax: what the customer pays. */
  total_minor: number;
}

/** Adds up lines, and checks that the total is the sum of the lines' totals. */
export function totals(lines: LineAmounts[], tax: TaxRule | null): Totals {
  const sum = (f: (l: LineAmounts) => number) => lines.reduce((s, l) => s + f(l), 0);
  const exclusive = tax?.behavior === "exclusive";
  const t: Totals = {
    subtotal_minor: sum((l) => l.amount_minor),
    discount_minor: sum((l) => l.discounts_minor.reduce((a, b) => a + b, 0)),
    pretax_credit_minor: sum((l) => l.pretax_credit_minor),
    tax_exclusive_minor: exclusive ? sum((l) => l.tax_minor) : 0,
    tax_inclusive_minor: tax && !exclusive ? sum((l) => l.tax_minor) : 0,
    total_minor: 0,
  };
  t.total_minor = t.subtotal_minor - t.discount_minor - t.pretax_credit_minor + t.tax_exclusive_minor;
  const byLines = sum((l) => l.total_minor);
  if (byLines !== t.total_minor) throw new AmountError(`internal: the lines add up to ${byLines}, the totals to ${t.total_minor}`);
  for (const v of Object.values(t)) if (!Number.isSafeInteger(v)) throw new AmountError(`a total is out of range: ${v}`);
  return t;
}

/** Largest unit amount the solver tries: 2^44 minor units, beyond any real price. */
const MAX_UNIT_MINOR = 2 ** 44;

/**
 * The smallest integer unit amount u ≥ 0 with totalFor(u) = target, for a totalFor that never
 * decreases as u grows (true of every line and group the builders make: discounts, tax and
 * prorations are each non-decreasing in the price). Not every target can be reached: with 20%
 * exclusive tax a 2-cent price costs 2 and a 3-cent one 4, so nothing costs 3; the error names
 * the nearest totals that can be.
 */
export function solveUnitAmount(target_minor: number, totalFor: (unit_minor: number) => number, what: string): number {
  assertInteger(target_minor, `${what}: target`);
  if (totalFor(0) > target_minor) throw new AmountError(`${what}: ${target_minor} is below the smallest total reachable, ${totalFor(0)}`);
  let hi = 1;
  while (totalFor(hi) < target_minor) {
    hi *= 2;
    if (hi > MAX_UNIT_MINOR) throw new AmountError(`${what}: ${target_minor} cannot be reached with any price (no price makes it grow)`);
  }
  let lo = 0; // totalFor(lo) ≤ target ≤ totalFor(hi)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (totalFor(mid) < target_minor) lo = mid;
    else hi = mid;
  }
  const unit = totalFor(lo) === target_minor ? lo : hi;
  if (totalFor(unit) !== target_minor) {
    throw new AmountError(
      `${what}: no price gives a total of exactly ${target_minor} (rounding per line skips it); the nearest reachable totals are ${totalFor(hi - 1)} and ${totalFor(hi)}`,
    );
  }
  return unit;
}

/**
 * "20" → 2000, "5.5" → 550, "0.25" → 25: a percentage typed by a person, read exactly as basis
 * points (two decimals at most), without going through a float.
 */
export function parsePercentBps(text: string, name: string): number {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new AmountError(`${name} must be a percentage with at most two decimals (e.g. 20 or 5.5), got '${text}'`);
  const bps = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  assertBps(bps, name);
  return bps;
}

/** 2000 → "20", 550 → "5.5": for display and for Stripe's float `percentage` fields. */
export function bpsToPercent(rate_bps: number): number {
  assertBps(rate_bps, "rate_bps");
  return rate_bps / 100;
}

/**
 * Stripe's `exchange_rate` as the exact fraction it means. Stripe writes the rate as a JSON
 * decimal (1.0873) and JavaScript keeps it as a float; the float's shortest decimal form
 * (`String(rate)`, exact for any decimal of up to 15 significant digits) is read back as
 * digits, so 1.0873 is 10873/10000 and never 1.08729999…
 */
export function exactRate(rate: number): { numerator: bigint; denominator: bigint } {
  if (!Number.isFinite(rate) || rate <= 0) throw new AmountError(`an exchange rate must be a positive number, got ${rate}`);
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(rate));
  if (!m) throw new AmountError(`cannot read the exchange rate ${rate} as a decimal`);
  const fraction = m[2] ?? "";
  const exponent = Number(m[3] ?? "0") - fraction.length;
  const digits = BigInt(m[1]! + fraction);
  return exponent >= 0 ? { numerator: digits * 10n ** BigInt(exponent), denominator: 1n } : { numerator: digits, denominator: 10n ** BigInt(-exponent) };
}

/**
 * `amount_minor` of a currency with `from_exponent` decimals, converted at `rate` (major units
 * of the target per major unit of the source, as Stripe's balance transactions state it) to
 * minor units of a currency with `to_exponent` decimals, rounded once to the nearest minor
 * unit, halves away from zero. Exact: the rate is read as its decimal (exactRate), the product
 * and quotient are bigints.
 */
export function convertMinor(amount_minor: number, rate: number, from_exponent: number, to_exponent: number): number {
  assertInteger(amount_minor, "amount_minor");
  const { numerator, denominator } = exactRate(rate);
  const scaled = BigInt(amount_minor) * numerator * 10n ** BigInt(to_exponent);
  return toSafe(divRound(scaled, denominator * 10n ** BigInt(from_exponent)), "converted amount");
}
