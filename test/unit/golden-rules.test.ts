// Runs test/golden/rules.json: readable input -> expected shares (or error) pairs, worked out
// by hand. Each case goes through the whole pure path: parseRule, checkRule, splitPayment (one
// payment line), paymentPostings.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkRule, parseRule, paymentPostings, splitPayment, type RuleContext } from "../../core";

interface GoldenCase {
  name: string;
  rule: unknown;
  amount_minor: number;
  currency: string;
  fee_minor?: number;
  contributors?: { party_id: string; weight: number }[];
  known_parties?: string[];
  currencies?: string[];
  expected?: Record<string, number>;
  expected_postings?: Record<string, number>;
  expected_error?: { code: string; path: string };
}

type Outcome =
  | { shares: Record<string, number>; postings: Record<string, number> }
  | { error: { code: string; path: string } };

const cases = JSON.parse(readFileSync(new URL("../golden/rules.json", import.meta.url), "utf8")) as GoldenCase[];

const LINE_PREFIX = "lines[0].rule.";

function run(golden: GoldenCase): Outcome {
  const parsed = parseRule(golden.rule);
  if (!parsed.ok) return { error: { code: parsed.errors[0]?.code ?? "", path: parsed.errors[0]?.path ?? "" } };
  const ctx: RuleContext = {
    parties: golden.known_parties === undefined ? () => true : new Set(golden.known_parties),
    ...(golden.currencies === undefined ? {} : { currencies: golden.currencies }),
  };
  const checked = checkRule(parsed.rule, ctx);
  if (!checked.ok) return { error: { code: checked.errors[0]?.code ?? "", path: checked.errors[0]?.path ?? "" } };
  const split = splitPayment({
    currency: golden.currency,
    gross_minor: golden.amount_minor,
    fee_minor: golden.fee_minor ?? 0,
    lines: [{ key: "line", weight_minor: 1, rule: parsed.rule, contributors: golden.contributors ?? [] }],
  });
  if (!split.ok) return { error: { code: split.error.code, path: split.error.path.slice(LINE_PREFIX.length) } };
  const shares = Object.fromEntries(split.value.shares.map((share) => [share.party_id, share.amount_minor]));
  const postings = Object.fromEntries(paymentPostings(split.value).map((posting) => [posting.account, posting.amount_minor]));
  return { shares, postings };
}

describe("the golden rules of test/golden/rules.json", () => {
  it("are well formed: each expects shares or an error", () => {
    expect(cases.length).toBeGreaterThan(20);
    for (const golden of cases) expect([golden.expected, golden.expected_error].filter((x) => x !== undefined)).toHaveLength(1);
  });

  it.each(cases.map((golden) => [golden.name, golden] as const))("%s", (_name, golden) => {
    const outcome = run(golden);
    if (golden.expected_error !== undefined) {
      expect(outcome).toEqual({ error: golden.expected_error });
      return;
    }
    expect("shares" in outcome ? outcome.shares : outcome).toEqual(golden.expected);
    if (golden.expected_postings !== undefined && "postings" in outcome) expect(outcome.postings).toEqual(golden.expected_postings);
  });
});
