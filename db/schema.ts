// The D1 schema. Money columns are integer minor units (`*_minor`); times are Unix
// milliseconds (`*_ms`) unless they come from Stripe, which counts seconds (`*_s`).
// Ledger rows are append-only: nothing here is updated in place except event status.
import { sql } from "drizzle-orm";
import { POOL_PERIODS } from "../core/periods";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const EVENT_STATUSES = ["received", "processing", "processed", "ignored", "parked", "failed"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** `pool`: a need pool's own account (POST /api/v1/pools), never paid out, distributed when its period closes. */
export const PARTY_KINDS = ["commons", "reserve", "contributor", "pool"] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];

export const OFFER_KINDS = ["training", "hosting"] as const;
export type OfferKind = (typeof OFFER_KINDS)[number];

/** What a contributor does for an offer, as its statement says it: runs the training, wrote its content, hosts the platform. */
export const CONTRIBUTOR_ROLES = ["facilitator", "author", "host"] as const;
export type ContributorRole = (typeof CONTRIBUTOR_ROLES)[number];

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
  /**
   * A contributor who chose to be named on the public page (GET /, /api/v1/public/flows);
   * otherwise their shares appear only within "contributors", together. The commons and the
   * reserve are always shown. False until the party says otherwise.
   */
  public: integer("public", { mode: "boolean" }).notNull().default(false),
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

