import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocateByLargestRemainder,
  allocateByWeights,
  allocateSignedByWeights,
  compare,
  floorWithResidue,
  fromInteger,
  InvariantError,
  mul,
  rational,
  sub,
  type Rational,
} from "../../core";

const percent = (value: bigint) => rational(value, 100n);
const third = rational(1n, 3n);

describe("largest remainder, on the examples of DOMAIN.md", () => {
  it("splits 15 by 80/8/12 into 12/1/2", () => {
    expect(allocateByLargestRemainder(15, [percent(80n), percent(8n), percent(12n)])).toEqual([12, 1, 2]);
  });

  it("splits 100 in thirds into 34/33/33, the tie going to the first part", () => {
    expect(allocateByLargestRemainder(100, [third, third, third])).toEqual([34, 33, 33]);
  });

  it("splits 1 by 10/15/75 into 0/0/1", () => {
    expect(allocateByLargestRemainder(1, [percent(10n), percent(15n), percent(75n)])).toEqual([0, 0, 1]);
  });

  it("splits 10001 by 10/15/75 into 1000/1500/7501", () => {
    expect(allocateByLargestRemainder(10001, [percent(10n), percent(15n), percent(75n)])).toEqual([1000, 1500, 7501]);
  });

  it("gives the same results by integer weights", () => {
    expect(allocateByWeights(15, [80, 8, 12])).toEqual([12, 1, 2]);
    expect(allocateByWeights(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocateByWeights(10001, [10, 15, 75])).toEqual([1000, 1500, 7501]);
  });
});

describe("largest remainder, at the boundaries", () => {
  it("refuses shares that do not sum to exactly 1", () => {
    expect(() => allocateByLargestRemainder(100, [third, third])).toThrow(InvariantError);
  });

  it("refuses amounts that are not safe integers >= 0", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => allocateByWeights(bad, [1])).toThrow(InvariantError);
  });

  it("refuses to split a positive amount by weights that are all zero, but splits zero", () => {
    expect(() => allocateByWeights(10, [0, 0])).toThrow(InvariantError);
    expect(allocateByWeights(0, [0, 0])).toEqual([0, 0]);
  });

  it("gives a zero weight nothing", () => {
    expect(allocateByWeights(7, [0, 1, 0, 1])).toEqual([0, 4, 0, 3]);
  });

  it("floors with the residue set aside when asked to", () => {
    expect(floorWithResidue([rational(100n, 3n), rational(100n, 3n), rational(100n, 3n)], 100)).toEqual({ parts_minor: [33, 33, 33], residue_minor: 1 });
  });
});

/** Random shares of the whole: random fractions, each divided by their total. */
const sharesArb = fc
  .array(fc.tuple(fc.nat({ max: 1_000_000 }), fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 12 })
  .filter((fractions) => fractions.some(([num]) => num > 0))
  .map((fractions) => {
    const values = fractions.map(([num, den]) => rational(BigInt(num), BigInt(den)));
    const total = values.reduce((a, b) => rational(a.num * b.den + b.num * a.den, a.den * b.den));
    return values.map((value) => rational(value.num * total.den, value.den * total.num));
  });

const totalArb = fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 0, max: 1_000_000_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER));

function withinOneUnit(part_minor: number, exact: Rational): boolean {
  const gap = sub(fromInteger(part_minor), exact);
  return compare(gap, rational(-1n)) > 0 && compare(gap, rational(1n)) < 0;
}

