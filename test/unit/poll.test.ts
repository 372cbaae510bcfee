import { describe, expect, it } from "vitest";

import { poll } from "../../infra/scripts/poll";

/** A probe that answers `undefined`, or throws, until its `answerAt`-th call. */
function probeAnsweringAt(answerAt: number, before: "undefined" | "throw") {
  let calls = 0;
  const probe = async () => {
    calls += 1;
    if (calls >= answerAt) return `answer ${calls}`;
    if (before === "throw") throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:8787") });
    return undefined;
  };
  return { probe, calls: () => calls };
}

describe("poll", () => {
  it("returns the first answer and asks no more", async () => {
    const p = probeAnsweringAt(3, "undefined");
    await expect(poll("an answer", p.probe, { timeoutMs: 1_000, everyMs: 1 })).resolves.toBe("answer 3");
    expect(p.calls()).toBe(3);
  });

  it("takes a probe that throws for a 'not yet'", async () => {
    const p = probeAnsweringAt(2, "throw");
    await expect(poll("an answer", p.probe, { timeoutMs: 1_000, everyMs: 1 })).resolves.toBe("answer 2");
  });

  it("keeps a falsy answer other than undefined", async () => {
    await expect(poll("zero", async () => 0, { timeoutMs: 100 })).resolves.toBe(0);
  });

  it("gives up after the timeout, naming what it waited for and the last error with its cause", async () => {
    const p = probeAnsweringAt(Number.POSITIVE_INFINITY, "throw");
    const started = Date.now();
    await expect(poll("the worker's /health", p.probe, { timeoutMs: 200, everyMs: 20 })).rejects.toThrow(
      "timed out after 0.2 s waiting for the worker's /health (last error: fetch failed: connect ECONNREFUSED 127.0.0.1:8787)",
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(p.calls()).toBeGreaterThan(1);
  });

  it("waits everyMs between two probes", async () => {
    const p = probeAnsweringAt(3, "undefined");
    const started = Date.now();
    await poll("an answer", p.probe, { timeoutMs: 5_000, everyMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
