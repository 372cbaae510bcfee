// The D1 schema. Money columns are integer minor units (`*_minor`); times are Unix
// milliseconds (`*_ms`) unless they come from Stripe, which counts seconds (`*_s`).
// Ledger rows are append-only: nothing here is updated in place except event status.
import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const EVENT_STATUSES = ["received", "processing", "processed", "ignored", "parked", "failed"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const PARTY_KINDS = ["commons", "reserve", "contributor"] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];

export const OFFER_KINDS = ["training", "hosting"] as const;
export type OfferKind = (typeof OFFER_KINDS)[number];

/** Every verified Stripe event, stored raw before it is acknowledged. */
export const stripeEvents = sqliteTable(
  "stripe_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    /** The Stripe object the event is about (cs_…, in_…), to find an object's events. */
    objectId: text("object_id"),
    status: text("status", { enum: EVENT_STATUSES }).notNull(),
    reason: text("reason"),
    payload: text("payload").notNull(),
    stripeCreatedS: integer("stripe_created_s").notNull(),
    receivedAtMs: integer("received_at_ms").notNull(),
    /**
     * When the event is to be (re)started if nothing moves it first: right away once stored,
     * a lease while a start is under way, the stall cutoff while a run works, the backoff after
     * a failure. Null when nothing is due: finished, ignored, or waiting for an admin.
     */
    dueAtMs: integer("due_at_ms"),
    workflowStartedAtMs: integer("workflow_started_at_ms"),
    /** Workflow instances really created for this event (run n's instance id: the event id, then `<id>-run<n>`). */
    workflowRuns: integer("workflow_runs").notNull().default(0),
    /** `{ rule_id, version }` an admin chose at a retry, for a payment no version covered; every later run uses it. */
    ruleOverride: text("rule_override"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [index("stripe_events_status").on(t.status, t.receivedAtMs), index("stripe_events_due").on(t.dueAtMs)],
);

export const parties = sqliteTable("parties", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: PARTY_KINDS }).notNull(),
  name: text("name").notNull(),
  /** 1 when created, one more at every change: its ETag, and what a change checks it still has when it writes. */
  revision: integer("revision").notNull().default(1),
  /** The Stripe connected account payouts go to (acct_…); none: paid by hand. */
  stripeAccountId: text("stripe_account_id"),
  /** A payout run pays this party only when its payable balance in a currency reaches this many minor units. */
  payoutMinimumMinor: integer("payout_minimum_minor").notNull().default(0),
  createdAtMs: integer("created_at_ms").notNull(),
});

/** What is sold. Everything but its kind changes through versions (`offer_versions`). */
export const offers = sqliteTable("offers", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: OFFER_KINDS }).notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
});

/**
 * An offer's history: immutable versions 1, 2, 3…, each in force from its `effective_from`
 * until the next one's (never earlier than the previous one's, never in the past when
 * written). A version is the whole offer at that time: its name, its Stripe prices (below)
 * and its contributors (below). A payment is resolved with the version in force when it was
 * paid. The offer's kind does not change, so it stays on `offers`.
 */
export const offerVersions = sqliteTable(
  "offer_versions",
  {
    offerId: text("offer_id")
      .notNull()
      .references(() => offers.id),
    version: integer("version").notNull(),
    effectiveFromMs: integer("effective_from_ms").notNull(),
    name: text("name").notNull(),
    author: text("author").notNull(),
    reason: text("reason"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.offerId, t.version] })],
);

/**
 * The Stripe prices a version of an offer lists: how a line item finds its offer. A price
 * belongs to one offer at most at any moment; a trigger (migration 0006) refuses a version
 * that would list a price another offer lists at the same time.
 */
export const offerVersionPrices = sqliteTable(
  "offer_version_prices",
  {
    offerId: text("offer_id").notNull(),
    version: integer("version").notNull(),
    priceId: text("price_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.offerId, t.version, t.priceId] }),
    foreignKey({ columns: [t.offerId, t.version], foreignColumns: [offerVersions.offerId, offerVersions.version] }),
    index("offer_version_prices_price").on(t.priceId),
  ],
);

/** The contributors of a version of an offer, with their weights, in order. */
export const offerVersionContributors = sqliteTable(
  "offer_version_contributors",
  {
    offerId: text("offer_id").notNull(),
    version: integer("version").notNull(),
    partyId: text("party_id")
      .notNull()
      .references(() => parties.id),
    weight: integer("weight").notNull(),
    position: integer("position").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.offerId, t.version, t.partyId] }),
    foreignKey({ columns: [t.offerId, t.version], foreignColumns: [offerVersions.offerId, offerVersions.version] }),
  ],
);

