// The emulator's arithmetic (infra/stripe-emulator/amounts.ts): rounding, tax, discounts,
// credits, totals, and finding the price that gives a total. Properties over random inputs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  AmountError,
  convertMinor,
  divRound,
  exactRate,
  lineAmounts,
  parsePercentBps,
  percentOf,
  solveUnitAmount,
  taxOf,
  totals,
  type TaxRule,
} from "../../infra/stripe-emulator/amounts";

const BPS = 10_000;
const amount = fc.integer({ min: 0, max: 10_000_000_000 });
const bps = fc.integer({ min: 0, max: BPS });
const taxRule: fc.Arbitrary<TaxRule> = fc.record({ rate_bps: fc.integer({ min: 0, max: 5_000 }), behavior: fc.constantFrom("exclusive" as const, "inclusive" as const) });
const maybeTax = fc.option(taxRule, { nil: null });

describe("rounding to the minor unit", () => {
  it("divRound is the nearest integer, halves away from zero", () => {
    expect([divRound(5n, 2n), divRound(-5n, 2n), divRound(7n, 3n), divRound(-7n, 3n), divRound(8n, 3n), divRound(0n, 9n)]).toEqual([3n, -3n, 2n, -2n, 3n, 0n]);
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
        const q = divRound(n, d);
        const gap = n - q * d; // what rounding dropped or added
        const twice = 2n * (gap < 0n ? -gap : gap);
        expect(twice <= d).toBe(true);
        // On a tie the result is the one further from zero.
        if (twice === d) expect(q < 0n ? q * d < n : q * d > n).toBe(true);
      }),
    );
    expect(() => divRound(1n, 0n)).toThrow(AmountError);
  });

  it("a percentage of an amount is rounded once, half up, and a credit mirrors the debit", () => {
    expect(percentOf(15, 1000)).toBe(2); // 1.5 → 2
    expect(percentOf(14, 1000)).toBe(1);
    expect(percentOf(-15, 1000)).toBe(-2);
    fc.assert(
      fc.property(amount, bps, (a, r) => {
        expect(percentOf(-a, r) + percentOf(a, r)).toBe(0);
        expect(Math.abs(percentOf(a, r) * BPS - a * r) * 2).toBeLessThanOrEqual(BPS);
      }),
    );
    expect(() => percentOf(100, 10_001)).toThrow(/basis points/);
    expect(() => percentOf(1.5, 100)).toThrow(/integer/);
  });
});

describe("tax of one line", () => {
  it("exclusive: the rate of the base, on top of it; inclusive: the part of the base that is tax", () => {
    expect(taxOf(10_000, { rate_bps: 2000, behavior: "exclusive" })).toEqual({ tax_minor: 2000, taxable_minor: 10_000 });
    expect(taxOf(12_000, { rate_bps: 2000, behavior: "inclusive" })).toEqual({ tax_minor: 2000, taxable_minor: 10_000 });
    // 9501 × 20/120 = 1583.5 → 1584 (half up)
    expect(taxOf(9501, { rate_bps: 2000, behavior: "inclusive" })).toEqual({ tax_minor: 1584, taxable_minor: 7917 });
    // 5.5% on 1 cent: 0.055 → 0
    expect(taxOf(1, { rate_bps: 550, behavior: "exclusive" }).tax_minor).toBe(0);
  });

  it("is the exact rate rounded to the nearest minor unit, and taxable + tax is the base when inclusive", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), taxRule, (base, tax) => {
        const t = taxOf(base, tax);
        if (tax.behavior === "exclusive") {
          expect(t.taxable_minor).toBe(base);
          expect(Math.abs(t.tax_minor * BPS - base * tax.rate_bps) * 2).toBeLessThanOrEqual(BPS);
        } else {
          expect(t.taxable_minor + t.tax_minor).toBe(base);
          // tax / taxable is the rate, to within the rounding of one minor unit
          expect(Math.abs(t.tax_minor * (BPS + tax.rate_bps) - base * tax.rate_bps) * 2).toBeLessThanOrEqual(BPS + tax.rate_bps);
        }
        // -base || 0: a base of 0 would otherwise be passed as -0, which taxOf echoes and toEqual tells from 0.
        expect(taxOf(-base || 0, tax)).toEqual({ tax_minor: -t.tax_minor || 0, taxable_minor: -t.taxable_minor || 0 });
      }),
      // The counterexample fast-check found once (seed 1108819428), run every time.
      { examples: [[0, { rate_bps: 0, behavior: "exclusive" }]] },
    );
  });
});

