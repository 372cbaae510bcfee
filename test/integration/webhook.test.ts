import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildEvent, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { call, deliver, signed } from "./helpers";
import { introspectWorkflowInstance } from "cloudflare:test";
import { sweepDueEvents } from "../../workflows/start";

async function storedEvents(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM stripe_events").first<{ n: number }>())?.n ?? 0;
}

async function problem(res: Response) {
  expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
  return (await res.json()) as { code: string; detail: string; status: number };
}

describe("POST /webhooks/stripe", () => {
  const event = () => buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "price_training_intro" }).event;

  it("refuses a request without a signature, and stores nothing", async () => {
    const before = await storedEvents();
    const res = await call("/webhooks/stripe", { method: "POST", body: JSON.stringify(event()) });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: "invalid_signature" });
    expect(await storedEvents()).toBe(before);
  });

  it("refuses a signature made with another secret", async () => {
    const before = await storedEvents();
    const res = await deliver(event(), { secret: "whsec_someone_else" });
    expect(res.status).toBe(400);
    expect((await problem(res)).detail).toMatch(/signature/i);
    expect(await storedEvents()).toBe(before);
  });

  it("refuses a body changed after signing", async () => {
    const e = event();
    const header = await signed(JSON.stringify(e));
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": header }, body: JSON.stringify({ ...e, id: "evt_forged" }) });
    expect(res.status).toBe(400);
  });

  it("refuses a signature older than the 300 s tolerance", async () => {
    const res = await deliver(event(), { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(res.status).toBe(400);
    expect((await problem(res)).detail).toMatch(/tolerance|timestamp/i);
  });

  it("refuses a signed body that is not a Stripe event", async () => {
    const before = await storedEvents();
    const res = await deliver({ hello: "world" });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: "invalid_event" });
    const notJson = "not json at all";
    const res2 = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": await signed(notJson) }, body: notJson });
    expect(res2.status).toBe(400);
    expect(await storedEvents()).toBe(before);
  });

  it("refuses a body far larger than any Stripe event with 413", async () => {
    const huge = JSON.stringify({ ...event(), padding: "x".repeat(600 * 1024) });
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": await signed(huge) }, body: huge });
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({ code: "payload_too_large" });
  });

  it("stores an event type it does not handle as ignored, and acknowledges it", async () => {
    const e = buildEvent("customer.created", { id: "cus_123", object: "customer" });
    const res = await deliver(e);
    expect(res.status).toBe(200);
    const row = await env.DB.prepare("SELECT status, reason, payload FROM stripe_events WHERE id = ?").bind(e.id).first<{ status: string; reason: string; payload: string }>();
    expect(row).toMatchObject({ status: "ignored", reason: expect.stringMatching(/not handled/) });
    expect(JSON.parse(row?.payload ?? "{}").id).toBe(e.id);
  });

  it("acknowledges a handled event without waiting for Stripe, even when Stripe is failing", async () => {
    const e = event();
    await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ status: 500, times: 1000 }) });
    try {
      const res = await deliver(e);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ received: true, status: "received" });
    } finally {
      await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/faults", { method: "DELETE" });
    }
  });

  it("stores a handled event raw before acknowledging it", async () => {
    const e = event();
    const res = await deliver(e);
    expect(res.status).toBe(200);
    const row = await env.DB.prepare("SELECT type, object_id, payload FROM stripe_events WHERE id = ?").bind(e.id).first<{ type: string; object_id: string; payload: string }>();
    expect(row).toMatchObject({ type: "checkout.session.completed", object_id: (e.data.object as { id: string }).id, payload: JSON.stringify(e) });
  });
});

describe("the scheduled sweep", () => {
  it("queues events that were stored but never started; the queue's consumer starts them once", async () => {
    const e = event();
    const payload = JSON.stringify(e);
    await env.DB.prepare("INSERT INTO stripe_events (id, type, object_id, status, payload, stripe_created_s, received_at_ms, updated_at_ms, due_at_ms) VALUES (?, ?, ?, 'received', ?, ?, ?, ?, ?)")
      .bind(e.id, e.type, (e.data.object as { id: string }).id, payload, e.created, Date.now() - 120_000, Date.now() - 120_000, Date.now() - 120_000)
      .run();
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, e.id);
    expect(await sweepDueEvents(env)).toBeGreaterThanOrEqual(1);
    await instance.waitForStatus("complete");
    const row = await env.DB.prepare("SELECT workflow_started_at_ms, workflow_runs, due_at_ms FROM stripe_events WHERE id = ?").bind(e.id).first<{ workflow_started_at_ms: number; workflow_runs: number; due_at_ms: number | null }>();
    expect(row?.workflow_started_at_ms).toBeGreaterThan(0);
    expect(row?.workflow_runs).toBe(1);
    const due = await env.DB.prepare("SELECT count(*) AS n FROM stripe_events WHERE id = ? AND due_at_ms IS NOT NULL").bind(e.id).first<{ n: number }>();
    expect(due?.n).toBe(0);
  });

  function event() {
    return buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "price_training_intro" }).event;
  }
});

describe("GET /health", () => {
  it("answers without a token", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
