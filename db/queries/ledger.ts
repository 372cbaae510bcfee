// The ledger: payments, their lines, transactions and postings. Append-only.
import { and, asc, eq, gt, inArray, like, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../client";
import { ACCOUNT_STRIPE_TRANSFERS, ACCOUNT_TAX_COLLECTED, PARTY_ACCOUNT_PREFIX, partyAccount } from "../../core";
import { byChunks, chunked, d1Of, isUniqueViolation } from "../client";
import { accountBalances, disputes, ledgerTransactions, parties, paymentLines, payments, postings, type TransactionKind } from "../schema";

export interface PostingInput {
  account: string;
  amount_minor: number;
  currency: string;
  /** Why it is there (core's PostingRole). */
  role: string;
}

export interface PaymentRecord {
  id: string;
  source_type: "checkout.session" | "invoice";
  source_id: string;
  event_id: string;
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  presentment_currency: string;
  presentment_amount_minor: number;
  charge_amount_minor: number;
  tax_minor: number;
  shipping_minor: number;
  charge_id: string;
  balance_transaction_id: string;
  exchange_rate: string | null;
  paid_at_s: number;
  /** When its shares can be paid out: paid_at plus the longest hold of its lines' rules. */
  available_at_ms: number;
  /** When Stripe created the charge's balance transaction: the day reconciliation finds it on. */
  stripe_created_s: number;
  lines: {
    offer_id: string;
    price_id: string | null;
    rule_id: string;
    rule_version: number;
    basis: "gross" | "net";
    fee_policy: "proportional" | "reserve" | "commons" | "cooperative";
    /** What the line gave each party: what a refund will take back. */
    parts: { party_id: string; amount_minor: number }[];
    weight_minor: number;
    gross_minor: number;
    fee_minor: number;
    basis_minor: number;
  }[];
}

/** Posted now, or found on the ledger already (posted by `event_id`, perhaps another event for the same payment). */
export type PostOutcome = { posted: true; transaction_id: string } | { posted: false; transaction_id: string; event_id: string };

export const paymentTransactionId = (paymentIntentId: string) => `txn_pay_${paymentIntentId}`;

/**
 * Writes a payment, its lines, its transaction and its postings in one D1 batch (atomic),
 * with `alongside` (the event marked processed, say) in the same batch. The transaction's
 * idempotency key is the payment intent: if it was posted already the unique index rejects
 * the whole batch, `alongside` included, and nothing is written twice. Plain SQL of fixed
 * strings (what drizzle built for these inserts): every payment's run takes this way.
 */
export async function postPayment(db: Db, payment: PaymentRecord, entries: PostingInput[], nowMs: number, alongside: D1PreparedStatement[] = []): Promise<PostOutcome> {
  const transaction_id = paymentTransactionId(payment.id);
  const d1 = d1Of(db);
  const statements = [
    d1
      .prepare(`insert into "ledger_transactions" ("id", "kind", "idempotency_key", "event_id", "description", "payment_id", "stripe_object", "charge_amount_minor", "seq", "available_at_ms", "stripe_created_s", "created_at_ms") values (?, 'payment', ?, ?, ?, null, null, null, null, ?, ?, ?)`)
      .bind(transaction_id, `payment:${payment.id}`, payment.event_id, `${payment.source_type} ${payment.source_id}`, payment.available_at_ms, payment.stripe_created_s, nowMs),
    d1
      .prepare(
        `insert into "payments" ("id", "source_type", "source_id", "event_id", "transaction_id", "currency", "gross_minor", "fee_minor", "net_minor", "presentment_currency", "presentment_amount_minor", "charge_amount_minor", "tax_minor", "shipping_minor", "charge_id", "balance_transaction_id", "exchange_rate", "paid_at_s", "created_at_ms") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        payment.id,
        payment.source_type,
        payment.source_id,
        payment.event_id,
        transaction_id,
        payment.currency,
        payment.gross_minor,
        payment.fee_minor,
        payment.net_minor,
        payment.presentment_currency,
        payment.presentment_amount_minor,
        payment.charge_amount_minor,
        payment.tax_minor,
        payment.shipping_minor,
        payment.charge_id,
        payment.balance_transaction_id,
        payment.exchange_rate,
        payment.paid_at_s,
        nowMs,
      ),
    ...payment.lines.map((l, lineNo) =>
      d1
        .prepare(`insert into "payment_lines" ("payment_id", "line_no", "offer_id", "price_id", "rule_id", "rule_version", "basis", "weight_minor", "gross_minor", "fee_minor", "basis_minor", "parts", "fee_policy") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .bind(payment.id, lineNo, l.offer_id, l.price_id, l.rule_id, l.rule_version, l.basis, l.weight_minor, l.gross_minor, l.fee_minor, l.basis_minor, JSON.stringify(l.parts), l.fee_policy),
    ),
    // Postings in one multi-row insert per chunk: D1 binds at most 100 parameters (5 a row).
    ...chunked([...entries], 16).map((chunk) =>
      d1
        .prepare(`insert into "postings" ("id", "transaction_id", "account", "amount_minor", "currency", "role") values ${chunk.map(() => "(null, ?, ?, ?, ?, ?)").join(", ")}`)
        .bind(...chunk.flatMap((p) => [transaction_id, p.account, p.amount_minor, p.currency, p.role])),
    ),
    ...alongside,
  ];
  try {
    await d1.batch(statements);
    return { posted: true, transaction_id };
  } catch (error) {
    // The batch is atomic: on a unique violation nothing of it was written. It means
    // "already posted" only if the payment's transaction is indeed there.
    if (isUniqueViolation(error)) {
      const existing = await db.query.ledgerTransactions.findFirst({ where: eq(ledgerTransactions.idempotencyKey, `payment:${payment.id}`), columns: { id: true, eventId: true } });
      if (existing) return { posted: false, transaction_id: existing.id, event_id: existing.eventId };
    }
    throw error;
  }
}

/** A transaction's postings as multi-row inserts, 16 rows (80 parameters) a statement: D1 binds at most 100. */
export function postingStatements(db: Db, transactionId: string, entries: readonly PostingInput[]) {
  return chunked([...entries], 16).map((chunk) =>
    db.insert(postings).values(chunk.map((p) => ({ transactionId, account: p.account, amountMinor: p.amount_minor, currency: p.currency, role: p.role }))),
  );
}

/** The payment that a Checkout Session or an invoice paid, if it is on the ledger already. */
export async function paymentBySource(db: Db, sourceId: string) {
  return db.query.payments.findFirst({ where: eq(payments.sourceId, sourceId), columns: { id: true, eventId: true, transactionId: true } });
}


/** A payment, its lines, and every transaction on it (the payment's, then its refunds and disputes) with their postings. */
export async function getPayment(db: Db, id: string) {
  const payment = await db.query.payments.findFirst({ where: eq(payments.id, id) });
  if (!payment) return undefined;
  const [lines, history, disputed] = await Promise.all([
    db.select().from(paymentLines).where(eq(paymentLines.paymentId, id)).orderBy(asc(paymentLines.lineNo)),
    paymentHistory(db, id, payment.transactionId),
    disputesOf(db, id),
  ]);
  const entries = await byChunks(history.map((t) => t.id), (chunk) => db.select().from(postings).where(inArray(postings.transactionId, chunk)).orderBy(asc(postings.id)));
  return { payment, lines, history: history.map((t) => ({ ...t, postings: entries.filter((p) => p.transactionId === t.id) })), disputes: disputed };
}

/**
 * Every party's balance per currency, split by when it can be paid out: `pending` (its
 * transaction's hold has not passed: a payment's shares, and what its refunds and disputes took
 * back meanwhile), `payable` (the rest: may be negative when money went back after a payout, and
 * the next run deducts it), and `paid` so far. The balance and what was paid come from
 * `account_balances`, which triggers keep equal to the postings' sums; `pending` reads only the
 * postings of transactions still held, so one round trip costs the same whatever the ledger's size.
 */
export async function partyBalances(db: Db, nowMs: number, partyId?: string) {
  const [totals, held] = await db.batch([
    db
      .select({ party_id: parties.id, kind: parties.kind, currency: accountBalances.currency, balance_minor: accountBalances.balanceMinor, paid_minor: accountBalances.paidMinor })
      .from(accountBalances)
      .innerJoin(parties, eq(accountBalances.account, sql`${PARTY_ACCOUNT_PREFIX} || ${parties.id}`))
      .where(and(gt(accountBalances.postings, 0), partyId === undefined ? undefined : eq(parties.id, partyId)))
      .orderBy(asc(parties.id), asc(accountBalances.currency)),
    db
      .select({ account: postings.account, currency: postings.currency, pending_minor: sql<number>`sum(${postings.amountMinor})`.mapWith(Number) })
      .from(ledgerTransactions)
      // A cross join makes SQLite read the transactions still held first (by their index on
      // available_at_ms), then only their postings; joined the other way it reads every posting.
      .crossJoin(postings)
      .where(
        and(
          eq(postings.transactionId, ledgerTransactions.id),
          gt(ledgerTransactions.availableAtMs, nowMs),
          partyId === undefined ? like(postings.account, `${PARTY_ACCOUNT_PREFIX}%`) : eq(postings.account, partyAccount(partyId)),
        ),
      )
      .groupBy(postings.account, postings.currency),
  ]);
  const pending = new Map(held.map((h) => [`${h.account}\n${h.currency}`, h.pending_minor]));
  return totals.map((t) => {
    const pending_minor = pending.get(`${partyAccount(t.party_id)}\n${t.currency}`) ?? 0;
    return { ...t, pending_minor, payable_minor: t.balance_minor - pending_minor };
  });
}

export interface LedgerCheck {
  ok: boolean;
  transactions: number;
  postings: number;
  imbalances: { transaction_id: string; currency: string; invariant: "sums_to_zero" | "shares_equal_basis" | "tax_held"; sum_minor: number; expected_minor: number }[];
}

/**
 * Recomputes the ledger's invariants over every transaction, in SQL so that the whole
 * ledger never has to fit in the worker's memory: each transaction sums to zero per
 * currency, each payment's party postings sum to the bases of its lines, and its tax account
 * posting is the tax it collected.
 */
export async function checkLedger(db: Db, maxReported = 100): Promise<LedgerCheck> {
  const [[totals], unbalanced, misallocated, mistaxed] = await Promise.all([
    db.select({
      transactions: sql<number>`(select count(*) from ${ledgerTransactions})`.mapWith(Number),
      postings: sql<number>`(select count(*) from ${postings})`.mapWith(Number),
    }).from(sql`(select 1)`),
    db
      .select({ transaction_id: postings.transactionId, currency: postings.currency, sum_minor: sql<number>`sum(${postings.amountMinor})`.mapWith(Number) })
      .from(postings)
      .groupBy(postings.transactionId, postings.currency)
      .having(sql`sum(${postings.amountMinor}) <> 0`)
      .limit(maxReported),
    // Plain SQL with aliases: the sums are per payment, and a correlated subquery through the
    // query builder would leave its column names unqualified (and so compare a column with itself).
    db.all<{ transaction_id: string; currency: string; sum_minor: number; expected_minor: number }>(sql`
      select p.transaction_id as transaction_id, p.currency as currency,
             coalesce(s.shares_minor, 0) as sum_minor, coalesce(b.basis_minor, 0) as expected_minor
      from payments p
      left join (select transaction_id, sum(amount_minor) as shares_minor from postings
                 where account like ${`${PARTY_ACCOUNT_PREFIX}%`} group by transaction_id) s on s.transaction_id = p.transaction_id
      left join (select payment_id, sum(basis_minor) as basis_minor from payment_lines group by payment_id) b on b.payment_id = p.id
      where coalesce(s.shares_minor, 0) <> coalesce(b.basis_minor, 0)
      limit ${maxReported}`),
    // The tax account holds, for every payment, exactly the tax it collected.
    db.all<{ transaction_id: string; currency: string; sum_minor: number; expected_minor: number }>(sql`
      select p.transaction_id as transaction_id, p.currency as currency,
             coalesce(t.tax_minor, 0) as sum_minor, p.tax_minor as expected_minor
      from payments p
      left join (select transaction_id, sum(amount_minor) as tax_minor from postings
                 where account = ${ACCOUNT_TAX_COLLECTED} group by transaction_id) t on t.transaction_id = p.transaction_id
      where coalesce(t.tax_minor, 0) <> p.tax_minor
      limit ${maxReported}`),
  ]);
  const imbalances = [
    ...unbalanced.map((u) => ({ ...u, invariant: "sums_to_zero" as const, expected_minor: 0 })),
    ...misallocated.map((m) => ({ ...m, invariant: "shares_equal_basis" as const })),
    ...mistaxed.map((m) => ({ ...m, invariant: "tax_held" as const })),
  ];
  return { ok: imbalances.length === 0, transactions: totals?.transactions ?? 0, postings: totals?.postings ?? 0, imbalances };
}

// ---- money going back ------------------------------------------------------------------------

const MONEY_BACK: TransactionKind[] = ["refund", "refund_failed", "dispute_withdrawn", "dispute_reinstated"];

/** A payment as it was posted, with what each line gave: what a refund or a dispute takes back. */
export async function postedPayment(db: Db, paymentIntentId: string) {
  const payment = await db.query.payments.findFirst({ where: eq(payments.id, paymentIntentId) });
  if (!payment) return undefined;
  const [lines, txn] = await Promise.all([
    db.select().from(paymentLines).where(eq(paymentLines.paymentId, paymentIntentId)).orderBy(asc(paymentLines.lineNo)),
    db.query.ledgerTransactions.findFirst({ where: eq(ledgerTransactions.id, payment.transactionId), columns: { availableAtMs: true } }),
  ]);
  return {
    id: payment.id,
    transaction_id: payment.transactionId,
    available_at_ms: txn?.availableAtMs ?? null,
    currency: payment.currency,
    gross_minor: payment.grossMinor,
    charge_amount_minor: payment.chargeAmountMinor,
    tax_minor: payment.taxMinor,
    shipping_minor: payment.shippingMinor,
    lines: lines.map((l) => ({
      parts: l.parts === null ? null : (JSON.parse(l.parts) as { party_id: string; amount_minor: number }[]),
      gross_minor: l.grossMinor,
      borne_fee_minor: l.basis === "net" && l.grossMinor > 0 ? l.feeMinor : 0,
      fee_policy: l.feePolicy,
    })),
  };
}

/** What earlier refunds and disputes did on a payment: their postings, what they took back in all, their keys, the last seq. */
export async function moneyBackSoFar(db: Db, paymentId: string) {
  const txns = await db
    .select({ id: ledgerTransactions.id, key: ledgerTransactions.idempotencyKey, charge: ledgerTransactions.chargeAmountMinor, seq: ledgerTransactions.seq })
    .from(ledgerTransactions)
    .where(and(eq(ledgerTransactions.paymentId, paymentId), inArray(ledgerTransactions.kind, MONEY_BACK)));
  const rows = txns.length === 0 ? [] : await byChunks(txns.map((t) => t.id), (chunk) => db.select({ account: postings.account, amount_minor: postings.amountMinor, currency: postings.currency, role: postings.role }).from(postings).where(inArray(postings.transactionId, chunk)));
  return {
    postings: rows,
    taken_charge_minor: txns.reduce((acc, t) => acc + (t.charge ?? 0), 0),
    keys: new Set(txns.map((t) => t.key)),
    seq: txns.reduce((acc, t) => Math.max(acc, t.seq ?? 0), 0),
  };
}

/** Someone else posted a movement on this payment between our reading and our write: read again. */
export class MoneyBackContended extends Error {
  override readonly name = "MoneyBackContended";
}

export interface MoneyBackRecord {
  payment_id: string;
  kind: TransactionKind;
  /** The idempotency key: the Stripe object that moved the money (`refund:re_…`, `dispute:txn_…`). */
  key: string;
  stripe_object: string;
  event_id: string;
  charge_amount_minor: number;
  /** The next seq after what was read: a unique index makes a concurrent writer lose. */
  seq: number;
  description: string;
  /** Its payment's hold: what it takes back from shares still held reduces what is pending. */
  available_at_ms: number | null;
  /** When Stripe created the balance transaction that moved the money. */
  stripe_created_s: number;
}

/**
 * Writes the movements of one Stripe object as transactions on its payment, in one batch: all
 * of them or none (a refund and its failure posted together never show on the ledger one
 * without the other). Already posted (every key exists): nothing is written. Posted meanwhile
 * by another movement on the same payment (a seq is taken): MoneyBackContended, to read again.
 */
export async function postMoneyBack(db: Db, movements: readonly { record: MoneyBackRecord; entries: PostingInput[] }[], nowMs: number): Promise<{ posted: boolean; transaction_ids: string[] }> {
  const transaction_ids = movements.map(({ record }) => `txn_${record.kind}_${record.key.slice(record.key.indexOf(":") + 1)}`);
  const statements = movements.flatMap(({ record, entries }, i) => [
    db.insert(ledgerTransactions).values({
      id: transaction_ids[i] as string,
      kind: record.kind,
      idempotencyKey: record.key,
      eventId: record.event_id,
      description: record.description,
      paymentId: record.payment_id,
      stripeObject: record.stripe_object,
      chargeAmountMinor: record.charge_amount_minor,
      seq: record.seq,
      availableAtMs: record.available_at_ms,
      stripeCreatedS: record.stripe_created_s,
      createdAtMs: nowMs,
    }),
    ...postingStatements(db, transaction_ids[i] as string, entries),
  ]);
  try {
    await db.batch(statements as unknown as Parameters<Db["batch"]>[0]);
    return { posted: true, transaction_ids };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const keys = movements.map(({ record }) => record.key);
    const existing = await db.select({ id: ledgerTransactions.id }).from(ledgerTransactions).where(inArray(ledgerTransactions.idempotencyKey, keys));
    if (existing.length === keys.length) return { posted: false, transaction_ids: existing.map((e) => e.id) };
    throw new MoneyBackContended(`another movement was posted on payment ${movements[0]?.record.payment_id} meanwhile`);
  }
}

/** The one party of each kind that bears fees under the `reserve` and `commons` policies (null unless exactly one). */
export async function feeBearers(db: Db): Promise<{ reserve: string | null; commons: string | null }> {
  const rows = await db.select({ id: parties.id, kind: parties.kind }).from(parties).where(inArray(parties.kind, ["reserve", "commons"]));
  const one = (kind: string) => {
    const of = rows.filter((r) => r.kind === kind);
    return of.length === 1 ? (of[0]?.id ?? null) : null;
  };
  return { reserve: one("reserve"), commons: one("commons") };
}

/**
 * How far along its life a dispute's status is: an inquiry, then a chargeback open, under
 * review, and closed (won, lost, an inquiry closed, a dispute prevented). A status Stripe adds
 * later counts as an open chargeback.
 */
const DISPUTE_STAGES: Record<string, number> = { warning_needs_response: 0, warning_under_review: 1, needs_response: 2, under_review: 3, won: 4, lost: 4, warning_closed: 4, prevented: 4 };
const OPEN_STAGE = 2;

function disputeStage(status: SQL | SQL.Aliased | typeof disputes.status): SQL {
  const cases = Object.entries(DISPUTE_STAGES).map(([name, stage]) => sql`when ${name} then ${sql.raw(String(stage))}`);
  return sql`(case ${status} ${sql.join(cases, sql` `)} else ${sql.raw(String(OPEN_STAGE))} end)`;
}

/**
 * A dispute as Stripe last described it (its outcome moves no money by itself). A run may
 * write what it read from Stripe long after (a retried step keeps the facts it fetched, a run
 * sleeps between its read and its write), so a status never gives way to an earlier stage of
 * the dispute's life: a dispute won stays won whatever a late run read while it was open.
 */
export function recordDisputeStatement(db: Db, dispute: { id: string; payment_id: string | null; charge_id: string; status: string; reason: string | null; amount_minor: number; currency: string }, nowMs: number) {
  const values = { id: dispute.id, paymentId: dispute.payment_id, chargeId: dispute.charge_id, status: dispute.status, reason: dispute.reason, amountMinor: dispute.amount_minor, currency: dispute.currency, updatedAtMs: nowMs };
  return db
    .insert(disputes)
    .values(values)
    .onConflictDoUpdate({
      target: disputes.id,
      set: { status: values.status, reason: values.reason, amountMinor: values.amountMinor, paymentId: values.paymentId, updatedAtMs: nowMs },
      setWhere: sql`${disputeStage(disputes.status)} <= ${disputeStage(sql`excluded.status`)}`,
    });
}

/** Every transaction on a payment, in order: the payment, then its refunds and disputes. */
export async function paymentHistory(db: Db, paymentId: string, paymentTransactionId: string) {
  return db
    .select({ id: ledgerTransactions.id, kind: ledgerTransactions.kind, stripe_object: ledgerTransactions.stripeObject, charge_amount_minor: ledgerTransactions.chargeAmountMinor, created_at_ms: ledgerTransactions.createdAtMs, seq: ledgerTransactions.seq, event_id: ledgerTransactions.eventId })
    .from(ledgerTransactions)
    .where(or(eq(ledgerTransactions.id, paymentTransactionId), eq(ledgerTransactions.paymentId, paymentId)))
    .orderBy(asc(sql`coalesce(${ledgerTransactions.seq}, 0)`), asc(ledgerTransactions.createdAtMs));
}

export async function disputesOf(db: Db, paymentId: string) {
  return db.select().from(disputes).where(eq(disputes.paymentId, paymentId)).orderBy(asc(disputes.id));
}

/**
 * A payout as a ledger transaction: the party's balance goes down by what it was paid, the
 * money leaves by a Stripe transfer or by hand. Keyed by `key`; `alongside` (its item marked
 * paid) in the same batch. Already posted: nothing is written.
 */
export async function postPayout(
  db: Db,
  payout: {
    key: string;
    kind: "payout" | "payout_manual";
    party_id: string;
    currency: string;
    amount_minor: number;
    stripe_object: string | null;
    event_id: string;
    description: string;
    /** The transfer's creation at Stripe (what reconciliation dates it by); a transfer without it is dated when posted; none when paid by hand. */
    stripe_created_s?: number | null;
  },
  nowMs: number,
  alongside: BatchItem<"sqlite">[] = [],
): Promise<{ posted: boolean; transaction_id: string }> {
  const transaction_id = `txn_${payout.key.replaceAll(":", "_")}`;
  const out = payout.kind === "payout" ? ACCOUNT_STRIPE_TRANSFERS : "coop:manual_payouts";
  const statements = [
    db.insert(ledgerTransactions).values({ id: transaction_id, kind: payout.kind, idempotencyKey: payout.key, eventId: payout.event_id, description: payout.description, stripeObject: payout.stripe_object, stripeCreatedS: payout.kind === "payout" ? (payout.stripe_created_s ?? Math.floor(nowMs / 1000)) : null, createdAtMs: nowMs }),
    ...postingStatements(db, transaction_id, [
      { account: `${PARTY_ACCOUNT_PREFIX}${payout.party_id}`, amount_minor: -payout.amount_minor, currency: payout.currency, role: "payout" },
      { account: out, amount_minor: payout.amount_minor, currency: payout.currency, role: "transfer" },
    ]),
    ...alongside,
  ];
  try {
    await db.batch(statements as unknown as Parameters<Db["batch"]>[0]);
    return { posted: true, transaction_id };
  } catch (error) {
    if (isUniqueViolation(error) && (await db.query.ledgerTransactions.findFirst({ where: eq(ledgerTransactions.idempotencyKey, payout.key), columns: { id: true } }))) return { posted: false, transaction_id };
    throw error;
  }
}

/**
 * A fee Stripe billed apart from payments (Billing, Tax), booked by reconciliation: one
 * transaction of kind `stripe_fee` keyed by its balance transaction, with `entries` (core's
 * billedFeePostings). Already booked: nothing is written.
 */
export async function postBilledFee(
  db: Db,
  fee: { balance_transaction: string; description: string; stripe_created_s: number; event_id: string },
  entries: PostingInput[],
  nowMs: number,
): Promise<{ posted: boolean; transaction_id: string }> {
  const key = `stripe_fee:${fee.balance_transaction}`;
  const transaction_id = `txn_stripe_fee_${fee.balance_transaction}`;
  const statements = [
    db.insert(ledgerTransactions).values({ id: transaction_id, kind: "stripe_fee", idempotencyKey: key, eventId: fee.event_id, description: fee.description, stripeObject: fee.balance_transaction, stripeCreatedS: fee.stripe_created_s, createdAtMs: nowMs }),
    ...postingStatements(db, transaction_id, entries),
  ];
  try {
    await db.batch(statements as unknown as Parameters<Db["batch"]>[0]);
    return { posted: true, transaction_id };
  } catch (error) {
    if (isUniqueViolation(error) && (await db.query.ledgerTransactions.findFirst({ where: eq(ledgerTransactions.idempotencyKey, key), columns: { id: true } }))) return { posted: false, transaction_id };
    throw error;
  }
}
