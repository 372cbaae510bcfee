import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRule, parseRule, validateRule, versionNeedingContributors, type Rule, type RuleContext } from "../../core";
import { CURRENCIES, PARTIES, ruleJsonArb } from "./arbitraries";

const anyParty: RuleContext = { parties: () => true };

function parsed(input: unknown): Rule {
  const result = parseRule(input);
  if (!result.ok) throw new Error(`test rule does not parse: ${JSON.stringify(result.errors)}`);
  return result.rule;
}

/** The errors checkRule reports, as `code@path`. */
function errorsOf(input: unknown, ctx: RuleContext = anyParty): string[] {
  const result = checkRule(parsed(input), ctx);
  return result.ok ? [] : result.errors.map((error) => `${error.code}@${error.path}`);
}

const line = (to: unknown, share: unknown, extra: Record<string, unknown> = {}) => ({ to, share, ...extra });
const rule = (lines: unknown[], extra: Record<string, unknown> = {}) => ({ basis: "net", lines, ...extra });

describe("checking a rule at save time", () => {
  it("accepts a rule whose every level places every unit", () => {
    expect(errorsOf(rule([line("commons", "10%"), line("reserve", "15%"), line("contributors", "remaining", { fallback: "reserve" })]))).toEqual([]);
    expect(errorsOf(rule([line("a", "1/3"), line("b", "1/3"), line("c", "1/3")]))).toEqual([]);
    expect(errorsOf(rule([line("a", { fixed: { eur: 500 } }), line("b", "100%")]))).toEqual([]);
  });

  it("rejects percentages and fractions above 100% at one level, naming the line that passes it (shares_exceed_whole)", () => {
    expect(errorsOf(rule([line("a", "60%"), line("b", "1/2"), line("c", "remaining")]))).toEqual(["shares_exceed_whole@lines[1].share"]);
    expect(errorsOf(rule([line("a", "remaining"), line({ group: [line("b", "2/3"), line("c", "0.5%"), line("d", "1/3")] }, "50%")]))).toEqual([
      "shares_exceed_whole@lines[1].to.group[2].share",
    ]);
  });

  it("rejects two remaining lines at one level (two_remaining)", () => {
    expect(errorsOf(rule([line("a", "remaining"), line("b", "10%"), line("c", "remaining")]))).toEqual(["two_remaining@lines[2].share"]);
  });

  it("allows one remaining line per level, groups included", () => {
    expect(errorsOf(rule([line("a", "remaining"), line({ group: [line("b", "remaining")] }, "10%")]))).toEqual([]);
  });

  it("rejects a level without remaining whose shares are not exactly 100% (shares_not_whole)", () => {
    expect(errorsOf(rule([line("a", "10%"), line("b", "80%")]))).toEqual(["shares_not_whole@lines"]);
    expect(errorsOf(rule([line("a", "remaining"), line({ group: [line("b", "1/3"), line("c", "1/3")] }, "50%")]))).toEqual(["shares_not_whole@lines[1].to.group"]);
  });

  it("rejects a level of fixed amounts only, which could not place a larger payment (shares_not_whole)", () => {
    expect(errorsOf(rule([line("a", { fixed: { eur: 500 } })]))).toEqual(["shares_not_whole@lines"]);
  });

  it("rejects a cap on a level without a remaining line (cap_without_remaining)", () => {
    expect(errorsOf(rule([line("a", "10%", { max: { eur: 5 } }), line("b", "90%")]))).toEqual(["cap_without_remaining@lines[0].max"]);
  });

  it("rejects unknown parties in lines, fallbacks and residual_to (unknown_party)", () => {
    const ctx: RuleContext = { parties: new Set(["commons", "reserve"]) };
    const input = rule(
      [line("commons", "10%"), line({ group: [line("mallory", "remaining")] }, "10%"), line("contributors", "remaining", { fallback: "eve" })],
      { residual_to: "trudy" },
    );
    expect(errorsOf(input, ctx)).toEqual(["unknown_party@residual_to", "unknown_party@lines[1].to.group[0].to", "unknown_party@lines[2].fallback"]);
    expect(errorsOf(input, { parties: (id) => id !== "mallory" })).toEqual(["unknown_party@lines[1].to.group[0].to"]);
  });

  it("rejects a fixed amount lacking a currency payments come in (fixed_missing_currency)", () => {
    const ctx: RuleContext = { parties: () => true, currencies: ["eur", "jpy"] };
    expect(errorsOf(rule([line("a", { fixed: { eur: 500 } }), line("b", "remaining")]), ctx)).toEqual(["fixed_missing_currency@lines[0].share"]);
    expect(errorsOf(rule([line("a", { fixed: { eur: 500, jpy: 5 } }), line("b", "remaining")]), ctx)).toEqual([]);
  });

  it("rejects a cap lacking a currency payments come in (cap_missing_currency)", () => {
    const ctx: RuleContext = { parties: () => true, currencies: ["eur", "jpy"] };
    expect(errorsOf(rule([line("a", "10%", { max: { jpy: 500 } }), line("b", "remaining")]), ctx)).toEqual(["cap_missing_currency@lines[0].max"]);
  });

  it("rejects a contributors line without fallback when an offer has nobody to pay (empty_contributor_pool)", () => {
    const ctx: RuleContext = {
      parties: () => true,
      contributorPools: [
        { offer_id: "training-a", contributors: [{ party_id: "alice", weight: 1 }] },
        { offer_id: "training-b", contributors: [] },
        { offer_id: "training-c", contributors: [{ party_id: "bob", weight: 0 }] },
      ],
    };
    const result = checkRule(parsed(rule([line("a", "10%"), line("contributors", "remaining")])), ctx);
    expect(result).toMatchObject({ ok: false, errors: [{ code: "empty_contributor_pool", path: "lines[1].to" }] });
    expect(result.ok ? "" : result.errors[0]?.message).toMatch(/training-b, training-c/);
    expect(errorsOf(rule([line("a", "10%"), line("contributors", "remaining", { fallback: "reserve" })]), ctx)).toEqual([]);
  });

  it("explains each error in words", () => {
    const result = checkRule(parsed(rule([line("a", "60%"), line("b", "50%"), line("c", "remaining")])), anyParty);
    expect(result.ok ? "" : result.errors[0]?.message).toMatch(/110%, above 100%/);
  });

  it("validates JSON in one call: parse errors first, then meaning", () => {
    expect(validateRule({ basis: "x", lines: [] }, anyParty)).toMatchObject({ ok: false, errors: [{ code: "bad_basis" }, { code: "empty_lines" }] });
    expect(validateRule(rule([line("a", "50%")]), anyParty)).toMatchObject({ ok: false, errors: [{ code: "shares_not_whole", path: "lines" }] });
    expect(validateRule(rule([line("a", "remaining")]), anyParty)).toMatchObject({ ok: true });
  });

  it("accepts every rule the property tests generate", () => {
    const ctx: RuleContext = { parties: new Set(PARTIES), currencies: [...CURRENCIES] };
    fc.assert(
      fc.property(ruleJsonArb, (json) => {
        expect(checkRule(parsed(json), ctx)).toEqual({ ok: true });
      }),
    );
  });
});

