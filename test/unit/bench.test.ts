// The bench's own arithmetic and its D1 meter: what its numbers are made of.
import { describe, expect, it } from "vitest";
import { lastWholeMonth } from "../../bench/queries";
import { maxInWindow, percentile, perSecond, ratio, shuffled } from "../../bench/stats";
import { benchEnabled, meteredEnv, meterSnapshot, resetMeter, resultColumnCount } from "../../workflows/bench-meter";
import type { Env } from "../../workflows/env";

describe("the bench's statistics", () => {
  it("take percentiles by nearest rank", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(samples, 0)).toThrow();
  });

  it("count rates per second and ratios to the baseline", () => {
    expect(perSecond(300, 1_500)).toBe(200);
    expect(ratio(13, 10)).toBe(1.3);
    expect(ratio(1, 0)).toBeNaN();
    expect(() => perSecond(1, 0)).toThrow();
  });

  it("find the most events within any one-second window", () => {
    expect(maxInWindow([0, 10, 999, 1_000, 1_500, 1_998, 1_999], 1_000)).toBe(4);
    expect(maxInWindow([], 1_000)).toBe(0);
  });

  it("mix two kinds of request in an order drawn from a seed: every one kept, the same order for the same seed", () => {
    const items = Array.from({ length: 50 }, (_, i) => (i < 25 ? `real ${i}` : `floor ${i}`));
    const once = shuffled(items, 16);
    expect([...once].sort()).toEqual([...items].sort());
    expect(shuffled(items, 16)).toEqual(once);
    expect(once).not.toEqual(items);
  });

  it("time the last whole calendar month before now, both days included", () => {
    expect(lastWholeMonth(Date.UTC(2026, 2, 1, 0, 0, 1))).toMatchObject({ from: "2026-02-01", to: "2026-02-28" });
    expect(lastWholeMonth(Date.UTC(2026, 0, 15))).toMatchObject({ from: "2025-12-01", to: "2025-12-31", until_ms: Date.UTC(2026, 0, 1) });
  });
});

describe("the D1 meter", () => {
  it("counts the columns a statement answers, as drizzle writes them", () => {
    expect(resultColumnCount('select "id", "status" from "stripe_events" where "stripe_events"."id" = ?')).toBe(2);
    expect(resultColumnCount('select "a"."id", coalesce(sum("x"), 0), (select max("v") from "t" where "t"."k" in (?, ?)) from "a"')).toBe(3);
    expect(resultColumnCount("select 'a, b from c', \"from\" from t")).toBe(2);
    expect(resultColumnCount('update "stripe_events" set "status" = ? where "id" = ? returning "id", "workflow_runs"')).toBe(2);
    expect(resultColumnCount('insert into "postings" ("a", "b") values (?, ?)')).toBeNull();
  });

  const fakeD1 = (results: Record<string, unknown>[]) =>
    ({
      prepare: (sql: string) => {
        const statement = {
          sql,
          bind: () => statement,
          all: async () => ({ results, success: true, meta: { rows_read: 7, rows_written: 2 } }),
          raw: async () => results.map((r) => Object.values(r)),
          run: async () => ({ results: [], success: true, meta: { rows_read: 1, rows_written: 1 } }),
        };
        return statement;
      },
      batch: async (statements: unknown[]) => statements.map(() => ({ results: [], success: true, meta: { rows_read: 1, rows_written: 3 } })),
    }) as unknown as D1Database;

  const env = (DB: D1Database, overrides: Partial<Env> = {}) => ({ DB, BENCH: "1", STRIPE_SECRET_KEY: "sk_test_x", ...overrides }) as unknown as Env;

  it("reads raw() rows through all(), in column order, and counts the rows D1 reports", async () => {
    resetMeter();
    const db = meteredEnv(env(fakeD1([{ id: "evt_1", n: 2 }]))).DB;
    expect(await db.prepare('select "id", "n" from "t"').bind(1).raw()).toEqual([["evt_1", 2]]);
    await db.batch([db.prepare("insert into t values (1)"), db.prepare("insert into t values (2)")]);
    expect(meterSnapshot()).toMatchObject({ d1_statements: 3, d1_round_trips: 2, rows_read: 9, rows_written: 8, results_without_meta: 0 });
  });

  it("stops rather than hand back raw() rows whose columns share a name", async () => {
    const db = meteredEnv(env(fakeD1([{ id: "txn_1" }]))).DB;
    await expect(db.prepare('select "postings"."id", "ledger_transactions"."id" from "postings"').raw()).rejects.toThrow(/distinctly named/);
  });

  it("is off, and the binding untouched, without BENCH=1 or next to a live key", () => {
    const d1 = fakeD1([]);
    expect(meteredEnv(env(d1, { BENCH: undefined })).DB).toBe(d1);
    expect(benchEnabled({ BENCH: "1", STRIPE_SECRET_KEY: "rk_live_x" })).toBe(false);
    expect(benchEnabled({ BENCH: "1", STRIPE_SECRET_KEY: "sk_test_x" })).toBe(true);
  });
});
