// The API documents the rule language with a zod schema (workers/api/rule-schema.ts) and obeys
// the core's parser (core/rule-parse.ts). These tests hold the two to the same answer: every
// golden rule, a list of structurally bad bodies, edge cases at each limit, and random
// mutations of valid rules. The set of bodies on which they disagree is empty.
//
// Six of the parser's rules are zod refinements, which the JSON Schema in /openapi.json cannot
// carry; the document states them in words (RuleBody's and the fields' descriptions) instead:
// a fraction is at most 1; groups nest at most 4 levels deep; at most 200 lines in a rule;
// `fallback` only on a `contributors` line; `max` only on a percentage or fraction; a label
// counts UTF-16 code units (JSON Schema's `maxLength` counts code points). The cases below that
// exercise them are marked "(refinement)".
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRule, RULE_LIMITS, type LineJson } from "../../core";
import { RuleBodyInput, RuleBodySchema, ruleErrorsOf } from "../../workers/api/rule-schema";
import { ruleJsonArb } from "./arbitraries";

const schemaAccepts = (body: unknown) => RuleBodySchema.safeParse(body).success;
const parserAccepts = (body: unknown) => parseRule(body).ok;

const line = (to: unknown, share: unknown, extra: Record<string, unknown> = {}) => ({ to, share, ...extra });
const rule = (lines: unknown[], extra: Record<string, unknown> = {}) => ({ basis: "net", lines, ...extra });
const rest = line("reserve", "remaining");

/** Groups nested `groups` deep around one line: 0 is a rule of one level. */
function nested(groups: number): unknown {
  let lines: LineJson[] = [{ to: "commons", share: "remaining" }];
  for (let i = 0; i < groups; i += 1) lines = [{ to: { group: lines }, share: "remaining" }];
  return rule(lines);
}

/** A top level of groups of the given sizes: `sizes.length` lines plus theirs. */
function linesInAll(sizes: number[]): unknown {
  const group = (size: number) => [...Array.from({ length: size - 1 }, () => line("commons", "0%")), rest];
  return rule(sizes.map((size) => line({ group: group(size) }, "25%")));
}

const goldenRules = (JSON.parse(readFileSync(new URL("../golden/rules.json", import.meta.url), "utf8")) as { name: string; rule: unknown }[]).map(
  (golden) => [golden.name, golden.rule] as const,
);

