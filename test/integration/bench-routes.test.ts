import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "../../workers/app";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { call, signed } from "./helpers";

const ROUTES = [
  ["POST", "/__bench/floor"],
  ["GET", "/__bench/meter"],
  ["POST", "/__bench/meter/reset"],
] as const;

async function signedFloorRequest(): Promise<RequestInit> {
  const payload = JSON.stringify(buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "price_training_intro" }).event);
  return { method: "POST", headers: { "stripe-signature": await signed(payload) }, body: payload };
}

async function storedEvents(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM stripe_events").first<{ n: number }>())?.n ?? 0;
}

describe("the bench's routes", () => {
  it.each(ROUTES)("%s %s answers 404 no such route when BENCH is not set, as in production", async (method, path) => {
    const init = method === "POST" && path === "/__bench/floor" ? await signedFloorRequest() : { method };
    const res = await call(path, init);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found", detail: "no such route" });
    expect(await storedEvents()).toBe(0);
  });

  it("are a 404 with BENCH=1 next to a live Stripe key", async () => {
    const res = await app.request("/__bench/meter", {}, { ...env, BENCH: "1", STRIPE_SECRET_KEY: "sk_live_x", ADMIN_TOKEN: "x".repeat(40) });
    expect(res.status).toBe(404);
  });

  it("with BENCH=1, the floor verifies the signature and stores the event as ignored, and nothing else", async () => {
    const res = await app.request("/__bench/floor", await signedFloorRequest(), { ...env, BENCH: "1" });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    expect(await env.DB.prepare("SELECT status, workflow_runs, due_at_ms FROM stripe_events WHERE id = ?").bind(id).first()).toEqual({ status: "ignored", workflow_runs: 0, due_at_ms: null });
    const forged = await app.request("/__bench/floor", { method: "POST", headers: { "stripe-signature": "t=1,v1=00" }, body: "{}" }, { ...env, BENCH: "1" });
    expect(forged.status).toBe(400);
  });
});
