// Starting split runs. Every start goes through one door, `startDueEvents`: it takes a lease on
// the events that are due (so the queue, the sweep and an admin's retry never start the same
// event twice at once), creates their workflow instances, and records only the runs that
// really started. The webhook and the sweep do not start anything themselves: they put event
// ids on the start queue, whose consumer starts them at the rate Workflows accepts.
import { database, type Db } from "../db/client";
import { claimDueEvents, dueEventIds, recordStarts, releaseClaims } from "../db/queries/events";
import { meterCreations } from "./bench-meter";
import { INSTANCE_ALREADY_EXISTS, type Env, type StartMessage } from "./env";
import { describeError } from "./failures";

/** Workflows accepts at most this many instance creations per second per workflow (429 above). */
export const CREATIONS_PER_SECOND = 100;
/** createBatch takes at most 100 instances. */
const BATCH = 100;
/** A claimer has this long to create the instances it claimed before another may try. */
const START_LEASE_MS = 60_000;
/** A run whose instance was created but that has not reached its first step by then is started again. */
export const FIRST_STEP_TIMEOUT_MS = 15 * 60_000;
/** What one sweep hands to the queue at most: a minute of starts at the platform's rate; the next sweep takes the rest. */
const SWEEP_LIMIT = 60 * CREATIONS_PER_SECOND;

/** Run 1 of an event is the instance named by the event id; run n > 1 is `<event id>-run<n>`. */
export function instanceId(eventId: string, run: number): string {
  return run === 1 ? eventId : `${eventId}-run${run}`;
}

export interface StartOutcome {
  /** Events whose next run started now (or had been created already by an earlier try). */
  started: string[];
  /** Events that were due but whose start failed: due again, with why. */
  failed: { id: string; reason: string }[];
  /** Events that were not due (finished, running, or leased by another claimer). */
  skipped: string[];
  /** When Workflows answered the creation of the instances (Unix ms); null when none was asked for. */
  createdAtMs: number | null;
}

/** Starts the next run of those of `ids` that are due. At most 100 ids. Never throws. */
export async function startDueEvents(env: Env, db: Db, ids: readonly string[], nowMs = Date.now()): Promise<StartOutcome> {
  const unique = [...new Set(ids)].slice(0, BATCH);
  let claimed: { id: string; workflowRuns: number }[];
  try {
    claimed = await claimDueEvents(db, unique, nowMs, START_LEASE_MS);
  } catch (error) {
    return { started: [], failed: unique.map((id) => ({ id, reason: describeError(error) })), skipped: [], createdAtMs: null };
  }
  const claimedIds = new Set(claimed.map((c) => c.id));
  const skipped = unique.filter((id) => !claimedIds.has(id));
  if (claimed.length === 0) return { started: [], failed: [], skipped, createdAtMs: null };
  const runs = claimed.map((c) => ({ id: c.id, run: c.workflowRuns + 1 }));
  const failed: { id: string; reason: string }[] = [];
  try {
    const result = await env.SPLIT_PAYMENT.createBatch({ instances: runs.map((r) => ({ id: instanceId(r.id, r.run), params: { event_id: r.id, run: r.run } })) });
    for (const error of result.errors) {
      // An instance that exists was created by an earlier try that died before recording it.
      if (error.code === INSTANCE_ALREADY_EXISTS) continue;
      const run = runs[error.index];
      if (run) failed.push({ id: run.id, reason: `Workflows refused the instance (${error.code}): ${error.message}` });
    }
  } catch (error) {
    failed.push(...runs.map((r) => ({ id: r.id, reason: `Workflows refused the batch: ${describeError(error)}` })));
  }
  const createdAtMs = Date.now();
  const failedIds = new Set(failed.map((f) => f.id));
  const started = runs.filter((r) => !failedIds.has(r.id));
  meterCreations(env, started.length, createdAtMs);
  try {
    await recordStarts(db, started, Date.now(), FIRST_STEP_TIMEOUT_MS);
    if (failed.length > 0) await releaseClaims(db, [...failedIds], Date.now());
  } catch (error) {
    // The leases run out by themselves: the events are due again within START_LEASE_MS.
    console.warn(JSON.stringify({ msg: "could not record workflow starts; the leases will expire", events: claimed.length, error: describeError(error) }));
  }
  return { started: started.map((s) => s.id), failed, skipped, createdAtMs };
}

