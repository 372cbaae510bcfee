/**
 * Reconciliation of one day: Stripe's balance transactions of the day against the ledger's
 * transactions that Stripe dated that day, matched by id, compared in minor units. Pure: the
 * workflow lists Stripe and reads the ledger, this decides.
 *
 * How a balance transaction finds its ledger transaction (its `key`):
 *
 * | Stripe `type` | the ledger transaction | key |
 * | --- | --- | --- |
 * | `charge`, `payment` | the payment whose balance transaction it is | `bt:<txn>` |
 * | `refund`, `payment_refund` | the refund transaction of its source (`re_…`) | `refund:<re>` |
 * | `refund_failure`, `payment_failure_refund` | the refund failure, keyed by the balance transaction | `bt:<txn>` |
 * | `adjustment` of category `dispute` / `dispute_reversal` | the dispute's withdrawal / reinstatement | `bt:<txn>` |
 * | `transfer` | the payout whose Stripe object is its source (`tr_…`) | `transfer:<tr>` |
 * | `stripe_fee`, `tax_fee`, `stripe_fx_fee` | the fee billed apart, which reconciliation books | `bt:<txn>` |
 * | `payout`, `payout_cancel`, `payout_failure`, `topup`, `topup_reversal` | none: money between the Stripe balance and the bank, which the ledger does not follow | — |
 * | anything else | none: a movement Pot Commun does not book (`not_booked`) | — |
 *
 * A matched pair is compared on the currency, the amount and the fee, as Stripe states them on
 * the balance transaction. The ledger's view of a transaction: amount = −(its postings on
 * `stripe:customers`, `stripe:transfers`, and `stripe:fees` of role `billed_fee`), fee = its
 * postings on `stripe:fees` of role `fee`. A payment of 100.00 with a fee of 1.75 posts −100.00
 * to `stripe:customers` and +1.75 to `stripe:fees`: amount 100.00, fee 1.75, as its charge's
 * balance transaction says.
 */
import { formatMinor } from "./currency";
import { assertSignedMinor, invariant } from "./invariant";
import { ACCOUNT_STRIPE_FEES, assertBalanced, type RolePosting } from "./ledger";

export const ACCOUNT_STRIPE_TRANSFERS = "stripe:transfers";
/** What Stripe bills apart from payments (Billing, Tax): the cooperative's cost, never a party's. */
export const ACCOUNT_COOP_STRIPE_BILLING = "coop:stripe_billing";

/** Balance transaction types that are Stripe's fees billed apart from payments: reconciliation books them. */
export const BILLED_APART_TYPES: readonly string[] = ["stripe_fee", "tax_fee", "stripe_fx_fee"];
/** Balance transaction types between the Stripe balance and the bank: outside the ledger. */
export const OUTSIDE_LEDGER_TYPES: readonly string[] = ["payout", "payout_cancel", "payout_failure", "topup", "topup_reversal"];

/** A balance transaction, as reconciliation reads it. */
export interface StripeMovement {
  readonly id: string;
  readonly type: string;
  readonly reporting_category: string;
  /** Signed minor units of `currency`: + in, − out. */
  readonly amount_minor: number;
  /** What Stripe kept (+) or gave back (−). */
  readonly fee_minor: number;
  readonly currency: string;
  readonly created_s: number;
  /** The object that moved the money (ch_, re_, dp_, tr_…), or null. */
  readonly source: string | null;
  readonly description: string | null;
}

/** The ledger's kinds of transactions that Stripe moved money for: what a day reconciles (not payments by hand, not pool closes). */
export const RECONCILED_KINDS = ["payment", "refund", "refund_failed", "dispute_withdrawn", "dispute_reinstated", "payout", "stripe_fee"] as const;
export type LedgerKind = (typeof RECONCILED_KINDS)[number] | "payout_manual";

