// Reading the ledger for people outside it: a party's statement over a period, and every
// posting of a period for the accountant, a page at a time. Both only read.
import { and, asc, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import { buildStatement, partyAccount, type CurrencyStatement, type Period, type StatementCredit, type StatementPosting } from "../../core";
import type { Db } from "../client";
import { ledgerTransactions, offerVersionContributors, offerVersions, parties, paymentLines, payments, postings } from "../schema";

/** The most postings, and the most payment lines behind them, that one statement reads: a year of a busy party fits. */
export const MAX_STATEMENT_ROWS = 10_000;

export type PartyStatementResult = { found: false } | { found: true; too_large: true } | { found: true; too_large: false; currencies: CurrencyStatement[] };

/** The party's postings booked in the period, in that order, with their transaction and the payment they are on. */
function statementPostings(db: Db, account: string, period: Period) {
  return db
    .select({
      // Every column named apart: in a D1 batch, drizzle reads rows by column name (two `id`s would be one).
      posting_id: postings.id,
      transaction_id: postings.transactionId,
      kind: ledgerTransactions.kind,
      role: postings.role,
      amount_minor: postings.amountMinor,
      currency: postings.currency,
      at_ms: ledgerTransactions.createdAtMs,
      // A payment's own transaction names no payment and no Stripe object: they are the payment intent.
      stripe_object: sql<string | null>`coalesce(${ledgerTransactions.stripeObject}, ${payments.id})`.as("stripe_object"),
      payment_id: sql<string | null>`coalesce(${ledgerTransactions.paymentId}, ${payments.id})`.as("payment_id"),
      description: ledgerTransactions.description,
    })
    .from(postings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
    .leftJoin(payments, eq(payments.transactionId, ledgerTransactions.id))
    .where(and(eq(postings.account, account), gte(ledgerTransactions.createdAtMs, period.from_ms), lt(ledgerTransactions.createdAtMs, period.until_ms)))
    .orderBy(asc(ledgerTransactions.createdAtMs), asc(postings.id))
    .limit(MAX_STATEMENT_ROWS + 1);
}

/** The party's balance in each currency it has postings in before the period ends: at its start and at its end. */
function statementBalances(db: Db, account: string, period: Period) {
  return db
    .select({
      currency: postings.currency,
      opening_minor: sql<number>`coalesce(sum(case when ${ledgerTransactions.createdAtMs} < ${period.from_ms} then ${postings.amountMinor} else 0 end), 0)`.mapWith(Number).as("opening_minor"),
      closing_minor: sql<number>`coalesce(sum(${postings.amountMinor}), 0)`.mapWith(Number).as("closing_minor"),
    })
    .from(postings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
    .where(and(eq(postings.account, account), lt(ledgerTransactions.createdAtMs, period.until_ms)))
    .groupBy(postings.currency)
    .orderBy(asc(postings.currency));
}

/**
 * What each line of the payments behind the party's shares in the period gave it (its part in
 * `payment_lines.parts`), with the line's offer, rule version, and the offer's name and the
 * party's role in the offer version the payment was split with (the one in force when it was
 * paid, or the first for a payment made before it: db/queries/catalog.ts, isVersionAt).
 */
function statementCredits(db: Db, partyId: string, account: string, period: Period) {
  const parts = paymentLines.parts;
  const isTheParty = sql`json_extract(j.value, '$.party_id') = ${partyId}`;
  // The offer version the payment was split with, as db/queries/catalog.ts's isVersionAt says it.
  const versionAtPayment = sql`coalesce(
    (select max(x.version) from ${offerVersions} x where x.offer_id = ${paymentLines.offerId} and x.effective_from_ms <= ${payments.paidAtS} * 1000),
    (select min(x.version) from ${offerVersions} x where x.offer_id = ${paymentLines.offerId}))`;
  const sharesInPeriod = db
    .select({ transaction_id: postings.transactionId })
    .from(postings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
    .where(and(eq(postings.account, account), eq(postings.role, "share"), gte(ledgerTransactions.createdAtMs, period.from_ms), lt(ledgerTransactions.createdAtMs, period.until_ms)));
  // The query builder, not db.all(sql): drizzle's D1 batch cannot bind the parameters of a raw query.
  return db
    .select({
      payment_id: paymentLines.paymentId,
      line_no: paymentLines.lineNo,
      amount_minor: sql<number>`(select coalesce(sum(json_extract(j.value, '$.amount_minor')), 0) from json_each(${parts}) j where ${isTheParty})`.mapWith(Number).as("amount_minor"),
      offer_id: paymentLines.offerId,
      offer_name: offerVersions.name,
      contributor_role: offerVersionContributors.role,
      rule_id: paymentLines.ruleId,
      rule_version: paymentLines.ruleVersion,
    })
    .from(paymentLines)
    .innerJoin(payments, eq(payments.id, paymentLines.paymentId))
    .leftJoin(offerVersions, and(eq(offerVersions.offerId, paymentLines.offerId), eq(offerVersions.version, versionAtPayment)))
    .leftJoin(offerVersionContributors, and(eq(offerVersionContributors.offerId, offerVersions.offerId), eq(offerVersionContributors.version, offerVersions.version), eq(offerVersionContributors.partyId, partyId)))
    .where(and(inArray(payments.transactionId, sharesInPeriod), sql`exists (select 1 from json_each(${parts}) j where ${isTheParty})`))
    .orderBy(asc(paymentLines.paymentId), asc(paymentLines.lineNo))
    .limit(MAX_STATEMENT_ROWS + 1);
}

/**
 * A party's statement over a period, per currency (core/statement.ts): its balances, its
 * postings and the payment lines behind its shares, read in one D1 batch so that they are one
 * state of the ledger, then put together and checked (opening plus the lines is the closing).
 * Whoever asks has been allowed to read this party's statement; this only reads.
 */
export async function partyStatement(db: Db, partyId: string, period: Period): Promise<PartyStatementResult> {
  const account = partyAccount(partyId);
  const [party, balances, posted, credits] = await db.batch([
    db.select({ id: parties.id }).from(parties).where(eq(parties.id, partyId)),
    statementBalances(db, account, period),
    statementPostings(db, account, period),
    statementCredits(db, partyId, account, period),
  ]);
  const [found] = party;
  if (!found) return { found: false };
  if (posted.length > MAX_STATEMENT_ROWS || credits.length > MAX_STATEMENT_ROWS) return { found: true, too_large: true };
  return { found: true, too_large: false, currencies: buildStatement({ balances, postings: posted as StatementPosting[], credits: credits as StatementCredit[] }) };
}

/** One posting of the export, with its transaction and the payment it is on. */
export interface ExportRow {
  posting_id: number;
  transaction_id: string;
  kind: string;
  created_at_ms: number;
  account: string;
  role: string | null;
  amount_minor: number;
  currency: string;
  stripe_object: string | null;
  payment_id: string | null;
  event_id: string;
  description: string;
}

/**
 * At most `limit` postings of transactions booked in the period, after the posting `after_id`,
 * in the order they were written (keyset pagination on postings.id: each page starts where the
 * last ended, whatever was written meanwhile, and a transaction's postings, written in one
 * batch, are all there or none).
 */
export async function ledgerExportPage(db: Db, period: Period, after_id: number, limit: number): Promise<ExportRow[]> {
  return db
    .select({
      posting_id: postings.id,
      transaction_id: ledgerTransactions.id,
      kind: ledgerTransactions.kind,
      created_at_ms: ledgerTransactions.createdAtMs,
      account: postings.account,
      role: postings.role,
      amount_minor: postings.amountMinor,
      currency: postings.currency,
      stripe_object: sql<string | null>`coalesce(${ledgerTransactions.stripeObject}, ${payments.id})`.as("stripe_object"),
      payment_id: sql<string | null>`coalesce(${ledgerTransactions.paymentId}, ${payments.id})`.as("payment_id"),
      event_id: ledgerTransactions.eventId,
      description: ledgerTransactions.description,
    })
    .from(postings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, postings.transactionId))
    .leftJoin(payments, eq(payments.transactionId, ledgerTransactions.id))
    .where(and(gt(postings.id, after_id), gte(ledgerTransactions.createdAtMs, period.from_ms), lt(ledgerTransactions.createdAtMs, period.until_ms)))
    .orderBy(asc(postings.id))
    .limit(limit);
}
