import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, contentHash, effectiveFrom, etagOf, ifMatchAccepts, PAST_TOLERANCE_MS, versionInForce, versionStatus } from "../../core";

const NOW = Date.parse("2026-11-30T10:00:00.250Z");

describe("canonicalJson and contentHash", () => {
  it("write keys in sorted order at every depth and drop undefined values", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"f":1}]},"b":1}');
  });

  it("give the same hash to two rules that differ only in key order", async () => {
    const a = { basis: "net", lines: [{ to: "commons", share: "10%" }] };
    const b = { lines: [{ share: "10%", to: "commons" }], basis: "net" };
    expect(await contentHash(a)).toBe(await contentHash(b));
  });

  it("hash the canonical JSON with SHA-256, prefixed by the algorithm", async () => {
    // sha256 of the three bytes `{"a":1}` without spaces, computed independently with `printf '{"a":1}' | sha256sum`.
    expect(await contentHash({ a: 1 })).toBe("sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862");
  });

  it("tell apart rules that differ in any value", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (a, b) => {
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        expect(await contentHash(a)).not.toBe(await contentHash(b));
      }),
      { numRuns: 200 },
    );
  });
});

describe("etagOf and ifMatchAccepts", () => {
  const etag = etagOf({ version: 3, content_hash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" });

  it("name a version by its number and the first 16 hex digits of its hash, as a strong tag", () => {
    expect(etag).toBe('"v3-0123456789abcdef"');
  });

  it("accept the ETag itself, a list that holds it, or *", () => {
    expect(ifMatchAccepts(etag, etag)).toBe(true);
    expect(ifMatchAccepts(`"v2-aaaa", ${etag}`, etag)).toBe(true);
    expect(ifMatchAccepts("*", etag)).toBe(true);
  });

  it("refuse a stale tag and a weak tag of the same value", () => {
    expect(ifMatchAccepts('"v2-0123456789abcdef"', etag)).toBe(false);
    expect(ifMatchAccepts(`W/${etag}`, etag)).toBe(false);
  });
});

describe("effectiveFrom", () => {
  it("is now, rounded up to the next whole second, when no time is asked", () => {
    expect(effectiveFrom(undefined, NOW, 0)).toEqual({ ok: true, effective_from_ms: Date.parse("2026-11-30T10:00:01.000Z") });
  });

  it("keeps a whole second as it is", () => {
    const whole = Date.parse("2026-11-30T10:00:00.000Z");
    expect(effectiveFrom(undefined, whole, 0)).toEqual({ ok: true, effective_from_ms: whole });
  });

  it("takes a future time, rounded up to its second", () => {
    expect(effectiveFrom("2026-12-01T00:00:00.001Z", NOW, 0)).toEqual({ ok: true, effective_from_ms: Date.parse("2026-12-01T00:00:01.000Z") });
  });

  it("reads a time slightly in the past (clock skew) as now", () => {
    expect(effectiveFrom(new Date(NOW - PAST_TOLERANCE_MS).toISOString(), NOW, 0)).toEqual({ ok: true, effective_from_ms: Date.parse("2026-11-30T10:00:01.000Z") });
  });

  it("refuses a time further in the past: a rule is never retroactive", () => {
    expect(effectiveFrom(new Date(NOW - PAST_TOLERANCE_MS - 1).toISOString(), NOW, 0)).toEqual({ ok: false, code: "in_the_past", message: "is in the past: a rule never applies retroactively" });
  });

  it("refuses a time before the previous version takes effect, and defaults to that version's time", () => {
    const previous = Date.parse("2026-12-24T00:00:00.000Z");
    expect(effectiveFrom("2026-12-01T00:00:00Z", NOW, previous)).toEqual({ ok: false, code: "before_previous", message: "is before the previous version takes effect (2026-12-24T00:00:00.000Z)" });
    expect(effectiveFrom(undefined, NOW, previous)).toEqual({ ok: true, effective_from_ms: previous });
  });
});

describe("versionInForce and versionStatus", () => {
  const versions = [
    { version: 1, effective_from_ms: 1_000 },
    { version: 2, effective_from_ms: 2_000 },
    { version: 3, effective_from_ms: 3_000 },
  ];

  it("pick the last version whose time has come, none before the first", () => {
    expect(versionInForce(versions, 999)).toBeUndefined();
    expect(versionInForce(versions, 2_000)).toEqual({ version: 2, effective_from_ms: 2_000 });
    expect(versionInForce(versions, 10_000)).toEqual({ version: 3, effective_from_ms: 3_000 });
  });

  it("call earlier versions superseded and later ones scheduled", () => {
    expect([1, 2, 3].map((v) => versionStatus(v, 2))).toEqual(["superseded", "in_force", "scheduled"]);
    expect([1, 2].map((v) => versionStatus(v, null))).toEqual(["scheduled", "scheduled"]);
  });
});
