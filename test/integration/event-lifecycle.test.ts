// Issue 7: every event that is not finished is running, due at a known time, or waiting for
// an admin with a reason; starts go through one door at the platform's rate; permanent
// errors park at once; a restarted run looks at the ledger first.
import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { database } from "../../db/client";
import { dueEventIds } from "../../db/queries/events";
import { buildTrainingPayment, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import app from "../../workers/app";
import type { Env } from "../../workflows/env";
import { STALL_CUTOFF_MS, WORST_RUN_MS } from "../../workflows/split-payment";
import { consumeStarts, startDueEvents, sweepDueEvents } from "../../workflows/start";
import { api, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog } from "./helpers";

const emulator = (path: string, init?: RequestInit) => env.STRIPE_API.fetch(`http://stripe.emulator${path}`, init);

async function stripeRequestsFor(path: string): Promise<number> {
  const log = (await (await emulator("/_emulator/requests")).json()) as { requests: { path: string; method: string }[] };
  return log.requests.filter((r) => r.path.startsWith(path)).length;
}

async function fault(body: Record<string, unknown>): Promise<void> {
  expect((await emulator("/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).status).toBe(200);
}

interface StoredEvent {
  status: string;
  workflow_runs: number;
  due_at_ms: number | null;
  reason?: string | null;
  payload?: string;
}

/** Writes an event row as a past run left it. */
async function storeEvent(built: TrainingPayment, row: StoredEvent): Promise<void> {
  await env.DB.prepare(
    "INSERT INTO stripe_events (id, type, object_id, status, reason, payload, stripe_created_s, received_at_ms, due_at_ms, workflow_runs, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0)",
  )
    .bind(built.event.id, built.event.type, built.session.id, row.status, row.reason ?? null, row.payload ?? JSON.stringify(built.event), built.event.created, row.due_at_ms, row.workflow_runs)
    .run();
}

async function eventRow(id: string) {
  return env.DB.prepare("SELECT status, reason, due_at_ms, workflow_runs FROM stripe_events WHERE id = ?").bind(id).first<{ status: string; reason: string | null; due_at_ms: number | null; workflow_runs: number }>();
}

function training(amount_minor = 5_000): TrainingPayment {
  return buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
}

type CreateBatch = (options: WorkflowBatchCreateOptions<unknown>) => Promise<WorkflowBatchCreateResult>;

/** The worker's env with other Workflows and queue bindings: to see what a refused start does. */
function envWith(createBatch: CreateBatch, queued: string[] = []): Env {
  return {
    ...(env as unknown as Env),
    SPLIT_PAYMENT: { createBatch } as unknown as Env["SPLIT_PAYMENT"],
    SPLIT_STARTS: { sendBatch: async (messages: { body: { event_id: string } }[]) => void queued.push(...messages.map((m) => m.body.event_id)) } as unknown as Env["SPLIT_STARTS"],
  };
}

const refused: CreateBatch = async () => {
  throw new Error("Workflows: too many requests (429)");
};

async function retryWith(e: Env, id: string): Promise<Response> {
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  return app.request(`/api/v1/events/${id}/retry`, { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" }, body: "{}" }, e, ctx);
}

beforeEach(async () => {
  await seedCatalog();
  await emulator("/_emulator/requests", { method: "DELETE" });
  await emulator("/_emulator/faults", { method: "DELETE" });
});


/** When Workflows answered the batch: a time taken during the call, not before it began. */
function expectAnsweredWithin(createdAtMs: number | null, beforeMs: number): void {
  expect(createdAtMs).not.toBeNull();
  expect(createdAtMs).toBeGreaterThanOrEqual(beforeMs);
  expect(createdAtMs).toBeLessThanOrEqual(Date.now());
}

describe("an event that is not finished is running, due at a known time, or waiting with a reason", () => {
  it("stored but never started, it is listed as due, and the sweep's queue starts it", async () => {
    const built = training();
    await putStripeObjects(built);
    const dueAt = Date.now() - 120_000;
    await storeEvent(built, { status: "received", workflow_runs: 0, due_at_ms: dueAt });
    const due = (await (await api("/events?due=true&limit=500")).json()) as { events: { id: string; due_at: string | null; runs: number }[] };
    expect(due.events.find((e) => e.id === built.event.id)).toEqual({ id: built.event.id, type: "checkout.session.completed", status: "received", reason: null, due_at: new Date(dueAt).toISOString(), runs: 0 });

    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, built.event.id);
    expect(await sweepDueEvents(env)).toBe(1);
    await instance.waitForStatus("complete");
    expect(await eventRow(built.event.id)).toEqual({ status: "processed", reason: null, due_at_ms: null, workflow_runs: 1 });
  });

  it("failed past the run cap, it waits for an admin, whose retry starts it at once", async () => {
    const built = training();
    await putStripeObjects(built);
    await storeEvent(built, { status: "failed", workflow_runs: 9, due_at_ms: null, reason: "Stripe answered 500: down (gave up after 9 runs: retry it by hand)" });
    expect(await (await api(`/events/${built.event.id}`)).json()).toEqual({
      id: built.event.id,
      type: "checkout.session.completed",
      status: "failed",
      reason: "Stripe answered 500: down (gave up after 9 runs: retry it by hand)",
      due_at: null,
      runs: 9,
    });

    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run10`);
    const retry = await api(`/events/${built.event.id}/retry`, { method: "POST", body: {} });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toMatchObject({ id: built.event.id, outcome: "started", next_sweep_at: null, runs: 10 });
    await instance.waitForStatus("complete");
    expect(await eventRow(built.event.id)).toEqual({ status: "processed", reason: null, due_at_ms: null, workflow_runs: 10 });
  });

  it("a retry whose start is refused answers queued, with the next sweep; the event stays due and can be retried again", async () => {
    const built = training();
    await putStripeObjects(built);
    await storeEvent(built, { status: "parked", workflow_runs: 1, due_at_ms: null, reason: "unknown offer" });
    const queued: string[] = [];
    const before = Date.now();
    const first = await retryWith(envWith(refused, queued), built.event.id);
    expect(first.status).toBe(202);
    const body = (await first.json()) as { outcome: string; status: string; due_at: string; next_sweep_at: string; runs: number };
    expect(body).toMatchObject({ outcome: "queued", status: "received", runs: 1 });
    expect(Date.parse(body.due_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.due_at)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(body.next_sweep_at) % 60_000).toBe(0);
    expect(Date.parse(body.next_sweep_at) - Date.now()).toBeLessThanOrEqual(60_000);
    expect(queued).toEqual([built.event.id]);
    expect(await eventRow(built.event.id)).toMatchObject({ status: "received", workflow_runs: 1 });

    expect((await (await retryWith(envWith(refused, queued), built.event.id)).json()) as object).toMatchObject({ outcome: "queued" });

    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    expect(await (await api(`/events/${built.event.id}/retry`, { method: "POST", body: {} })).json()).toMatchObject({ outcome: "started", runs: 2 });
    await instance.waitForStatus("complete");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed" });
  });

  it("a processed event is not retried", async () => {
    const built = training();
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const retry = await api(`/events/${built.event.id}/retry`, { method: "POST", body: {} });
    expect(retry.status).toBe(409);
    expect(await retry.json()).toMatchObject({ code: "conflict", detail: `event ${built.event.id} is processed; only parked, failed, stalled or unstarted events are retried` });
  });
});

describe("one run at a time", () => {
  it("two starts of the same due event at once create one run: the other finds it leased", async () => {
    const built = training();
    await putStripeObjects(built);
    await storeEvent(built, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, built.event.id);
    const db = database(env.DB);
    const [a, b] = await Promise.all([startDueEvents(env, db, [built.event.id]), startDueEvents(env, db, [built.event.id])]);
    expect([...a.started, ...b.started]).toEqual([built.event.id]);
    expect([...a.skipped, ...b.skipped]).toEqual([built.event.id]);
    await instance.waitForStatus("complete");
    expect(await eventRow(built.event.id)).toMatchObject({ status: "processed", workflow_runs: 1 });
  });

  it("an instance that already exists counts as the start that created it; an error that says 'does not exist' does not", async () => {
    const built = training();
    await storeEvent(built, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    const db = database(env.DB);
    const doesNotExist = envWith(async () => ({ created: [], errors: [{ index: 0, id: built.event.id, code: 10404, message: "workflows.api.error.instance.does_not_exist" }] }));
    let before = Date.now();
    const refusedOne = await startDueEvents(doesNotExist, db, [built.event.id]);
    expect(refusedOne).toEqual({
      started: [],
      failed: [{ id: built.event.id, reason: "Workflows refused the instance (10404): workflows.api.error.instance.does_not_exist" }],
      skipped: [],
      createdAtMs: refusedOne.createdAtMs,
    });
    expectAnsweredWithin(refusedOne.createdAtMs, before);
    expect(await eventRow(built.event.id)).toMatchObject({ status: "received", workflow_runs: 0 });
    expect((await eventRow(built.event.id))?.due_at_ms).toBeLessThanOrEqual(Date.now());

    const exists = envWith(async () => ({ created: [], errors: [{ index: 0, id: built.event.id, code: 10405, message: "workflows.api.error.instance.already_exists" }] }));
    before = Date.now();
    const existing = await startDueEvents(exists, db, [built.event.id]);
    expect(existing).toEqual({ started: [built.event.id], failed: [], skipped: [], createdAtMs: existing.createdAtMs });
    expectAnsweredWithin(existing.createdAtMs, before);
    const row = await eventRow(built.event.id);
    expect(row).toMatchObject({ status: "received", workflow_runs: 1 });
    expect(row?.due_at_ms).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it("a refused start uses no run and leaves the event due", async () => {
    const built = training();
    await storeEvent(built, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    const before = Date.now();
    const outcome = await startDueEvents(envWith(refused), database(env.DB), [built.event.id]);
    expect(outcome).toEqual({ started: [], failed: [{ id: built.event.id, reason: "Workflows refused the batch: a programming error (Error): Workflows: too many requests (429)" }], skipped: [], createdAtMs: outcome.createdAtMs });
    expectAnsweredWithin(outcome.createdAtMs, before);
    const row = await eventRow(built.event.id);
    expect(row?.workflow_runs).toBe(0);
    expect(row?.due_at_ms).toBeLessThanOrEqual(Date.now());
  });
});

describe("bursts drain at the platform's rate", () => {
  it("the start consumer creates a batch's instances in one call and lasts at least a hundredth of a second per instance", async () => {
    const built = Array.from({ length: 30 }, () => training());
    for (const b of built) await storeEvent(b, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    const calls: number[] = [];
    const fake = envWith(async (options) => {
      const instances = "instances" in options && options.instances ? options.instances : [];
      calls.push(instances.length);
      return { created: [], errors: [] };
    });
    const acked: string[] = [];
    const retried: string[] = [];
    const messages = [...built, built[0]!].map((b) => ({ body: { event_id: b.event.id }, ack: () => acked.push(b.event.id), retry: () => retried.push(b.event.id) }));
    const pauses: number[] = [];
    const began = Date.now();
    await consumeStarts({ messages } as unknown as MessageBatch<unknown>, fake, undefined, async (ms) => void pauses.push(ms));
    const elapsed = Date.now() - began;
    expect(calls).toEqual([30]);
    expect(acked).toHaveLength(31);
    expect(retried).toEqual([]);
    // 30 creations at 100 per second: the consumer lasts 300 ms at least, pausing for what its work did not take.
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toBeLessThanOrEqual(300);
    expect(pauses[0]).toBeGreaterThanOrEqual(300 - elapsed);
  });

  it("counts its hundredth of a second per instance from when Workflows answered, however long the creation call took", async () => {
    const built = Array.from({ length: 20 }, () => training());
    for (const b of built) await storeEvent(b, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    let answeredAt = 0;
    const slow = envWith(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      answeredAt = Date.now();
      return { created: [], errors: [] };
    });
    const messages = built.map((b) => ({ body: { event_id: b.event.id }, ack: () => {}, retry: () => {} }));
    let endsAt = 0;
    await consumeStarts({ messages } as unknown as MessageBatch<unknown>, slow, undefined, async (ms) => {
      endsAt = Date.now() + ms;
    });
    // 20 creations: the next batch's creations are asked for 200 ms after these were answered at the earliest.
    expect(endsAt).toBeGreaterThanOrEqual(answeredAt + 200);
  });

  it("runs one batch at a time: a batch handed over while another runs waits for it, its pause included (the local queue does not honour max_concurrency)", async () => {
    const first = Array.from({ length: 10 }, () => training());
    const second = Array.from({ length: 10 }, () => training());
    for (const b of [...first, ...second]) await storeEvent(b, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    const log: string[] = [];
    const fake = envWith(async (options) => {
      const instances = "instances" in options && options.instances ? options.instances : [];
      log.push(`create ${instances.length}`);
      return { created: [], errors: [] };
    });
    const batchOf = (built: ReturnType<typeof training>[]) => ({ messages: built.map((b) => ({ body: { event_id: b.event.id }, ack: () => {}, retry: () => {} })) }) as unknown as MessageBatch<unknown>;
    const pause = (name: string) => async (ms: number) => {
      log.push(`${name} pauses`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50)));
      log.push(`${name} ends`);
    };
    await Promise.all([consumeStarts(batchOf(first), fake, undefined, pause("first")), consumeStarts(batchOf(second), fake, undefined, pause("second"))]);
    expect(log).toEqual(["create 10", "first pauses", "first ends", "create 10", "second pauses", "second ends"]);
  });

  it("a batch that throws does not hold back the next one", async () => {
    const built = training();
    await storeEvent(built, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    const broken = { messages: [{ body: { event_id: built.event.id }, ack: () => {}, retry: () => {} }] } as unknown as MessageBatch<unknown>;
    const failing = consumeStarts(broken, envWith(async () => ({ created: [], errors: [] })), undefined, async () => {
      throw new Error("the pause broke");
    });
    await expect(failing).rejects.toThrow("the pause broke");
    const calls: number[] = [];
    const other = training();
    await storeEvent(other, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000 });
    const next = { messages: [{ body: { event_id: other.event.id }, ack: () => {}, retry: () => {} }] } as unknown as MessageBatch<unknown>;
    await consumeStarts(next, envWith(async () => (calls.push(1), { created: [], errors: [] })), undefined, async () => {});
    expect(calls).toEqual([1]);
  });
});

describe("permanent errors park at once, transient ones are retried", () => {
  it("Stripe answering 404 parks the event after one request", async () => {
    const built = training();
    const output = await deliverAndSettle(built.event);
    expect(output).toMatchObject({ status: "parked" });
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "parked", reason: `Stripe answered 404 resource_missing: No such checkout.session: '${built.session.id}'` });
    expect(await stripeRequestsFor(`/v1/checkout/sessions/${built.session.id}`)).toBe(1);
  });

  it("Stripe answering 400 parks the event after one request", async () => {
    const built = training();
    await putStripeObjects(built);
    await fault({ path_prefix: `/v1/checkout/sessions/${built.session.id}`, status: 400, times: 1, error: { message: "Invalid expand path" } });
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked", reason: "Stripe answered 400: Invalid expand path" });
    expect(await stripeRequestsFor(`/v1/checkout/sessions/${built.session.id}`)).toBe(1);
  });

  it("Stripe-Should-Retry: false parks even a 500 after one request", async () => {
    const built = training();
    await putStripeObjects(built);
    await fault({ path_prefix: `/v1/checkout/sessions/${built.session.id}`, status: 500, times: 1, should_retry: false });
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect(await stripeRequestsFor(`/v1/checkout/sessions/${built.session.id}`)).toBe(1);
  });

  it("a 429 with Retry-After is waited for as Stripe asks, then the payment is split", async () => {
    const built = training();
    await putStripeObjects(built);
    await fault({ path_prefix: `/v1/checkout/sessions/${built.session.id}`, status: 429, times: 1, retry_after_s: 7 });
    const output = await deliverAndSettle(built.event, async (m) => m.disableSleeps());
    expect(output).toMatchObject({ status: "processed", posted: true });
    expect(await stripeRequestsFor(`/v1/checkout/sessions/${built.session.id}`)).toBe(2);
  });

  it("a programming error (a stored payload that is not JSON) parks after one try, without quoting the payload", async () => {
    const built = training();
    await storeEvent(built, { status: "received", workflow_runs: 0, due_at_ms: Date.now() - 1_000, payload: '{"customer_email": "marker-7f3a@example.com"' });
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, built.event.id);
    await startDueEvents(env, database(env.DB), [built.event.id]);
    await instance.waitForStatus("complete");
    expect(await eventRow(built.event.id)).toEqual({ status: "parked", reason: "a programming error (SyntaxError)", due_at_ms: null, workflow_runs: 1 });
  });
});

describe("a restarted run looks at the ledger first", () => {
  it("when this event's earlier run posted the payment: processed, without asking Stripe again", async () => {
    const built = training(7_000);
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    await env.DB.prepare("UPDATE stripe_events SET status = 'processing', due_at_ms = ? WHERE id = ?").bind(Date.now() - 1, built.event.id).run();
    await emulator("/_emulator/requests", { method: "DELETE" });

    await using again = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    expect(await startDueEvents(env, database(env.DB), [built.event.id])).toMatchObject({ started: [built.event.id] });
    await again.waitForStatus("complete");
    expect(await eventRow(built.event.id)).toEqual({ status: "processed", reason: `payment ${built.payment_intent.id} was posted by an earlier run of this event`, due_at_ms: null, workflow_runs: 2 });
    expect(await stripeRequestsFor("/v1/")).toBe(0);
  });

  it("when another event for the same payment posted it: processed, naming that event, without asking Stripe", async () => {
    const built = training(7_100);
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    await emulator("/_emulator/requests", { method: "DELETE" });
    const again = { ...built.event, id: `${built.event.id}_again` };
    expect(await deliverAndSettle(again)).toMatchObject({ status: "processed", posted: false });
    expect(await eventStatus(again.id)).toMatchObject({ status: "processed", reason: `payment ${built.payment_intent.id} was already posted by event ${built.event.id}: not posted twice` });
    expect(await stripeRequestsFor("/v1/")).toBe(0);
  });
});

describe("the stall cutoff", () => {
  it("covers the worst case of every step: three Stripe waits of a minute, and six one-minute tries with 155 s of backoff per step", () => {
    // Per step: 6 tries × 60 s + 5+10+20+40+80 s = 515 s. The Stripe step and its 3 waits: 4 × 515 + 3 × 60;
    // the posting step and marking the event failed: 2 × 515. In all 3,270 s; the cutoff adds 15 minutes.
    expect(WORST_RUN_MS).toBe(3_270_000);
    expect(STALL_CUTOFF_MS).toBe(3_270_000 + 900_000);
  });

  it("a run that took its event in hand and stopped makes the event due at the cutoff, not before", async () => {
    const built = training();
    await putStripeObjects(built);
    const taken = Date.now();
    await storeEvent(built, { status: "processing", workflow_runs: 1, due_at_ms: taken + STALL_CUTOFF_MS });
    const db = database(env.DB);
    expect(await dueEventIds(db, taken + STALL_CUTOFF_MS - 1, 10_000)).not.toContain(built.event.id);
    expect(await dueEventIds(db, taken + STALL_CUTOFF_MS, 10_000)).toContain(built.event.id);
  });
});