describe("versionNeedingContributors: could an offer without contributors still be split?", () => {
  const versions = [
    { rule_id: "default", version: 1, body: rule([line("commons", "10%"), line("contributors", "remaining", { fallback: "reserve" })]) },
    { rule_id: "training", version: 2, body: rule([line("commons", "10%"), line("contributors", "remaining")]) },
  ];

  it("names the first version with a contributors line and no fallback, and the line", () => {
    expect(versionNeedingContributors("intro", versions)).toEqual({
      version: versions[1],
      error: { code: "empty_contributor_pool", path: "lines[1].to", message: 'offer(s) intro have no contributor with a weight above 0, and this line has no "fallback" party to take its share' },
    });
  });

  it("finds none when every version has a fallback, or pays no contributors, or does not parse", () => {
    expect(versionNeedingContributors("intro", [versions[0]!, { rule_id: "broken", version: 1, body: { basis: "net" } }, { rule_id: "fixed", version: 1, body: rule([line("commons", "100%")]) }])).toBeNull();
  });
});

describe("a rule's fee_policy", () => {
  it("needs exactly one party of kind reserve (or commons) when it names one to bear the fees", () => {
    const withPolicy = (fee_policy: string) => rule([line("commons", "10%"), line("reserve", "remaining")], { fee_policy });
    expect(errorsOf(withPolicy("reserve"), { parties: () => true, feeBearers: { reserve: false, commons: true } })).toEqual(["no_fee_bearer@fee_policy"]);
    expect(errorsOf(withPolicy("commons"), { parties: () => true, feeBearers: { reserve: true, commons: false } })).toEqual(["no_fee_bearer@fee_policy"]);
    expect(errorsOf(withPolicy("reserve"), { parties: () => true, feeBearers: { reserve: true, commons: false } })).toEqual([]);
    expect(errorsOf(withPolicy("cooperative"), { parties: () => true, feeBearers: { reserve: false, commons: false } })).toEqual([]);
  });
});
