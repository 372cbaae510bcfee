import { describe, expect, it } from "vitest";
import { formatMinor, InvariantError, isCurrencyCode, minorUnitExponent } from "../../core";

describe("currencies", () => {
  it("have no minor unit for zero-decimal currencies such as jpy and krw", () => {
    for (const code of ["jpy", "krw", "clp", "vnd", "xof", "ugx"]) expect(minorUnitExponent(code)).toBe(0);
  });

  it("have three decimals for bhd, jod, kwd, omr and tnd", () => {
    for (const code of ["bhd", "jod", "kwd", "omr", "tnd"]) expect(minorUnitExponent(code)).toBe(3);
  });

  it("have two decimals otherwise, including isk, huf and twd as Stripe counts them", () => {
    for (const code of ["eur", "usd", "chf", "isk", "huf", "twd", "xyz"]) expect(minorUnitExponent(code)).toBe(2);
  });

  it("are lower-case three-letter codes, as Stripe writes them", () => {
    expect(isCurrencyCode("eur")).toBe(true);
    for (const code of ["EUR", "eu", "euro", "", "e1r"]) expect(isCurrencyCode(code)).toBe(false);
    expect(() => minorUnitExponent("EUR")).toThrow(InvariantError);
  });

  it("format minor units as decimal strings without floats", () => {
    expect(formatMinor(12345, "eur")).toBe("123.45");
    expect(formatMinor(5, "eur")).toBe("0.05");
    expect(formatMinor(-5, "eur")).toBe("-0.05");
    expect(formatMinor(12345, "bhd")).toBe("12.345");
    expect(formatMinor(500, "jpy")).toBe("500");
    expect(formatMinor(9007199254740991, "eur")).toBe("90071992547409.91");
  });
});