describe("the API's rule schema and the core's parser", () => {
  it.each(goldenRules)("agree on the golden rule: %s", (_name, body) => {
    expect(schemaAccepts(body)).toBe(parserAccepts(body));
  });

  it("meet both answers among the golden rules (the comparison above is not vacuous)", () => {
    const accepted = goldenRules.filter(([, body]) => parserAccepts(body)).length;
    expect(accepted).toBeGreaterThan(20);
    expect(accepted).toBeLessThan(goldenRules.length);
  });

  const refused: [string, unknown][] = [
    ["not an object", "10% commons"],
    ["an array", [rest]],
    ["null", null],
    ["an unknown field at the top", rule([rest], { residual_too: "commons" })],
    ["an unknown field on a line", rule([line("reserve", "remaining", { maximum: { eur: 1 } })])],
    ["an unknown field beside fixed", rule([line("commons", { fixed: { eur: 1 }, max: { eur: 1 } }), rest])],
    ["an unknown field beside group", rule([line({ group: [rest], label: "x" }, "remaining")])],
    ["no basis", { lines: [rest] }],
    ["an unknown basis", rule([rest], { basis: "brut" })],
    ["no lines", { basis: "net" }],
    ["lines that are not an array", rule({ 0: rest } as unknown as unknown[])],
    ["empty lines", rule([])],
    ["an empty group", rule([line({ group: [] }, "remaining")])],
    ["a line that is not an object", rule(["commons 10%"])],
    ["a line without share", rule([{ to: "reserve" }])],
    ["a line without to", rule([{ share: "remaining" }])],
    ["a percentage with a comma", rule([line("commons", "12,5%"), rest])],
    ["a percentage above 100%", rule([line("commons", "100.5%"), rest])],
    ["a percentage of 1000%", rule([line("commons", "1000%"), rest])],
    ["a percentage with 10 decimals", rule([line("commons", "1.0000000001%"), rest])],
    ["a negative percentage", rule([line("commons", "-5%"), rest])],
    ["a percentage without digits before the dot", rule([line("commons", ".5%"), rest])],
    ["a percentage in exponent notation", rule([line("commons", "1e1%"), rest])],
    ["a percentage with spaces", rule([line("commons", " 10%"), rest])],
    ["a fraction above 1 (refinement)", rule([line("commons", "4/3"), rest])],
    ["a fraction over 0", rule([line("commons", "1/0"), rest])],
    ["a fraction over 000", rule([line("commons", "0/000"), rest])],
    ["a fraction with 13 digits", rule([line("commons", "1/1000000000000"), rest])],
    ["a fraction with a percent sign", rule([line("commons", "1/2%"), rest])],
    ["a decimal", rule([line("commons", "0.1"), rest])],
    ["a number", rule([line("commons", 0.1), rest])],
    ["a word", rule([line("commons", "rest")])],
    ["Remaining with a capital", rule([line("commons", "Remaining")])],
    ["a negative fixed amount", rule([line("commons", { fixed: { eur: -500 } }), rest])],
    ["a fractional fixed amount", rule([line("commons", { fixed: { eur: 1.5 } }), rest])],
    ["a fixed amount as a string", rule([line("commons", { fixed: { eur: "500" } }), rest])],
    ["a fixed amount above 2^53", rule([line("commons", { fixed: { eur: 2 ** 53 } }), rest])],
    ["a fixed share without amounts", rule([line("commons", { fixed: {} }), rest])],
    ["a fixed share that is not an object", rule([line("commons", { fixed: 500 }), rest])],
    ["an upper-case currency code", rule([line("commons", { fixed: { EUR: 500 } }), rest])],
    ["a four-letter currency code", rule([line("commons", { fixed: { euro: 500 } }), rest])],
    ["amounts in 51 currencies", rule([line("commons", { fixed: Object.fromEntries(threeLetterCodes(51).map((c) => [c, 1])) }), rest])],
    ["a cap on a fixed share (refinement)", rule([line("commons", { fixed: { eur: 500 } }, { max: { eur: 100 } }), rest])],
    ["a cap on the remaining line (refinement)", rule([line("commons", "10%"), line("reserve", "remaining", { max: { eur: 100 } })])],
    ["a negative cap", rule([line("commons", "10%", { max: { eur: -1 } }), rest])],
    ["an empty cap", rule([line("commons", "10%", { max: {} }), rest])],
    ["a cap with a bad currency", rule([line("commons", "10%", { max: { Eur: 1 } }), rest])],
    ["a fallback on a party line (refinement)", rule([line("commons", "10%", { fallback: "reserve" }), rest])],
    ["a fallback on a group line (refinement)", rule([line({ group: [rest] }, "remaining", { fallback: "reserve" })])],
    ["a fallback that is contributors", rule([line("contributors", "remaining", { fallback: "contributors" })])],
    ["a fallback that is not a party id", rule([line("contributors", "remaining", { fallback: "the reserve" })])],
    ["a party id with a space", rule([line("le commun", "remaining")])],
    ["an empty party id", rule([line("", "remaining")])],
    ["a party id starting with a dash", rule([line("-commons", "remaining")])],
    ["a party id of 65 characters", rule([line("a".repeat(65), "remaining")])],
    ["a party id with a slash", rule([line("a/b", "remaining")])],
    ["a to that is a number", rule([line(42, "remaining")])],
    ["a to that is an object but not a group", rule([line({ party: "commons" }, "remaining")])],
    ["a group that is not an array", rule([line({ group: rest }, "remaining")])],
    ["a residual_to that is contributors", rule([rest], { residual_to: "contributors" })],
    ["a residual_to that is not a party id", rule([rest], { residual_to: "" })],
    ["a fee_policy that is not one of the four", rule([rest], { fee_policy: "contributors" })],
    ["a fee_policy that is not a string", rule([rest], { fee_policy: 1 })],
    ["a negative hold_days", rule([rest], { hold_days: -1 })],
    ["a hold_days of 366", rule([rest], { hold_days: 366 })],
    ["a hold_days that is not whole", rule([rest], { hold_days: 1.5 })],
    ["a hold_days that is a string", rule([rest], { hold_days: "14" })],
    ["a label of 201 characters", rule([line("reserve", "remaining", { label: "x".repeat(201) })])],
    ["a label of 101 emoji (202 UTF-16 code units) (refinement)", rule([line("reserve", "remaining", { label: "🌱".repeat(101) })])],
    ["a label that is not a string", rule([line("reserve", "remaining", { label: 7 })])],
    ["51 lines at one level", rule([...Array.from({ length: 50 }, () => line("commons", "0%")), rest])],
    ["201 lines in all (refinement)", linesInAll([50, 49, 49, 49])],
    ["groups nested 4 deep (5 levels) (refinement)", nested(4)],
    ["groups nested 40 deep (refinement)", nested(40)],
  ];

  it.each(refused)("both refuse %s", (_what, body) => {
    expect(parserAccepts(body), "the parser").toBe(false);
    expect(schemaAccepts(body), "the schema").toBe(false);
  });

  const accepted: [string, unknown][] = [
    ["the README's rule", rule([line("commons", "10%"), line("reserve", "15%"), line("contributors", "remaining")])],
    ["every kind of share, recipient and option", rule(
      [
        line("platform", { fixed: { eur: 500, jpy: 80 } }, { label: "hosting" }),
        line("commons", "12.5%", { max: { eur: 100000 } }),
        line({ group: [line("fatou", "2/3", { max: { eur: 1 } }), line("ahmed", "remaining")] }, "1/2"),
        line("contributors", "remaining", { fallback: "reserve" }),
      ],
      { residual_to: "commons", basis: "gross" },
    )],
    ["each fee_policy", rule([rest], { fee_policy: "proportional" })],
    ["the reserve bearing the fees", rule([rest], { fee_policy: "reserve" })],
    ["the commons bearing the fees", rule([rest], { fee_policy: "commons" })],
    ["the cooperative bearing the fees", rule([rest], { fee_policy: "cooperative" })],
    ["no hold", rule([rest], { hold_days: 0 })],
    ["a year's hold", rule([rest], { hold_days: 365 })],
    ["100%", rule([line("commons", "100%")])],
    ["100.000000000%", rule([line("commons", "100.000000000%")])],
    ["099.999999999%", rule([line("commons", "099.999999999%"), rest])],
    ["0% and 000%", rule([line("commons", "0%"), line("reserve", "000%"), rest])],
    ["fractions of 0 and of 1", rule([line("commons", "0/1"), line("reserve", "12/12"), rest])],
    ["12-digit fractions", rule([line("commons", "999999999999/999999999999"), rest])],
    ["a fixed amount of 0 and of 2^53 - 1", rule([line("commons", { fixed: { eur: 0, usd: Number.MAX_SAFE_INTEGER } }), rest])],
    ["amounts in 50 currencies", rule([line("commons", { fixed: Object.fromEntries(threeLetterCodes(50).map((c) => [c, 1])) }), rest])],
    ["a cap on a fraction", rule([line("commons", "1/3", { max: { eur: 0 } }), rest])],
    ["a contributors line without fallback", rule([line("contributors", "remaining")])],
    ["party ids of every allowed character and 64 long", rule([line("A1_.:@-z", "50%"), line(`x${"9".repeat(63)}`, "remaining")])],
    ["a party called contributors2", rule([line("contributors2", "remaining")])],
    ["a label of 200 characters", rule([line("reserve", "remaining", { label: "x".repeat(200) })])],
    ["an empty label", rule([line("reserve", "remaining", { label: "" })])],
    ["50 lines at one level", rule([...Array.from({ length: 49 }, () => line("commons", "0%")), rest])],
    ["200 lines in all", linesInAll([49, 49, 49, 49])],
    ["groups nested 3 deep (4 levels)", nested(3)],
    // The parser checks shapes only; what shares mean is checkRule's business (422 when saved).
    ["shares above the whole", rule([line("commons", "60%"), line("reserve", "50%")])],
  ];

  it.each(accepted)("both accept %s", (_what, body) => {
    expect(parserAccepts(body), "the parser").toBe(true);
    expect(schemaAccepts(body), "the schema").toBe(true);
  });

  it("agree on random valid rules and on random mutations of them", () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(ruleJsonArb, mutatedRuleArb), (body) => {
        const parser = parserAccepts(body);
        seen[parser ? "accepted" : "refused"] += 1;
        expect(schemaAccepts(body), JSON.stringify(body)).toBe(parser);
      }),
      { numRuns: 600 },
    );
    expect(seen.accepted).toBeGreaterThan(150);
    expect(seen.refused).toBeGreaterThan(150);
  });
});

