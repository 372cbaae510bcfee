// Stripe events as stored, and their way through a run. Every state an event can be in says
// when it is next due for a start (`due_at_ms`), so nothing waits unseen: see the schema.
import { and, asc, eq, inArray, isNotNull, lte, notInArray, sql } from "drizzle-orm";
import { byChunks, chunked, d1Of, MAX_IDS_PER_STATEMENT, type Db } from "../client";
import { payments, stripeEvents, type EventStatus } from "../schema";
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

/** Failed events are started again after 10 min, 20 min, 40 min… up to this many runs (about two days). */
export const MAX_AUTOMATIC_RUNS = 9;
const FAILED_BACKOFF_MS = 5 * 60_000;

/** Events that no run may touch again. */
const FINAL: EventStatus[] = ["processed", "ignored"];

/** Stores a verified event once, due at once if it is to be split. Returns false when the id was already stored. */
export async function storeEvent(db: Db, event: NewEvent, nowMs: number): Promise<boolean> {
  const inserted = await db
    .insert(stripeEvents)
    .values({ ...event, receivedAtMs: nowMs, updatedAtMs: nowMs, dueAtMs: event.status === "received" ? nowMs : null })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return inserted.length === 1;
}

export async function getEvent(db: Db, id: string) {
  return db.query.stripeEvents.findFirst({ where: eq(stripeEvents.id, id) });
}

// ---- starting runs ---------------------------------------------------------------------------

/** The due events, soonest first: what the sweep hands to the start queue. */
export async function dueEventIds(db: Db, nowMs: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: stripeEvents.id })
    .from(stripeEvents)
    .where(lte(stripeEvents.dueAtMs, nowMs))
    .orderBy(asc(stripeEvents.dueAtMs))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Takes a start lease on those of `ids` that are due: their `due_at` moves to the end of the
 * lease, so a second claimer (the sweep's message, an admin's retry) finds them not due and
 * leaves them. Returns what was claimed, with the runs they have had.
 */
export async function claimDueEvents(db: Db, ids: readonly string[], nowMs: number, leaseMs: number): Promise<{ id: string; workflowRuns: number }[]> {
  const d1 = d1Of(db);
  return byChunks([...new Set(ids)], async (chunk) => {
    const { results } = await d1
      .prepare(`UPDATE stripe_events SET due_at_ms = ? WHERE id IN (${chunk.map(() => "?").join(", ")}) AND due_at_ms <= ? RETURNING id, workflow_runs`)
      .bind(nowMs + leaseMs, ...chunk, nowMs)
      .all<{ id: string; workflow_runs: number }>();
    return results.map((r) => ({ id: r.id, workflowRuns: r.workflow_runs }));
  });
}

/**
 * Records runs that really started (their instance was created, or existed already): the run
 * counts, and the event is due again only if the run never reaches its first step.
 */
export async function recordStarts(db: Db, started: readonly { id: string; run: number }[], nowMs: number, firstStepTimeoutMs: number): Promise<void> {
  if (started.length === 0) return;
  // A few statements for the whole batch (two parameters an event, 100 at most a statement):
  // each event moves to its run only from the run before.
  const d1 = d1Of(db);
  const statements = chunked([...started], (MAX_IDS_PER_STATEMENT - 2) / 2).map((chunk) =>
    d1
      .prepare(`UPDATE stripe_events SET workflow_runs = workflow_runs + 1, workflow_started_at_ms = ?, due_at_ms = ? WHERE ${chunk.map(() => "(id = ? AND workflow_runs = ?)").join(" OR ")}`)
      .bind(nowMs, nowMs + firstStepTimeoutMs, ...chunk.flatMap((s) => [s.id, s.run - 1])),
  );
  await d1.batch(statements);
}

/** Gives back start leases that did not lead to a start: the events are due again at `dueAtMs`. */
export async function releaseClaims(db: Db, ids: readonly string[], dueAtMs: number): Promise<void> {
  await byChunks([...ids], async (chunk) => {
    await db.update(stripeEvents).set({ dueAtMs }).where(and(inArray(stripeEvents.id, chunk), notInArray(stripeEvents.status, FINAL)));
    return [];
  });
}

// ---- in a run -----------------------------------------------------------------------------

/**
 * Run `run` takes the event in hand: `processing`, due again at the stall cutoff. Only the
 * event's latest run may, and never a finished or parked event; returns the event, or
 * undefined when this run has nothing to do. In the same round trip, the payment already on
 * the ledger for the event's object (the Checkout Session or invoice it names), if any: a run
 * started again need not fetch or plan it.
 */
export async function beginRun(db: Db, id: string, run: number, nowMs: number, stallCutoffMs: number) {
  const d1 = d1Of(db);
  const [taken, found] = await d1.batch([
    d1
      .prepare(
        `UPDATE stripe_events SET status = 'processing', reason = NULL, due_at_ms = ?1, updated_at_ms = ?2
         WHERE id = ?3 AND workflow_runs = ?4 AND status IN ('received', 'processing', 'failed')
         RETURNING payload, object_id, rule_override`,
      )
      .bind(nowMs + stallCutoffMs, nowMs, id, run),
    d1.prepare("SELECT id, event_id, transaction_id, source_id FROM payments WHERE source_id IN (SELECT object_id FROM stripe_events WHERE id = ?1)").bind(id),
  ]);
  const event = taken?.results[0] as { payload: string; object_id: string | null; rule_override: string | null } | undefined;
  const posted = found?.results[0] as { id: string; event_id: string; transaction_id: string; source_id: string } | undefined;
  return (
    event && {
      event: { payload: event.payload, objectId: event.object_id, ruleOverride: event.rule_override },
      posted: posted && { id: posted.id, eventId: posted.event_id, transactionId: posted.transaction_id, sourceId: posted.source_id },
    }
  );
}

