import { and, eq, inArray, isNull, lt, notInArray, or, sql } from "drizzle-orm";
import { chunked, MAX_IDS_PER_STATEMENT, type Db } from "../client";
import { stripeEvents, type EventStatus } from "../schema";
import { insertAuditStatement, type AuditEntry } from "./audit";

/** An admin's choice of rule version for a payment no version covered, kept on its event for every later run. */
export type RuleOverride = { rule_id: string; version: number };

export function ruleOverrideOf(event: { ruleOverride: string | null }): RuleOverride | null {
  return event.ruleOverride === null ? null : (JSON.parse(event.ruleOverride) as RuleOverride);
}

export interface NewEvent {
  id: string;
  type: string;
  objectId: string | null;
  status: "received" | "ignored";
  reason: string | null;
  payload: string;
  stripeCreatedS: number;
}

/** Stores a verified event once. Returns false when the id was already stored. */
export async function storeEvent(db: Db, event: NewEvent, nowMs: number): Promise<boolean> {
  const inserted = await db
    .insert(stripeEvents)
    .values({ ...event, receivedAtMs: nowMs, updatedAtMs: nowMs })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return inserted.length === 1;
}

export async function getEvent(db: Db, id: string) {
  return db.query.stripeEvents.findFirst({ where: eq(stripeEvents.id, id) });
}

/** Moves an event on; a processed or ignored event stays as it is (a late duplicate run cannot undo it). */
export async function setEventStatus(db: Db, id: string, status: EventStatus, reason: string | null, nowMs: number) {
  await db
    .update(stripeEvents)
    .set({ status, reason, updatedAtMs: nowMs })
    .where(and(eq(stripeEvents.id, id), notInArray(stripeEvents.status, ["processed", "ignored"])));
}

/** Records that workflow instances were created for these events. */
export async function markWorkflowsStarted(db: Db, ids: string[], nowMs: number) {
  for (const chunk of chunked(ids, MAX_IDS_PER_STATEMENT)) {
    await db
      .update(stripeEvents)
      .set({ workflowStartedAtMs: nowMs, workflowRuns: sql`${stripeEvents.workflowRuns} + 1`, updatedAtMs: nowMs })
      .where(inArray(stripeEvents.id, chunk));
  }
}

/**
 * A run that has not moved its event for this long has died. A live run moves it at its
 * first and last steps; in between, five steps of six attempts (1 min timeout, 155 s of
 * backoff) take 45 minutes at the very worst.
 */
export const STALE_RUN_MS = 2 * 60 * 60_000;
/** Failed events are started again after 10 min, 20 min, 40 min… up to this many runs (about two days). */
export const MAX_RUNS = 9;
const FAILED_BACKOFF_MS = 5 * 60_000;

/**
 * The events the sweep (re)starts, oldest first:
 * - stored but never started (creation refused, or the worker died between insert and create);
 * - started long ago but still `received` (the instance never ran its first step);
 * - `processing` with no progress for STALE_RUN_MS (the run died);
 * - past MAX_RUNS an event waits for an admin's retry, so that a few broken ones cannot
 *   crowd the sweep's batch for ever;
 * - `failed` (retries exhausted, Stripe down for a while), with exponential backoff, MAX_RUNS at most.
 * Parked events wait for an admin: retrying cannot fix what parked them.
 */
export async function eventsToStart(db: Db, nowMs: number, graceMs: number, limit: number) {
  return db
    .select({ id: stripeEvents.id, workflowRuns: stripeEvents.workflowRuns })
    .from(stripeEvents)
    .where(
      or(
        and(eq(stripeEvents.status, "received"), isNull(stripeEvents.workflowStartedAtMs), lt(stripeEvents.receivedAtMs, nowMs - graceMs)),
        and(eq(stripeEvents.status, "received"), lt(stripeEvents.workflowStartedAtMs, nowMs - 10 * graceMs), lt(stripeEvents.workflowRuns, MAX_RUNS)),
        and(eq(stripeEvents.status, "processing"), lt(stripeEvents.updatedAtMs, nowMs - STALE_RUN_MS), lt(stripeEvents.workflowRuns, MAX_RUNS)),
        and(
          eq(stripeEvents.status, "failed"),
          lt(stripeEvents.workflowRuns, MAX_RUNS),
          sql`${stripeEvents.updatedAtMs} < ${nowMs} - ${FAILED_BACKOFF_MS} * (1 << min(${stripeEvents.workflowRuns}, 20))`,
        ),
      ),
    )
    .orderBy(stripeEvents.receivedAtMs)
    .limit(limit);
}

export async function listEventsByStatus(db: Db, status: EventStatus, limit: number) {
  return db
    .select({ id: stripeEvents.id, type: stripeEvents.type, status: stripeEvents.status, reason: stripeEvents.reason })
    .from(stripeEvents)
    .where(eq(stripeEvents.status, status))
    .orderBy(stripeEvents.receivedAtMs)
    .limit(limit);
}

/**
 * Puts an event back to `received` for a new run, with the rule override to use, and writes
 * its audit row in the same batch. Both happen only if nobody moved the event since it was
 * read (a stalled run may have finished meanwhile). Returns false when it had moved.
 */
export async function requeueEvent(db: Db, read: { id: string; status: EventStatus; updatedAtMs: number }, override: RuleOverride | null, audit: AuditEntry, nowMs: number): Promise<boolean> {
  const unmoved = and(eq(stripeEvents.id, read.id), eq(stripeEvents.status, read.status), eq(stripeEvents.updatedAtMs, read.updatedAtMs));
  const [, updated] = await db.batch([
    insertAuditStatement(db, audit, nowMs, { table: stripeEvents, where: unmoved }),
    db
      .update(stripeEvents)
      .set({ status: "received", reason: null, updatedAtMs: nowMs, ruleOverride: override === null ? null : JSON.stringify(override) })
      .where(unmoved),
  ]);
  return updated.meta.changes > 0;
}
