import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRule, InvariantError, parseRule, sumByParty, type ApplyRuleResult, type LineJson, type Rule } from "../../core";
import { amountArb, contributorsArb, currencyArb, ruleJsonArb } from "./arbitraries";

function parsed(input: unknown): Rule {
  const result = parseRule(input);
  if (!result.ok) throw new Error(`test rule does not parse: ${JSON.stringify(result.errors)}`);
  return result.rule;
}

function byParty(result: ApplyRuleResult): Record<string, number> {
  if (!result.ok) throw new Error(`rule failed: ${JSON.stringify(result.error)}`);
  return Object.fromEntries(sumByParty(result.parts).map((share) => [share.party_id, share.amount_minor]));
}

const line = (to: unknown, share: unknown, extra: Record<string, unknown> = {}) => ({ to, share, ...extra });
const rule = (lines: unknown[], extra: Record<string, unknown> = {}) => parsed({ basis: "net", lines, ...extra });
const eur = (amount_minor: number, contributors: { party_id: string; weight: number }[] = []) => ({ amount_minor, currency: "eur", contributors });

describe("applying a rule", () => {
  it("gives each part a path naming the line (and the contributor) it came from", () => {
    const result = applyRule(
      rule([line("commons", "10%"), line({ group: [line("fatou", "1/2"), line("contributors", "remaining")] }, "remaining")]),
      eur(1000, [{ party_id: "alice", weight: 1 }]),
    );
    expect(result).toEqual({
      ok: true,
      parts: [
        { party_id: "commons", amount_minor: 100, path: "lines[0]" },
        { party_id: "fatou", amount_minor: 450, path: "lines[1].to.group[0]" },
        { party_id: "alice", amount_minor: 450, path: "lines[1].to.group[1].contributors[0]" },
      ],
      lines: [
        { path: "lines[0]", amount_minor: 100 },
        { path: "lines[1]", amount_minor: 900 },
        { path: "lines[1].to.group[0]", amount_minor: 450 },
        { path: "lines[1].to.group[1]", amount_minor: 450 },
      ],
    });
  });

  it("takes fixed amounts in line order and cuts the one that does not fit", () => {
    const fixedFirst = rule([line("host", { fixed: { eur: 200 } }), line("platform", { fixed: { eur: 500 } }), line("alice", "remaining")]);
    expect(byParty(applyRule(fixedFirst, eur(300)))).toEqual({ host: 200, platform: 100, alice: 0 });
    expect(byParty(applyRule(fixedFirst, eur(1000)))).toEqual({ host: 200, platform: 500, alice: 300 });
  });

  it("applies percentages to what is left after fixed amounts, wherever the fixed line is listed", () => {
    expect(byParty(applyRule(rule([line("commons", "10%"), line("alice", "remaining"), line("platform", { fixed: { eur: 500 } })]), eur(10500)))).toEqual({
      commons: 1000,
      alice: 9000,
      platform: 500,
    });
  });

  it("sends the excess of a cap to the remaining line, in a group too", () => {
    const capped = rule([line("commons", "remaining"), line({ group: [line("fatou", "50%", { max: { eur: 100 } }), line("ahmed", "remaining")] }, "50%")]);
    expect(byParty(applyRule(capped, eur(1000)))).toEqual({ commons: 500, fatou: 100, ahmed: 400 });
  });

  it("keeps a capped line at its cap even when rounding would favour it", () => {
    // exact 99.9 (below the cap 100) may round up to 100 but never to 101.
    const capped = rule([line("a", "999/1000", { max: { eur: 100 } }), line("b", "remaining")]);
    expect(byParty(applyRule(capped, eur(100)))).toEqual({ a: 100, b: 0 });
    expect(byParty(applyRule(capped, eur(101)))).toEqual({ a: 100, b: 1 });
  });

  it("splits among contributors by weight, ties in their listed order, weight 0 getting nothing", () => {
    const toContributors = rule([line("contributors", "remaining")]);
    const contributors = [{ party_id: "alice", weight: 1 }, { party_id: "zoe", weight: 0 }, { party_id: "bob", weight: 1 }];
    expect(byParty(applyRule(toContributors, eur(101, contributors)))).toEqual({ alice: 51, zoe: 0, bob: 50 });
  });

  it("gives a contributors line to its fallback when no contributor has a weight", () => {
    const withFallback = rule([line("contributors", "remaining", { fallback: "reserve" })]);
    expect(applyRule(withFallback, eur(7, [{ party_id: "alice", weight: 0 }]))).toMatchObject({
      ok: true,
      parts: [{ party_id: "reserve", amount_minor: 7, path: "lines[0].fallback" }],
    });
  });

  it("fails with empty_contributor_pool when there are no contributors and no fallback, whatever the amount", () => {
    const noFallback = rule([line("commons", "10%"), line("contributors", "remaining")]);
    for (const amount_minor of [0, 1000]) {
      expect(applyRule(noFallback, eur(amount_minor))).toMatchObject({ ok: false, error: { code: "empty_contributor_pool", path: "lines[1].to" } });
    }
  });

  it("fails with fixed_missing_currency or cap_missing_currency when the payment's currency is not in the rule", () => {
    const fixed = rule([line("a", { fixed: { eur: 5 } }), line("b", "remaining")]);
    expect(applyRule(fixed, { amount_minor: 100, currency: "jpy", contributors: [] })).toMatchObject({ ok: false, error: { code: "fixed_missing_currency", path: "lines[0].share" } });
    const capped = rule([line("b", "remaining"), line("c", "10%", { max: { eur: 5 } })]);
    expect(applyRule(capped, { amount_minor: 100, currency: "jpy", contributors: [] })).toMatchObject({ ok: false, error: { code: "cap_missing_currency", path: "lines[1].max" } });
  });

  it("with residual_to floors every part and adds one residual part for that party", () => {
    const thirds = rule([line("a", "1/3"), line("b", "1/3"), line("c", "1/3")], { residual_to: "c" });
    expect(applyRule(thirds, eur(100))).toMatchObject({
      ok: true,
      parts: [
        { party_id: "a", amount_minor: 33 },
        { party_id: "b", amount_minor: 33 },
        { party_id: "c", amount_minor: 33 },
        { party_id: "c", amount_minor: 1, path: "residual_to" },
      ],
    });
  });

  it("refuses a rule whose shape was never checked, with the same error checkRule gives", () => {
    const tooMuch = rule([line("a", "60%"), line("b", "60%")]);
    expect(applyRule(tooMuch, eur(100))).toMatchObject({ ok: false, error: { code: "shares_exceed_whole", path: "lines[1].share" } });
  });

  it("asserts its inputs: amounts are safe integers >= 0, currencies lower-case codes, weights integers", () => {
    const simple = rule([line("a", "remaining")]);
    for (const amount_minor of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) expect(() => applyRule(simple, eur(amount_minor))).toThrow(InvariantError);
    expect(() => applyRule(simple, { amount_minor: 1, currency: "EUR", contributors: [] })).toThrow(InvariantError);
    expect(() => applyRule(simple, eur(1, [{ party_id: "a", weight: 1.5 }]))).toThrow(InvariantError);
  });

  it("splits the largest safe amount exactly", () => {
    // 2^53 - 1 by 1/8, 1/3, 13/24: floors leave 2 units, for the .875 and the .79 losses.
    const result = applyRule(rule([line("a", "12.5%"), line("b", "1/3"), line("c", "remaining")]), eur(Number.MAX_SAFE_INTEGER));
    expect(byParty(result)).toEqual({ a: 1125899906842624, b: 3002399751580330, c: 4878899596318037 });
  });
});