describe("largest remainder, as properties", () => {
  it("always sums exactly to the total, with parts >= 0 within one unit of their exact share", () => {
    fc.assert(
      fc.property(totalArb, sharesArb, (total_minor, shares) => {
        const parts = allocateByLargestRemainder(total_minor, shares);
        expect(parts.reduce((a, b) => a + BigInt(b), 0n)).toBe(BigInt(total_minor));
        parts.forEach((part, index) => {
          expect(part).toBeGreaterThanOrEqual(0);
          expect(withinOneUnit(part, mul(fromInteger(total_minor), shares[index] ?? rational(0n)))).toBe(true);
        });
      }),
    );
  });

  it("splits by weights exactly too, and gives the same parts for the same inputs", () => {
    fc.assert(
      fc.property(totalArb, fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 20 }).filter((w) => w.some((x) => x > 0)), (total_minor, weights) => {
        const parts = allocateByWeights(total_minor, weights);
        expect(parts.reduce((a, b) => a + BigInt(b), 0n)).toBe(BigInt(total_minor));
        expect(allocateByWeights(total_minor, weights)).toEqual(parts);
        const weightTotal = BigInt(weights.reduce((a, b) => a + b, 0));
        parts.forEach((part, index) => {
          expect(withinOneUnit(part, rational(BigInt(total_minor) * BigInt(weights[index] ?? 0), weightTotal))).toBe(true);
        });
      }),
    );
  });
});

describe("largest remainder with signed weights (proration credits)", () => {
  it("splits 1800 by -1500 / 3000 / 300 into exactly those amounts", () => {
    expect(allocateSignedByWeights(1800, [-1500, 3000, 300])).toEqual([-1500, 3000, 300]);
  });

  it("floors towards minus infinity and gives the leftover units to the largest losses: 100 by -1 / 2 / 2 is -33.3 / 66.7 / 66.7", () => {
    // Floors -34 / 66 / 66 sum to 98; the two units go to the losses .67, .67, .67 in list order: -33 / 67 / 66.
    expect(allocateSignedByWeights(100, [-1, 2, 2])).toEqual([-33, 67, 66]);
  });

  it("refuses weights that sum to 0 unless there is nothing to split", () => {
    expect(() => allocateSignedByWeights(10, [5, -5])).toThrow(InvariantError);
    expect(allocateSignedByWeights(0, [5, -5])).toEqual([0, 0]);
  });

  it("always sums to the total, each part within one unit of total * w / sum(w)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 12 }), (total, weights) => {
        const whole = weights.reduce((a, b) => a + b, 0);
        fc.pre(whole > 0);
        const parts = allocateSignedByWeights(total, weights);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        parts.forEach((part, i) => {
          const exact = rational(BigInt(total) * BigInt(weights[i] ?? 0), BigInt(whole));
          const miss = sub(fromInteger(part), exact);
          expect(compare(miss, fromInteger(-1)) > 0 && compare(miss, fromInteger(1)) < 0).toBe(true);
        });
      }),
    );
  });

  it("agrees with the unsigned split when every weight is >= 0", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.array(fc.nat({ max: 100_000 }), { minLength: 1, maxLength: 10 }), (total, weights) => {
        fc.pre(weights.some((w) => w > 0));
        expect(allocateSignedByWeights(total, weights)).toEqual(allocateByWeights(total, weights));
      }),
    );
  });
});

describe("allocateByWeights' integer fast path", () => {
  /** The reference: exact rationals, largest remainder. */
  const reference = (total: number, weights: number[]) => allocateByLargestRemainder(total, weights.map((w) => rational(BigInt(w), BigInt(weights.reduce((a, b) => a + b, 0)))));

  it("gives the same parts as exact rationals, for any amount and weights", () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000_000 }), fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 120 }), (total, weights) => {
        fc.pre(weights.some((w) => w > 0));
        expect(allocateByWeights(total, weights)).toEqual(reference(total, weights));
      }),
      { numRuns: 2_000 },
    );
  });

  it("gives the same parts near the edge of safe integers, where a float quotient rounds", () => {
    const big = Number.MAX_SAFE_INTEGER;
    for (const [total, weights] of [
      [big, [1, 1, 1]],
      [big - 1, [3, 7]],
      [Math.floor(big / 7), [7, 3]],
      [2 ** 52 + 1, [2, 1]],
      [999_999_999_999, [9_007, 1, 13]],
    ] as [number, number[]][]) {
      expect(allocateByWeights(total, weights)).toEqual(reference(total, weights));
    }
  });
});