/** The contributors of a version of an offer, with their weights, in order, and optionally their role in it. */
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
    /** Null when the admin named none (migration 0010). */
    role: text("role", { enum: CONTRIBUTOR_ROLES }),
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
    /** How long a proposal to change it is open to objections: an ISO 8601 duration (core/duration.ts). */
    governanceNotice: text("governance_notice").notNull().default("P7D"),
    /** How many admins must approve a proposal, besides nobody objecting. */
    governanceApprovals: integer("governance_approvals").notNull().default(0),
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
    /** The proposal that became this version (null: written directly by an admin); unique, so a proposal activated twice makes one version. */
    proposalId: text("proposal_id"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.version] }), uniqueIndex("rule_versions_proposal").on(t.proposalId)],
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
  // payments_transaction: a statement and the export find the payment behind a ledger transaction;
  // payments_currency_paid_at: the public page sums a period's payments.
  (t) => [uniqueIndex("payments_source").on(t.sourceId), index("payments_transaction").on(t.transactionId), index("payments_currency_paid_at").on(t.currency, t.paidAtS)],
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
export const TRANSACTION_KINDS = ["payment", "refund", "refund_failed", "dispute_withdrawn", "dispute_reinstated", "payout", "payout_manual", "pool_close", "stripe_fee"] as const;
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
    /**
     * When Stripe created the balance transaction behind it (a payment's charge, a refund's, a
     * dispute's, a transfer's, a fee billed apart): the day reconciliation finds it on. Null for
     * a payment made by hand. Rows older than migration 0011 carry the payment's paid_at, or
     * the time they were posted.
     */
    stripeCreatedS: integer("stripe_created_s"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("ledger_transactions_idempotency").on(t.idempotencyKey),
    uniqueIndex("ledger_transactions_payment_seq").on(t.paymentId, t.seq),
    // Reconciliation reads a Stripe day; the public page sums money going back over a period.
    index("ledger_transactions_stripe_day").on(t.stripeCreatedS),
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
 * `postings` (migration 0014, by hand: drizzle does not write triggers) on every insert, update
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

export const RECONCILIATION_STATUSES = ["running", "completed", "failed"] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

/**
 * A reconciliation of one UTC day with Stripe (workflows/reconcile.ts): one row per date, which
 * a new run replaces; its differences in `reconciliation_differences`.
 */
export const reconciliations = sqliteTable("reconciliations", {
  /** The UTC day, `YYYY-MM-DD`. */
  date: text("date").primaryKey(),
  status: text("status", { enum: RECONCILIATION_STATUSES }).notNull(),
  /** The workflow instance that does (or did) the work. */
  runId: text("run_id").notNull(),
  /** `cron` or the actor who asked. */
  startedBy: text("started_by").notNull(),
  startedAtMs: integer("started_at_ms").notNull(),
  finishedAtMs: integer("finished_at_ms"),
  /** Progress: pages of Stripe's list read, balance transactions read so far. */
  stripePages: integer("stripe_pages").notNull().default(0),
  stripeCount: integer("stripe_count").notNull().default(0),
  ledgerCount: integer("ledger_count"),
  matched: integer("matched"),
  outside: integer("outside"),
  /** JSON `[{ currency, stripe_net_minor, ledger_net_minor }]`. */
  totals: text("totals"),
  differencesTotal: integer("differences_total"),
  /** Why it failed. */
  reason: text("reason"),
});

/** The differences a reconciliation found, in order; each a JSON body (core's Difference). */
export const reconciliationDifferences = sqliteTable(
  "reconciliation_differences",
  {
    date: text("date").notNull(),
    position: integer("position").notNull(),
    code: text("code").notNull(),
    body: text("body").notNull(),
  },
  (t) => [primaryKey({ columns: [t.date, t.position] })],
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

/** `party`: bound to one party; reads its own balances and statement and declares its own needs. */
export const TOKEN_ROLES = ["admin", "viewer", "party"] as const;
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
    /** The party a `party` token speaks for; null for the other roles. */
    partyId: text("party_id"),
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


/**
 * A need pool (core/pools.ts). It is a party of kind `pool` of the same id, whose account holds
 * what rules send it until its period closes; its name is the party's.
 */
export const pools = sqliteTable("pools", {
  id: text("id")
    .primaryKey()
    .references(() => parties.id),
  period: text("period", { enum: POOL_PERIODS }).notNull(),
  /** What a newcomer may ask at first, and what anyone may always ask; null: last period's median. */
  floorMinor: integer("floor_minor"),
  /** Who takes what needs leave over; null: the reserve. */
  leftoverTo: text("leftover_to"),
  /** A member paid less than this is topped up from the reserve; null: no solidarity floor. */
  solidarityMinimumMinor: integer("solidarity_minimum_minor"),
  /** The most the reserve tops up per close and currency. */
  solidarityBudgetMinor: integer("solidarity_budget_minor").notNull().default(0),
  revision: integer("revision").notNull().default(1),
  createdAtMs: integer("created_at_ms").notNull(),
});

export const poolMembers = sqliteTable(
  "pool_members",
  {
    poolId: text("pool_id")
      .notNull()
      .references(() => pools.id),
    partyId: text("party_id")
      .notNull()
      .references(() => parties.id),
    joinedAtMs: integer("joined_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.partyId] }), index("pool_members_party").on(t.partyId)],
);

/** Each member's standing need per currency: an amount, or `auto` (needMinor null). */
export const poolNeeds = sqliteTable(
  "pool_needs",
  {
    poolId: text("pool_id").notNull(),
    partyId: text("party_id").notNull(),
    currency: text("currency").notNull(),
    needMinor: integer("need_minor"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.partyId, t.currency] })],
);

/** Every change of a need: who, when, from what, to what (append-only; `auto` is a flag). */
export const poolNeedChanges = sqliteTable(
  "pool_need_changes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    poolId: text("pool_id").notNull(),
    partyId: text("party_id").notNull(),
    currency: text("currency").notNull(),
    fromMinor: integer("from_minor"),
    fromAuto: integer("from_auto", { mode: "boolean" }).notNull(),
    toMinor: integer("to_minor"),
    toAuto: integer("to_auto", { mode: "boolean" }).notNull(),
    actor: text("actor").notNull(),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [index("pool_need_changes_pool").on(t.poolId, t.atMs)],
);

/**
 * One close of a pool, per period and currency: what it distributed. `seq` counts a pool's
 * closes in a currency; a unique index makes two closes read from the same balance unable to
 * both be written.
 */
export const poolCloses = sqliteTable(
  "pool_closes",
  {
    poolId: text("pool_id").notNull(),
    period: text("period").notNull(),
    currency: text("currency").notNull(),
    seq: integer("seq").notNull(),
    periodEndMs: integer("period_end_ms").notNull(),
    incomeMinor: integer("income_minor").notNull(),
    leftoverMinor: integer("leftover_minor").notNull(),
    leftoverTo: text("leftover_to"),
    carriedMinor: integer("carried_minor").notNull(),
    topupsMinor: integer("topups_minor").notNull(),
    transactionId: text("transaction_id"),
    closedBy: text("closed_by").notNull(),
    closedAtMs: integer("closed_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.period, t.currency] }), uniqueIndex("pool_closes_seq").on(t.poolId, t.currency, t.seq)],
);

/** Each member at a close: what they declared, the cap, the need used, what they were paid and why. */
export const poolCloseMembers = sqliteTable(
  "pool_close_members",
  {
    poolId: text("pool_id").notNull(),
    period: text("period").notNull(),
    currency: text("currency").notNull(),
    partyId: text("party_id").notNull(),
    declaredMinor: integer("declared_minor"),
    declaredAuto: integer("declared_auto", { mode: "boolean" }).notNull(),
    capMinor: integer("cap_minor"),
    needMinor: integer("need_minor").notNull(),
    paidMinor: integer("paid_minor").notNull(),
    topupMinor: integer("topup_minor").notNull(),
    throttled: integer("throttled", { mode: "boolean" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.period, t.currency, t.partyId] })],
);

/** How a proposal is stored; where it stands (held, awaiting approvals…) is computed (core/consent.ts). */
export const STORED_PROPOSAL_STATUSES = ["open", "activated", "amended", "withdrawn"] as const;

/**
 * A proposed next version of a rule, open to objections for its rule's notice. An amendment is
 * a new proposal of the same thread (`thread_id`, the first proposal's id) that `amends` the one
 * it replaces. One proposal at most is open per rule.
 */
export const proposals = sqliteTable(
  "proposals",
  {
    id: text("id").primaryKey(),
    ruleId: text("rule_id")
      .notNull()
      .references(() => rules.id),
    threadId: text("thread_id").notNull(),
    amends: text("amends"),
    /** The rule's latest version when proposed: what the proposal changes. */
    baseVersion: integer("base_version").notNull(),
    body: text("body").notNull(),
    contentHash: text("content_hash").notNull(),
    reason: text("reason").notNull(),
    proposer: text("proposer").notNull(),
    /** The rule's notice when proposed (ISO 8601), and when it ends. */
    notice: text("notice").notNull(),
    noticeEndsMs: integer("notice_ends_ms").notNull(),
    /** When the proposer asked it to take effect (never before the notice ends); null: as soon as it passes. */
    requestedEffectiveFromMs: integer("requested_effective_from_ms"),
    /** The rule's approvals when proposed: a later change of governance does not move a proposal under way. */
    approvalsRequired: integer("approvals_required").notNull(),
    /** JSON: the what-if over the last 90 days (`since_ms`, `payments`, `complete`) and the parties `affected`. */
    impact: text("impact").notNull(),
    status: text("status", { enum: STORED_PROPOSAL_STATUSES }).notNull(),
    /** Why it could not become a version when due (its rule no longer applies); null otherwise. */
    holdReason: text("hold_reason"),
    /** When its notice ended with something holding it (set once). */
    heldAtMs: integer("held_at_ms"),
    /** Who closed it (withdrew or amended it; `consent` when it became a version), when, and why. */
    closedBy: text("closed_by"),
    closeReason: text("close_reason"),
    closedAtMs: integer("closed_at_ms"),
    activatedVersion: integer("activated_version"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("proposals_one_open_per_rule").on(t.ruleId).where(sql`${t.status} = 'open'`),
    uniqueIndex("proposals_amends").on(t.amends),
    index("proposals_thread").on(t.threadId, t.createdAtMs),
    index("proposals_status").on(t.status, t.noticeEndsMs),
  ],
);

/** A reasoned objection by an affected party: it stands (holds the proposal) until lifted. */
export const proposalObjections = sqliteTable(
  "proposal_objections",
  {
    id: text("id").primaryKey(),
    proposalId: text("proposal_id")
      .notNull()
      .references(() => proposals.id),
    partyId: text("party_id").notNull(),
    reason: text("reason").notNull(),
    /** The party's own token, or the admin who objected on its behalf. */
    raisedBy: text("raised_by").notNull(),
    raisedAtMs: integer("raised_at_ms").notNull(),
    liftedAtMs: integer("lifted_at_ms"),
    liftedBy: text("lifted_by"),
  },
  (t) => [uniqueIndex("proposal_objections_standing").on(t.proposalId, t.partyId).where(sql`${t.liftedAtMs} IS NULL`), index("proposal_objections_proposal").on(t.proposalId)],
);

/** An admin's approval of a proposal, once per admin. */
export const proposalApprovals = sqliteTable(
  "proposal_approvals",
  {
    proposalId: text("proposal_id")
      .notNull()
      .references(() => proposals.id),
    approver: text("approver").notNull(),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.approver] })],
);

/** Where outgoing webhooks go. The secret signs them; it is answered once, when the endpoint is made. */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  secret: text("secret").notNull(),
  /** JSON array of event types. */
  events: text("events").notNull(),
  /** Only events about proposals that affect this party (or its objections); null: every event. */
  partyId: text("party_id"),
  description: text("description"),
  createdBy: text("created_by").notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
  disabledAtMs: integer("disabled_at_ms"),
});

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed", "canceled"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event for one endpoint: written with the change that caused it, sent by a workflow, once per (endpoint, event). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    proposalId: text("proposal_id"),
    /** The exact body sent at every attempt (each attempt signs it with its own timestamp). */
    payload: text("payload").notNull(),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAtMs: integer("created_at_ms").notNull(),
    /** When its workflow was created; null: not yet (the minute sweep starts it). */
    startedAtMs: integer("started_at_ms"),
    deliveredAtMs: integer("delivered_at_ms"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [uniqueIndex("webhook_deliveries_event").on(t.endpointId, t.eventId), index("webhook_deliveries_status").on(t.status, t.createdAtMs)],
);

/** Every attempt of a delivery: when, what the receiver answered (or why nothing came back), how long it took. */
export const webhookDeliveryAttempts = sqliteTable(
  "webhook_delivery_attempts",
  {
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    attempt: integer("attempt").notNull(),
    atMs: integer("at_ms").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

/**
 * Sessions of the admin console (/admin): an API token exchanged for a cookie, so the token is
 * typed once and never kept by the browser. Only the SHA-256 of the session id is stored; the
 * session names the credential it was opened with (its hash), which every request checks again,
 * so revoking a token ends its sessions and the role is always the token's own.
 */
export const consoleSessions = sqliteTable(
  "console_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    /** `bootstrap` or `token:<id>`: who acts, as the audit log writes it. */
    actor: text("actor").notNull(),
    /** SHA-256 of the token it was opened with. */
    credentialHash: text("credential_hash").notNull(),
    /** Sent back with every change the console makes (forms, X-CSRF-Token). */
    csrfToken: text("csrf_token").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    expiresAtMs: integer("expires_at_ms").notNull(),
  },
  (t) => [index("console_sessions_expires").on(t.expiresAtMs)],
);
