// Runs test/golden/payments.json: payments with tax, discounts, shipping, prorations and two
// currencies, each worked out by hand ("why"), through splitPayment and paymentPostings.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { paymentPostings, parseRule, splitPayment, type Rule } from "../../core";

const RULES: Record<string, unknown> = {
  default_net: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] },
  default_gross: { basis: "gross", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] },
};

interface GoldenPayment {
  name: string;
  why: string;
  input: {
    currency: string;
    gross_minor: number;
    fee_minor: number;
    tax_weight_minor?: number;
    shipping_weight_minor?: number;
    lines: { key: string; weight_minor: number; rule: string; contributors: { party_id: string; weight: number }[] }[];
  };
  expected: { tax_minor: number; shipping_minor: number; lines: { key: string; gross_minor: number; fee_minor: number; basis_minor: number }[]; postings: Record<string, number> };
}

function rule(name: string): Rule {
  const parsed = parseRule(RULES[name]);
  if (!parsed.ok) throw new Error(`golden rule ${name} does not parse`);
  return parsed.rule;
}

const cases = JSON.parse(readFileSync(new URL("../golden/payments.json", import.meta.url), "utf8")) as GoldenPayment[];

describe("golden payments (test/golden/payments.json)", () => {
  it("holds the cases the issue names, and each says why", () => {
    expect(cases.length).toBe(8);
    expect(cases.every((c) => c.why.length > 40)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, golden) => {
    const result = splitPayment({ ...golden.input, lines: golden.input.lines.map((l) => ({ ...l, rule: rule(l.rule) })) });
    if (!result.ok) throw new Error(result.error.message);
    const split = result.value;
    expect({ tax_minor: split.tax_minor, shipping_minor: split.shipping_minor }).toEqual({ tax_minor: golden.expected.tax_minor, shipping_minor: golden.expected.shipping_minor });
    expect(split.lines.map((l) => ({ key: l.key, gross_minor: l.gross_minor, fee_minor: l.fee_minor, basis_minor: l.basis_minor }))).toEqual(golden.expected.lines);
    const postings = Object.fromEntries(paymentPostings(split).map((p) => [p.account, p.amount_minor]));
    expect(postings).toEqual(golden.expected.postings);
  });
});
