import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add,
  compare,
  div,
  floor,
  formatPercentage,
  fractionalPart,
  InvariantError,
  mul,
  parseFraction,
  parsePercentage,
  rational,
  sub,
} from "../../core";

describe("rationals", () => {
  it("are kept in lowest terms with a positive denominator", () => {
    expect(rational(6n, -4n)).toEqual({ num: -3n, den: 2n });
    expect(rational(0n, 7n)).toEqual({ num: 0n, den: 1n });
  });

  it("refuse a zero denominator", () => {
    expect(() => rational(1n, 0n)).toThrow(InvariantError);
    expect(() => div(rational(1n), rational(0n))).toThrow(InvariantError);
  });

  it("add, subtract, multiply and divide exactly", () => {
    const third = rational(1n, 3n);
    expect(add(third, rational(1n, 6n))).toEqual(rational(1n, 2n));
    expect(sub(third, rational(1n, 2n))).toEqual(rational(-1n, 6n));
    expect(mul(rational(10001n), rational(1n, 8n))).toEqual(rational(10001n, 8n));
    expect(div(third, rational(2n, 3n))).toEqual(rational(1n, 2n));
  });

  it("floor toward minus infinity, also for negatives", () => {
    expect(floor(rational(7n, 2n))).toBe(3n);
    expect(floor(rational(-7n, 2n))).toBe(-4n);
    expect(floor(rational(-4n, 2n))).toBe(-2n);
    expect(fractionalPart(rational(-7n, 2n))).toEqual(rational(1n, 2n));
  });

  it("compare by value, whatever the denominators", () => {
    expect(compare(rational(1n, 3n), rational(333n, 1000n))).toBe(1);
    expect(compare(rational(2n, 6n), rational(1n, 3n))).toBe(0);
    expect(compare(rational(-1n, 2n), rational(0n))).toBe(-1);
  });

  it("keep floor(x) <= x < floor(x) + 1 for any x", () => {
    fc.assert(
      fc.property(fc.bigInt(), fc.bigInt({ min: 1n, max: 10n ** 15n }), (num, den) => {
        const x = rational(num, den);
        const f = rational(floor(x));
        expect(compare(f, x)).toBeLessThanOrEqual(0);
        expect(compare(x, add(f, rational(1n)))).toBe(-1);
      }),
    );
  });
});

describe("parsing a percentage", () => {
  it("reads 12.5% as exactly 1/8, with no float in between", () => {
    expect(parsePercentage("12.5%")).toEqual(rational(1n, 8n));
    expect(parsePercentage("100%")).toEqual(rational(1n));
    expect(parsePercentage("0.001%")).toEqual(rational(1n, 100000n));
    expect(parsePercentage("33.333333333%")).toEqual(rational(33333333333n, 100000000000n));
  });

  it("rejects anything that is not digits, an optional decimal part and %", () => {
    for (const text of ["12,5%", "12.5", ".5%", "5.%", "-5%", " 5%", "1e2%", "5 %", "1000%", "NaN%"]) {
      expect(parsePercentage(text)).toBeNull();
    }
  });

  it("formats back the percentages it reads", () => {
    expect(formatPercentage(rational(1n, 8n))).toBe("12.5%");
    expect(formatPercentage(rational(1n, 3n))).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), (thousandths) => {
        const value = rational(BigInt(thousandths), 100_000n);
        const text = formatPercentage(value);
        expect(text === null ? null : parsePercentage(text)).toEqual(value);
      }),
    );
  });
});

describe("parsing a fraction", () => {
  it("reads 1/3 and 2/6 as the same third", () => {
    expect(parseFraction("1/3")).toEqual(rational(1n, 3n));
    expect(parseFraction("2/6")).toEqual(rational(1n, 3n));
  });

  it("rejects a zero denominator and malformed text", () => {
    for (const text of ["1/0", "1/", "/3", "1 / 3", "-1/3", "1.5/3", "1/3/4"]) expect(parseFraction(text)).toBeNull();
  });
});
