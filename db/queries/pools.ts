// Need pools: their settings and members, declared needs and every change of them, and their
// closes (what each distributed, member by member). The arithmetic is core/pools.ts; the
// close itself is workflows/pool-close.ts.
import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { partyAccount, type PoolPeriod } from "../../core";
import type { Db } from "../client";
import { isUniqueViolation } from "../client";
import { insertAuditStatement, type AuditEntry } from "./audit";
import { postingStatements } from "./ledger";
import { accountBalances, ledgerTransactions, parties, poolCloseMembers, poolCloses, poolMembers, poolNeedChanges, poolNeeds, pools } from "../schema";


export interface PoolSettings {
  id: string;
  name: string;
  period: PoolPeriod;
  floor_minor: number | null;
  leftover_to: string | null;
  solidarity_minimum_minor: number | null;
  solidarity_budget_minor: number;
}

export interface Pool extends PoolSettings {
  revision: number;
  created_at_ms: number;
  members: { party_id: string; joined_at_ms: number }[];
}

/** A need as stored: an amount in minor units, or `auto`. */
export type Need = number | "auto";

const poolColumns = {
  id: pools.id,
  name: parties.name,
  period: pools.period,
  floor_minor: pools.floorMinor,
  leftover_to: pools.leftoverTo,
  solidarity_minimum_minor: pools.solidarityMinimumMinor,
  solidarity_budget_minor: pools.solidarityBudgetMinor,
  revision: pools.revision,
  created_at_ms: pools.createdAtMs,
};

export async function listPools(db: Db): Promise<Pool[]> {
  const [rows, members] = await Promise.all([
    db.select(poolColumns).from(pools).innerJoin(parties, eq(parties.id, pools.id)).orderBy(asc(pools.id)),
    db.select().from(poolMembers).orderBy(asc(poolMembers.joinedAtMs), asc(poolMembers.partyId)),
  ]);
  return rows.map((p) => ({ ...p, members: members.filter((m) => m.poolId === p.id).map((m) => ({ party_id: m.partyId, joined_at_ms: m.joinedAtMs })) }));
}

export async function getPool(db: Db, id: string): Promise<Pool | undefined> {
  const [[row], members] = await Promise.all([
    db.select(poolColumns).from(pools).innerJoin(parties, eq(parties.id, pools.id)).where(eq(pools.id, id)),
    db.select().from(poolMembers).where(eq(poolMembers.poolId, id)).orderBy(asc(poolMembers.joinedAtMs), asc(poolMembers.partyId)),
  ]);
  if (!row) return undefined;
  return { ...row, members: members.map((m) => ({ party_id: m.partyId, joined_at_ms: m.joinedAtMs })) };
}

/** Every pool id: a rule line may send to any of them. */
export async function allPoolIds(db: Db): Promise<string[]> {
  return (await db.select({ id: pools.id }).from(pools)).map((p) => p.id);
}

/** Creates the pool and its party (kind `pool`, the same id) in one batch; "exists" when the id is taken by a party or pool. */
export async function createPool(db: Db, pool: PoolSettings, members: readonly string[], audit: AuditEntry, nowMs: number): Promise<"created" | "exists"> {
  const statements: BatchItem<"sqlite">[] = [
    db.insert(parties).values({ id: pool.id, kind: "pool", name: pool.name, createdAtMs: nowMs }),
    db.insert(pools).values({
      id: pool.id,
      period: pool.period,
      floorMinor: pool.floor_minor,
      leftoverTo: pool.leftover_to,
      solidarityMinimumMinor: pool.solidarity_minimum_minor,
      solidarityBudgetMinor: pool.solidarity_budget_minor,
      createdAtMs: nowMs,
    }),
    ...members.map((partyId) => db.insert(poolMembers).values({ poolId: pool.id, partyId, joinedAtMs: nowMs })),
    insertAuditStatement(db, audit, nowMs),
  ];
  try {
    await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    return "created";
  } catch (error) {
    if (isUniqueViolation(error)) return "exists";
    throw error;
  }
}

/**
 * Changes a pool's settings (its name on its party) in one batch, only if it is still at the
 * revision it was read at: false when someone changed it meanwhile, nothing written.
 */