/** Paths of capped lines, with their caps, as applyRule names the lines. */
function capsByPath(lines: readonly LineJson[], path: string, out = new Map<string, Record<string, number>>()): Map<string, Record<string, number>> {
  lines.forEach((entry, index) => {
    if (entry.max !== undefined) out.set(`${path}[${index}]`, entry.max);
    if (typeof entry.to === "object" && "group" in entry.to) capsByPath(entry.to.group, `${path}[${index}].to.group`, out);
  });
  return out;
}

describe("applying any valid rule to any amount", () => {
  const inputs = fc.record({ json: ruleJsonArb, amount_minor: amountArb, currency: currencyArb, contributors: contributorsArb });

  it("gives parts >= 0 that sum exactly to the amount, the same every time", () => {
    fc.assert(
      fc.property(inputs, ({ json, amount_minor, currency, contributors }) => {
        const result = applyRule(parsed(json), { amount_minor, currency, contributors });
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        expect(result.parts.every((part) => Number.isSafeInteger(part.amount_minor) && part.amount_minor >= 0)).toBe(true);
        expect(result.parts.reduce((acc, part) => acc + BigInt(part.amount_minor), 0n)).toBe(BigInt(amount_minor));
        expect(applyRule(parsed(json), { amount_minor, currency, contributors })).toEqual(result);
      }),
    );
  });

  it("never leaves a capped line above its cap", () => {
    fc.assert(
      fc.property(inputs, ({ json, amount_minor, currency, contributors }) => {
        const result = applyRule(parsed(json), { amount_minor, currency, contributors });
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        const caps = capsByPath(json.lines, "lines");
        for (const entry of result.lines) {
          const cap = caps.get(entry.path)?.[currency];
          if (cap !== undefined) expect(entry.amount_minor).toBeLessThanOrEqual(cap);
        }
      }),
    );
  });

  it("gives the lines of a level amounts summing to the level's amount (less a residue under residual_to)", () => {
    fc.assert(
      fc.property(inputs, ({ json, amount_minor, currency, contributors }) => {
        const result = applyRule(parsed(json), { amount_minor, currency, contributors });
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        const levelOf = (parent: string) => result.lines.filter((entry) => entry.path.replace(/\[\d+\]$/, "") === parent);
        const expectLevel = (parent: string, amount: number) => {
          const lines = levelOf(parent);
          const residue = amount - lines.reduce((acc, entry) => acc + entry.amount_minor, 0);
          if (json.residual_to === undefined) expect(residue).toBe(0);
          else expect(residue >= 0 && residue < lines.length).toBe(true);
        };
        expectLevel("lines", amount_minor);
        for (const entry of result.lines) {
          if (levelOf(`${entry.path}.to.group`).length > 0) expectLevel(`${entry.path}.to.group`, entry.amount_minor);
        }
      }),
    );
  });
});
