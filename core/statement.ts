/**
 * A party's statement: what the cooperative holds for it (its `party:<id>` account) over a
 * period of whole UTC days, per currency: the balance at the start, one line for each thing
 * that moved it, the balance at the end. Opening plus the lines is the closing, always: the
 * balances are read apart from the lines, and `buildStatement` asserts that they agree.
 *
 * A line is dated by its ledger transaction (when it was booked), not by when Stripe took the
 * money: a statement of a period that is over never changes. A payment's share becomes one
 * line per line of the payment that gave the party something (`payment_lines.parts`), with its
 * offer, the party's role in it and the rule version; those lines sum to the share posted.
 */
import { assertCurrency } from "./currency";
import { assertSignedMinor, invariant, InvariantError, toSafeNumber } from "./invariant";
import type { PostingRole } from "./ledger";

/** The longest period a statement or an export covers, in days: a leap year. */
export const MAX_PERIOD_DAYS = 366;

const DAY_MS = 86_400_000;

/** A period of whole UTC days, `from` and `to` included: [from_ms, until_ms). */
export interface Period {
  readonly from: string;
  readonly to: string;
  readonly from_ms: number;
  /** The start of the day after `to`: the period ends just before it. */
  readonly until_ms: number;
}

export type PeriodErrorCode = "bad_date" | "from_after_to" | "period_too_long";
export interface PeriodError {
  readonly code: PeriodErrorCode;
  readonly path: "from" | "to";
  readonly message: string;
}

/** Midnight UTC of a `YYYY-MM-DD` day, or null when it is no such day (2026-02-30). */
function dayStartMs(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  at.setUTCFullYear(year, month - 1, date);
  if (at.getUTCFullYear() !== year || at.getUTCMonth() !== month - 1 || at.getUTCDate() !== date) return null;
  return at.getTime();
}

/** The period from `from` to `to` (both `YYYY-MM-DD`, UTC, `to` included), at most MAX_PERIOD_DAYS days long. */
export function periodOf(from: string, to: string): { ok: true; period: Period } | { ok: false; errors: PeriodError[] } {
  const from_ms = dayStartMs(from);
  const to_ms = dayStartMs(to);
  const errors: PeriodError[] = [];
  if (from_ms === null) errors.push({ code: "bad_date", path: "from", message: `${JSON.stringify(from)} is not a day written YYYY-MM-DD` });
  if (to_ms === null) errors.push({ code: "bad_date", path: "to", message: `${JSON.stringify(to)} is not a day written YYYY-MM-DD` });
  if (from_ms === null || to_ms === null) return { ok: false, errors };
  if (from_ms > to_ms) return { ok: false, errors: [{ code: "from_after_to", path: "to", message: `${to} is before ${from}: the period ends on or after the day it starts` }] };
  const days = (to_ms - from_ms) / DAY_MS + 1;
  if (days > MAX_PERIOD_DAYS) return { ok: false, errors: [{ code: "period_too_long", path: "to", message: `from ${from} to ${to} is ${days} days: a period is at most ${MAX_PERIOD_DAYS} days` }] };
  return { ok: true, period: { from, to, from_ms, until_ms: to_ms + DAY_MS } };
}

/** What moved a party's balance, one code per kind of line. */
export const STATEMENT_CAUSES = [
  "payment",
  "refund",
  "refund_failed",
  "dispute_withdrawn",
  "dispute_reinstated",
  "fee_kept",
  "dispute_fee",
  "payout",
  "payout_manual",
  // a need pool's close: what left the pool, a member's share by need, the leftover, a solidarity top-up (or what the reserve gave for it)
  "pool_close",
  "pool_share",
  "pool_leftover",
  "solidarity",
] as const;
export type StatementCause = (typeof STATEMENT_CAUSES)[number];

const REVERSAL_CAUSES: ReadonlySet<string> = new Set(["refund", "refund_failed", "dispute_withdrawn", "dispute_reinstated"]);
const PAYOUT_CAUSES: ReadonlySet<string> = new Set(["payout", "payout_manual"]);

/**
 * The cause of a posting on a party's account, from its role and its transaction's kind: a
 * share is a payment's, a reversal takes its cause from the movement (a refund, a dispute…),
 * a payout is a Stripe transfer or a manual one. Any other role on a party's account is a
 * broken ledger (InvariantError).
 */