export const RULE_SCOPES = ["default", "offer_kind", "offer"] as const;
export type RuleScopeKind = (typeof RULE_SCOPES)[number];

/** A split rule: a scope and a chain of immutable versions. */
export const rules = sqliteTable(
  "rules",
  {
    id: text("id").primaryKey(),
    scopeKind: text("scope_kind", { enum: RULE_SCOPES }).notNull(),
    /** '' for the default scope, the offer kind, or the offer id. */
    scopeValue: text("scope_value").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [uniqueIndex("rules_scope").on(t.scopeKind, t.scopeValue)],
);

export const ruleVersions = sqliteTable(
  "rule_versions",
  {
    ruleId: text("rule_id")
      .notNull()
      .references(() => rules.id),
    version: integer("version").notNull(),
    effectiveFromMs: integer("effective_from_ms").notNull(),
    body: text("body").notNull(),
    contentHash: text("content_hash").notNull(),
    author: text("author").notNull(),
    reason: text("reason").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.version] })],
);

/** One row per Stripe payment (payment intent) that reached the ledger. */
export const payments = sqliteTable(
  "payments",
  {
    id: text("id").primaryKey(),
    sourceType: text("source_type", { enum: ["checkout.session", "invoice"] }).notNull(),
    sourceId: text("source_id").notNull(),
    eventId: text("event_id").notNull(),
    transactionId: text("transaction_id").notNull(),
    /** Settlement currency: the one the fee, the net and the ledger are in. */
    currency: text("currency").notNull(),
    grossMinor: integer("gross_minor").notNull(),
    feeMinor: integer("fee_minor").notNull(),
    netMinor: integer("net_minor").notNull(),
    /** What the customer was charged, in their currency (Stripe's presentment_details when sent). */
    presentmentCurrency: text("presentment_currency").notNull(),
    presentmentAmountMinor: integer("presentment_amount_minor").notNull(),
    /** What was charged, in the charge's currency: refunds and disputes are measured against it. */
    chargeAmountMinor: integer("charge_amount_minor"),
    /** The tax collected and the shipping charged, in the settlement currency: never split. */
    taxMinor: integer("tax_minor").notNull().default(0),
    shippingMinor: integer("shipping_minor").notNull().default(0),
    /** What refunds and reconciliation need: the charge, its balance transaction, Stripe's exchange rate as written (null: one currency). */
    chargeId: text("charge_id"),
    balanceTransactionId: text("balance_transaction_id"),
    exchangeRate: text("exchange_rate"),
    paidAtS: integer("paid_at_s").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [uniqueIndex("payments_source").on(t.sourceId)],
);

/** How each line of a payment was split: its offer, the rule version used, its basis. */
export const paymentLines = sqliteTable(
  "payment_lines",
  {
    paymentId: text("payment_id")
      .notNull()
      .references(() => payments.id),
    lineNo: integer("line_no").notNull(),
    offerId: text("offer_id").notNull(),
    priceId: text("price_id"),
    ruleId: text("rule_id").notNull(),
    ruleVersion: integer("rule_version").notNull(),
    basis: text("basis", { enum: ["gross", "net"] }).notNull(),
    /** What was charged for the line after discounts, without tax, as the customer saw it; negative for a proration credit. */
    weightMinor: integer("weight_minor"),
    /** Signed: a credit line's gross, basis and shares are negative. */
    grossMinor: integer("gross_minor").notNull(),
    feeMinor: integer("fee_minor").notNull(),
    basisMinor: integer("basis_minor").notNull(),
    /** What the line gave each party, as posted (JSON `[{ party_id, amount_minor }]`): what a refund takes back. */
    parts: text("parts"),
    /** Who bears the fees Stripe keeps when this line's money goes back: its rule version's `fee_policy`. */
    feePolicy: text("fee_policy", { enum: ["proportional", "reserve", "commons", "cooperative"] }).notNull().default("proportional"),
  },
  (t) => [primaryKey({ columns: [t.paymentId, t.lineNo] })],
);

/**
 * A ledger transaction. `idempotencyKey` is the Stripe object that caused it
 * (`payment:pi_…`): the unique index is what makes a replay unable to post twice.
 */
export const TRANSACTION_KINDS = ["payment", "refund", "refund_failed", "dispute_withdrawn", "dispute_reinstated", "payout", "payout_manual"] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export const ledgerTransactions = sqliteTable(
  "ledger_transactions",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: TRANSACTION_KINDS }).notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    eventId: text("event_id").notNull(),
    description: text("description").notNull(),
    /** The payment a refund or dispute moves money back on (null for the payment's own transaction). */
    paymentId: text("payment_id"),
    /** The Stripe object behind it: a refund (re_…), a balance transaction (txn_…). */
    stripeObject: text("stripe_object"),
    /** What it took back (+) or returned (−), in the charge's currency. */
    chargeAmountMinor: integer("charge_amount_minor"),
    /** 1, 2, 3… per payment: two movements on one payment cannot be posted from the same reading (unique). */
    seq: integer("seq"),
    /** When its postings to parties can be paid out (a payment's hold, which its refunds and disputes share); null: at once. */
    availableAtMs: integer("available_at_ms"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("ledger_transactions_idempotency").on(t.idempotencyKey),
    uniqueIndex("ledger_transactions_payment_seq").on(t.paymentId, t.seq),
    // The transactions still held: what balances read for `pending`.
    index("ledger_transactions_available").on(t.availableAtMs),
  ],
);