/** A ledger transaction with its postings on Stripe's side summed. */
export interface LedgerMovement {
  readonly transaction_id: string;
  readonly kind: LedgerKind;
  /** The refund (re_), the balance transaction (txn_), the transfer (tr_) behind it; a payment's intent is not it. */
  readonly stripe_object: string | null;
  /** A payment's charge balance transaction. */
  readonly balance_transaction_id: string | null;
  /** Its currency, or null when it has no posting. */
  readonly currency: string | null;
  /** Σ of its postings on stripe:customers, stripe:transfers, stripe:fees (role fee) and stripe:fees (role billed_fee). */
  readonly customers_minor: number;
  readonly transfers_minor: number;
  readonly fees_minor: number;
  readonly billed_fees_minor: number;
}

/** The stable codes of differences. */
export const DIFFERENCE_CODES = ["missing_in_ledger", "missing_at_stripe", "duplicate_in_ledger", "amount_differs", "fee_differs", "currency_differs", "not_booked"] as const;
export type DifferenceCode = (typeof DIFFERENCE_CODES)[number];

export interface Difference {
  readonly code: DifferenceCode;
  /** The Stripe object to look at: the balance transaction's source, else the balance transaction; the ledger's object for missing_at_stripe. */
  readonly stripe_object: string | null;
  readonly balance_transaction: string | null;
  readonly stripe_type: string | null;
  readonly transaction_id: string | null;
  readonly kind: LedgerKind | null;
  readonly currency: string | null;
  readonly stripe_amount_minor: number | null;
  readonly ledger_amount_minor: number | null;
  readonly stripe_fee_minor: number | null;
  readonly ledger_fee_minor: number | null;
  /** What to do about it, for the accountant. */
  readonly action: string;
}

export interface DayReconciliation {
  /** Balance transactions matched to a ledger transaction that agrees. */
  readonly matched: number;
  /** Balance transactions outside the ledger (payouts to the bank, top-ups). */
  readonly outside: number;
  readonly differences: Difference[];
  /** Per currency: Stripe's net over the day's balance transactions but those outside the ledger, and the ledger's over its transactions of the day (but payments by hand). Equal when the day reconciles. */
  readonly totals: { currency: string; stripe_net_minor: number; ledger_net_minor: number }[];
}

type Treatment = { readonly kind: "key"; readonly key: string } | { readonly kind: "outside" } | { readonly kind: "not_booked" };

/** How a balance transaction is reconciled: the key of its ledger transaction, outside the ledger, or not booked. */
export function treatmentOf(bt: Pick<StripeMovement, "id" | "type" | "reporting_category" | "source">): Treatment {
  switch (bt.type) {
    case "charge":
    case "payment":
    case "refund_failure":
    case "payment_failure_refund":
      return { kind: "key", key: `bt:${bt.id}` };
    case "refund":
    case "payment_refund":
      return bt.source ? { kind: "key", key: `refund:${bt.source}` } : { kind: "not_booked" };
    case "transfer":
      return bt.source ? { kind: "key", key: `transfer:${bt.source}` } : { kind: "not_booked" };
    case "adjustment":
      return bt.reporting_category === "dispute" || bt.reporting_category === "dispute_reversal" ? { kind: "key", key: `bt:${bt.id}` } : { kind: "not_booked" };
  }
  if (BILLED_APART_TYPES.includes(bt.type)) return { kind: "key", key: `bt:${bt.id}` };
  if (OUTSIDE_LEDGER_TYPES.includes(bt.type)) return { kind: "outside" };
  return { kind: "not_booked" };
}

