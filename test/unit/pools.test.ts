import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { distributeByNeed, medianReceived, needCap, solidarityTopUps, throttleNeeds, type DeclaredNeed, type LastPeriod } from "../../core/pools";

interface GoldenPool {
  name: string;
  income_minor: number;
  needs: [string, number | "auto"][];
  paid: number[];
  leftover_minor: number;
  carried_minor?: number;
}

const golden = JSON.parse(readFileSync(new URL("../golden/pools.json", import.meta.url), "utf8")) as GoldenPool[];

describe("golden pool distributions (test/golden/pools.json)", () => {
  it.each(golden.map((g) => [g.name, g] as const))("%s", (_name, g) => {
    const d = distributeByNeed(g.income_minor, g.needs.map(([party_id, need]) => ({ party_id, need })));
    expect(d.members.map((m) => m.paid_minor)).toEqual(g.paid);
    expect({ leftover: d.leftover_minor, carried: d.carried_minor }).toEqual({ leftover: g.leftover_minor, carried: g.carried_minor ?? 0 });
  });
});

describe("any distribution", () => {
  const needsArb = fc
    .uniqueArray(fc.record({ party_id: fc.constantFrom("a", "b", "c", "d", "e", "f"), need: fc.oneof(fc.nat({ max: 1_000_000 }), fc.constant("auto" as const)) }), { minLength: 1, maxLength: 6, selector: (n) => n.party_id })
    .map((needs) => needs as DeclaredNeed[]);

  it("pays nobody above their need, sums exactly to the income, and leaves a leftover >= 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 5_000_000 }), needsArb, (income, needs) => {
        const d = distributeByNeed(income, needs);
        const paid = d.members.reduce((a, m) => a + m.paid_minor, 0);
        expect(paid + d.leftover_minor + d.carried_minor).toBe(income);
        expect(d.leftover_minor).toBeGreaterThanOrEqual(0);
        for (const m of d.members) expect(m.paid_minor >= 0 && m.paid_minor <= m.need_minor).toBe(true);
        // Needs not all met: nothing is left over, and no one is paid more than a unit above their fair part.
        const wanted = needs.reduce((a, n) => a + (n.need === "auto" ? 0 : n.need), 0);
        if (income > 0 && income < wanted) {
          expect(d.leftover_minor).toBe(0);
          d.members.forEach((m) => expect(m.paid_minor * wanted <= income * m.need_minor + wanted).toBe(true));
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("the throttle", () => {
  const last: LastPeriod = { received: new Map([["ana", 100], ["ben", 400], ["cleo", 1_000]]), leftover_minor: 50 };

  it("lets a need rise to the largest of twice what was received, that plus the leftover, the median, and the floor", () => {
    expect(medianReceived(last)).toBe(400);
    expect(needCap("ana", last, 30)).toBe(400); // max(200, 150, 400, 30): the median
    expect(needCap("ben", last, 30)).toBe(800); // twice 400
    expect(needCap("cleo", last, 5_000)).toBe(5_000); // the floor
    expect(needCap("cleo", { ...last, leftover_minor: 1_500 }, 0)).toBe(2_500); // 1000 + the leftover
  });

  it("starts a newcomer at the floor, and marks a need above its cap as throttled", () => {
    expect(needCap("dan", last, 300)).toBe(300);
    const held = throttleNeeds([{ party_id: "ana", need: 10_000 }, { party_id: "ben", need: 300 }, { party_id: "dan", need: "auto" }], last, 300);
    expect(held.needs).toEqual([{ party_id: "ana", need: 400 }, { party_id: "ben", need: 300 }, { party_id: "dan", need: "auto" }]);
    expect([...held.throttled]).toEqual(["ana"]);
  });

  it("never holds a need below its cap, nor lets one above it", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 100_000 }), { maxLength: 5 }), fc.nat({ max: 50_000 }), fc.nat({ max: 200_000 }), fc.nat({ max: 10_000 }), (received, leftover, declared, floor) => {
        const before: LastPeriod = { received: new Map(received.map((r, i) => [`m${i}`, r])), leftover_minor: leftover };
        const { needs } = throttleNeeds([{ party_id: "m0", need: declared }], before, floor);
        const cap = needCap("m0", before, floor);
        expect(needs[0]?.need).toBe(Math.min(declared, cap));
        if (received.length > 0) expect(cap).toBeGreaterThanOrEqual(Math.max(2 * (received[0] ?? 0), floor));
      }),
    );
  });
});

describe("the solidarity floor", () => {
  it("tops up the least served first, towards the minimum and never above a need, within the budget", () => {
    const members = [
      { party_id: "ana", need_minor: 1_000, paid_minor: 100 },
      { party_id: "ben", need_minor: 200, paid_minor: 50 },
      { party_id: "cleo", need_minor: 1_000, paid_minor: 600 },
    ];
    // Ana is least served (0.10), then Ben (0.25); Cleo is above the minimum of 500.
    expect(Object.fromEntries(solidarityTopUps(members, 500, 10_000))).toEqual({ ana: 400, ben: 150 });
    expect(Object.fromEntries(solidarityTopUps(members, 500, 450))).toEqual({ ana: 400, ben: 50 });
  });
});