describe("a rule body in a request (RuleBodyInput)", () => {
  it("carries the parser's errors, paths and codes in one issue when the parser refuses the rule", () => {
    const body = rule([line("commons", "12,5%"), line("ghost story", "remaining")]);
    const result = RuleBodyInput.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    const errors = result.error?.issues[0] ? ruleErrorsOf(result.error.issues[0]) : null;
    expect(errors?.map((e) => `${e.code}@${e.path}`)).toEqual(["bad_percentage@lines[0].share", "bad_party_id@lines[1].to"]);
  });

  it("leaves a body that is not an object to the schema: an ordinary issue, not the parser's", () => {
    for (const body of ["rule", 42, null, [], undefined]) {
      const result = RuleBodyInput.safeParse(body);
      expect(result.success).toBe(false);
      expect(result.error?.issues.map(ruleErrorsOf)).toEqual([null]);
    }
  });

  it("stops at the parser on a body nested far deeper than any rule, before zod walks it", () => {
    const result = RuleBodyInput.safeParse(nested(5000));
    expect(result.error?.issues[0] ? ruleErrorsOf(result.error.issues[0])?.[0]?.code : null).toBe("too_deep");
  });

  it("passes a valid rule through, its fields in the schema's order (amounts keep theirs)", () => {
    const body = { residual_to: "reserve", lines: [{ label: "le commun", share: { fixed: { jpy: 80, eur: 500 } }, to: "commons" }, { fallback: "reserve", share: "remaining", to: "contributors" }], basis: "net" };
    expect(JSON.stringify(RuleBodyInput.parse(body))).toBe(
      JSON.stringify({ basis: "net", lines: [{ to: "commons", share: { fixed: { jpy: 80, eur: 500 } }, label: "le commun" }, { to: "contributors", share: "remaining", fallback: "reserve" }], residual_to: "reserve" }),
    );
  });
});