/** The key by which a ledger transaction is found from its balance transaction; null for a payment made by hand. */
export function ledgerKey(m: Pick<LedgerMovement, "kind" | "stripe_object" | "balance_transaction_id">): string | null {
  switch (m.kind) {
    case "payment":
      return m.balance_transaction_id === null ? null : `bt:${m.balance_transaction_id}`;
    case "refund":
      return m.stripe_object === null ? null : `refund:${m.stripe_object}`;
    case "payout":
      return m.stripe_object === null ? null : `transfer:${m.stripe_object}`;
    case "refund_failed":
    case "dispute_withdrawn":
    case "dispute_reinstated":
    case "stripe_fee":
      return m.stripe_object === null ? null : `bt:${m.stripe_object}`;
    case "payout_manual":
      return null;
  }
}

/** A ledger transaction as Stripe would state it: amount and fee in minor units. */
export function ledgerAmounts(m: LedgerMovement): { amount_minor: number; fee_minor: number } {
  const amount = -(m.customers_minor + m.transfers_minor + m.billed_fees_minor);
  return { amount_minor: amount === 0 ? 0 : amount, fee_minor: m.fees_minor };
}

/**
 * The postings of a fee billed apart: `stripe:fees` takes what Stripe billed (role
 * `billed_fee`; a fee on the fee, if any, role `fee`), the cooperative bears it
 * (`coop:stripe_billing`, negative). A credit (positive amount) posts the opposite. Balanced.
 */
export function billedFeePostings(bt: Pick<StripeMovement, "id" | "type" | "amount_minor" | "fee_minor" | "currency">): RolePosting[] {
  invariant(BILLED_APART_TYPES.includes(bt.type), `balance transaction ${bt.id} of type ${bt.type} is not a fee billed apart`);
  assertSignedMinor(bt.amount_minor, "amount_minor");
  assertSignedMinor(bt.fee_minor, "fee_minor");
  const postings: RolePosting[] = [];
  const push = (account: string, role: RolePosting["role"], amount_minor: number) => {
    if (amount_minor !== 0) postings.push({ account, role, amount_minor, currency: bt.currency });
  };
  push(ACCOUNT_STRIPE_FEES, "billed_fee", -bt.amount_minor);
  push(ACCOUNT_STRIPE_FEES, "fee", bt.fee_minor);
  push(ACCOUNT_COOP_STRIPE_BILLING, "billed_fee", bt.amount_minor - bt.fee_minor);
  assertBalanced(postings);
  return postings;
}

const money = (amount_minor: number, currency: string) => `${formatMinor(amount_minor, currency)} ${currency.toUpperCase()}`;

/** What the accountant does about a balance transaction the ledger does not have. */
function missingInLedgerAction(bt: StripeMovement): string {
  const what = `${money(bt.amount_minor, bt.currency)} (balance transaction ${bt.id}${bt.source ? `, ${bt.source}` : ""})`;
  switch (bt.type) {
    case "charge":
    case "payment":
      return `Stripe received ${what} and the ledger has no payment for it. Find the payment's event (GET /api/v1/events?status=parked, or failed) and retry it once its cause is fixed; if Stripe never delivered one, resend checkout.session.completed or invoice.paid from the Stripe Dashboard (Developers, Events).`;
    case "refund":
    case "payment_refund":
      return `Stripe refunded ${what} and the ledger has not taken it back from the parties. Retry the refund's event (refund.created or refund.updated; GET /api/v1/events?status=parked), or resend it from the Stripe Dashboard.`;
    case "refund_failure":
    case "payment_failure_refund":
      return `A refund failed at Stripe and ${what} came back; the ledger has not given it back to the parties. Retry the refund.failed event, or resend it from the Stripe Dashboard.`;
    case "adjustment":
      return `Stripe ${bt.amount_minor < 0 ? "withdrew" : "reinstated"} ${what} for a dispute and the ledger has not recorded it. Retry the dispute's event (charge.dispute.funds_withdrawn or funds_reinstated), or resend it from the Stripe Dashboard.`;
    case "transfer":
      return `Stripe transferred ${money(-bt.amount_minor, bt.currency)} to a connected account (transfer ${bt.source ?? bt.id}) and the ledger shows no payout for it: a contributor was paid without the ledger knowing. Look at the payout run named by the transfer's transfer_group (GET /api/v1/payouts/{run_id}) and do not pay that contributor again before the transfer is on the ledger.`;
    default:
      return `Stripe billed ${what} apart from payments and the ledger has not booked it: reconciliation books such fees, so run the reconciliation of this day again.`;
  }
}