export function statementCause(kind: string, role: string | null): StatementCause {
  invariant(role !== null, `a posting of a ${kind} on a party's account has no role`);
  const known = role as PostingRole;
  switch (known) {
    case "share":
      invariant(kind === "payment", `a share posted by a ${kind}, not a payment`);
      return "payment";
    case "reversal":
      invariant(REVERSAL_CAUSES.has(kind), `a reversal posted by a ${kind}`);
      return kind as StatementCause;
    case "fee_kept":
      return "fee_kept";
    case "dispute_fee":
      return "dispute_fee";
    case "payout":
      invariant(PAYOUT_CAUSES.has(kind), `a payout posted by a ${kind}`);
      return kind as StatementCause;
    case "pool_close":
    case "pool_share":
    case "pool_leftover":
    case "solidarity":
      invariant(kind === "pool_close", `a ${known} posting of a ${kind}, not a pool's close`);
      return known;
    case "customer":
    case "fee":
    case "tax":
    case "shipping":
    case "fee_absorbed":
    case "fx":
    case "transfer":
    case "billed_fee":
      throw new InvariantError(`a ${known} posting on a party's account`);
    default: {
      // A role added to PostingRole and not placed here fails to compile; a role the ledger does not know throws.
      const unknown: never = known;
      throw new InvariantError(`a posting with the unknown role ${JSON.stringify(unknown)} on a party's account`);
    }
  }
}

/** A posting on the party's account, with its transaction, as the ledger holds it. */
export interface StatementPosting {
  readonly posting_id: number;
  readonly transaction_id: string;
  /** The transaction's kind: payment, refund, …, payout, payout_manual. */
  readonly kind: string;
  readonly role: string | null;
  readonly amount_minor: number;
  readonly currency: string;
  /** When the transaction was booked. */
  readonly at_ms: number;
  readonly stripe_object: string | null;
  readonly payment_id: string | null;
  readonly description: string;
}

/** What one line of a payment gave the party (its part in `payment_lines.parts`), and what that line was. */
export interface StatementCredit {
  readonly payment_id: string;
  /** The line's position in the payment, from 0. */
  readonly line_no: number;
  readonly amount_minor: number;
  readonly offer_id: string;
  /** The offer's name in the version the payment was split with. */
  readonly offer_name: string | null;
  /** The party's role among that version's contributors; null when it named none, or the party is not a contributor (the commons, the reserve). */
  readonly contributor_role: string | null;
  readonly rule_id: string;
  readonly rule_version: number;
}

/** The party's balance in a currency at the start and at the end of the period, summed apart from the lines. */
export interface StatementBalance {
  readonly currency: string;
  readonly opening_minor: number;
  readonly closing_minor: number;
}

export interface StatementLine {
  readonly at_ms: number;
  readonly transaction_id: string;
  readonly cause: StatementCause;
  readonly amount_minor: number;
  /** The balance after this line. */
  readonly balance_minor: number;
  readonly payment_id: string | null;
  readonly stripe_object: string | null;
  readonly description: string;
  /** On a payment's line: which line of the payment, its offer, the party's role in it, the rule version. Null otherwise. */
  readonly payment_line_no: number | null;
  readonly offer_id: string | null;
  readonly offer_name: string | null;
  readonly contributor_role: string | null;
  readonly rule_id: string | null;
  readonly rule_version: number | null;
}

export interface CurrencyStatement {
  readonly currency: string;
  readonly opening_balance_minor: number;
  readonly lines: StatementLine[];
  readonly closing_balance_minor: number;
}

export interface StatementInput {
  /** Every currency the party has postings in before the period ends. */
  readonly balances: readonly StatementBalance[];
  /** The party's postings in the period, in the order they were booked (time, then posting id). */
  readonly postings: readonly StatementPosting[];
  /** What each line of the payments behind the share postings gave the party. */
  readonly credits: readonly StatementCredit[];
}

const NO_PAYMENT_LINE = { payment_line_no: null, offer_id: null, offer_name: null, contributor_role: null, rule_id: null, rule_version: null } as const;

