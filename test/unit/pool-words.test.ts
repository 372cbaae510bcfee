// A need pool's close as anyone reads it (core/pool-words.ts): test/golden/pool-words.json, a
// close as written → what the public page and GET /api/v1/public/flows show, and its words in
// English and French, exactly; and properties: a member who chose not to be named is never named
// nor identified, whatever the close, and the figures are the close's own.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError, poolCloseInWords, publicPoolClose, type PoolCloseRecord, type PoolWordsParty, type PublicPoolClose } from "../../core";

interface GoldenCase {
  name: string;
  parties: Record<string, PoolWordsParty>;
  record: PoolCloseRecord;
  expected: PublicPoolClose;
  en: string;
  fr: string;
}

const cases = JSON.parse(readFileSync(new URL("../golden/pool-words.json", import.meta.url), "utf8")) as GoldenCase[];

describe("a pool's close for the public (test/golden/pool-words.json)", () => {
  it("has cases to run, the demo's month first", () => {
    expect(cases.length).toBeGreaterThanOrEqual(7);
    expect(cases[0]?.en).toContain("the €166.12 left over went to the reserve");
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, golden) => {
    const shown = publicPoolClose(golden.record, new Map(Object.entries(golden.parties)));
    expect(shown).toEqual(golden.expected);
    expect(poolCloseInWords(shown, "en")).toBe(golden.en);
    expect(poolCloseInWords(shown, "fr")).toBe(golden.fr);
  });

  it("refuses a close that names a party it was not given, and one that does not add up", () => {
    const golden = cases[0] as GoldenCase;
    expect(() => publicPoolClose(golden.record, new Map())).toThrow(InvariantError);
    expect(() => publicPoolClose({ ...golden.record, leftover_minor: golden.record.leftover_minor + 1 }, new Map(Object.entries(golden.parties)))).toThrow(InvariantError);
  });
});

describe("a member who chose not to be named", () => {
  const hiddenName = "Zoé Secrète";
  const parties = new Map<string, PoolWordsParty>([
    ["reserve", { kind: "reserve", name: "Réserve", public: false }],
    ["shown", { kind: "contributor", name: "Camille", public: true }],
    ["zoe-hidden", { kind: "contributor", name: hiddenName, public: false }],
  ]);

  it("is never named nor given an id, in the figures or the words, whatever the close", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ need: fc.integer({ min: 0, max: 1_000_000 }), share: fc.integer({ min: 0, max: 1_000_000 }), throttled: fc.boolean() }), { minLength: 2, maxLength: 2 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom("reserve", "zoe-hidden", "shown"),
        ([a, b], leftover, leftoverTo) => {
          const members = [
            { party_id: "shown", need_minor: a?.need ?? 0, paid_minor: a?.share ?? 0, topup_minor: 0, throttled: a?.throttled ?? false },
            { party_id: "zoe-hidden", need_minor: b?.need ?? 0, paid_minor: b?.share ?? 0, topup_minor: 0, throttled: b?.throttled ?? false },
          ];
          const income = members.reduce((s, m) => s + m.paid_minor, 0) + leftover;
          const record: PoolCloseRecord = { pool_id: "p", pool_name: "Pool", period: "2026-10", currency: "eur", income_minor: income, leftover_minor: leftover, leftover_to: leftoverTo, carried_minor: 0, topups_minor: 0, members };
          const shown = publicPoolClose(record, parties);
          const text = JSON.stringify(shown) + poolCloseInWords(shown, "en") + poolCloseInWords(shown, "fr");
          expect(text).not.toContain("zoe-hidden");
          expect(text).not.toContain(hiddenName);
          // Every amount is the close's own: what the members received and the leftover make the income.
          expect(shown.distributed_minor + shown.leftover_minor).toBe(income);
          expect(shown.members.map((m) => m.received_minor).sort((x, y) => x - y)).toEqual(members.map((m) => m.paid_minor).sort((x, y) => x - y));
          expect(shown.members.filter((m) => m.name === null)).toHaveLength(1);
        },
      ),
    );
  });
});
