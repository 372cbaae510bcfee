/**
 * Splitting a whole payment, in the settlement currency (the one the ledger counts in, where
 * Stripe reports gross and fee). A payment has one or more lines (Checkout line items, invoice
 * lines), each with its offer's rule and contributors:
 *
 * 1. the gross is allocated across lines pro rata to each line's presentment amount
 *    (`weight_minor`, used only as a weight), by largest remainder;
 * 2. the fee is allocated across lines pro rata to each line's integer gross from step 1, by
 *    largest remainder. Weighting by the integer gross (not the presentment weights) keeps
 *    every line's fee <= its gross, so a net basis is never negative (two independent
 *    largest-remainder splits could break that: the Alabama paradox);
 * 3. each line's basis is its gross (basis "gross") or gross - fee (basis "net"), and its rule
 *    splits that basis. Fixed amounts and caps are read in the settlement currency.
 */
import { allocateByWeights } from "./allocate";
import { lineBasis } from "./basis";
import { assertCurrency } from "./currency";
import { assertMinor, invariant, toSafeNumber } from "./invariant";
import { applyRule, sumByParty, type Part } from "./rule-apply";
import type { Contributor } from "./rule-check";
import type { Basis, Rule, RuleErrorCode } from "./rule-types";

/** Lines of one payment: one page of Stripe's line items (100 at most). */
export const MAX_PAYMENT_LINES = 100;

export interface PaymentLineInput {
  /** Identifies the line in the result and in errors (line item id, or its index). */
  readonly key: string;
  /** The line's amount in the presentment currency: only a pro-rata weight. */
  readonly weight_minor: number;
  readonly rule: Rule;
  readonly contributors: readonly Contributor[];
}

export interface PaymentInput {
  /** Settlement currency: the currency of gross_minor, fee_minor and every share. */
  readonly currency: string;
  readonly gross_minor: number;
  readonly fee_minor: number;
  readonly lines: readonly PaymentLineInput[];
}

export interface PaymentLineSplit {
  readonly key: string;
  readonly gross_minor: number;
  readonly fee_minor: number;
  readonly basis: Basis;
  readonly basis_minor: number;
  readonly parts: Part[];
}

export interface PartyShare {
  readonly party_id: string;
  readonly amount_minor: number;
}

/** Plain numbers and strings only, so it can cross a workflow step or be stored as JSON. */
export interface PaymentSplit {
  readonly currency: string;
  readonly gross_minor: number;
  readonly fee_minor: number;
  readonly net_minor: number;
  readonly lines: PaymentLineSplit[];
  /** Summed over lines, in the order parties first appear. */
  readonly shares: PartyShare[];
}

export type PaymentErrorCode = RuleErrorCode | "no_line_weight";

export interface PaymentError {
  readonly code: PaymentErrorCode;
  /** e.g. `lines[0].rule.lines[2].share`: the payment line, then the place in its rule. */
  readonly path: string;
  readonly message: string;
}

export type SplitPaymentResult =
  | { readonly ok: true; readonly value: PaymentSplit }
  | { readonly ok: false; readonly error: PaymentError };

function assertPaymentInput(input: PaymentInput): void {
  assertCurrency(input.currency);
  assertMinor(input.gross_minor, "gross_minor");
  assertMinor(input.fee_minor, "fee_minor");
  invariant(input.fee_minor <= input.gross_minor, "the fee is larger than the gross");
  invariant(input.lines.length > 0 && input.lines.length <= MAX_PAYMENT_LINES, `a payment has 1-${MAX_PAYMENT_LINES} lines`);
  input.lines.forEach((line, index) => assertMinor(line.weight_minor, `lines[${index}].weight_minor`));
  const keys = new Set(input.lines.map((line) => line.key));
  invariant(keys.size === input.lines.length, "payment line keys are not unique");
}

function total(values: readonly number[]): bigint {
  return values.reduce((acc, value) => acc + BigInt(value), 0n);
}

type LineResult = { readonly ok: true; readonly line: PaymentLineSplit } | { readonly ok: false; readonly error: PaymentError };

function splitLine(input: PaymentInput, index: number, gross_minor: number, fee_minor: number): LineResult {
  const line = input.lines[index];
  invariant(line !== undefined && fee_minor <= gross_minor, "a line's fee is larger than its gross");
  const basis = line.rule.basis;
  const basis_minor = lineBasis(basis, { gross_minor, fee_minor });
  const applied = applyRule(line.rule, { amount_minor: basis_minor, currency: input.currency, contributors: line.contributors });
  if (!applied.ok) {
    const { code, path, message } = applied.error;
    return { ok: false, error: { code, path: `lines[${index}].rule.${path}`, message: `line ${JSON.stringify(line.key)}: ${message}` } };
  }
  return { ok: true, line: { key: line.key, gross_minor, fee_minor, basis, basis_minor, parts: applied.parts } };
}

function assertSplit(split: PaymentSplit): void {
  invariant(total(split.lines.map((line) => line.gross_minor)) === BigInt(split.gross_minor), "line gross does not sum to the gross");
  invariant(total(split.lines.map((line) => line.fee_minor)) === BigInt(split.fee_minor), "line fees do not sum to the fee");
  const bases = total(split.lines.map((line) => line.basis_minor));
  invariant(total(split.shares.map((share) => share.amount_minor)) === bases, "shares do not sum to the bases");
}

/** Splits a payment between its lines, then each line by its rule. See the file comment. */
export function splitPayment(input: PaymentInput): SplitPaymentResult {
  assertPaymentInput(input);
  const weights = input.lines.map((line) => line.weight_minor);
  if (input.gross_minor > 0 && total(weights) === 0n) {
    return { ok: false, error: { code: "no_line_weight", path: "lines", message: "every line weighs 0, so the payment cannot be shared between them" } };
  }
  const gross_minor = allocateByWeights(input.gross_minor, weights);
  const fee_minor = input.fee_minor === 0 ? gross_minor.map(() => 0) : allocateByWeights(input.fee_minor, gross_minor);
  const lines: PaymentLineSplit[] = [];
  for (const index of input.lines.keys()) {
    const result = splitLine(input, index, gross_minor[index] ?? 0, fee_minor[index] ?? 0);
    if (!result.ok) return result;
    lines.push(result.line);
  }
  const shares = sumByParty(lines.flatMap((line) => line.parts));
  const net_minor = toSafeNumber(BigInt(input.gross_minor) - BigInt(input.fee_minor), "net_minor");
  const split: PaymentSplit = { currency: input.currency, gross_minor: input.gross_minor, fee_minor: input.fee_minor, net_minor, lines, shares };
  assertSplit(split);
  return { ok: true, value: split };
}
