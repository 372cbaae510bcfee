// What the public page reads: sums over a period, never a row of one payment. Money in is
// dated by when the customer paid (payments.paid_at_s), money going back by when Stripe moved
// it (ledger_transactions.stripe_created_s, the refund's or the dispute's balance transaction).
import { and, asc, eq, gte, inArray, isNotNull, lt, max, min, sql } from "drizzle-orm";
import { partyOfAccount, type BackKind, type FlowInput, type PoolCloseRecord } from "../../core";
import type { Db } from "../client";
import { byChunks } from "../client";
import { apiTokens, ledgerTransactions, offers, OFFER_KINDS, parties, paymentLines, payments, poolCloseMembers, poolCloses, postings, type TransactionKind } from "../schema";
import { partiesByIds } from "./catalog";

const BACK_OF: Partial<Record<TransactionKind, BackKind>> = { refund: "refunds", refund_failed: "refunds", dispute_withdrawn: "disputes", dispute_reinstated: "disputes" };
const MONEY_BACK = Object.keys(BACK_OF) as TransactionKind[];

const total = sql<number>`sum(${postings.amountMinor})`.mapWith(Number);

/**
 * The sums `buildFlows` needs for one currency over [from_ms, to_ms), read in one D1 batch:
 * the payments' lines by offer kind, the payments' own postings per account, and the money
 * going back's postings per kind and account; then the parties those postings name.
 */
export async function flowSums(db: Db, currency: string, from_ms: number, to_ms: number): Promise<Omit<FlowInput, "max_named_contributors">> {
  // Stripe stamps payments in whole seconds; a period starts at a whole second.
  const fromS = Math.ceil(from_ms / 1000);
  const toS = Math.ceil(to_ms / 1000);
  const paidInPeriod = and(eq(payments.currency, currency), gte(payments.paidAtS, fromS), lt(payments.paidAtS, toS));
  const [byKind, paymentPostings, backPostings] = await db.batch([
    db
      .select({ kind: offers.kind, gross_minor: sql<number>`sum(${paymentLines.grossMinor})`.mapWith(Number) })
      .from(paymentLines)
      .innerJoin(payments, eq(payments.id, paymentLines.paymentId))
      .innerJoin(offers, eq(offers.id, paymentLines.offerId))
      .where(paidInPeriod)
      .groupBy(offers.kind),
    db
      .select({ account: postings.account, amount_minor: total })
      .from(postings)
      .innerJoin(payments, eq(payments.transactionId, postings.transactionId))
      .where(and(paidInPeriod, eq(postings.currency, currency)))
      .groupBy(postings.account)
      .orderBy(asc(postings.account)),
    db
      .select({ kind: ledgerTransactions.kind, account: postings.account, amount_minor: total })
      .from(postings)
      .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
      .where(and(inArray(ledgerTransactions.kind, MONEY_BACK), gte(ledgerTransactions.stripeCreatedS, fromS), lt(ledgerTransactions.stripeCreatedS, toS), eq(postings.currency, currency)))
      .groupBy(ledgerTransactions.kind, postings.account)
      .orderBy(asc(ledgerTransactions.kind), asc(postings.account)),
  ]);
  const partyIds = [...new Set([...paymentPostings, ...backPostings].map((p) => partyOfAccount(p.account)).filter((id) => id !== null))];
  const named = await partiesByIds(db, partyIds);
  return {
    currency,
    revenue_by_kind: OFFER_KINDS.flatMap((kind) => byKind.filter((k) => k.kind === kind).map((k) => ({ kind, gross_minor: k.gross_minor }))),
    payment_postings: paymentPostings,
    back_postings: backPostings.map((p) => ({ back: BACK_OF[p.kind] as BackKind, account: p.account, amount_minor: p.amount_minor })),
    parties: [...named.values()],
  };
}

