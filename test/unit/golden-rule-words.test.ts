// Runs test/golden/rule-words.json: a rule, its scope and the parties it may name → the words a
// member reads, in English and in French, exactly. French typography is in the strings: a
// narrow no-break space (U+202F) before "%" and ";" and between thousands, a no-break space
// (U+00A0) before ":" and "€" and inside « ».
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseRule, ruleInWords, type RuleInWords, type WordsParty, type WordsScope } from "../../core";

interface GoldenCase {
  name: string;
  scope: WordsScope;
  parties: Record<string, WordsParty>;
  rule: unknown;
  en: RuleInWords;
  fr: RuleInWords;
}

const cases = JSON.parse(readFileSync(new URL("../golden/rule-words.json", import.meta.url), "utf8")) as GoldenCase[];

describe("rules in plain words (test/golden/rule-words.json)", () => {
  it("has cases to run, the issue's example first", () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    expect(cases[0]?.en.sentence).toBe("On every training, after Stripe's fee: 10% to the commons, 15% to the reserve, the rest to the training's facilitators and authors by weight.");
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, golden) => {
    const parsed = parseRule(golden.rule);
    if (!parsed.ok) throw new Error(`golden rule does not parse: ${JSON.stringify(parsed.errors)}`);
    const ctx = { scope: golden.scope, parties: new Map(Object.entries(golden.parties)) };
    expect(ruleInWords(parsed.rule, ctx, "en")).toEqual(golden.en);
    expect(ruleInWords(parsed.rule, ctx, "fr")).toEqual(golden.fr);
  });

  it("never writes the name of a contributor who chose not to be named, wherever the rule names them", () => {
    const parsed = parseRule({ basis: "net", residual_to: "hidden", lines: [{ to: "hidden", share: "10%" }, { to: { group: [{ to: "hidden", share: "remaining" }] }, share: "remaining" }] });
    if (!parsed.ok) throw new Error("does not parse");
    const ctx = { scope: { default: true } as const, parties: new Map([["hidden", { kind: "contributor" as const, name: "Dominique Secret", public: false }]]) };
    for (const lang of ["en", "fr"] as const) {
      const words = ruleInWords(parsed.rule, ctx, lang);
      expect(JSON.stringify(words)).not.toContain("Dominique");
      expect(JSON.stringify(words)).not.toContain("hidden");
    }
  });
});
