import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { poolPeriodBounds, poolPeriodOf, previousPoolPeriod } from "../../core/periods";
import { distributeByNeed, medianReceived, needCap, planClose, solidarityTopUps, throttleNeeds, type CloseMember, type DeclaredNeed, type LastPeriod } from "../../core/pools";

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

  it("holds nobody at a pool's first close, and starts a newcomer at the median when the pool sets no floor", () => {
    expect(needCap("ana", null, 300)).toBeNull();
    expect(throttleNeeds([{ party_id: "ana", need: 1_000_000 }], null, 0).throttled.size).toBe(0);
    expect(needCap("dan", last, null)).toBe(400);
    expect(needCap("ana", last, null)).toBe(400);
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
        expect(cap).not.toBeNull();
        expect(needs[0]?.need).toBe(Math.min(declared, cap ?? Infinity));
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

describe("a close", () => {
  const last: LastPeriod = { received: new Map([["ana", 2_000], ["ben", 8_000], ["cleo", 0]]), leftover_minor: 0 };

  it("throttles, distributes by need, tops up from the reserve, and explains each member", () => {
    const members: CloseMember[] = [
      { party_id: "ana", declared: 10_000 }, // cap max(4000, 2000, 2000, 1000) = 4000: throttled
      { party_id: "ben", declared: 8_000 },
      { party_id: "cleo", declared: null }, // declared nothing: a need of 0
      { party_id: "dan", declared: 5_000 }, // a newcomer: the floor, 1000
    ];
    const plan = planClose({ income_minor: 6_500, members, last, floor_minor: 1_000, solidarity: { minimum_minor: 1_000, budget_minor: 300 } });
    // Needs 4000 + 8000 + 0 + 1000 = 13000 over 6500: half each.
    expect(plan.members.map((m) => [m.party_id, m.cap_minor, m.need_minor, m.paid_minor, m.topup_minor, m.throttled])).toEqual([
      ["ana", 4_000, 4_000, 2_000, 0, true],
      ["ben", 16_000, 8_000, 4_000, 0, false],
      ["cleo", 2_000, 0, 0, 0, false],
      ["dan", 1_000, 1_000, 500, 300, true],
    ]);
    expect({ leftover: plan.leftover_minor, carried: plan.carried_minor, topups: plan.topups_minor }).toEqual({ leftover: 0, carried: 0, topups: 300 });
  });

  it("carries a negative income and pays nobody from the pool, whatever the needs", () => {
    const plan = planClose({ income_minor: -700, members: [{ party_id: "ana", declared: 500 }], last: null, floor_minor: null });
    expect(plan.members[0]).toMatchObject({ paid_minor: 0, topup_minor: 0, cap_minor: null });
    expect(plan.carried_minor).toBe(-700);
  });

  it("never pays a member above their need nor the reserve above its budget, and sums exactly", () => {
    const memberArb = fc.record({ party_id: fc.constantFrom("a", "b", "c", "d", "e"), declared: fc.oneof(fc.nat({ max: 50_000 }), fc.constant("auto" as const), fc.constant(null)) });
    fc.assert(
      fc.property(
        fc.integer({ min: -5_000, max: 200_000 }),
        fc.uniqueArray(memberArb, { minLength: 1, maxLength: 5, selector: (m) => m.party_id }),
        fc.option(fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "z"), fc.nat({ max: 40_000 })), { maxLength: 4 })),
        fc.option(fc.nat({ max: 10_000 })),
        fc.nat({ max: 5_000 }),
        fc.nat({ max: 5_000 }),
        (income, members, history, floor, minimum, budget) => {
          const before = history === null ? null : { received: new Map(history), leftover_minor: 0 };
          const plan = planClose({ income_minor: income, members, last: before, floor_minor: floor, solidarity: { minimum_minor: minimum, budget_minor: budget } });
          const paid = plan.members.reduce((a, m) => a + m.paid_minor, 0);
          expect(paid + plan.leftover_minor + plan.carried_minor).toBe(income);
          expect(plan.leftover_minor).toBeGreaterThanOrEqual(0);
          expect(plan.topups_minor).toBeLessThanOrEqual(budget);
          for (const m of plan.members) {
            expect(m.paid_minor + m.topup_minor).toBeLessThanOrEqual(m.need_minor);
            if (m.declared !== "auto" && m.cap_minor !== null) expect(m.need_minor).toBeLessThanOrEqual(m.cap_minor);
            expect(m.throttled).toBe(typeof m.declared === "number" && m.cap_minor !== null && m.declared > m.cap_minor);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("periods", () => {
  it("labels months, ISO weeks and quarters in UTC, and bounds them", () => {
    const at = Date.UTC(2026, 10, 30, 23, 59); // Monday 30 November 2026
    expect([poolPeriodOf("month", at), poolPeriodOf("quarter", at), poolPeriodOf("week", at)]).toEqual(["2026-11", "2026-Q4", "2026-W49"]);
    expect(poolPeriodOf("week", Date.UTC(2027, 0, 1))).toBe("2026-W53"); // a Friday in the last ISO week of 2026
    expect(poolPeriodOf("week", Date.UTC(2024, 11, 30))).toBe("2025-W01");
    expect(poolPeriodBounds("month", "2026-12")).toEqual({ start_ms: Date.UTC(2026, 11, 1), end_ms: Date.UTC(2027, 0, 1) });
    expect(poolPeriodBounds("week", "2025-W53")).toBeNull();
    expect(poolPeriodBounds("month", "2026-13")).toBeNull();
    expect(previousPoolPeriod("month", Date.UTC(2026, 0, 3))).toBe("2025-12");
    expect(previousPoolPeriod("quarter", Date.UTC(2026, 3, 1))).toBe("2026-Q1");
  });

  it("puts every instant in the period its label bounds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), fc.constantFrom("month" as const, "week" as const, "quarter" as const), (ms, kind) => {
        const bounds = poolPeriodBounds(kind, poolPeriodOf(kind, ms));
        expect(bounds).not.toBeNull();
        expect(bounds!.start_ms <= ms && ms < bounds!.end_ms).toBe(true);
        expect(poolPeriodOf(kind, bounds!.end_ms)).not.toBe(poolPeriodOf(kind, ms));
      }),
    );
  });
});