function threeLetterCodes(count: number): string[] {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  return Array.from({ length: count }, (_, i) => `x${letters[Math.floor(i / 26)]}${letters[i % 26]}`);
}

// ---------------------------------------------------------------------------------------
// Random mutations: a valid rule with one place changed (a value replaced by something
// near-valid or random, a field removed or added, a line added or removed).

const NEAR_VALID: unknown[] = [
  "10%", "12,5%", "100%", "100.5%", "0%", "1/3", "4/3", "1/0", "remaining", "contributors", "commons", "reserve", "",
  "eur", "EUR", "le commun", "net", "gross", 0, -1, 1.5, 500, 2 ** 53, null, true, [], {},
  { fixed: { eur: 1 } }, { fixed: { EUR: 1 } }, { fixed: {} }, { group: [] }, { group: [{ to: "commons", share: "remaining" }] },
  { eur: 5 }, { eur: -5 }, [{ to: "commons", share: "remaining" }],
];
const FIELDS = ["to", "share", "max", "fallback", "label", "basis", "lines", "residual_to", "group", "fixed", "eur", "extra"];

const junkArb: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NEAR_VALID) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

type Container = Record<string, unknown> | unknown[];

function containersOf(value: unknown, found: Container[] = []): Container[] {
  if (typeof value === "object" && value !== null) {
    found.push(value as Container);
    for (const child of Object.values(value)) containersOf(child, found);
  }
  return found;
}

// Builders are passed to `g` once each: fc.gen caches arbitraries per builder and arguments.
const validRule = () => ruleJsonArb;
const junk = () => junkArb;

const mutatedRuleArb: fc.Arbitrary<unknown> = fc.gen().map((g) => {
  const body = structuredClone(g(validRule)) as unknown;
  const containers = containersOf(body);
  const target = containers[g(fc.integer, { min: 0, max: containers.length - 1 })] as Container;
  if (Array.isArray(target)) {
    const op = g(fc.constantFrom, "replace", "remove", "append");
    const index = g(fc.integer, { min: 0, max: Math.max(0, target.length - 1) });
    if (op === "remove") target.splice(index, 1);
    else if (op === "append") target.push(g(junk));
    else target[index] = g(junk);
  } else {
    const keys = Object.keys(target);
    const key = g(fc.constantFrom, ...(keys.length > 0 ? keys : FIELDS), ...FIELDS);
    if (g(fc.boolean)) delete target[key];
    else target[key] = g(junk);
  }
  return body;
});
