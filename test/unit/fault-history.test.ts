// The fault storm's history (test/faults/history.ts): a failing seed must replay exactly, and a
// history of N deliveries holds the share of duplicates the storm promises.
import { describe, expect, it } from "vitest";
import { buildHistory, type History } from "../faults/history";

/** What a history does, step by step, without the fresh ids the builders give each object. */
function shape(h: History): unknown[] {
  return h.timeline.map((e) => (e.kind === "store" ? ["store", e.objects.map((o) => o.object)] : ["deliver", e.event.type, e.copy]));
}

describe("the fault storm's history", () => {
  it("is the same for the same seed, and another for another seed", () => {
    const a = buildHistory(1671093946, 400);
    const b = buildHistory(1671093946, 400);
    expect(shape(a)).toEqual(shape(b));
    expect(a.deliveries).toEqual(b.deliveries);
    expect(a.payments.map((p) => p.kind)).toEqual(b.payments.map((p) => p.kind));
    expect(shape(buildHistory(1671093947, 400))).not.toEqual(shape(a));
  });

  it("has at least the deliveries asked for, about 30% of them duplicates (the same id resent, or a new id for the same object)", () => {
    const { deliveries } = buildHistory(42, 2_000);
    expect(deliveries.total).toBeGreaterThanOrEqual(2_000);
    expect(deliveries.original + deliveries.resent + deliveries.renamed).toBe(deliveries.total);
    expect(deliveries.resent).toBeGreaterThan(0);
    expect(deliveries.renamed).toBeGreaterThan(0);
    expect((deliveries.resent + deliveries.renamed) / deliveries.total).toBeGreaterThanOrEqual(0.28);
  });
});
