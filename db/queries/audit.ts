import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Db } from "../client";
import { auditLog } from "../schema";
import { insertIf, type OnlyIf } from "./conditional";

export interface AuditEntry {
  actor: string;
  action: string;
  entity_type: "rule" | "party" | "offer" | "token" | "event" | "pool" | "proposal" | "webhook_endpoint";
  entity_id: string;
  before: unknown;
  after: unknown;
}

function auditRow(e: AuditEntry, nowMs: number): typeof auditLog.$inferInsert {
  return {
    atMs: nowMs,
    actor: e.actor,
    action: e.action,
    entityType: e.entity_type,
    entityId: e.entity_id,
    before: e.before === undefined || e.before === null ? null : JSON.stringify(e.before),
    after: e.after === undefined || e.after === null ? null : JSON.stringify(e.after),
  };
}

/**
 * The audit row goes into the same batch as the change it describes: both or neither.
 * With `onlyIf`, the row is written only if that condition holds on `table` when the batch
 * runs (put it before the change it records, whose WHERE says the same): a change guarded
 * by "nobody moved this since I read it" is audited only when it happens.
 */
export function insertAuditStatement(db: Db, e: AuditEntry, nowMs: number, onlyIf?: OnlyIf) {
  const row = auditRow(e, nowMs);
  if (!onlyIf) return db.insert(auditLog).values(row);
  // Null for the id: SQLite numbers the row.
  return insertIf(db, auditLog, { id: null, ...row, before: row.before ?? null, after: row.after ?? null }, onlyIf);
}

export async function listAudit(db: Db, filter: { entity_type?: string; entity_id?: string; before_id?: number }, limit: number) {
  const where: SQL[] = [];
  if (filter.entity_type) where.push(eq(auditLog.entityType, filter.entity_type));
  if (filter.entity_id) where.push(eq(auditLog.entityId, filter.entity_id));
  if (filter.before_id) where.push(lt(auditLog.id, filter.before_id));
  const rows = await db.select().from(auditLog).where(and(...where)).orderBy(desc(auditLog.id)).limit(limit);
  return rows.map((r) => ({
    id: r.id,
    at: new Date(r.atMs).toISOString(),
    actor: r.actor,
    action: r.action,
    entity_type: r.entityType,
    entity_id: r.entityId,
    before: r.before === null ? null : (JSON.parse(r.before) as unknown),
    after: r.after === null ? null : (JSON.parse(r.after) as unknown),
  }));
}