/** Puts event ids on the start queue. Returns false (and logs) when the queue refused them: the sweep is the backstop. */
export async function queueStarts(env: Env, ids: readonly string[]): Promise<boolean> {
  try {
    for (let i = 0; i < ids.length; i += BATCH) {
      await env.SPLIT_STARTS.sendBatch(ids.slice(i, i + BATCH).map((event_id) => ({ body: { event_id } })));
    }
    return true;
  } catch (error) {
    console.warn(JSON.stringify({ msg: "could not queue starts; the sweep will", events: ids.length, error: describeError(error) }));
    return false;
  }
}

/** The scheduled sweep (every minute): every due event goes on the start queue. Returns how many. */
export async function sweepDueEvents(env: Env, nowMs = Date.now()): Promise<number> {
  const ids = await dueEventIds(database(env.DB), nowMs, SWEEP_LIMIT);
  if (ids.length > 0) await queueStarts(env, ids);
  return ids.length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The start queue's consumer. With `max_concurrency = 1`, one batch at a time: each batch
 * creates at most 100 instances and lasts, after Workflows answered their creation, at least a
 * hundredth of a second per instance created. The next batch's creations are asked for only
 * then, so no second holds more than CREATIONS_PER_SECOND of them (counted from the start of the
 * batch instead, a slow creation call shortened the pause, and two batches could fall within
 * one second). Messages whose start failed are retried by the queue after a short delay; the
 * others are acknowledged.
 *
 * Batches handed to this isolate while one is running wait for it (`oneBatchAtATime`): the local
 * runtime's queue (miniflare) does not honour `max_concurrency`, and dispatches a second batch as
 * soon as the backlog fills one, which let a burst create 180 instances in a second (npm run
 * bench). On Cloudflare, `max_concurrency = 1` does it across isolates.
 */
export function consumeStarts(batch: MessageBatch<unknown>, env: Env, _ctx?: ExecutionContext, pause: (ms: number) => Promise<unknown> = sleep): Promise<void> {
  const turn = lastBatch.then(() => consumeOneBatch(batch, env, pause));
  // The next batch waits for this one, whether it succeeded or threw (the queue retries a throw).
  lastBatch = turn.catch(() => undefined);
  return turn;
}

/** The batch this isolate runs or ran last: the next one begins when it has ended. */
let lastBatch: Promise<unknown> = Promise.resolve();

async function consumeOneBatch(batch: MessageBatch<unknown>, env: Env, pause: (ms: number) => Promise<unknown>): Promise<void> {
  const began = Date.now();
  const byEvent = new Map<string, Message<unknown>[]>();
  for (const message of batch.messages) {
    const body = message.body as Partial<StartMessage> | null;
    if (typeof body?.event_id !== "string") {
      message.ack(); // not ours: nothing to start
      continue;
    }
    byEvent.set(body.event_id, [...(byEvent.get(body.event_id) ?? []), message]);
  }
  const outcome = await startDueEvents(env, database(env.DB), [...byEvent.keys()], began);
  const failed = new Set(outcome.failed.map((f) => f.id));
  for (const [id, messages] of byEvent) {
    for (const message of messages) {
      if (failed.has(id)) message.retry({ delaySeconds: 2 });
      else message.ack();
    }
  }
  if (outcome.failed.length > 0) console.warn(JSON.stringify({ msg: "some starts failed; retried by the queue", failed: outcome.failed.length, reason: outcome.failed[0]?.reason }));
  const minimumMs = Math.ceil((outcome.started.length * 1000) / CREATIONS_PER_SECOND);
  const left = (outcome.createdAtMs ?? began) + minimumMs - Date.now();
  if (left > 0) await pause(left);
}
