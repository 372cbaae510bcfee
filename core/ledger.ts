/**
 * The ledger speaks in postings: an account, a signed amount in minor units, a currency. A
 * transaction's postings sum to zero per currency. Accounts:
 *
 * - `party:<id>`: what the cooperative holds for (owes to) that party; positive = owed;
 * - `stripe:customers`: where customer money comes from (negative by the gross);
 * - `stripe:fees`: what Stripe kept (positive by the fee);
 * - `coop:fee_absorbed`: with basis "gross" the parties share the gross but only the net
 *   arrived; the cooperative's own funds cover that line's fee (negative by it);
 * - `tax:collected`: tax the customer paid, held for the tax office (positive by it); never
 *   revenue, never split;
 * - `coop:shipping`: shipping the customer paid, the cooperative's, not split.
 *
 * A posting of 0 moves nothing and is not written: a payment with no fee has no `stripe:fees`
 * posting, a party whose share rounds to 0 has no posting. Balances are unchanged by this.
 */
import { assertCurrency, isCurrencyCode } from "./currency";
import { assertSignedMinor, invariant } from "./invariant";
import type { PaymentSplit } from "./payment";

export interface Posting {
  readonly account: string;
  /** Signed minor units. */
  readonly amount_minor: number;
  readonly currency: string;
}

/** Why a posting is there: a statement explains each one by its role (`payout`: money paid to a party, a debit of its account; `transfer`: where that money left by). */
export type PostingRole =
  | "customer"
  | "fee"
  | "tax"
  | "shipping"
  | "share"
  | "fee_absorbed"
  | "reversal"
  | "fee_kept"
  | "dispute_fee"
  | "fx"
  | "payout"
  | "transfer"
  // a need pool's close: out of the pool, to a member by need, the leftover, a top-up from the reserve
  | "pool_close"
  | "pool_share"
  | "pool_leftover"
  | "solidarity"
  // a fee Stripe billed apart from payments (Billing, Tax), booked by reconciliation
  | "billed_fee";

export interface RolePosting extends Posting {
  readonly role: PostingRole;
}

export const ACCOUNT_STRIPE_CUSTOMERS = "stripe:customers";
export const ACCOUNT_STRIPE_FEES = "stripe:fees";
export const ACCOUNT_COOP_FEE_ABSORBED = "coop:fee_absorbed";
export const ACCOUNT_TAX_COLLECTED = "tax:collected";
export const ACCOUNT_COOP_SHIPPING = "coop:shipping";

/** A party's account is this prefix and its id: `party:commons`. */
export const PARTY_ACCOUNT_PREFIX = "party:";

export function partyAccount(party_id: string): string {
  invariant(party_id.length > 0, "a party account needs a party id");
  return `${PARTY_ACCOUNT_PREFIX}${party_id}`;
}

/** The party whose account this is, or null for another account. */
export function partyOfAccount(account: string): string | null {
  return account.startsWith(PARTY_ACCOUNT_PREFIX) ? account.slice(PARTY_ACCOUNT_PREFIX.length) : null;
}

/** Sum per currency, in bigint: a long transaction of safe integers may pass 2^53. */
function sumsByCurrency(postings: readonly Posting[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const posting of postings) sums.set(posting.currency, (sums.get(posting.currency) ?? 0n) + BigInt(posting.amount_minor));
  return sums;
}

/** Throws an InvariantError unless every posting is well formed and each currency sums to 0. */
export function assertBalanced(postings: readonly Posting[]): void {
  postings.forEach((posting, index) => {
    assertSignedMinor(posting.amount_minor, `postings[${index}].amount_minor`);
    assertCurrency(posting.currency);
    invariant(posting.account.length > 0, `postings[${index}] has no account`);
  });
  for (const [currency, sum] of sumsByCurrency(postings)) {
    invariant(sum === 0n, `postings in ${currency} sum to ${sum}, not 0`);
  }
}

function posting(account: string, amount_minor: number, currency: string, role: PostingRole): RolePosting[] {
  return amount_minor === 0 ? [] : [{ account, amount_minor, currency, role }];
}

/** The postings of a split payment; balanced in both bases (asserted). */
export function paymentPostings(split: PaymentSplit): RolePosting[] {
  const { currency } = split;
  const absorbed_minor = split.lines.filter((line) => line.basis === "gross").reduce((acc, line) => acc + line.fee_minor, 0);
  const postings = [
    ...posting(ACCOUNT_STRIPE_CUSTOMERS, -split.gross_minor, currency, "customer"),
    ...posting(ACCOUNT_STRIPE_FEES, split.fee_minor, currency, "fee"),
    ...posting(ACCOUNT_TAX_COLLECTED, split.tax_minor, currency, "tax"),
    ...posting(ACCOUNT_COOP_SHIPPING, split.shipping_minor, currency, "shipping"),
    ...split.shares.flatMap((share) => posting(partyAccount(share.party_id), share.amount_minor, currency, "share")),
    ...posting(ACCOUNT_COOP_FEE_ABSORBED, -absorbed_minor, currency, "fee_absorbed"),
  ];
  assertBalanced(postings);
  return postings;
}

export interface LedgerTransaction {
  readonly id: string;
  readonly postings: readonly Posting[];
}

export interface Imbalance {
  readonly transaction_id: string;
  readonly currency: string;
  /** Exact as long as it fits a safe integer, which any real imbalance does. */
  readonly sum_minor: number;
}

/** A posting that is not a safe integer amount with a currency code: reported, not summed. */
export interface MalformedPosting {
  readonly transaction_id: string;
  readonly index: number;
  readonly reason: string;
}

export interface LedgerCheck {
  readonly ok: boolean;
  readonly transactions: number;
  readonly postings: number;
  readonly imbalances: Imbalance[];
  readonly malformed: MalformedPosting[];
}

function malformedReason(posting: Posting): string | null {
  if (!Number.isSafeInteger(posting.amount_minor)) return `amount ${String(posting.amount_minor)} is not a safe integer`;
  if (!isCurrencyCode(posting.currency)) return `currency ${JSON.stringify(posting.currency)} is not a currency code`;
  if (posting.account.length === 0) return "no account";
  return null;
}

function checkTransaction(transaction: LedgerTransaction, imbalances: Imbalance[], malformed: MalformedPosting[]): void {
  const valid = transaction.postings.filter((posting, index) => {
    const reason = malformedReason(posting);
    if (reason !== null) malformed.push({ transaction_id: transaction.id, index, reason });
    return reason === null;
  });
  for (const [currency, sum] of sumsByCurrency(valid)) {
    if (sum !== 0n) imbalances.push({ transaction_id: transaction.id, currency, sum_minor: Number(sum) });
  }
}

/** Checks a whole ledger (or part of it): every transaction balanced per currency. */
export function checkTransactions(transactions: readonly LedgerTransaction[]): LedgerCheck {
  const imbalances: Imbalance[] = [];
  const malformed: MalformedPosting[] = [];
  let postings = 0;
  for (const transaction of transactions) {
    checkTransaction(transaction, imbalances, malformed);
    postings += transaction.postings.length;
  }
  return { ok: imbalances.length === 0 && malformed.length === 0, transactions: transactions.length, postings, imbalances, malformed };
}