function notBookedAction(bt: StripeMovement): string {
  const what = `${money(bt.amount_minor, bt.currency)} (balance transaction ${bt.id}${bt.source ? `, ${bt.source}` : ""}, type ${bt.type}, category ${bt.reporting_category})`;
  if (bt.type === "transfer_refund" || bt.type === "transfer_cancel" || bt.type === "transfer_failure") {
    return `A transfer to a connected account came back: ${what}. Pot Commun does not book transfer reversals yet: the contributor's payout is still on the ledger as paid. Record it with the accountant and tell the developers.`;
  }
  return `Stripe moved ${what}, a kind of movement Pot Commun does not book. If it is the cooperative's money, book it by hand with the accountant; tell the developers if it comes again.`;
}

/**
 * Reconciles one day: `stripe`, every balance transaction Stripe created that day; `ledger`,
 * every ledger transaction Stripe dated that day. Each balance transaction is matched by its
 * key; each difference gets a stable code and an action. Deterministic: differences in the
 * order of Stripe's list, then the ledger's left over in its order.
 */
export function reconcileDay(date: string, stripe: readonly StripeMovement[], ledger: readonly LedgerMovement[]): DayReconciliation {
  for (const bt of stripe) {
    assertSignedMinor(bt.amount_minor, `balance transaction ${bt.id} amount`);
    assertSignedMinor(bt.fee_minor, `balance transaction ${bt.id} fee`);
  }
  const byKey = new Map<string, LedgerMovement[]>();
  const unkeyed: LedgerMovement[] = [];
  for (const m of ledger) {
    const key = ledgerKey(m);
    if (key === null) {
      if (m.kind !== "payout_manual") unkeyed.push(m);
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  const differences: Difference[] = [];
  const used = new Set<string>();
  const totals = new Map<string, { stripe: number; ledger: number }>();
  const total = (currency: string) => {
    const t = totals.get(currency) ?? { stripe: 0, ledger: 0 };
    totals.set(currency, t);
    return t;
  };
  let matched = 0;
  let outside = 0;
  const base = (bt: StripeMovement) => ({ stripe_object: bt.source ?? bt.id, balance_transaction: bt.id, stripe_type: bt.type, currency: bt.currency, stripe_amount_minor: bt.amount_minor, stripe_fee_minor: bt.fee_minor });
  const none = { transaction_id: null, kind: null, ledger_amount_minor: null, ledger_fee_minor: null };

  for (const bt of stripe) {
    const treatment = treatmentOf(bt);
    if (treatment.kind === "outside") {
      outside += 1;
      continue;
    }
    total(bt.currency).stripe += bt.amount_minor - bt.fee_minor;
    if (treatment.kind === "not_booked") {
      differences.push({ code: "not_booked", ...base(bt), ...none, action: notBookedAction(bt) });
      continue;
    }
    const found = byKey.get(treatment.key) ?? [];
    const [first, ...others] = found;
    used.add(treatment.key);
    if (!first) {
      differences.push({ code: "missing_in_ledger", ...base(bt), ...none, action: missingInLedgerAction(bt) });
      continue;
    }
    for (const other of others) {
      const view = ledgerAmounts(other);
      differences.push({
        code: "duplicate_in_ledger",
        ...base(bt),
        transaction_id: other.transaction_id,
        kind: other.kind,
        ledger_amount_minor: view.amount_minor,
        ledger_fee_minor: view.fee_minor,
        action: `The ledger has ${found.length} transactions (${found.map((f) => f.transaction_id).join(", ")}) for one Stripe movement, balance transaction ${bt.id}: it is counted more than once. Tell the developers; the extra one is undone by a correcting transaction.`,
      });
    }
    const view = ledgerAmounts(first);
    const pair = { ...base(bt), transaction_id: first.transaction_id, kind: first.kind, ledger_amount_minor: view.amount_minor, ledger_fee_minor: view.fee_minor };
    const ledgerIs = `the ledger's ${first.kind.replace("_", " ")} ${first.transaction_id}`;
    if (first.currency !== null && first.currency !== bt.currency) {
      differences.push({ code: "currency_differs", ...pair, action: `Stripe moved balance transaction ${bt.id} in ${bt.currency.toUpperCase()}, ${ledgerIs} is in ${first.currency.toUpperCase()}: one of them settled in another currency than the other says. Compare them in the Stripe Dashboard and tell the developers; the ledger is corrected by a new transaction.` });
      continue;
    }
    let agrees = true;
    if (view.amount_minor !== bt.amount_minor) {
      agrees = false;
      differences.push({
        code: "amount_differs",
        ...pair,
        action: `Stripe moved ${money(bt.amount_minor, bt.currency)} with balance transaction ${bt.id}, ${ledgerIs} says ${money(view.amount_minor, bt.currency)}: ${money(bt.amount_minor - view.amount_minor, bt.currency)} apart. The ledger is corrected by a new transaction, never in place: report both ids to the developers.`,
      });
    }
    if (view.fee_minor !== bt.fee_minor) {
      agrees = false;
      differences.push({
        code: "fee_differs",
        ...pair,
        action: `Stripe's fee on balance transaction ${bt.id} is ${money(bt.fee_minor, bt.currency)}, ${ledgerIs} booked ${money(view.fee_minor, bt.currency)}: ${money(bt.fee_minor - view.fee_minor, bt.currency)} apart. The ledger is corrected by a new transaction: report both ids to the developers.`,
      });
    }
    if (agrees) matched += 1;
  }

  for (const m of ledger) {
    if (m.kind === "payout_manual" || m.currency === null) continue;
    const view = ledgerAmounts(m);
    total(m.currency).ledger += view.amount_minor - view.fee_minor;
  }
  const leftOver = [...ledger.filter((m) => m.kind !== "payout_manual" && !used.has(ledgerKey(m) ?? "") && ledgerKey(m) !== null), ...unkeyed];
  for (const m of leftOver) {
    const view = ledgerAmounts(m);
    differences.push({
      code: "missing_at_stripe",
      stripe_object: m.stripe_object ?? m.balance_transaction_id,
      balance_transaction: m.balance_transaction_id ?? (m.stripe_object?.startsWith("txn_") ? m.stripe_object : null),
      stripe_type: null,
      transaction_id: m.transaction_id,
      kind: m.kind,
      currency: m.currency,
      stripe_amount_minor: null,
      ledger_amount_minor: view.amount_minor,
      stripe_fee_minor: null,
      ledger_fee_minor: view.fee_minor,
      action: `The ledger's ${m.kind.replace("_", " ")} ${m.transaction_id}${m.stripe_object ? ` (${m.stripe_object})` : ""} is dated ${date} at Stripe, but Stripe lists no balance transaction for it that day. Look it up in the Stripe Dashboard: if Stripe has it on another day, reconcile that day; if Stripe never had it, it was posted in error and needs a correcting transaction.`,
    });
  }
  return {
    matched,
    outside,
    differences,
    totals: [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([currency, t]) => ({ currency, stripe_net_minor: t.stripe, ledger_net_minor: t.ledger })),
  };
}

/** A UTC day `YYYY-MM-DD` as [start, end) in Unix seconds, or null when it is not a calendar date. */
export function utcDay(date: string): { start_s: number; end_s: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== date) return null;
  return { start_s: start / 1000, end_s: start / 1000 + 86_400 };
}