/** A run that is about to sleep (waiting for Stripe) moves its event's stall cutoff past the sleep. */
export async function extendRun(db: Db, id: string, run: number, dueAtMs: number, nowMs: number): Promise<void> {
  await db
    .update(stripeEvents)
    .set({ dueAtMs, updatedAtMs: nowMs })
    .where(and(eq(stripeEvents.id, id), eq(stripeEvents.workflowRuns, run), eq(stripeEvents.status, "processing")));
}

/** `processed`, with a note (who posted the payment); nothing is due any more. For a batch. */
export function markProcessedStatement(db: Db, id: string, note: string | null, nowMs: number) {
  return db
    .update(stripeEvents)
    .set({ status: "processed", reason: note, dueAtMs: null, updatedAtMs: nowMs })
    .where(and(eq(stripeEvents.id, id), notInArray(stripeEvents.status, FINAL)));
}

/** markProcessedStatement as a prepared D1 statement, for a batch of plain SQL (a payment's posting). */
export function markProcessedD1(db: Db, id: string, note: string | null, nowMs: number): D1PreparedStatement {
  return d1Of(db).prepare(`update "stripe_events" set "status" = 'processed', "reason" = ?, "due_at_ms" = null, "updated_at_ms" = ? where ("stripe_events"."id" = ? and "stripe_events"."status" not in ('processed', 'ignored'))`).bind(note, nowMs, id);
}

export async function markProcessed(db: Db, id: string, note: string | null, nowMs: number): Promise<void> {
  await markProcessedStatement(db, id, note, nowMs);
}

/** `ignored` by the run (the payment turned out not to be one to split), with why. */
export async function markIgnored(db: Db, id: string, reason: string, nowMs: number): Promise<void> {
  await db.update(stripeEvents).set({ status: "ignored", reason, dueAtMs: null, updatedAtMs: nowMs }).where(and(eq(stripeEvents.id, id), notInArray(stripeEvents.status, FINAL)));
}

/** `parked` with its reason: retrying cannot fix it, so it waits for an admin. */
export async function parkEvent(db: Db, id: string, reason: string, nowMs: number): Promise<void> {
  await db.update(stripeEvents).set({ status: "parked", reason, dueAtMs: null, updatedAtMs: nowMs }).where(and(eq(stripeEvents.id, id), notInArray(stripeEvents.status, FINAL)));
}

/**
 * `failed` after a run spent its retries: due again after 10, 20, 40 minutes… while it has had
 * fewer than MAX_AUTOMATIC_RUNS runs, then waiting for an admin, as its reason says.
 */
export async function failEvent(db: Db, id: string, reason: string, nowMs: number): Promise<void> {
  const runs = stripeEvents.workflowRuns;
  await db
    .update(stripeEvents)
    .set({
      status: "failed",
      reason: sql`case when ${runs} < ${MAX_AUTOMATIC_RUNS} then ${reason} else ${reason} || ${` (gave up after ${MAX_AUTOMATIC_RUNS} runs: retry it by hand)`} end`,
      dueAtMs: sql`case when ${runs} < ${MAX_AUTOMATIC_RUNS} then ${nowMs} + ${FAILED_BACKOFF_MS} * (1 << min(${runs}, 20)) else null end`,
      updatedAtMs: nowMs,
    })
    .where(and(eq(stripeEvents.id, id), notInArray(stripeEvents.status, FINAL)));
}

// ---- reading and retrying ---------------------------------------------------------------------

const listColumns = {
  id: stripeEvents.id,
  type: stripeEvents.type,
  status: stripeEvents.status,
  reason: stripeEvents.reason,
  dueAtMs: stripeEvents.dueAtMs,
  workflowRuns: stripeEvents.workflowRuns,
};

/** Events in one status (oldest first), or every event that is due sometime (soonest first). */
export async function listEvents(db: Db, filter: { status: EventStatus } | { due: true }, limit: number) {
  if ("due" in filter) return db.select(listColumns).from(stripeEvents).where(isNotNull(stripeEvents.dueAtMs)).orderBy(asc(stripeEvents.dueAtMs)).limit(limit);
  return db.select(listColumns).from(stripeEvents).where(eq(stripeEvents.status, filter.status)).orderBy(asc(stripeEvents.receivedAtMs)).limit(limit);
}

/**
 * Puts an event back to `received`, due now, with the rule override to use, and writes its
 * audit row in the same batch. Both happen only if nobody moved the event since it was read
 * (a stalled run may have finished meanwhile). Returns false when it had moved.
 */
export async function requeueEvent(db: Db, read: { id: string; status: EventStatus; updatedAtMs: number }, override: RuleOverride | null, audit: AuditEntry, nowMs: number): Promise<boolean> {
  const unmoved = and(eq(stripeEvents.id, read.id), eq(stripeEvents.status, read.status), eq(stripeEvents.updatedAtMs, read.updatedAtMs));
  const [, updated] = await db.batch([
    insertAuditStatement(db, audit, nowMs, { table: stripeEvents, where: unmoved }),
    db
      .update(stripeEvents)
      .set({ status: "received", reason: null, dueAtMs: nowMs, updatedAtMs: nowMs, ruleOverride: override === null ? null : JSON.stringify(override) })
      .where(unmoved),
  ]);
  return updated.meta.changes > 0;
}