describe("a line: discounts, then the pretax credit, then tax", () => {
  const line = fc
    .record({ amount: fc.integer({ min: 0, max: 100_000_000 }), discounts: fc.array(bps, { maxLength: 2 }), credit_per_mille: fc.integer({ min: 0, max: 1000 }), tax: maybeTax })
    .map(({ amount, discounts, credit_per_mille, tax }) => {
      // a credit of at most what the discounts leave
      let left = amount;
      for (const d of discounts) left -= percentOf(left, d);
      return { amount_minor: amount, discounts_bps: discounts, pretax_credit_minor: Math.floor((left * credit_per_mille) / 1000), tax };
    });

  it("adds up exactly: total = amount − discounts − credit (+ tax when exclusive), each discount on what is left", () => {
    fc.assert(
      fc.property(line, (input) => {
        const l = lineAmounts(input);
        const discounts = l.discounts_minor.reduce((a, b) => a + b, 0);
        expect(l.base_minor).toBe(input.amount_minor - discounts - input.pretax_credit_minor);
        expect(l.total_minor).toBe(l.base_minor + (input.tax?.behavior === "exclusive" ? l.tax_minor : 0));
        expect(l.taxable_minor + (input.tax?.behavior === "inclusive" ? l.tax_minor : 0)).toBe(l.base_minor);
        expect(l.base_minor).toBeGreaterThanOrEqual(0);
        let left = input.amount_minor;
        l.discounts_minor.forEach((d, i) => {
          expect(d).toBe(percentOf(left, input.discounts_bps[i]!));
          left -= d;
        });
        for (const v of Object.values(l).flat()) expect(Number.isSafeInteger(v)).toBe(true);
      }),
    );
  });

  it("refuses a credit above what is left, and a discount or credit on a credit line", () => {
    expect(() => lineAmounts({ amount_minor: 1000, discounts_bps: [5000], pretax_credit_minor: 501, tax: null })).toThrow(/more than the 500 left/);
    expect(() => lineAmounts({ amount_minor: -1000, discounts_bps: [1000], pretax_credit_minor: 0, tax: null })).toThrow(/credit line/);
    expect(() => lineAmounts({ amount_minor: -1000, discounts_bps: [], pretax_credit_minor: 1, tax: null })).toThrow(/credit line/);
    expect(lineAmounts({ amount_minor: -1500, discounts_bps: [], pretax_credit_minor: 0, tax: { rate_bps: 2000, behavior: "exclusive" } })).toMatchObject({ tax_minor: -300, total_minor: -1800 });
  });

  it("totals: subtotal − discounts − credits + exclusive tax is the sum of the lines' totals", () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 14 }), maybeTax, (inputs, tax) => {
        const lines = inputs.map((i) => lineAmounts({ ...i, tax }));
        const t = totals(lines, tax);
        expect(t.total_minor).toBe(lines.reduce((a, l) => a + l.total_minor, 0));
        expect(t.subtotal_minor).toBe(lines.reduce((a, l) => a + l.amount_minor, 0));
        expect(t.tax_exclusive_minor + t.tax_inclusive_minor).toBe(lines.reduce((a, l) => a + l.tax_minor, 0));
        expect(tax?.behavior === "exclusive" ? t.tax_inclusive_minor : t.tax_exclusive_minor).toBe(0);
      }),
    );
  });
});

