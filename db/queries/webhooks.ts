// Outgoing webhooks: endpoints (the secret is read only to sign), deliveries (one per endpoint
// and event, written with the change that caused them) and every attempt.
import { and, asc, desc, eq, inArray, isNull, lt, type SQL } from "drizzle-orm";
import { byChunks, type Db } from "../client";
import { webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints, type WebhookDeliveryStatus } from "../schema";
import { insertIf, type OnlyIf } from "./conditional";

export interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  party_id: string | null;
  description: string | null;
  created_by: string;
  created_at_ms: number;
  disabled_at_ms: number | null;
}

const endpointColumns = {
  id: webhookEndpoints.id,
  url: webhookEndpoints.url,
  events: webhookEndpoints.events,
  party_id: webhookEndpoints.partyId,
  description: webhookEndpoints.description,
  created_by: webhookEndpoints.createdBy,
  created_at_ms: webhookEndpoints.createdAtMs,
  disabled_at_ms: webhookEndpoints.disabledAtMs,
};

const endpointRow = (r: Omit<EndpointRow, "events"> & { events: string }): EndpointRow => ({ ...r, events: JSON.parse(r.events) as string[] });

/** Endpoints without their secrets; the active ones only unless asked. */
export async function listEndpoints(db: Db, opts: { includeDisabled: boolean }): Promise<EndpointRow[]> {
  const rows = await db
    .select(endpointColumns)
    .from(webhookEndpoints)
    .where(opts.includeDisabled ? undefined : isNull(webhookEndpoints.disabledAtMs))
    .orderBy(asc(webhookEndpoints.createdAtMs), asc(webhookEndpoints.id))
    .limit(200);
  return rows.map(endpointRow);
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  const [row] = await db.select(endpointColumns).from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row && endpointRow(row);
}

export function insertEndpointStatement(db: Db, e: Omit<EndpointRow, "disabled_at_ms">, secret: string) {
  return db.insert(webhookEndpoints).values({ id: e.id, url: e.url, secret, events: JSON.stringify(e.events), partyId: e.party_id, description: e.description, createdBy: e.created_by, createdAtMs: e.created_at_ms });
}

export function disableEndpointStatement(db: Db, id: string, nowMs: number) {
  return db.update(webhookEndpoints).set({ disabledAtMs: nowMs }).where(and(eq(webhookEndpoints.id, id), isNull(webhookEndpoints.disabledAtMs))).returning({ id: webhookEndpoints.id });
}

// ---- deliveries ------------------------------------------------------------------------------

export interface NewDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  proposal_id: string | null;
  payload: string;
}

export interface DeliveryRow extends NewDelivery {
  status: WebhookDeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at_ms: number;
  started_at_ms: number | null;
  delivered_at_ms: number | null;
  updated_at_ms: number;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at_ms: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

function deliveryValues(d: NewDelivery, nowMs: number): typeof webhookDeliveries.$inferSelect {
  return {
    id: d.id,
    endpointId: d.endpoint_id,
    eventId: d.event_id,
    eventType: d.event_type,
    proposalId: d.proposal_id,
    payload: d.payload,
    status: "pending",
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    createdAtMs: nowMs,
    startedAtMs: null,
    deliveredAtMs: null,
    updatedAtMs: nowMs,
  };
}

/**
 * A delivery, in the batch of the change that caused it: written only if `onlyIf` holds when
 * the batch runs (the change happened), once per endpoint and event whatever runs it again.
 */
export function insertDeliveryStatement(db: Db, d: NewDelivery, nowMs: number, onlyIf?: OnlyIf) {
  if (onlyIf === undefined) return db.insert(webhookDeliveries).values(deliveryValues(d, nowMs)).onConflictDoNothing();
  return insertIf(db, webhookDeliveries, deliveryValues(d, nowMs), onlyIf);
}

const deliveryColumns = {
  id: webhookDeliveries.id,
  endpoint_id: webhookDeliveries.endpointId,
  event_id: webhookDeliveries.eventId,
  event_type: webhookDeliveries.eventType,
  proposal_id: webhookDeliveries.proposalId,
  payload: webhookDeliveries.payload,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  last_status_code: webhookDeliveries.lastStatusCode,
  last_error: webhookDeliveries.lastError,
  created_at_ms: webhookDeliveries.createdAtMs,
  started_at_ms: webhookDeliveries.startedAtMs,
  delivered_at_ms: webhookDeliveries.deliveredAtMs,
  updated_at_ms: webhookDeliveries.updatedAtMs,
};

export async function getDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select(deliveryColumns).from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
}

