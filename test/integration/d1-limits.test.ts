// D1 in production refuses a statement with more than 100 bound parameters; the local
// emulation is laxer. These tests put a strict D1 in front of the worker to prove that lists
// of ids are always looked up in chunks.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { inArray } from "drizzle-orm";
import { database } from "../../db/client";
import { offersByIds, offersForPayment } from "../../db/queries/catalog";
import { claimDueEvents, recordStarts, releaseClaims } from "../../db/queries/events";
import { offers } from "../../db/schema";
import app from "../../workers/app";
import { insertOffer } from "./helpers";

function strictD1(db: D1Database): D1Database {
  const checked = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop, receiver) {
        if (prop === "bind") {
          return (...values: unknown[]) => {
            if (values.length > 100) throw new Error(`D1: too many SQL variables (${values.length} > 100)`);
            return checked(target.bind(...values));
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") return (sql: string) => checked(target.prepare(sql));
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("lists longer than D1's 100 bound parameters", () => {
  it("GET /api/v1/offers lists all 150 offers within the parameter limit", async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `bulk-offer-${String(i).padStart(3, "0")}`);
    for (const id of ids) await insertOffer({ id, kind: "hosting", name: id });
    const res = await app.request("/api/v1/offers", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }, { ...env, DB: strictD1(env.DB) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { offers: { id: string }[] }).offers.map((o) => o.id)).toEqual(ids);
  });

  it("a payment's 120 prices find their offers at its time, in chunks, in one batch", async () => {
    const prices = (offer: string) => Array.from({ length: 60 }, (_, i) => `price_${offer}_${String(i).padStart(2, "0")}`);
    await insertOffer({ id: "many-a", kind: "training", name: "A", stripe_price_ids: prices("a") });
    await insertOffer({ id: "many-b", kind: "hosting", name: "B", stripe_price_ids: prices("b") });
    const strict = database(strictD1(env.DB));
    const found = await offersForPayment(strict, { priceIds: [...prices("a"), ...prices("b"), "price_nobody"], offerIds: ["many-b"] }, 0);
    expect([...found.listings.keys()]).toEqual([...prices("a"), ...prices("b")]);
    expect(found.listings.get("price_b_59")).toEqual([{ offer_id: "many-b", from_ms: 0, until_ms: null }]);
    expect([...found.offers.keys()].sort()).toEqual(["many-a", "many-b"]);
    const ids = Array.from({ length: 150 }, (_, i) => (i === 7 ? "many-a" : `absent-${i}`));
    expect([...(await offersByIds(strict, ids, 0)).keys()]).toEqual(["many-a"]);
  });

  it("the strict D1 used here does refuse a statement with 101 parameters, also one drizzle builds", async () => {
    const strict = strictD1(env.DB);
    expect(() => strict.prepare(`SELECT ${Array(101).fill("?").join(",")}`).bind(...Array(101).fill(1))).toThrow(/too many/);
    // The queries under test go through drizzle: it must reach the proxy's bind, or the tests above prove nothing.
    const ids = Array.from({ length: 101 }, (_, i) => `offer-${i}`);
    const refused = await database(strict).select().from(offers).where(inArray(offers.id, ids)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).cause).toEqual(new Error("D1: too many SQL variables (101 > 100)"));
    expect(await database(strict).select().from(offers).where(inArray(offers.id, ids.slice(0, 100)))).toEqual([]);
  });

  it("100 due events are claimed, recorded as started, and released, each within the parameter limit", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `evt_bulk_${i}`);
    await env.DB.batch(ids.map((id) => env.DB.prepare("INSERT OR IGNORE INTO stripe_events (id, type, status, payload, stripe_created_s, received_at_ms, updated_at_ms, due_at_ms) VALUES (?, 'invoice.paid', 'received', '{}', 0, 0, 0, 0)").bind(id)));
    const strict = database(strictD1(env.DB));
    const claimed = await claimDueEvents(strict, ids, 1000, 60_000);
    expect(claimed.map((c) => c.id).sort()).toEqual([...ids].sort());
    await recordStarts(strict, ids.slice(0, 60).map((id) => ({ id, run: 1 })), 1234, 1000);
    await releaseClaims(strict, ids.slice(60), 5);
    const started = await env.DB.prepare("SELECT count(*) AS n FROM stripe_events WHERE id LIKE 'evt_bulk_%' AND workflow_started_at_ms = 1234 AND workflow_runs = 1 AND due_at_ms = 2234").first<{ n: number }>();
    expect(started?.n).toBe(60);
    const released = await env.DB.prepare("SELECT count(*) AS n FROM stripe_events WHERE id LIKE 'evt_bulk_%' AND workflow_runs = 0 AND due_at_ms = 5").first<{ n: number }>();
    expect(released?.n).toBe(40);
  });
});