/**
 * The need pools' closes of periods that end within (from_ms, to_ms], in one currency, with their
 * members and the pools' names: a pool's month belongs to the month, quarter and year it ends in
 * (a week to the month it ends in). At most `limit` closes, the latest periods first (40: the
 * members' read then binds at most 40 pools, 40 periods and a currency, under D1's 100).
 */
export async function poolClosesIn(db: Db, currency: string, from_ms: number, to_ms: number, limit = 40): Promise<PoolCloseRecord[]> {
  const inPeriod = and(eq(poolCloses.currency, currency), sql`${poolCloses.periodEndMs} > ${from_ms}`, sql`${poolCloses.periodEndMs} <= ${to_ms}`);
  const closes = await db
    .select({ close: poolCloses, pool_name: parties.name })
    .from(poolCloses)
    .innerJoin(parties, eq(parties.id, poolCloses.poolId))
    .where(inPeriod)
    .orderBy(sql`${poolCloses.periodEndMs} desc`, asc(poolCloses.poolId))
    .limit(limit);
  if (closes.length === 0) return [];
  const members = await byChunks([...new Set(closes.map((c) => c.close.poolId))], (chunk) =>
    db
      .select()
      .from(poolCloseMembers)
      .where(and(inArray(poolCloseMembers.poolId, chunk), inArray(poolCloseMembers.period, [...new Set(closes.map((c) => c.close.period))]), eq(poolCloseMembers.currency, currency))),
  );
  return closes.map(({ close, pool_name }) => ({
    pool_id: close.poolId,
    pool_name,
    period: close.period,
    currency: close.currency,
    income_minor: close.incomeMinor,
    leftover_minor: close.leftoverMinor,
    leftover_to: close.leftoverTo,
    carried_minor: close.carriedMinor,
    topups_minor: close.topupsMinor,
    members: members
      .filter((m) => m.poolId === close.poolId && m.period === close.period)
      .map((m) => ({ party_id: m.partyId, need_minor: m.needMinor, paid_minor: m.paidMinor, topup_minor: m.topupMinor, throttled: m.throttled })),
  }));
}

/** When the ledger's money moved, first and last (ms), and in which settlement currencies: what the period picker offers. */
export async function ledgerSpan(db: Db): Promise<{ first_ms: number | null; last_ms: number | null; currencies: string[] }> {
  const [paid, back, currencies] = await db.batch([
    db.select({ first: min(payments.paidAtS), last: max(payments.paidAtS) }).from(payments),
    db.select({ first: min(ledgerTransactions.stripeCreatedS), last: max(ledgerTransactions.stripeCreatedS) }).from(ledgerTransactions).where(inArray(ledgerTransactions.kind, MONEY_BACK)),
    db.selectDistinct({ currency: payments.currency }).from(payments).orderBy(asc(payments.currency)),
  ]);
  const instants = [paid[0]?.first, paid[0]?.last, back[0]?.first, back[0]?.last].filter((s): s is number => s !== null && s !== undefined).map((s) => s * 1000);
  return { first_ms: instants.length > 0 ? Math.min(...instants) : null, last_ms: instants.length > 0 ? Math.max(...instants) : null, currencies: currencies.map((c) => c.currency) };
}

/** Every party, for the words of rules (a rule may name any party; a hidden contributor is not named). */
export async function partiesForWords(db: Db, limit = 1000) {
  return db.select({ id: parties.id, kind: parties.kind, name: parties.name, public: parties.public }).from(parties).orderBy(asc(parties.id)).limit(limit);
}

/** The names of these tokens (`token:<id>` authors of rule versions), revoked ones included: a name says who, long after. */
export async function tokenNames(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await byChunks([...new Set(ids)], (chunk) => db.select({ id: apiTokens.id, name: apiTokens.name }).from(apiTokens).where(and(inArray(apiTokens.id, chunk), isNotNull(apiTokens.name))));
  return new Map(rows.map((r) => [r.id, r.name]));
}