/** A delivery with what it needs to be sent: its endpoint's URL and secret, and whether the endpoint is still active. */
export async function deliveryToSend(db: Db, id: string): Promise<{ delivery: DeliveryRow; url: string; secret: string; endpoint_active: boolean } | undefined> {
  const [row] = await db
    .select({ delivery: deliveryColumns, url: webhookEndpoints.url, secret: webhookEndpoints.secret, disabled_at_ms: webhookEndpoints.disabledAtMs })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, id));
  return row && { delivery: row.delivery, url: row.url, secret: row.secret, endpoint_active: row.disabled_at_ms === null };
}

export async function listDeliveries(db: Db, filter: { endpoint_id?: string; status?: WebhookDeliveryStatus; proposal_id?: string; before_ms?: number }, limit: number): Promise<DeliveryRow[]> {
  const where: SQL[] = [];
  if (filter.endpoint_id) where.push(eq(webhookDeliveries.endpointId, filter.endpoint_id));
  if (filter.status) where.push(eq(webhookDeliveries.status, filter.status));
  if (filter.proposal_id) where.push(eq(webhookDeliveries.proposalId, filter.proposal_id));
  if (filter.before_ms !== undefined) where.push(lt(webhookDeliveries.createdAtMs, filter.before_ms));
  return db.select(deliveryColumns).from(webhookDeliveries).where(and(...where)).orderBy(desc(webhookDeliveries.createdAtMs), desc(webhookDeliveries.id)).limit(limit);
}

export async function attemptsOf(db: Db, deliveryIds: readonly string[]): Promise<AttemptRow[]> {
  return byChunks(deliveryIds, (chunk) =>
    db
      .select({ delivery_id: webhookDeliveryAttempts.deliveryId, attempt: webhookDeliveryAttempts.attempt, at_ms: webhookDeliveryAttempts.atMs, status_code: webhookDeliveryAttempts.statusCode, error: webhookDeliveryAttempts.error, duration_ms: webhookDeliveryAttempts.durationMs })
      .from(webhookDeliveryAttempts)
      .where(inArray(webhookDeliveryAttempts.deliveryId, chunk))
      .orderBy(asc(webhookDeliveryAttempts.deliveryId), asc(webhookDeliveryAttempts.attempt)),
  );
}

/** Deliveries that no workflow has been started for yet: among `ids`, or all those made before a time. */
export async function unstartedDeliveryIds(db: Db, filter: { ids: readonly string[] } | { created_before_ms: number }, limit: number): Promise<string[]> {
  const unstarted = and(eq(webhookDeliveries.status, "pending"), isNull(webhookDeliveries.startedAtMs));
  if ("ids" in filter) {
    const rows = await byChunks(filter.ids, (chunk) => db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(and(unstarted, inArray(webhookDeliveries.id, chunk))));
    return rows.map((r) => r.id).slice(0, limit);
  }
  const rows = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(and(unstarted, lt(webhookDeliveries.createdAtMs, filter.created_before_ms))).orderBy(asc(webhookDeliveries.createdAtMs)).limit(limit);
  return rows.map((r) => r.id);
}

export async function markDeliveriesStarted(db: Db, ids: readonly string[], nowMs: number): Promise<void> {
  await byChunks(ids, async (chunk) => {
    await db.update(webhookDeliveries).set({ startedAtMs: nowMs, updatedAtMs: nowMs }).where(and(inArray(webhookDeliveries.id, chunk), isNull(webhookDeliveries.startedAtMs)));
    return [];
  });
}

/** One attempt, logged with what it did to the delivery, in one batch. */
export async function recordAttempt(db: Db, a: AttemptRow, outcome: { delivered: boolean }): Promise<void> {
  await db.batch([
    db.insert(webhookDeliveryAttempts).values({ deliveryId: a.delivery_id, attempt: a.attempt, atMs: a.at_ms, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms }).onConflictDoNothing(),
    db
      .update(webhookDeliveries)
      .set({
        attempts: a.attempt,
        lastStatusCode: a.status_code,
        lastError: a.error,
        updatedAtMs: a.at_ms,
        ...(outcome.delivered ? { status: "delivered" as const, deliveredAtMs: a.at_ms + a.duration_ms } : {}),
      })
      .where(and(eq(webhookDeliveries.id, a.delivery_id), eq(webhookDeliveries.status, "pending"))),
  ]);
}

/** Closes a delivery that will not be tried again: `failed` (attempts spent) or `canceled` (its endpoint was deleted). */
export async function closeDelivery(db: Db, id: string, status: "failed" | "canceled", why: string | null, nowMs: number): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status, updatedAtMs: nowMs, ...(why === null ? {} : { lastError: why }) })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, "pending")));
}
