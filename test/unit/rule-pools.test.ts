import { describe, expect, it } from "vitest";
import { applyRule, diffRules, formatRule, parseRule, validateRule, type Rule } from "../../core";

const json = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: { pool: "facilitators" }, share: "60%" }, { to: "reserve", share: "remaining" }] };

function parsed(input: unknown): Rule {
  const result = parseRule(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.rule;
}

describe("a rule line sending its share to a need pool", () => {
  it("parses { pool: id } and formats back unchanged", () => {
    const rule = parsed(json);
    expect(rule.lines[1]?.to).toEqual({ kind: "pool", pool_id: "facilitators" });
    expect(formatRule(rule)).toEqual(json);
  });

  it("pays the pool's share to the pool's own account, as a part of its own", () => {
    const result = applyRule(parsed(json), { amount_minor: 10_000, currency: "eur", contributors: [] });
    expect(result.ok && result.parts).toEqual([
      { party_id: "commons", amount_minor: 1_000, path: "lines[0]" },
      { party_id: "facilitators", amount_minor: 6_000, path: "lines[1]" },
      { party_id: "reserve", amount_minor: 3_000, path: "lines[2]" },
    ]);
  });

  it("is refused when no pool has that id (unknown_pool), or when the id is malformed (bad_party_id)", () => {
    const parties = new Set(["commons", "reserve"]);
    const unknown = validateRule(json, { parties, pools: new Set(["hosts"]) });
    expect(unknown.ok ? [] : unknown.errors.map((e) => `${e.code}@${e.path}`)).toEqual(["unknown_pool@lines[1].to.pool"]);
    expect(validateRule(json, { parties, pools: new Set(["facilitators"]) }).ok).toBe(true);
    const malformed = parseRule({ basis: "net", lines: [{ to: { pool: "" }, share: "remaining" }] });
    expect(malformed.ok ? [] : malformed.errors.map((e) => `${e.code}@${e.path}`)).toEqual(["bad_party_id@lines[0].to.pool"]);
    const extra = parseRule({ basis: "net", lines: [{ to: { pool: "a", group: [] }, share: "remaining" }] });
    expect(extra.ok ? [] : extra.errors.map((e) => e.code)).toEqual(["bad_to"]);
  });

  it("shows in a diff as the pool it pays", () => {
    const after = { ...json, lines: [json.lines[0], { to: { pool: "facilitators" }, share: "55%" }, json.lines[2]] };
    expect(diffRules(json as never, after as never)).toEqual([{ change: "changed", path: "lines[1] (pool facilitators).share", from: "60%", to: "55%" }]);
  });
});