describe("finding the price that gives a total", () => {
  const cost = (tax: TaxRule | null, discount: number) => (unit: number) => lineAmounts({ amount_minor: unit, discounts_bps: discount ? [discount] : [], pretax_credit_minor: 0, tax }).total_minor;

  it("gives the contract's example: 120.00 paid with 20% exclusive VAT is a price of 100.00", () => {
    expect(solveUnitAmount(12_000, cost({ rate_bps: 2000, behavior: "exclusive" }, 0), "x")).toBe(10_000);
    expect(solveUnitAmount(12_000, cost({ rate_bps: 2000, behavior: "inclusive" }, 0), "x")).toBe(12_000);
    expect(solveUnitAmount(9_000, cost(null, 1000), "x")).toBe(10_000);
  });

  it("says which totals near an unreachable one can be reached", () => {
    // 20% exclusive: a price of 2 costs 2, a price of 3 costs 4 (0.6 rounds up): nothing costs 3.
    expect(() => solveUnitAmount(3, cost({ rate_bps: 2000, behavior: "exclusive" }, 0), "amount")).toThrow("amount: no price gives a total of exactly 3 (rounding per line skips it); the nearest reachable totals are 2 and 4");
    expect(() => solveUnitAmount(5, cost(null, BPS), "amount")).toThrow(/cannot be reached with any price/);
    expect(() => solveUnitAmount(-1, cost(null, 0), "amount")).toThrow(/below the smallest total reachable, 0/);
  });

  it("finds the smallest price with exactly the target, or none exists (checked by trying every price)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), maybeTax, fc.integer({ min: 0, max: 9_000 }), (target, tax, discount) => {
        const f = cost(tax, discount);
        const exact: number[] = [];
        for (let u = 0; u <= 12 * (target + 1) && exact.length === 0; u++) if (f(u) === target) exact.push(u);
        if (exact.length > 0) {
          expect(solveUnitAmount(target, f, "t")).toBe(exact[0]);
        } else {
          expect(() => solveUnitAmount(target, f, "t")).toThrow(AmountError);
          try {
            solveUnitAmount(target, f, "t");
          } catch (err) {
            const m = /nearest reachable totals are (-?\d+) and (-?\d+)/.exec((err as Error).message);
            expect(m).not.toBeNull();
            expect(Number(m![1])).toBeLessThan(target);
            expect(Number(m![2])).toBeGreaterThan(target);
          }
        }
      }),
    );
  });
});

describe("percentages typed by a person", () => {
  it("are read exactly as basis points, two decimals at most, 0 to 100", () => {
    expect(["20", "5.5", "0.25", "2.1", "100", "0", " 19.60 "].map((t) => parsePercentBps(t, "--x"))).toEqual([2000, 550, 25, 210, 10_000, 0, 1960]);
    for (const bad of ["101", "1.234", "-1", "abc", "1e2", "", "20%", ".5"]) expect(() => parsePercentBps(bad, "--tax-percent"), bad).toThrow(/--tax-percent/);
  });
});

describe("amounts converted at Stripe's exchange rate", () => {
  it("read the rate as the decimal Stripe wrote, not as the float that holds it", () => {
    expect(exactRate(1.0873)).toEqual({ numerator: 10873n, denominator: 10000n });
    expect(exactRate(160)).toEqual({ numerator: 160n, denominator: 1n });
    expect(exactRate(1e-7)).toEqual({ numerator: 1n, denominator: 10_000_000n });
    expect(exactRate(2.5e21)).toEqual({ numerator: 25n * 10n ** 20n, denominator: 1n });
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => exactRate(bad), String(bad)).toThrow(AmountError);
  });

  it("round once to the target's minor unit, halves away from zero, across exponents", () => {
    // As floats 100 × 1.005 = 100.49999999999999, which Math.round makes 100; exactly 100.5 here, so 101.
    expect(convertMinor(100, 1.005, 2, 2)).toBe(101);
    expect(convertMinor(-100, 1.005, 2, 2)).toBe(-101);
    expect(convertMinor(2500, 0.9301, 2, 2)).toBe(2325); // 2325.25
    expect(convertMinor(1000, 160, 2, 0)).toBe(1600); // 10.00 eur → ¥1600
    expect(convertMinor(1600, 0.00625, 0, 2)).toBe(1000);
    expect(convertMinor(1000, 0.3776, 2, 3)).toBe(3776); // 10.00 usd → 3.776 bhd
  });

  it("is the exact product to within half a minor unit, and a negative amount mirrors a positive one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), fc.integer({ min: 1, max: 5_000_000 }), fc.constantFrom(0, 2, 3), fc.constantFrom(0, 2, 3), (a, rate_e4, from, to) => {
        const rate = rate_e4 / 10_000; // at most four decimals, as Stripe's rates are typically written
        const got = convertMinor(a, rate, from, to);
        // |got × 10^from × 10^4 − a × rate_e4 × 10^to| ≤ ½ × 10^from × 10^4, in exact integers
        const exact = BigInt(a) * BigInt(rate_e4) * 10n ** BigInt(to);
        const scale = 10n ** BigInt(from) * 10_000n;
        const diff = BigInt(got) * scale - exact;
        expect((diff < 0n ? -diff : diff) * 2n <= scale).toBe(true);
        expect(convertMinor(0 - a, rate, from, to)).toBe(got === 0 ? 0 : -got);
      }),
    );
  });
});
