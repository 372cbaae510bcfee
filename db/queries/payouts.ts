// Payout runs and their items: what each run pays each party, by transfer or by hand, and the
// ledger transactions that record it. A run's items are written once, when it is planned; each
// transfer is posted with its item marked paid in one batch, keyed by run, party and currency.
import { and, asc, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { partyAccount } from "../../core";
import { isUniqueViolation, type Db } from "../client";
import { ledgerTransactions, parties, payments, payoutItems, payoutRuns, postings, type PayoutItemStatus } from "../schema";
import { partyBalances } from "./ledger";

export type PayoutRun = typeof payoutRuns.$inferSelect;
export type PayoutItem = typeof payoutItems.$inferSelect;

/** Starts a run, or answers the one running: one runs at a time (a partial unique index). */
export async function openPayoutRun(db: Db, id: string, startedBy: string, nowMs: number): Promise<{ opened: true } | { opened: false; running: string }> {
  try {
    await db.insert(payoutRuns).values({ id, status: "running", startedBy, startedAtMs: nowMs });
    return { opened: true };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const running = await db.query.payoutRuns.findFirst({ where: eq(payoutRuns.status, "running"), columns: { id: true } });
    if (!running) throw error;
    return { opened: false, running: running.id };
  }
}

export async function closePayoutRun(db: Db, id: string, nowMs: number): Promise<void> {
  await db.update(payoutRuns).set({ status: "completed", finishedAtMs: nowMs }).where(eq(payoutRuns.id, id));
}

export async function getPayoutRun(db: Db, id: string) {
  const run = await db.query.payoutRuns.findFirst({ where: eq(payoutRuns.id, id) });
  if (!run) return undefined;
  const items = await db.select().from(payoutItems).where(eq(payoutItems.runId, id)).orderBy(asc(payoutItems.partyId), asc(payoutItems.currency));
  return { run, items };
}

export async function listPayoutRuns(db: Db, limit: number) {
  const runs = await db.select().from(payoutRuns).orderBy(desc(payoutRuns.startedAtMs)).limit(limit);
  if (runs.length === 0) return [];
  const counts = await db
    .select({ run_id: payoutItems.runId, status: payoutItems.status, n: sql<number>`count(*)`.mapWith(Number), total: sql<number>`sum(${payoutItems.amountMinor})`.mapWith(Number) })
    .from(payoutItems)
    .where(inArray(payoutItems.runId, runs.map((r) => r.id)))
    .groupBy(payoutItems.runId, payoutItems.status);
  return runs.map((run) => ({ run, counts: counts.filter((c) => c.run_id === run.id) }));
}

/** The items a run planned, if it has (a resumed run plans nothing twice). */
export async function itemsOf(db: Db, runId: string): Promise<PayoutItem[]> {
  return db.select().from(payoutItems).where(eq(payoutItems.runId, runId)).orderBy(asc(payoutItems.partyId), asc(payoutItems.currency));
}

/**
 * What every contributor can be paid now, per currency: its payable balance less the transfers
 * other runs have planned and not yet posted; with its connected account, its minimum, and the
 * charge its money came from when it all came from one (since its last payout).
 */
export async function payableContributors(db: Db, runId: string, nowMs: number) {
  const [balances, contributors, inFlight] = await Promise.all([
    partyBalances(db, nowMs),
    db.select({ id: parties.id, stripe_account_id: parties.stripeAccountId, payout_minimum_minor: parties.payoutMinimumMinor }).from(parties).where(eq(parties.kind, "contributor")),
    db
      .select({ party_id: payoutItems.partyId, currency: payoutItems.currency, amount: sql<number>`sum(${payoutItems.amountMinor})`.mapWith(Number) })
      .from(payoutItems)
      .where(and(eq(payoutItems.status, "pending"), ne(payoutItems.runId, runId)))
      .groupBy(payoutItems.partyId, payoutItems.currency),
  ]);
  const byId = new Map(contributors.map((c) => [c.id, c]));
  const out: { party_id: string; currency: string; payable_minor: number; stripe_account_id: string | null; payout_minimum_minor: number }[] = [];
  for (const b of balances) {
    const party = byId.get(b.party_id);
    if (!party) continue;
    const flying = inFlight.find((f) => f.party_id === b.party_id && f.currency === b.currency)?.amount ?? 0;
    out.push({ party_id: b.party_id, currency: b.currency, payable_minor: b.payable_minor - flying, stripe_account_id: party.stripe_account_id, payout_minimum_minor: party.payout_minimum_minor });
  }
  return out;
}

/**
 * The one charge a party's available shares in a currency came from since its last payout, if
 * one, and only if that charge gave the party at least `amountMinor`: a transfer cannot take more
 * than its source charge brought. (A share posted before the last payout and still held then is
 * paid now too, but is not "since" it: without this check the transfer would name the newer
 * charge for both, and Stripe would refuse it.)
 */
export async function singleSourceCharge(db: Db, partyId: string, currency: string, amountMinor: number, nowMs: number): Promise<string | null> {
  const account = partyAccount(partyId);
  const [last] = await db
    .select({ at: sql<number>`max(${ledgerTransactions.createdAtMs})`.mapWith(Number) })
    .from(postings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
    .where(and(eq(postings.account, account), eq(postings.currency, currency), eq(postings.role, "payout")));
  const since = last?.at ?? 0;
  const rows = await db
    .select({ charge_id: payments.chargeId, given_minor: sql<number>`sum(${postings.amountMinor})`.mapWith(Number) })
    .from(postings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
    .innerJoin(payments, eq(payments.transactionId, ledgerTransactions.id))
    .where(
      and(
        eq(postings.account, account),
        eq(postings.currency, currency),
        eq(postings.role, "share"),
        sql`${ledgerTransactions.createdAtMs} > ${since}`,
        sql`coalesce(${ledgerTransactions.availableAtMs}, 0) <= ${nowMs}`,
      ),
    )
    .groupBy(payments.chargeId)
    .limit(2);
  const [only] = rows;
  return rows.length === 1 && only && only.given_minor >= amountMinor ? only.charge_id : null;
}

export async function insertPayoutItems(db: Db, items: Omit<PayoutItem, "updatedAtMs">[], nowMs: number): Promise<void> {
  if (items.length === 0) return;
  const statements = items.map((item) => db.insert(payoutItems).values({ ...item, updatedAtMs: nowMs }).onConflictDoNothing());
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}

export async function setPayoutItem(db: Db, key: { runId: string; partyId: string; currency: string }, change: { status: PayoutItemStatus; reason?: string | null; transferId?: string | null }, nowMs: number): Promise<void> {
  await db.update(payoutItems).set({ ...change, updatedAtMs: nowMs }).where(and(eq(payoutItems.runId, key.runId), eq(payoutItems.partyId, key.partyId), eq(payoutItems.currency, key.currency)));
}

export function payoutItemStatement(db: Db, key: { runId: string; partyId: string; currency: string }, change: { status: PayoutItemStatus; transferId?: string | null; reason?: string | null }, nowMs: number): BatchItem<"sqlite"> {
  return db.update(payoutItems).set({ ...change, updatedAtMs: nowMs }).where(and(eq(payoutItems.runId, key.runId), eq(payoutItems.partyId, key.partyId), eq(payoutItems.currency, key.currency)));
}
