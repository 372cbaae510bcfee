/**
 * Turning exact rational amounts into integer minor units that add up.
 *
 * Largest remainder (Hamilton's method): floor every exact amount, then hand the leftover
 * units out one by one to the parts whose exact amount lost most to flooring; ties go to the
 * part listed first. A part therefore ends at floor(exact) or floor(exact) + 1, never more:
 * that is what keeps a capped line at or under its (integer) cap.
 */
import { assertMinor, invariant, toSafeNumber } from "./invariant";
import {
  compare,
  floor,
  fractionalPart,
  fromInteger,
  mul,
  ONE,
  rational,
  sum,
  type Rational,
} from "./rational";

/** Parts one allocation may have: bounds the work and catches runaway inputs. */
export const MAX_PARTS = 10_000;

/** Exact amounts floored, with what the flooring left over (an integer, >= 0). */
export interface FlooredParts {
  readonly parts_minor: number[];
  readonly residue_minor: number;
}

function assertExactAmounts(exact_minor: readonly Rational[], total_minor: number): void {
  assertMinor(total_minor, "total_minor");
  invariant(exact_minor.length <= MAX_PARTS, `more than ${MAX_PARTS} parts`);
  invariant(exact_minor.every((value) => value.num >= 0n), "an exact amount is negative");
  invariant(
    compare(sum(exact_minor), fromInteger(total_minor)) === 0,
    "exact amounts do not sum to the total",
  );
}

/** Floors each exact amount; the residue is total - sum of floors (exact amounts sum to total). */
export function floorWithResidue(exact_minor: readonly Rational[], total_minor: number): FlooredParts {
  assertExactAmounts(exact_minor, total_minor);
  const floors = exact_minor.map(floor);
  const residue = BigInt(total_minor) - floors.reduce((a, b) => a + b, 0n);
  invariant(residue >= 0n && (residue < BigInt(exact_minor.length) || residue === 0n), "residue out of range");
  return {
    parts_minor: floors.map((value) => toSafeNumber(value, "part")),
    residue_minor: toSafeNumber(residue, "residue"),
  };
}

/**
 * Indices ordered by how much flooring cost them, most first; equal losses keep list order
 * (Array.prototype.sort is stable), which is the documented tie-break.
 */
function byLargestLoss(exact_minor: readonly Rational[]): number[] {
  const losses = exact_minor.map(fractionalPart);
  const indices = exact_minor.map((_, index) => index);
  return indices.sort((a, b) => compare(losses[b] ?? ONE, losses[a] ?? ONE));
}

/**
 * Rounds exact amounts that sum to `total_minor` into integers that sum to it too.
 * Each part ends at floor(exact) or floor(exact) + 1, and only a part with a fractional
 * loss can receive a unit.
 */
export function roundByLargestRemainder(exact_minor: readonly Rational[], total_minor: number): number[] {
  const { parts_minor, residue_minor } = floorWithResidue(exact_minor, total_minor);
  const order = byLargestLoss(exact_minor).slice(0, residue_minor);
  for (const index of order) {
    const exact = exact_minor[index];
    invariant(exact !== undefined && exact.den !== 1n, "a leftover unit went to an exact part");
    parts_minor[index] = (parts_minor[index] ?? 0) + 1;
  }
  return parts_minor;
}

/**
 * Splits `total_minor` by exact shares of the whole (each share >= 0, shares summing to
 * exactly 1), with largest remainder. 100 in thirds gives 34/33/33.
 */
export function allocateByLargestRemainder(total_minor: number, shares: readonly Rational[]): number[] {
  assertMinor(total_minor, "total_minor");
  invariant(shares.length > 0, "no shares to allocate to");
  invariant(compare(sum(shares), ONE) === 0, "shares do not sum to exactly 1");
  const total = fromInteger(total_minor);
  return roundByLargestRemainder(shares.map((share) => mul(total, share)), total_minor);
}

/** Weights (integers >= 0, not all zero) as shares of the whole: w / sum(w). */
export function sharesFromWeights(weights: readonly number[]): Rational[] {
  invariant(weights.length > 0, "no weights");
  weights.forEach((weight, index) => assertMinor(weight, `weights[${index}]`));
  const total = weights.reduce((a, b) => a + BigInt(b), 0n);
  invariant(total > 0n, "weights are all zero: there is nothing to split by");
  return weights.map((weight) => rational(BigInt(weight), total));
}

/**
 * Splits `total_minor` pro rata to integer weights >= 0, with largest remainder (ties in
 * list order). All-zero weights can only split zero.
 *
 * Each part is floor(total * w / W) plus one leftover unit for the parts with the largest
 * remainders (total * w mod W: the same denominator, so comparing remainders is comparing the
 * losses exactly). When total * max(w) and W fit in a safe integer, that is done in plain
 * integer arithmetic (a float quotient corrected by its exact remainder); otherwise in bigint.
 * Both give the same parts (test/unit/allocate.test.ts proves it).
 */
