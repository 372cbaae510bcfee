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
 */
export function allocateByWeights(total_minor: number, weights: readonly number[]): number[] {
  assertMinor(total_minor, "total_minor");
  if (total_minor === 0) {
    weights.forEach((weight, index) => assertMinor(weight, `weights[${index}]`));
    return weights.map(() => 0);
  }
  return allocateByLargestRemainder(total_minor, sharesFromWeights(weights));
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
