import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRule, lineBasis, parseRule, replayRules, type Rule } from "../../core";
import { amountArb, contributorsArb, ruleJsonArb } from "./arbitraries";

function rule(json: unknown): Rule {
  const parsed = parseRule(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.rule;
}

const net = rule({ basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] });
const gross = rule({ basis: "gross", lines: [{ to: "commons", share: "20%" }, { to: "contributors", share: "remaining" }] });
const duo = [
  { party_id: "camille", weight: 2 },
  { party_id: "dominique", weight: 1 },
];

describe("lineBasis", () => {
  it("is the gross for a gross rule and the gross less the line's fee for a net rule", () => {
    expect(lineBasis("gross", { gross_minor: 10_001, fee_minor: 175 })).toBe(10_001);
    expect(lineBasis("net", { gross_minor: 10_001, fee_minor: 175 })).toBe(9_826);
  });

  it("refuses a fee above the gross: that is a bug upstream, not a basis", () => {
    expect(() => lineBasis("net", { gross_minor: 100, fee_minor: 101 })).toThrow("a line's fee is larger than its gross");
  });
});

describe("replayRules: each party's total now and under a proposal", () => {
  const lines = [
    { payment_id: "pi_1", currency: "eur", gross_minor: 10_001, fee_minor: 175, contributors: duo },
    { payment_id: "pi_1", currency: "eur", gross_minor: 5_000, fee_minor: 100, contributors: [{ party_id: "sacha", weight: 1 }] },
    { payment_id: "pi_2", currency: "jpy", gross_minor: 1_000, fee_minor: 0, contributors: duo },
  ];

  it("applies both rules to the same lines and reports the difference, sorted by currency then party", () => {
    // pi_1 line 1, net 9826: now 983 / 1474 / 7369 → camille 4913, dominique 2456; gross 10001: 2000 commons, 8001 → 5334 / 2667.
    // pi_1 line 2, net 4900: now 490 / 735 / 3675 sacha; gross 5000: 1000 commons, 4000 sacha.
    // pi_2 (jpy) net 1000: 100 / 150 / 750 → 500 / 250; gross 1000: 200 commons, 800 → 533 / 267.
    expect(replayRules(lines, net, gross)).toEqual({
      payments: 2,
      totals: [
        { party_id: "camille", currency: "eur", now_minor: 4_913, proposed_minor: 5_334, delta_minor: 421 },
        { party_id: "commons", currency: "eur", now_minor: 1_473, proposed_minor: 3_000, delta_minor: 1_527 },
        { party_id: "dominique", currency: "eur", now_minor: 2_456, proposed_minor: 2_667, delta_minor: 211 },
        { party_id: "reserve", currency: "eur", now_minor: 2_209, proposed_minor: 0, delta_minor: -2_209 },
        { party_id: "sacha", currency: "eur", now_minor: 3_675, proposed_minor: 4_000, delta_minor: 325 },
        { party_id: "camille", currency: "jpy", now_minor: 500, proposed_minor: 533, delta_minor: 33 },
        { party_id: "commons", currency: "jpy", now_minor: 100, proposed_minor: 200, delta_minor: 100 },
        { party_id: "dominique", currency: "jpy", now_minor: 250, proposed_minor: 267, delta_minor: 17 },
        { party_id: "reserve", currency: "jpy", now_minor: 150, proposed_minor: 0, delta_minor: -150 },
      ],
      unsplittable: [],
    });
  });

  it("has only a proposed column when no version is in force", () => {
    const result = replayRules(lines.slice(2), null, gross);
    expect(result.totals.map((t) => [t.party_id, t.now_minor, t.proposed_minor])).toEqual([
      ["camille", 0, 533],
      ["commons", 0, 200],
      ["dominique", 0, 267],
    ]);
  });

  it("lists a line a rule cannot split, with which column and why, and keeps going", () => {
    const noContributors = [{ payment_id: "pi_3", currency: "eur", gross_minor: 1_000, fee_minor: 0, contributors: [] }];
    expect(replayRules(noContributors, null, net)).toEqual({
      payments: 1,
      totals: [],
      unsplittable: [{ payment_id: "pi_3", reason: 'proposal: the offer has no contributor with a weight above 0 and this line has no "fallback" party' }],
    });
  });

  it("totals, for any rule and lines, exactly what applying the rule line by line gives", () => {
    fc.assert(
      fc.property(ruleJsonArb, fc.array(fc.record({ gross: amountArb, feePer1000: fc.nat({ max: 1000 }), contributors: contributorsArb }), { maxLength: 6 }), (json, raw) => {
        const proposal = rule(json);
        const replayLines = raw.map((l, i) => ({ payment_id: `pi_${i}`, currency: "eur", gross_minor: l.gross, fee_minor: Math.floor((l.gross * l.feePer1000) / 1000), contributors: l.contributors }));
        const expected = new Map<string, number>();
        for (const l of replayLines) {
          const applied = applyRule(proposal, { amount_minor: lineBasis(proposal.basis, l), currency: "eur", contributors: l.contributors });
          if (!applied.ok) throw new Error(applied.error.message);
          for (const p of applied.parts) expected.set(p.party_id, (expected.get(p.party_id) ?? 0) + p.amount_minor);
        }
        const result = replayRules(replayLines, null, proposal);
        expect(result.unsplittable).toEqual([]);
        expect(Object.fromEntries(result.totals.map((t) => [t.party_id, t.proposed_minor]))).toEqual(Object.fromEntries(expected));
        expect(result.totals.every((t) => t.now_minor === 0 && t.delta_minor === t.proposed_minor)).toBe(true);
      }),
    );
  });
});
