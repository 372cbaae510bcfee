import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { MAX_IDS_PER_STATEMENT, type Db } from "../client";
import { stripeEvents, type EventStatus } from "../schema";

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

export async function setEventStatus(db: Db, id: string, status: EventStatus, reason: string | null, nowMs: number) {
  await db.update(stripeEvents).set({ status, reason, updatedAtMs: nowMs }).where(eq(stripeEvents.id, id));
}

/** Records that workflow instances were created for these events. */
export async function markWorkflowsStarted(db: Db, ids: string[], nowMs: number) {
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_STATEMENT) {
    await db
      .update(stripeEvents)
      .set({ workflowStartedAtMs: nowMs, workflowRuns: sql`${stripeEvents.workflowRuns} + 1`, updatedAtMs: nowMs })
      .where(inArray(stripeEvents.id, ids.slice(i, i + MAX_IDS_PER_STATEMENT)));
  }
}

/**
 * Events stored but never started (creation refused, or the worker died between the
 * insert and the create), and events whose run was started long ago but never went
 * past `received`: the sweeper starts them (again).
 */
export async function eventsToStart(db: Db, nowMs: number, olderThanMs: number, limit: number) {
  return db
    .select({ id: stripeEvents.id, workflowRuns: stripeEvents.workflowRuns })
    .from(stripeEvents)
    .where(
      and(
        eq(stripeEvents.status, "received"),
        lt(stripeEvents.receivedAtMs, nowMs - olderThanMs),
        or(isNull(stripeEvents.workflowStartedAtMs), lt(stripeEvents.workflowStartedAtMs, nowMs - 10 * olderThanMs)),
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
