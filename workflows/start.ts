// Starting split workflows: from the webhook (right after the event is stored), from an
// admin's retry, and from the scheduled sweep that picks up whatever was never started.
import { database, type Db } from "../db/client";
import { eventsToStart, markWorkflowsStarted } from "../db/queries/events";
import type { Env } from "./env";

/** createBatch takes at most 100 instances. */
const SWEEP_BATCH = 100;
/** An event younger than this may still be starting from its own request. */
const SWEEP_GRACE_MS = 60_000;

export interface SplitStart {
  event_id: string;
  /** The event id for its first run; a fresh id for a run started again (instance ids are unique). */
  instance_id: string;
}

export function splitStart(event: { id: string; workflowRuns: number }): SplitStart {
  return { event_id: event.id, instance_id: event.workflowRuns === 0 ? event.id : `${event.id}-run${event.workflowRuns + 1}` };
}

/**
 * Creates one workflow instance per event and records that it started. Called outside
 * any step and possibly twice for one event; safe, because the ledger write is keyed by
 * the payment and the workflow's first step skips finished events. Returns whether every
 * instance was created; what was not stays due for the sweep.
 */
export async function startSplits(env: Env, db: Db, starts: SplitStart[]): Promise<boolean> {
  if (starts.length === 0) return true;
  try {
    const result = await env.SPLIT_PAYMENT.createBatch({ instances: starts.map((s) => ({ id: s.instance_id, params: { event_id: s.event_id } })) });
    // An id that exists already was started before: it counts as started.
    const failed = new Set(result.errors.filter((e) => !/exist/i.test(e.message)).map((e) => starts[e.index]?.event_id));
    await markWorkflowsStarted(db, starts.map((s) => s.event_id).filter((id) => !failed.has(id)), Date.now());
    return failed.size === 0;
  } catch (error) {
    console.warn(`could not start workflows for ${starts.length} event(s); the sweep will retry:`, error instanceof Error ? error.message : String(error));
    return false;
  }
}

/** The scheduled sweep: starts the events that were stored but never started (see DOMAIN.md, Cloudflare). */
export async function sweepUnstartedEvents(env: Env, nowMs = Date.now()): Promise<number> {
  const db = database(env.DB);
  const due = await eventsToStart(db, nowMs, SWEEP_GRACE_MS, SWEEP_BATCH);
  await startSplits(env, db, due.map(splitStart));
  return due.length;
}
