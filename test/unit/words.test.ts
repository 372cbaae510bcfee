import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateTimeLabel, formatMinor, formatMoney, formatPercentText, inPeriod, parsePeriod, periodContaining, periodLabel, periodsBetween } from "../../core";

describe("formatMoney", () => {
  it.each([
    [423100, "eur", "en", "€4,231.00"],
    [423100, "eur", "fr", "4\u202f231,00\u00a0€"],
    [5, "eur", "en", "€0.05"],
    [-1250, "eur", "en", "\u2212€12.50"],
    [-1250, "eur", "fr", "\u221212,50\u00a0€"],
    [123456789, "eur", "fr", "1\u202f234\u202f567,89\u00a0€"],
    [500, "jpy", "en", "¥500"],
    [500, "jpy", "fr", "500\u00a0JPY"],
    [12345, "bhd", "en", "BHD\u00a012.345"],
    [100000, "chf", "fr", "1\u202f000,00\u00a0CHF"],
  ] as const)("%i %s in %s is %s", (amount, currency, lang, expected) => {
    expect(formatMoney(amount, currency, lang)).toBe(expected);
  });

  it("writes the same digits as formatMinor, whatever the amount: no float anywhere", () => {
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom("eur", "jpy", "bhd", "usd"), fc.constantFrom("en" as const, "fr" as const), (amount, currency, lang) => {
        const digits = formatMinor(amount, currency).replace(/\D/g, "");
        expect(formatMoney(amount, currency, lang).replace(/\D/g, "")).toBe(digits);
      }),
    );
  });
});

describe("formatPercentText", () => {
  it("keeps what the admin wrote, with each language's marks", () => {
    expect(formatPercentText("12.5%", "en")).toBe("12.5%");
    expect(formatPercentText("12.5%", "fr")).toBe("12,5\u202f%");
  });
});

describe("periods", () => {
  it("reads a month, a quarter and a year as half-open UTC intervals", () => {
    expect(parsePeriod("2026-10")).toEqual({ ok: true, period: { id: "2026-10", kind: "month", year: 2026, index: 10, from_ms: Date.parse("2026-10-01T00:00:00Z"), to_ms: Date.parse("2026-11-01T00:00:00Z") } });
    expect(parsePeriod("2026-Q4")).toEqual({ ok: true, period: { id: "2026-Q4", kind: "quarter", year: 2026, index: 4, from_ms: Date.parse("2026-10-01T00:00:00Z"), to_ms: Date.parse("2027-01-01T00:00:00Z") } });
    expect(parsePeriod("2026")).toEqual({ ok: true, period: { id: "2026", kind: "year", year: 2026, index: 0, from_ms: Date.parse("2026-01-01T00:00:00Z"), to_ms: Date.parse("2027-01-01T00:00:00Z") } });
    expect(parsePeriod("2024-02")).toMatchObject({ ok: true, period: { to_ms: Date.parse("2024-03-01T00:00:00Z") } });
  });

  it.each(["2026-13", "2026-00", "2026-Q5", "2026-q4", "26-10", "2026-1", "1969", "2026-10-01", "", "x".repeat(100)])("refuses %j with a message naming the forms", (text) => {
    const parsed = parsePeriod(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.code).toBe("bad_period");
  });

  it("finds the period that contains an instant, to the millisecond", () => {
    expect(periodContaining(Date.parse("2026-09-30T23:59:59.999Z"), "quarter").id).toBe("2026-Q3");
    expect(periodContaining(Date.parse("2026-10-01T00:00:00Z"), "quarter").id).toBe("2026-Q4");
    expect(periodContaining(Date.parse("2026-10-01T00:00:00Z"), "month").id).toBe("2026-10");
    expect(periodContaining(Date.parse("2026-12-31T23:59:59Z"), "year").id).toBe("2026");
  });

  it("lists years newest first with their quarters and months, newest first", () => {
    const years = periodsBetween(Date.parse("2025-06-01T00:00:00Z"), Date.parse("2026-02-01T00:00:00Z"));
    expect(years.map((y) => y.year.id)).toEqual(["2026", "2025"]);
    expect(years[0]?.quarters.map((q) => q.id)).toEqual(["2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1"]);
    expect(years[0]?.months[0]?.id).toBe("2026-12");
    expect(years[0]?.months[11]?.id).toBe("2026-01");
  });
});

describe("periods and dates for people", () => {
  const period = (id: string) => {
    const p = parsePeriod(id);
    if (!p.ok) throw new Error(p.message);
    return p.period;
  };
  it.each([
    ["2026-10", "en", "October 2026", "In October 2026"],
    ["2026-10", "fr", "octobre 2026", "En octobre 2026"],
    ["2026-Q1", "en", "Q1 2026", "In the first quarter of 2026"],
    ["2026-Q4", "fr", "T4 2026", "Au quatrième trimestre 2026"],
    ["2026", "en", "2026", "In 2026"],
    ["2026", "fr", "2026", "En 2026"],
  ] as const)("%s in %s is %s", (id, lang, label, sentence) => {
    expect(periodLabel(period(id), lang)).toBe(label);
    expect(inPeriod(period(id), lang)).toBe(sentence);
  });

  it("dates a version to the minute, in UTC", () => {
    expect(dateTimeLabel(Date.parse("2026-10-01T09:30:59Z"), "en")).toBe("1 October 2026 at 09:30 UTC");
    expect(dateTimeLabel(Date.parse("2026-10-01T09:30:59Z"), "fr")).toBe("1er octobre 2026 à 09:30 UTC");
    expect(dateTimeLabel(Date.parse("2026-08-15T23:05:00Z"), "fr")).toBe("15 août 2026 à 23:05 UTC");
  });
});