export async function updatePoolIfUnchanged(db: Db, read: Pool, after: PoolSettings, audit: AuditEntry, nowMs: number): Promise<boolean> {
  const unmoved = and(eq(pools.id, read.id), eq(pools.revision, read.revision));
  const [, updated] = await db.batch([
    insertAuditStatement(db, audit, nowMs, { table: pools, where: unmoved }),
    db
      .update(pools)
      .set({
        period: after.period,
        floorMinor: after.floor_minor,
        leftoverTo: after.leftover_to,
        solidarityMinimumMinor: after.solidarity_minimum_minor,
        solidarityBudgetMinor: after.solidarity_budget_minor,
        revision: read.revision + 1,
      })
      .where(unmoved)
      .returning({ id: pools.id }),
    // Only once this batch moved the pool to its next revision.
    db.update(parties).set({ name: after.name }).where(and(eq(parties.id, read.id), sql`exists (select 1 from pools where id = ${read.id} and revision = ${read.revision + 1})`)),
  ]);
  return updated.length === 1;
}

/** Adds a member (true), or finds them there already (false). */
export async function addMember(db: Db, poolId: string, partyId: string, audit: AuditEntry, nowMs: number): Promise<boolean> {
  const [inserted] = await db.batch([
    db.insert(poolMembers).values({ poolId, partyId, joinedAtMs: nowMs }).onConflictDoNothing().returning({ id: poolMembers.partyId }),
    insertAuditStatement(db, audit, nowMs, { table: poolMembers, where: and(eq(poolMembers.poolId, poolId), eq(poolMembers.partyId, partyId), eq(poolMembers.joinedAtMs, nowMs)) }),
  ]);
  return inserted.length === 1;
}

/** Removes a member (true), or finds them gone already (false). Their needs and closes stay, for the record and a return. */
export async function removeMember(db: Db, poolId: string, partyId: string, audit: AuditEntry, nowMs: number): Promise<boolean> {
  const member = and(eq(poolMembers.poolId, poolId), eq(poolMembers.partyId, partyId));
  const [, deleted] = await db.batch([
    insertAuditStatement(db, audit, nowMs, { table: poolMembers, where: member }),
    db.delete(poolMembers).where(member).returning({ id: poolMembers.partyId }),
  ]);
  return deleted.length === 1;
}

// ---- needs --------------------------------------------------------------------------------

export interface StandingNeed {
  party_id: string;
  currency: string;
  need: Need;
  updated_at_ms: number;
}

export async function needsOf(db: Db, poolId: string): Promise<StandingNeed[]> {
  const rows = await db.select().from(poolNeeds).where(eq(poolNeeds.poolId, poolId)).orderBy(asc(poolNeeds.partyId), asc(poolNeeds.currency));
  return rows.map((r) => ({ party_id: r.partyId, currency: r.currency, need: r.needMinor ?? "auto", updated_at_ms: r.updatedAtMs }));
}

const needOf = (minor: number | null, auto: boolean): Need | null => (auto ? "auto" : minor);

/**
 * Sets a member's need in a currency and records the change (who, when, from, to) in the same
 * batch. The same need again changes nothing and records nothing. Returns what it was.
 */
export async function declareNeed(db: Db, d: { pool_id: string; party_id: string; currency: string; need: Need; actor: string }, nowMs: number): Promise<{ from: Need | null; changed: boolean }> {
  const [current] = await db.select().from(poolNeeds).where(and(eq(poolNeeds.poolId, d.pool_id), eq(poolNeeds.partyId, d.party_id), eq(poolNeeds.currency, d.currency)));
  const from = current === undefined ? null : needOf(current.needMinor, current.needMinor === null);
  if (from === d.need) return { from, changed: false };
  const needMinor = d.need === "auto" ? null : d.need;
  await db.batch([
    db
      .insert(poolNeeds)
      .values({ poolId: d.pool_id, partyId: d.party_id, currency: d.currency, needMinor, updatedAtMs: nowMs })
      .onConflictDoUpdate({ target: [poolNeeds.poolId, poolNeeds.partyId, poolNeeds.currency], set: { needMinor, updatedAtMs: nowMs } }),
    db.insert(poolNeedChanges).values({
      poolId: d.pool_id,
      partyId: d.party_id,
      currency: d.currency,
      fromMinor: typeof from === "number" ? from : null,
      fromAuto: from === "auto",
      toMinor: needMinor,
      toAuto: d.need === "auto",
      actor: d.actor,
      atMs: nowMs,
    }),
  ]);
  return { from, changed: true };
}

export interface NeedChange {
  id: number;
  party_id: string;
  currency: string;
  from: Need | null;
  to: Need;
  actor: string;
  at_ms: number;
}

/** The history of a pool's needs, newest first. */
export async function needHistory(db: Db, poolId: string, limit = 500): Promise<NeedChange[]> {
  const rows = await db.select().from(poolNeedChanges).where(eq(poolNeedChanges.poolId, poolId)).orderBy(desc(poolNeedChanges.id)).limit(limit);
  return rows.map((r) => ({ id: r.id, party_id: r.partyId, currency: r.currency, from: needOf(r.fromMinor, r.fromAuto), to: needOf(r.toMinor, r.toAuto) ?? "auto", actor: r.actor, at_ms: r.atMs }));
}

