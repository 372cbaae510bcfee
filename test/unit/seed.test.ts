// The demo seed (infra/seed.ts): written through the admin API, safe to run again, and with two
// hosting plans so that a change of plan can be tried locally.
import { afterEach, describe, expect, it, vi } from "vitest";

import { seed } from "../../infra/seed";

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