export function allocateByWeights(total_minor: number, weights: readonly number[]): number[] {
  assertMinor(total_minor, "total_minor");
  const n = weights.length;
  invariant(n > 0 && n <= MAX_PARTS, `1-${MAX_PARTS} weights`);
  let whole = 0;
  let largest = 0;
  for (let i = 0; i < n; i++) {
    const weight = weights[i] as number;
    if (!(Number.isSafeInteger(weight) && weight >= 0)) assertMinor(weight, `weights[${i}]`);
    whole += weight;
    if (weight > largest) largest = weight;
  }
  if (total_minor === 0) return new Array<number>(n).fill(0);
  invariant(whole > 0, "weights are all zero: there is nothing to split by");
  if (whole <= Number.MAX_SAFE_INTEGER && total_minor * largest <= Number.MAX_SAFE_INTEGER) return allocateSafe(total_minor, weights, whole);
  return allocateByLargestRemainder(total_minor, sharesFromWeights(weights));
}

/** allocateByWeights when every product total * w and the sum of weights are safe integers. */
function allocateSafe(total_minor: number, weights: readonly number[], whole: number): number[] {
  const n = weights.length;
  const parts = new Array<number>(n);
  const remainders = new Array<number>(n);
  let given = 0;
  for (let i = 0; i < n; i++) {
    const product = total_minor * (weights[i] as number);
    // The float quotient may be off by one near an integer: the exact remainder corrects it.
    let quotient = Math.floor(product / whole);
    let remainder = product - quotient * whole;
    if (remainder < 0) {
      quotient -= 1;
      remainder += whole;
    } else if (remainder >= whole) {
      quotient += 1;
      remainder -= whole;
    }
    parts[i] = quotient;
    remainders[i] = remainder;
    given += quotient;
  }
  let residue = total_minor - given;
  invariant(residue >= 0 && residue < n, "residue out of range");
  if (residue === 0) return parts;
  // The `residue` largest remainders, ties in list order: an insertion sort of the indices for
  // a few parts, the (stable) built-in sort for many.
  const order = new Array<number>(n);
  if (n > 16 && whole * n <= Number.MAX_SAFE_INTEGER) {
    // One number per part orders both ways at once: remainder first, then list order (a lower
    // index weighs more), sorted natively.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (remainders[i] as number) * n + (n - 1 - i);
    keys.sort();
    for (let k = 0; k < n; k++) order[k] = n - 1 - ((keys[n - 1 - k] as number) % n);
  } else if (n > 16) {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => (remainders[b] as number) - (remainders[a] as number) || a - b);
  } else {
    for (let i = 0; i < n; i++) {
      const r = remainders[i] as number;
      let j = i;
      while (j > 0 && (remainders[order[j - 1] as number] as number) < r) {
        order[j] = order[j - 1] as number;
        j -= 1;
      }
      order[j] = i;
    }
  }
  for (let k = 0; residue > 0; k++, residue--) {
    const index = order[k] as number;
    invariant((remainders[index] as number) > 0, "a leftover unit went to an exact part");
    parts[index] = (parts[index] as number) + 1;
  }
  return parts;
}

/** The exact amounts a weighted split aims at: total * w / sum(w). */
export function exactAmountsByWeights(total_minor: number, weights: readonly number[]): Rational[] {
  assertMinor(total_minor, "total_minor");
  const total = fromInteger(total_minor);
  return sharesFromWeights(weights).map((share) => mul(total, share));
}

/**
 * Splits a signed `total_minor` pro rata to signed integer weights (a proration credit is a
 * negative line), with largest remainder: every exact amount total * w / sum(w) is floored
 * (towards minus infinity), then the leftover units go one by one to the amounts that lost
 * most to flooring, ties in list order. The parts sum to the total exactly and each is within
 * one unit of its exact amount. The weights must not sum to 0 unless the total is 0.
 */
export function allocateSignedByWeights(total_minor: number, weights: readonly number[]): number[] {
  invariant(Number.isSafeInteger(total_minor), `total_minor must be a safe integer, got ${String(total_minor)}`);
  invariant(weights.length > 0 && weights.length <= MAX_PARTS, `1-${MAX_PARTS} weights`);
  weights.forEach((weight, index) => invariant(Number.isSafeInteger(weight), `weights[${index}] must be a safe integer, got ${String(weight)}`));
  if (total_minor === 0) return weights.map(() => 0);
  const whole = weights.reduce((a, b) => a + BigInt(b), 0n);
  invariant(whole !== 0n, "the weights sum to 0: there is nothing to split by");
  const exact = weights.map((weight) => rational(BigInt(total_minor) * BigInt(weight), whole));
  const floors = exact.map(floor);
  const residue = BigInt(total_minor) - floors.reduce((a, b) => a + b, 0n);
  invariant(residue >= 0n && residue < BigInt(weights.length), "residue out of range");
  const parts = floors.map((value) => toSafeNumber(value, "part"));
  for (const index of byLargestLoss(exact).slice(0, Number(residue))) parts[index] = (parts[index] ?? 0) + 1;
  return parts;
}
