import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatRule, parseRule, rational, RULE_LIMITS, type RuleError } from "../../core";
import { ruleJsonArb } from "./arbitraries";

/** The errors of a rule that must not parse, as `code@path`. */
function errorsOf(input: unknown): string[] {
  const result = parseRule(input);
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.errors.map((error: RuleError) => `${error.code}@${error.path}`);
}

const line = (to: unknown, share: unknown, extra: Record<string, unknown> = {}) => ({ to, share, ...extra });
const rule = (lines: unknown[], extra: Record<string, unknown> = {}) => ({ basis: "net", lines, ...extra });

describe("parsing a rule", () => {
  it("reads every kind of share and recipient into typed values", () => {
    const result = parseRule(
      rule([
        line("platform", { fixed: { eur: 500, jpy: 80 } }, { label: "hosting" }),
        line("commons", "12.5%", { max: { eur: 100000 } }),
        line({ group: [line("fatou", "2/3"), line("ahmed", "remaining")] }, "1/2"),
        line("contributors", "remaining", { fallback: "reserve" }),
      ], { residual_to: "commons" }),
    );
    expect(result).toEqual({
      ok: true,
      rule: {
        basis: "net",
        residual_to: "commons",
        lines: [
          { to: { kind: "party", party_id: "platform" }, share: { kind: "fixed", amounts_minor: { eur: 500, jpy: 80 } }, label: "hosting" },
          { to: { kind: "party", party_id: "commons" }, share: { kind: "percentage", text: "12.5%", ratio: rational(1n, 8n) }, max_minor: { eur: 100000 } },
          {
            to: { kind: "group", lines: [
              { to: { kind: "party", party_id: "fatou" }, share: { kind: "fraction", text: "2/3", ratio: rational(2n, 3n) } },
              { to: { kind: "party", party_id: "ahmed" }, share: { kind: "remaining" } },
            ] },
            share: { kind: "fraction", text: "1/2", ratio: rational(1n, 2n) },
          },
          { to: { kind: "contributors", fallback: "reserve" }, share: { kind: "remaining" } },
        ],
      },
    });
  });

  it("rejects what is not a rule object", () => {
    for (const input of [null, 42, "rule", [], undefined]) expect(errorsOf(input)).toEqual(["bad_rule@"]);
  });

  it("rejects a missing or unknown basis, and a misspelt field", () => {
    expect(errorsOf({ lines: [line("a", "remaining")] })).toEqual(["bad_basis@basis"]);
    expect(errorsOf(rule([line("a", "remaining")], { basis: "brut" }))).toEqual(["bad_basis@basis"]);
    expect(errorsOf(rule([line("a", "remaining")], { residual_too: "a" }))).toEqual(["unknown_field@residual_too"]);
    expect(errorsOf(rule([line("a", "remaining", { maximum: { eur: 1 } })]))).toEqual(["unknown_field@lines[0].maximum"]);
  });

  it("rejects lines that are missing, empty or not an array", () => {
    expect(errorsOf({ basis: "net" })).toEqual(["bad_lines@lines"]);
    expect(errorsOf(rule([]))).toEqual(["empty_lines@lines"]);
    expect(errorsOf(rule([line({ group: [] }, "remaining")]))).toEqual(["empty_lines@lines[0].to.group"]);
    expect(errorsOf(rule(["commons 10%"]))).toEqual(["bad_line@lines[0]"]);
  });

  it("rejects bad shares, naming the line", () => {
    expect(errorsOf(rule([line("a", "12,5%"), line("b", "remaining")]))).toEqual(["bad_percentage@lines[0].share"]);
    expect(errorsOf(rule([line("a", "150%"), line("b", "remaining")]))).toEqual(["bad_percentage@lines[0].share"]);
    expect(errorsOf(rule([line("a", "0.1"), line("b", "remaining")]))).toEqual(["bad_share@lines[0].share"]);
    expect(errorsOf(rule([line("a", "4/3"), line("b", "remaining")]))).toEqual(["bad_share@lines[0].share"]);
    expect(errorsOf(rule([line("a", "1/0"), line("b", "remaining")]))).toEqual(["bad_share@lines[0].share"]);
    expect(errorsOf(rule([line("a", 0.1), line("b", "remaining")]))).toEqual(["bad_share@lines[0].share"]);
    expect(errorsOf(rule([line("a", "rest")]))).toEqual(["bad_share@lines[0].share"]);
  });

  it("rejects negative, fractional or currency-less fixed amounts", () => {
    expect(errorsOf(rule([line("a", { fixed: { eur: -1 } }), line("b", "remaining")]))).toEqual(["bad_fixed@lines[0].share.fixed.eur"]);
    expect(errorsOf(rule([line("a", { fixed: { eur: 1.5 } }), line("b", "remaining")]))).toEqual(["bad_fixed@lines[0].share.fixed.eur"]);
    expect(errorsOf(rule([line("a", { fixed: { eur: "500" } }), line("b", "remaining")]))).toEqual(["bad_fixed@lines[0].share.fixed.eur"]);
    expect(errorsOf(rule([line("a", { fixed: {} }), line("b", "remaining")]))).toEqual(["bad_fixed@lines[0].share.fixed"]);
    expect(errorsOf(rule([line("a", { fixed: { EUR: 5 } }), line("b", "remaining")]))).toEqual(["bad_currency@lines[0].share.fixed.EUR"]);
  });

  it("rejects a cap on a share that is not a percentage or a fraction, and a malformed cap", () => {
    expect(errorsOf(rule([line("a", "remaining", { max: { eur: 5 } })]))).toEqual(["bad_cap@lines[0].max"]);
    expect(errorsOf(rule([line("a", "10%", { max: { eur: -5 } }), line("b", "remaining")]))).toEqual(["bad_cap@lines[0].max.eur"]);
    expect(errorsOf(rule([line("a", "10%", { max: 5 }), line("b", "remaining")]))).toEqual(["bad_cap@lines[0].max"]);
  });

  it("rejects bad party ids and a fallback anywhere but on a contributors line", () => {
    expect(errorsOf(rule([line("", "remaining")]))).toEqual(["bad_party_id@lines[0].to"]);
    expect(errorsOf(rule([line("a b", "remaining")]))).toEqual(["bad_party_id@lines[0].to"]);
    expect(errorsOf(rule([line(42, "remaining")]))).toEqual(["bad_to@lines[0].to"]);
    expect(errorsOf(rule([line("a", "remaining", { fallback: "b" })]))).toEqual(["bad_fallback@lines[0].fallback"]);
    expect(errorsOf(rule([line("contributors", "remaining", { fallback: "contributors" })]))).toEqual(["bad_party_id@lines[0].fallback"]);
    expect(errorsOf(rule([line("a", "remaining")], { residual_to: "" }))).toEqual(["bad_party_id@residual_to"]);
  });

  it("rejects a label that is not a short string", () => {
    expect(errorsOf(rule([line("a", "remaining", { label: 5 })]))).toEqual(["bad_label@lines[0].label"]);
    expect(errorsOf(rule([line("a", "remaining", { label: "x".repeat(RULE_LIMITS.label_length + 1) })]))).toEqual(["bad_label@lines[0].label"]);
  });

  it("limits the lines per level and the depth of groups", () => {
    const many = Array.from({ length: RULE_LIMITS.lines_per_level + 1 }, () => line("a", "0%"));
    expect(errorsOf(rule(many))).toEqual(["too_many_lines@lines"]);
    const nest = (depth: number): unknown => (depth === 0 ? line("a", "remaining") : line({ group: [nest(depth - 1)] }, "remaining"));
    expect(parseRule(rule([nest(RULE_LIMITS.depth - 1)])).ok).toBe(true);
    expect(errorsOf(rule([nest(RULE_LIMITS.depth)]))).toEqual(["too_deep@lines[0].to.group[0].to.group[0].to.group[0].to.group"]);
  });

  it("limits the lines of a whole rule", () => {
    const group = () => line({ group: Array.from({ length: 45 }, () => line("a", "0%")).concat([line("b", "remaining")]) }, "0%");
    const result = parseRule(rule([...Array.from({ length: 5 }, group), line("c", "remaining")]));
    expect(result.ok ? [] : result.errors.map((error) => error.code)).toContain("too_many_lines");
  });

  it("reports several errors at once, each with its path", () => {
    expect(errorsOf(rule([line("a b", "12,5%"), line("b", { fixed: { eur: -1 } })], { basis: "x" }))).toEqual([
      "bad_basis@basis",
      "bad_party_id@lines[0].to",
      "bad_percentage@lines[0].share",
      "bad_fixed@lines[1].share.fixed.eur",
    ]);
  });

  it("does not let __proto__ or other object keys pass for currencies", () => {
    const input = JSON.parse('{"basis":"net","lines":[{"to":"a","share":{"fixed":{"__proto__":5}}},{"to":"b","share":"remaining"}]}') as unknown;
    expect(errorsOf(input)).toEqual(["bad_currency@lines[0].share.fixed.__proto__"]);
  });

  it("formats every valid rule back to JSON that parses to the same rule", () => {
    fc.assert(
      fc.property(ruleJsonArb, (json) => {
        const parsed = parseRule(json);
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
        expect(formatRule(parsed.rule)).toEqual(json);
        expect(parseRule(JSON.parse(JSON.stringify(formatRule(parsed.rule))))).toEqual(parsed);
      }),
    );
  });
});