export const postings = sqliteTable(
  "postings",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    transactionId: text("transaction_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    account: text("account").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    currency: text("currency").notNull(),
    /** Why it is there (core/ledger.ts, PostingRole): a share, a reversal, a fee kept, … */
    role: text("role"),
  },
  (t) => [index("postings_account").on(t.account, t.currency), index("postings_transaction").on(t.transactionId)],
);

/**
 * Each account's postings summed per currency, and what was paid out of it (the opposite of its
 * `payout` postings): what balances read instead of every posting. Kept by triggers on
 * `postings` (migration 9301, by hand: drizzle does not write triggers) on every insert, update
 * and delete, in the statement that writes the posting; never written by the code.
 */
export const accountBalances = sqliteTable(
  "account_balances",
  {
    account: text("account").notNull(),
    currency: text("currency").notNull(),
    balanceMinor: integer("balance_minor").notNull(),
    paidMinor: integer("paid_minor").notNull(),
    /** Postings summed: 0 once all of them were deleted (a repair), when the account has no balance to show. */
    postings: integer("postings").notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.currency] })],
);

export const PAYOUT_RUN_STATUSES = ["running", "completed"] as const;

/** A payout run: pays every party its payable balance (workflows/payout.ts). One runs at a time. */
export const payoutRuns = sqliteTable(
  "payout_runs",
  {
    id: text("id").primaryKey(),
    status: text("status", { enum: PAYOUT_RUN_STATUSES }).notNull(),
    /** `cron` or the actor who asked (`bootstrap`, `token:…`). */
    startedBy: text("started_by").notNull(),
    startedAtMs: integer("started_at_ms").notNull(),
    finishedAtMs: integer("finished_at_ms"),
  },
  (t) => [uniqueIndex("payout_runs_one_running").on(t.status).where(sql`${t.status} = 'running'`)],
);

export const PAYOUT_ITEM_STATUSES = ["pending", "paid", "parked", "manual_due", "manual_paid"] as const;
export type PayoutItemStatus = (typeof PAYOUT_ITEM_STATUSES)[number];

/** What a run pays one party in one currency: by a Stripe transfer, or listed for a payment by hand. */
export const payoutItems = sqliteTable(
  "payout_items",
  {
    runId: text("run_id")
      .notNull()
      .references(() => payoutRuns.id),
    partyId: text("party_id").notNull(),
    currency: text("currency").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    method: text("method", { enum: ["transfer", "manual"] }).notNull(),
    status: text("status", { enum: PAYOUT_ITEM_STATUSES }).notNull(),
    stripeAccountId: text("stripe_account_id"),
    /** The charge the money came from, when it all came from one (the transfer waits for its funds). */
    sourceTransaction: text("source_transaction"),
    transferId: text("transfer_id"),
    reason: text("reason"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.partyId, t.currency] })],
);

/** Disputes as Stripe last described them: their outcome, which moves no money by itself. */
export const disputes = sqliteTable("disputes", {
  id: text("id").primaryKey(),
  paymentId: text("payment_id"),
  chargeId: text("charge_id").notNull(),
  status: text("status").notNull(),
  reason: text("reason"),
  amountMinor: integer("amount_minor").notNull(),
  currency: text("currency").notNull(),
  updatedAtMs: integer("updated_at_ms").notNull(),
});

export const TOKEN_ROLES = ["admin", "viewer"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** API tokens, stored only as SHA-256 hashes. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    role: text("role", { enum: TOKEN_ROLES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    revokedAtMs: integer("revoked_at_ms"),
  },
  (t) => [uniqueIndex("api_tokens_hash").on(t.tokenHash)],
);

/** Every change to rules, parties, offers and tokens: who, when, what, before, after. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    atMs: integer("at_ms").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    before: text("before"),
    after: text("after"),
  },
  (t) => [index("audit_log_entity").on(t.entityType, t.entityId)],
);

