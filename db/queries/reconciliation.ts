// Reconciliation runs, one row per UTC day, their differences, and the ledger's side of a day:
// its transactions that Stripe dated that day, with their postings on Stripe's accounts summed.
import { and, asc, eq, ne, sql } from "drizzle-orm";
import { RECONCILED_KINDS, type Difference, type LedgerKind, type LedgerMovement } from "../../core";
import { chunked, type Db } from "../client";
import { reconciliationDifferences, reconciliations } from "../schema";

export type ReconciliationRow = typeof reconciliations.$inferSelect;

/** At most this many differences are stored per day (the total is kept): past it, the day needs a person, not a list. */
export const MAX_STORED_DIFFERENCES = 1000;

/**
 * Starts the day's run, replacing its last result, unless a run of that day is still going:
 * then the running one is answered. One statement, so two starts at once cannot both win.
 */
export async function openReconciliation(db: Db, date: string, runId: string, startedBy: string, nowMs: number): Promise<{ opened: true } | { opened: false; running: string }> {
  const fresh = { status: "running" as const, runId, startedBy, startedAtMs: nowMs, finishedAtMs: null, stripePages: 0, stripeCount: 0, ledgerCount: null, matched: null, outside: null, totals: null, differencesTotal: null, reason: null };
  const written = await db
    .insert(reconciliations)
    .values({ date, ...fresh })
    .onConflictDoUpdate({ target: reconciliations.date, set: fresh, setWhere: ne(reconciliations.status, "running") })
    .returning({ runId: reconciliations.runId });
  if (written.length === 1) return { opened: true };
  const running = await db.query.reconciliations.findFirst({ where: eq(reconciliations.date, date), columns: { runId: true } });
  return { opened: false, running: running?.runId ?? "unknown" };
}

/** Progress of the run `runId` (a run replaced meanwhile writes nothing). */
export async function recordReconciliationProgress(db: Db, date: string, runId: string, pages: number, read: number): Promise<void> {
  await db.update(reconciliations).set({ stripePages: pages, stripeCount: read }).where(and(eq(reconciliations.date, date), eq(reconciliations.runId, runId)));
}

export interface ReconciliationOutcome {
  stripe_count: number;
  ledger_count: number;
  matched: number;
  outside: number;
  totals: { currency: string; stripe_net_minor: number; ledger_net_minor: number }[];
  differences: Difference[];
}

/** The run's result, its differences replacing the day's, in one batch; the run's own row only. */
export async function finishReconciliation(db: Db, date: string, runId: string, outcome: ReconciliationOutcome, nowMs: number): Promise<void> {
  const kept = outcome.differences.slice(0, MAX_STORED_DIFFERENCES).map((d, position) => ({ date, position, code: d.code, body: JSON.stringify(d) }));
  const statements = [
    db
      .update(reconciliations)
      .set({
        status: "completed",
        finishedAtMs: nowMs,
        stripeCount: outcome.stripe_count,
        ledgerCount: outcome.ledger_count,
        matched: outcome.matched,
        outside: outcome.outside,
        totals: JSON.stringify(outcome.totals),
        differencesTotal: outcome.differences.length,
        reason: null,
      })
      .where(and(eq(reconciliations.date, date), eq(reconciliations.runId, runId))),
    db.delete(reconciliationDifferences).where(eq(reconciliationDifferences.date, date)),
    // 4 parameters a row: 24 rows a statement stay under D1's 100.
    ...chunked(kept, 24).map((rows) => db.insert(reconciliationDifferences).values(rows)),
  ];
  await db.batch(statements as unknown as Parameters<Db["batch"]>[0]);
}

export async function failReconciliation(db: Db, date: string, runId: string, reason: string, nowMs: number): Promise<void> {
  await db.update(reconciliations).set({ status: "failed", finishedAtMs: nowMs, reason }).where(and(eq(reconciliations.date, date), eq(reconciliations.runId, runId)));
}

/** The day's reconciliation, its stored differences in order, and the fees billed apart on the ledger for that day. */
export async function getReconciliation(db: Db, date: string, day: { start_s: number; end_s: number }) {
  const row = await db.query.reconciliations.findFirst({ where: eq(reconciliations.date, date) });
  if (!row) return undefined;
  const [differences, fees] = await Promise.all([
    db.select({ body: reconciliationDifferences.body }).from(reconciliationDifferences).where(eq(reconciliationDifferences.date, date)).orderBy(asc(reconciliationDifferences.position)),
    db.all<{ transaction_id: string; balance_transaction: string; description: string; amount_minor: number; currency: string }>(sql`
      select t.id as transaction_id, t.stripe_object as balance_transaction, t.description as description,
             sum(p.amount_minor) as amount_minor, p.currency as currency
      from ledger_transactions t join postings p on p.transaction_id = t.id
      where t.kind = 'stripe_fee' and t.stripe_created_s >= ${day.start_s} and t.stripe_created_s < ${day.end_s}
        and p.account = 'coop:stripe_billing'
      group by t.id, p.currency
      order by t.stripe_created_s, t.id`),
  ]);
  return { row, differences: differences.map((d) => JSON.parse(d.body) as Difference), fees };
}

/**
 * The ledger's transactions that Stripe dated in [start_s, end_s), of the kinds Stripe moved money
 * for (RECONCILED_KINDS: payments by hand and pool closes aside),
 * each with its postings on stripe:customers, stripe:transfers and stripe:fees summed; a payment's
 * balance transaction joined. At most `limit` rows (the caller asks one more to know it is over).
 */
export async function ledgerDay(db: Db, day: { start_s: number; end_s: number }, limit: number): Promise<LedgerMovement[]> {
  const rows = await db.all<{
    transaction_id: string;
    kind: LedgerKind;
    stripe_object: string | null;
    balance_transaction_id: string | null;
    currency: string | null;
    customers_minor: number | null;
    transfers_minor: number | null;
    fees_minor: number | null;
    billed_fees_minor: number | null;
  }>(sql`
    select t.id as transaction_id, t.kind as kind, t.stripe_object as stripe_object, pay.balance_transaction_id as balance_transaction_id,
           min(p.currency) as currency,
           sum(case when p.account = 'stripe:customers' then p.amount_minor else 0 end) as customers_minor,
           sum(case when p.account = 'stripe:transfers' then p.amount_minor else 0 end) as transfers_minor,
           sum(case when p.account = 'stripe:fees' and p.role = 'fee' then p.amount_minor else 0 end) as fees_minor,
           sum(case when p.account = 'stripe:fees' and p.role = 'billed_fee' then p.amount_minor else 0 end) as billed_fees_minor
    from ledger_transactions t
    left join payments pay on pay.transaction_id = t.id
    left join postings p on p.transaction_id = t.id
    where t.kind in (${sql.join(RECONCILED_KINDS.map((k) => sql`${k}`), sql`, `)}) and t.stripe_created_s >= ${day.start_s} and t.stripe_created_s < ${day.end_s}
    group by t.id
    order by t.stripe_created_s, t.id
    limit ${limit}`);
  return rows.map((r) => ({
    transaction_id: r.transaction_id,
    kind: r.kind,
    stripe_object: r.stripe_object,
    balance_transaction_id: r.balance_transaction_id,
    currency: r.currency,
    customers_minor: r.customers_minor ?? 0,
    transfers_minor: r.transfers_minor ?? 0,
    fees_minor: r.fees_minor ?? 0,
    billed_fees_minor: r.billed_fees_minor ?? 0,
  }));
}
