// The demo seed (infra/seed.ts): written through the admin API, safe to run again, and with two
// hosting plans so that a change of plan can be tried locally.
import { afterEach, describe, expect, it, vi } from "vitest";

import { DEMO_PAYMENTS, demoPaidAtS } from "../../infra/demo";
import { DEMO_RULE, demoRulesSql, seed } from "../../infra/seed";

interface Posted {
  path: string;
  body: Record<string, any>;
}

/** A fake admin API: 201 for what is new, 409 for an id it already holds; rules in force at once. */
function fakeApi() {
  const ids = new Set<string>();
  const posted: Posted[] = [];
  const fetchFn = vi.fn(async (url: string | URL, init?: RequestInit) => {
    const u = new URL(String(url));
    expect(new Headers(init?.headers).get("authorization")).toBe("Bearer tok");
    if ((init?.method ?? "GET") === "GET") return Response.json({ current: { version: 1 } });
    const body = JSON.parse(String(init?.body)) as Record<string, any>;
    posted.push({ path: u.pathname, body });
    const key = `${u.pathname}/${body.id}`;
    if (ids.has(key)) return Response.json({ code: "conflict" }, { status: 409 });
    ids.add(key);
    return Response.json(body, { status: 201 });
  });
  return { posted, fetchFn };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the demo seed", () => {
  it("creates a second hosting offer, hosting-plus with price_hosting_plus and its own contributor, after that contributor", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.fetchFn);
    const log: string[] = [];
    await seed("http://api", "tok", (l) => log.push(l));
    const offers = api.posted.filter((p) => p.path === "/api/v1/offers").map((p) => p.body);
    expect(offers.map((o) => [o.id, o.kind, o.stripe_price_ids])).toEqual([
      ["training-intro", "training", ["price_training_intro"]],
      ["hosting-basic", "hosting", ["price_hosting_basic"]],
      ["hosting-plus", "hosting", ["price_hosting_plus"]],
    ]);
    const plus = offers.find((o) => o.id === "hosting-plus")!;
    expect(plus.contributors).toEqual([{ party_id: "alix", weight: 1, role: "host" }]);
    const parties = api.posted.filter((p) => p.path === "/api/v1/parties").map((p) => p.body.id);
    expect(parties).toContain("alix");
    // every party is posted before the offers that name it
    const firstOffer = api.posted.findIndex((p) => p.path === "/api/v1/offers");
    expect(api.posted.findIndex((p) => p.body.id === "alix")).toBeLessThan(firstOffer);
    expect(log).toContain("offer hosting-plus: created");
  });

  it("run again, keeps what exists and creates nothing twice", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.fetchFn);
    await seed("http://api", "tok", () => {});
    const again: string[] = [];
    await seed("http://api", "tok", (l) => again.push(l));
    expect(again.filter((l) => !l.endsWith(": kept"))).toEqual([]);
    expect(again).toContain("offer hosting-plus: kept");
  });
});

describe("the demo data of npm start", () => {
  const NOW = Date.parse("2026-11-20T12:00:00Z");

  it("names Camille and Dominique on the public page, and not Sacha or Alix", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.fetchFn);
    await seed("http://api", "tok", () => {});
    const publics = Object.fromEntries(api.posted.filter((p) => p.path === "/api/v1/parties").map((p) => [p.body.id, p.body.public === true]));
    expect(publics).toEqual({ commons: false, reserve: false, camille: true, dominique: true, sacha: false, alix: false });
  });

  it("writes its rule history with past dates, each version audited as demo-seed, the current default being the README's 10/15/rest", async () => {
    const sql = await demoRulesSql(NOW);
    const versions = [...sql.matchAll(/INSERT INTO rule_versions \(.*?\) VALUES \('(\w+)', (\d+), (\d+), '(.*?)', 'sha256:[0-9a-f]{64}', 'demo-seed'/g)].map((m) => [m[1], Number(m[2]), new Date(Number(m[3])).toISOString(), JSON.parse(m[4] ?? "")]);
    expect(versions).toEqual([
      ["default", 1, "2026-08-01T00:00:00.000Z", { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "10%" }, { to: "contributors", share: "remaining" }] }],
      ["default", 2, "2026-10-01T00:00:00.000Z", DEMO_RULE],
      ["trainings", 1, "2026-08-01T00:00:00.000Z", DEMO_RULE],
    ]);
    const audits = [...sql.matchAll(/INSERT INTO audit_log \(at_ms, actor, action, entity_type, entity_id, before, after\) VALUES \((\d+), '(.*?)', '(.*?)', 'rule', '(\w+)'/g)].map((m) => [Number(m[1]), m[2], m[3], m[4]]);
    expect(audits).toEqual([
      [NOW, "demo-seed", "rule.create", "default"],
      [NOW, "demo-seed", "rule.version", "default"],
      [NOW, "demo-seed", "rule.create", "trainings"],
    ]);
    expect(sql).toContain("the API refuses a past date");
  });

  it("places the demo payments in the months before now, never in the last hour or the future", () => {
    const paid = DEMO_PAYMENTS.map((p) => demoPaidAtS(p, NOW));
    expect(paid.filter((s) => s !== null).length).toBe(DEMO_PAYMENTS.length);
    expect(new Date((paid[0] ?? 0) * 1000).toISOString()).toBe("2026-08-08T10:00:00.000Z");
    for (const s of paid) expect((s ?? 0) * 1000).toBeLessThanOrEqual(NOW - 3_600_000);
    // On the first of a month at 10:30, this month's payments are not yet due: none is in the future.
    const early = Date.parse("2026-12-01T10:30:00Z");
    expect(DEMO_PAYMENTS.filter((p) => p.months_ago === 0).map((p) => demoPaidAtS(p, early))).toEqual([null, null]);
  });
});
