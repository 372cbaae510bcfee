import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildEvent, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { call, deliver, eventStatus, putStripeObjects, seedCatalog, setClock, signed, stripeFault } from "./helpers";
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

  it("refuses a request without a signature with 400 invalid_signature, and stores nothing", async () => {
    const res = await call("/webhooks/stripe", { method: "POST", body: JSON.stringify(event()) });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: "invalid_signature" });
    expect(await storedEvents()).toBe(0);
  });

  it("refuses a signature made with another secret with 400, and stores nothing", async () => {
    const res = await deliver(event(), { secret: "whsec_someone_else" });
    expect(res.status).toBe(400);
    expect((await problem(res)).detail).toMatch(/signature/i);
    expect(await storedEvents()).toBe(0);
  });

  it("refuses a body changed after signing with 400 invalid_signature, and stores nothing", async () => {
    const e = event();
    const header = await signed(JSON.stringify(e));
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": header }, body: JSON.stringify({ ...e, id: "evt_forged" }) });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: "invalid_signature" });
    expect(await storedEvents()).toBe(0);
  });

  it("refuses a signature 301 s old, past the 300 s tolerance, and accepts one 299 s old", async () => {
    setClock("2031-03-12T09:00:00.000Z");
    const now_s = Math.floor(Date.now() / 1000);
    const res = await deliver(event(), { timestamp: now_s - 301 });
    expect(res.status).toBe(400);
    expect((await problem(res)).detail).toMatch(/tolerance|timestamp/i);
    expect(await storedEvents()).toBe(0);
    const ignored = buildEvent("customer.created", { id: "cus_tolerance", object: "customer" });
    expect((await deliver(ignored, { timestamp: now_s - 299 })).status).toBe(200);
  });

  it("refuses a signed body that is not a Stripe event, or not JSON, with 400, and stores nothing", async () => {
    const res = await deliver({ hello: "world" });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: "invalid_event" });
    const notJson = "not json at all";
    const res2 = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": await signed(notJson) }, body: notJson });
    expect(res2.status).toBe(400);
    expect(await storedEvents()).toBe(0);
  });

  it("refuses a signed body that is JSON but not an object (null, a number, a string, an array) with 400 invalid_event, not a 500 (found by fuzzing)", async () => {
    for (const body of ["null", "1", '"evt_1"', "[]", "[{}]"]) {
      const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": await signed(body), "content-type": "application/json" }, body });
      expect(res.status, body).toBe(400);
      expect(await problem(res), body).toMatchObject({ code: "invalid_event" });
    }
    expect(await storedEvents()).toBe(0);
  });

  it("refuses a signed event whose id is not a Stripe event id with 400 invalid_event: it could never name a workflow instance (found by fuzzing)", async () => {
    const e = event();
    for (const id of ["", "evt_", "evt bad; id", "evt_é", `evt_${"a".repeat(81)}`, "cs_123"]) {
      const res = await deliver({ ...e, id });
      expect(res.status, id).toBe(400);
      expect(await problem(res), id).toMatchObject({ code: "invalid_event", detail: "the body is signed but its id is not a Stripe event id (evt_ and up to 80 letters, digits or _)" });
    }
    expect(await storedEvents()).toBe(0);
    expect((await deliver({ ...buildEvent("customer.created", { id: "cus_longest", object: "customer" }), id: `evt_${"a".repeat(80)}` })).status).toBe(200);
  });

  it("refuses a body far larger than any Stripe event with 413", async () => {
    const huge = JSON.stringify({ ...event(), padding: "x".repeat(600 * 1024) });
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": await signed(huge) }, body: huge });
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({ code: "payload_too_large" });
    expect(await storedEvents()).toBe(0);
  });

  it("stores an event type it does not handle as ignored, and acknowledges it", async () => {
    const e = buildEvent("customer.created", { id: "cus_123", object: "customer" });
    const res = await deliver(e);
    expect(res.status).toBe(200);
    const row = await env.DB.prepare("SELECT status, reason, payload FROM stripe_events WHERE id = ?").bind(e.id).first<{ status: string; reason: string; payload: string }>();
    expect(row).toMatchObject({ status: "ignored", reason: "event type customer.created is not handled" });
    expect(JSON.parse(row?.payload ?? "{}").id).toBe(e.id);
  });

  it("acknowledges a handled event without waiting for Stripe, even when Stripe is failing", async () => {
    const built = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    // Every read of this payment's session fails, for longer than the workflow retries.
    await stripeFault(`/v1/checkout/sessions/${built.session.id}`, 500, 1000);
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, built.event.id);
    await instance.modify(async (m) => m.disableRetryDelays());
    const res = await deliver(built.event);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, id: built.event.id, status: "received" });
    // The run behind the acknowledgement gives up later; the event is failed, for the sweep to restart.
    await instance.waitForStatus("errored");
    expect((await eventStatus(built.event.id)).status).toBe("failed");
  });

  it("stores a handled event raw before acknowledging it", async () => {
    const e = event();
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, e.id);
    const res = await deliver(e);
    expect(res.status).toBe(200);
    const row = await env.DB.prepare("SELECT type, object_id, payload FROM stripe_events WHERE id = ?").bind(e.id).first<{ type: string; object_id: string; payload: string }>();
    expect(row).toEqual({ type: "checkout.session.completed", object_id: (e.data.object as { id: string }).id, payload: JSON.stringify(e) });
    // Its objects were never given to the emulator: the run parks it. Waiting here keeps the run inside this test.
    await instance.waitForStatus("complete");
    expect((await eventStatus(e.id)).status).toBe("parked");
  });
});

describe("the scheduled sweep", () => {
  it("queues the events that are due, not those due later; the queue's consumer starts each once", async () => {
    const now = Date.now();
    const store = (e: ReturnType<typeof event>, due_at_ms: number) =>
      env.DB.prepare("INSERT INTO stripe_events (id, type, object_id, status, payload, stripe_created_s, received_at_ms, updated_at_ms, due_at_ms) VALUES (?, ?, ?, 'received', ?, ?, ?, ?, ?)")
        .bind(e.id, e.type, (e.data.object as { id: string }).id, JSON.stringify(e), e.created, now - 120_000, now - 120_000, due_at_ms)
        .run();
    const due = event();
    const later = event();
    await seedCatalog();
    await putStripeObjects(built.get(due.id)!);
    await store(due, now - 120_000); // stored and never started: due since it was stored
    await store(later, now + 60_000); // a start under way holds a lease until then
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, due.id);
    expect(await sweepDueEvents(env)).toBe(1);
    await instance.waitForStatus("complete");
    const rows = await env.DB.prepare("SELECT id, status, workflow_runs, due_at_ms FROM stripe_events ORDER BY due_at_ms").all();
    expect(rows.results).toEqual([
      { id: due.id, status: "processed", workflow_runs: 1, due_at_ms: null },
      { id: later.id, status: "received", workflow_runs: 0, due_at_ms: now + 60_000 },
    ]);
    expect(await sweepDueEvents(env)).toBe(0);
  });

  const built = new Map<string, ReturnType<typeof buildTrainingPayment>>();
  function event() {
    const payment = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "price_training_intro" });
    built.set(payment.event.id, payment);
    return payment.event;
  }
});

describe("GET /health", () => {
  it("answers 200 { ok: true } without a token", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