// ---- balances and closes ------------------------------------------------------------------

/**
 * What a party's account holds per currency (a pool's: what its next close distributes), from
 * `account_balances`, which triggers keep equal to the postings' sums: one row a currency.
 */
export async function balancesOf(db: Db, partyId: string): Promise<Map<string, number>> {
  const rows = await db
    .select({ currency: accountBalances.currency, balance: accountBalances.balanceMinor })
    .from(accountBalances)
    .where(and(eq(accountBalances.account, partyAccount(partyId)), gt(accountBalances.postings, 0)));
  return new Map(rows.map((r) => [r.currency, r.balance]));
}

export type PoolClose = typeof poolCloses.$inferSelect;
export type PoolCloseMember = typeof poolCloseMembers.$inferSelect;

export async function closesOf(db: Db, poolId: string, limit = 200): Promise<PoolClose[]> {
  return db.select().from(poolCloses).where(eq(poolCloses.poolId, poolId)).orderBy(desc(poolCloses.closedAtMs), asc(poolCloses.currency)).limit(limit);
}

export async function getClose(db: Db, poolId: string, period: string): Promise<{ close: PoolClose; members: PoolCloseMember[] }[]> {
  const [closes, members] = await Promise.all([
    db.select().from(poolCloses).where(and(eq(poolCloses.poolId, poolId), eq(poolCloses.period, period))).orderBy(asc(poolCloses.currency)),
    db.select().from(poolCloseMembers).where(and(eq(poolCloseMembers.poolId, poolId), eq(poolCloseMembers.period, period))),
  ]);
  return closes.map((close) => ({ close, members: members.filter((m) => m.currency === close.currency) }));
}

/** The pool's latest close in a currency, with its members: what the throttle looks back at. */
export async function lastClose(db: Db, poolId: string, currency: string): Promise<{ close: PoolClose; members: PoolCloseMember[] } | null> {
  const [close] = await db.select().from(poolCloses).where(and(eq(poolCloses.poolId, poolId), eq(poolCloses.currency, currency))).orderBy(desc(poolCloses.seq)).limit(1);
  if (!close) return null;
  const members = await db.select().from(poolCloseMembers).where(and(eq(poolCloseMembers.poolId, poolId), eq(poolCloseMembers.period, close.period), eq(poolCloseMembers.currency, currency)));
  return { close, members };
}

/** The latest end of a period this pool has closed, in any currency (0: never closed). */
export async function latestClosedEnd(db: Db, poolId: string): Promise<number> {
  const [row] = await db.select({ end: sql<number>`coalesce(max(${poolCloses.periodEndMs}), 0)`.mapWith(Number) }).from(poolCloses).where(eq(poolCloses.poolId, poolId));
  return row?.end ?? 0;
}

export interface CloseRecord {
  close: Omit<PoolClose, "transactionId">;
  members: Omit<PoolCloseMember, "poolId" | "period" | "currency">[];
  /** The close's ledger transaction; none when it moves no money. */
  transaction: { id: string; key: string; description: string; postings: { account: string; amount_minor: number; currency: string; role: string }[] } | null;
  audit: AuditEntry;
}

/**
 * Writes a close in one batch: its record, its members, its ledger transaction. A close of the
 * same pool, period and currency already written, or another close that read the same balance
 * (the same seq), makes the whole batch fail: "closed" or "contended", nothing written.
 */
export async function writeClose(db: Db, r: CloseRecord, nowMs: number): Promise<"written" | "closed" | "contended"> {
  const { close } = r;
  const statements: BatchItem<"sqlite">[] = [
    db.insert(poolCloses).values({ ...close, transactionId: r.transaction?.id ?? null }),
    ...r.members.map((m) => db.insert(poolCloseMembers).values({ ...m, poolId: close.poolId, period: close.period, currency: close.currency })),
  ];
  if (r.transaction !== null) {
    const t = r.transaction;
    statements.push(db.insert(ledgerTransactions).values({ id: t.id, kind: "pool_close", idempotencyKey: t.key, eventId: `pool:${close.poolId}`, description: t.description, createdAtMs: nowMs }));
    statements.push(...postingStatements(db, t.id, t.postings));
  }
  statements.push(insertAuditStatement(db, r.audit, nowMs));
  try {
    await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    return "written";
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const [existing] = await db.select({ seq: poolCloses.seq }).from(poolCloses).where(and(eq(poolCloses.poolId, close.poolId), eq(poolCloses.period, close.period), eq(poolCloses.currency, close.currency)));
    return existing ? "closed" : "contended";
  }
}