/** The lines of one posting, without their running balance: a share, one per payment line that gave something; anything else, itself. */
function linesOf(posting: StatementPosting, credits: ReadonlyMap<string, StatementCredit[]>, used: Set<string>): Omit<StatementLine, "balance_minor">[] {
  const cause = statementCause(posting.kind, posting.role);
  const base = { at_ms: posting.at_ms, transaction_id: posting.transaction_id, cause, payment_id: posting.payment_id, stripe_object: posting.stripe_object, description: posting.description };
  const given = cause === "payment" && posting.payment_id !== null ? (credits.get(posting.payment_id) ?? []).filter((c) => c.amount_minor !== 0) : [];
  // A payment posted before its lines kept their parts (migration 0004) has none: its share stays one line.
  if (given.length === 0) return [{ ...base, amount_minor: posting.amount_minor, ...NO_PAYMENT_LINE }];
  const paymentId = posting.payment_id as string;
  invariant(!used.has(paymentId), `payment ${paymentId} has two share postings for one party`);
  used.add(paymentId);
  const sum = given.reduce((acc, c) => acc + BigInt(c.amount_minor), 0n);
  invariant(sum === BigInt(posting.amount_minor), `payment ${paymentId}: its lines gave ${sum}, but the share posted is ${posting.amount_minor}`);
  return given.map((c) => ({
    ...base,
    amount_minor: c.amount_minor,
    payment_line_no: c.line_no,
    offer_id: c.offer_id,
    offer_name: c.offer_name,
    contributor_role: c.contributor_role,
    rule_id: c.rule_id,
    rule_version: c.rule_version,
  }));
}

/**
 * A statement per currency, from what the ledger read: the opening balance, the lines in the
 * order they were booked with the balance after each, the closing balance. A currency is left
 * out when its opening balance is 0 and nothing moved in the period. Throws an InvariantError
 * when opening plus the lines is not the closing, or a share's payment lines do not sum to it.
 */
export function buildStatement(input: StatementInput): CurrencyStatement[] {
  const credits = new Map<string, StatementCredit[]>();
  for (const credit of input.credits) {
    assertSignedMinor(credit.amount_minor, "credit.amount_minor");
    credits.set(credit.payment_id, [...(credits.get(credit.payment_id) ?? []), credit]);
  }
  for (const list of credits.values()) list.sort((a, b) => a.line_no - b.line_no);

  const byCurrency = new Map<string, { balance: StatementBalance; lines: Omit<StatementLine, "balance_minor">[] }>();
  for (const balance of input.balances) {
    assertCurrency(balance.currency);
    assertSignedMinor(balance.opening_minor, "opening_minor");
    assertSignedMinor(balance.closing_minor, "closing_minor");
    invariant(!byCurrency.has(balance.currency), `two balances in ${balance.currency}`);
    byCurrency.set(balance.currency, { balance, lines: [] });
  }
  const used = new Set<string>();
  let previous: StatementPosting | undefined;
  for (const posting of input.postings) {
    assertSignedMinor(posting.amount_minor, "posting.amount_minor");
    invariant(previous === undefined || previous.at_ms < posting.at_ms || (previous.at_ms === posting.at_ms && previous.posting_id < posting.posting_id), "postings are not in the order they were booked");
    previous = posting;
    const statement = byCurrency.get(posting.currency);
    invariant(statement !== undefined, `a posting in ${posting.currency}, a currency without a balance`);
    statement.lines.push(...linesOf(posting, credits, used));
  }
  invariant([...credits.keys()].every((id) => used.has(id) || (credits.get(id) ?? []).every((c) => c.amount_minor === 0)), "a payment line's credit belongs to no share posting in the period");

  return [...byCurrency.values()]
    .sort((a, b) => (a.balance.currency < b.balance.currency ? -1 : 1))
    .map(({ balance, lines }) => {
      let running = BigInt(balance.opening_minor);
      const withBalances = lines.map((line) => {
        running += BigInt(line.amount_minor);
        return { ...line, balance_minor: toSafeNumber(running, "a running balance") };
      });
      // The invariant of a statement: the balances were summed apart from the lines, and agree with them.
      invariant(running === BigInt(balance.closing_minor), `${balance.currency}: opening ${balance.opening_minor} plus the lines is ${running}, not the closing ${balance.closing_minor}`);
      return { currency: balance.currency, opening_balance_minor: balance.opening_minor, lines: withBalances, closing_balance_minor: balance.closing_minor };
    })
    .filter((statement) => statement.opening_balance_minor !== 0 || statement.lines.length > 0);
}
