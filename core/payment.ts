/**
 * Splitting a whole payment, in the settlement currency (the one the ledger counts in, where
 * Stripe reports gross and fee). What the customer paid is made of components: the lines
 * (Checkout line items, invoice lines), the tax collected, and shipping. Each line has its
 * offer's rule and contributors; tax belongs to the tax office and shipping to the
 * cooperative, so neither is ever part of a rule's basis.
 *
 * 1. The gross is allocated across the components pro rata to their amounts as charged
 *    (`weight_minor`: a line's amount after its discounts and credits, without tax; the tax;
 *    the shipping; in the currency the customer paid in, used only as weights), by largest
 *    remainder. A weight may be negative: a proration credit for the plan a subscriber
 *    leaves. In one currency the allocation gives back exactly the amounts as charged.
 * 2. The fee is allocated across the lines that brought money in (positive gross) pro rata
 *    to their integer gross from step 1, by largest remainder, so a line's fee never exceeds
 *    its gross. Stripe charges its fee on the whole amount, tax included: the revenue bears it.
 * 3. Each line's basis is its gross (basis "gross") or gross - fee (basis "net"), and its rule
 *    splits that basis. A negative basis (a credit) is split by the same rule and taken back:
 *    each party gives back the part the rule gives it. Fixed amounts and caps are read in the
 *    settlement currency.
 */
import { allocateByWeights, allocateSignedByWeights } from "./allocate";
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
  /** What was charged for the line after its discounts and credits, without tax, as the customer saw it: only a pro-rata weight. Negative for a credit. */
  readonly weight_minor: number;
  readonly rule: Rule;
  readonly contributors: readonly Contributor[];
}

export interface PaymentInput {
  /** Settlement currency: the currency of gross_minor, fee_minor and every share. */
  readonly currency: string;
  /** What arrived from the customer, in the settlement currency: tax and shipping included. */
  readonly gross_minor: number;
  readonly fee_minor: number;
  /** The tax collected, as the customer saw it (a weight, like the lines'). */
  readonly tax_weight_minor?: number;
  /** Shipping charged, tax excluded, as the customer saw it (a weight). */
  readonly shipping_weight_minor?: number;
  readonly lines: readonly PaymentLineInput[];
}

export interface PaymentLineSplit {
  readonly key: string;
  /** Signed: a credit line's gross is negative. */
  readonly gross_minor: number;
  readonly fee_minor: number;
  readonly basis: Basis;
  /** Signed, like the gross. */
  readonly basis_minor: number;
  /** What the rule gives each party from this line; negative for a credit. */
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
  /** The tax collected, in the settlement currency: the tax office's, never split. */
  readonly tax_minor: number;
  /** Shipping, in the settlement currency: the cooperative's, never split. */
  readonly shipping_minor: number;
  readonly lines: PaymentLineSplit[];
  /** Summed over lines, in the order parties first appear. */
  readonly shares: PartyShare[];
}

export type PaymentErrorCode = RuleErrorCode | "no_line_weight" | "fee_exceeds_revenue";

export interface PaymentError {
  readonly code: PaymentErrorCode;
  /** e.g. `lines[0].rule.lines[2].share`: the payment line, then the place in its rule. */
  readonly path: string;
  readonly message: string;
}

export type SplitPaymentResult =
  | { readonly ok: true; readonly value: PaymentSplit }
  | { readonly ok: false; readonly error: PaymentError };

function assertSignedWeight(value: number, name: string): void {
  invariant(Number.isSafeInteger(value), `${name} must be a safe integer (minor units), got ${String(value)}`);
}

function assertPaymentInput(input: PaymentInput): void {
  assertCurrency(input.currency);
  assertMinor(input.gross_minor, "gross_minor");
  assertMinor(input.fee_minor, "fee_minor");
  invariant(input.fee_minor <= input.gross_minor, "the fee is larger than the gross");
  invariant(input.lines.length > 0 && input.lines.length <= MAX_PAYMENT_LINES, `a payment has 1-${MAX_PAYMENT_LINES} lines`);
  input.lines.forEach((line, index) => assertSignedWeight(line.weight_minor, `lines[${index}].weight_minor`));
  assertSignedWeight(input.tax_weight_minor ?? 0, "tax_weight_minor");
  assertMinor(input.shipping_weight_minor ?? 0, "shipping_weight_minor");
  const keys = new Set(input.lines.map((line) => line.key));
  invariant(keys.size === input.lines.length, "payment line keys are not unique");
}

function total(values: readonly number[]): bigint {
  return values.reduce((acc, value) => acc + BigInt(value), 0n);
}

type LineResult = { readonly ok: true; readonly line: PaymentLineSplit } | { readonly ok: false; readonly error: PaymentError };

/** A rule applied to a signed basis: a credit takes back, by the same rule, what a payment of its size would give. */
function applySigned(rule: Rule, basis_minor: number, currency: string, contributors: readonly Contributor[]) {
  const applied = applyRule(rule, { amount_minor: Math.abs(basis_minor), currency, contributors });
  if (!applied.ok || basis_minor >= 0) return applied;
  return { ...applied, parts: applied.parts.map((part) => ({ ...part, amount_minor: part.amount_minor === 0 ? 0 : -part.amount_minor })) };
}

function splitLine(input: PaymentInput, index: number, gross_minor: number, fee_minor: number): LineResult {
  const line = input.lines[index];
  invariant(line !== undefined && fee_minor >= 0 && (gross_minor < 0 ? fee_minor === 0 : fee_minor <= gross_minor), "a line's fee is out of its gross");
  const basis = line.rule.basis;
  const basis_minor = gross_minor < 0 ? gross_minor : lineBasis(basis, { gross_minor, fee_minor });
  const applied = applySigned(line.rule, basis_minor, input.currency, line.contributors);
  if (!applied.ok) {
    const { code, path, message } = applied.error;
    return { ok: false, error: { code, path: `lines[${index}].rule.${path}`, message: `line ${JSON.stringify(line.key)}: ${message}` } };
  }
  return { ok: true, line: { key: line.key, gross_minor, fee_minor, basis, basis_minor, parts: applied.parts } };
}

function assertSplit(split: PaymentSplit): void {
  invariant(total(split.lines.map((line) => line.gross_minor)) + BigInt(split.tax_minor) + BigInt(split.shipping_minor) === BigInt(split.gross_minor), "lines, tax and shipping do not sum to the gross");
  invariant(total(split.lines.map((line) => line.fee_minor)) === BigInt(split.fee_minor), "line fees do not sum to the fee");
  for (const line of split.lines) {
    invariant(total(line.parts.map((part) => part.amount_minor)) === BigInt(line.basis_minor), `line ${line.key}: its parts do not sum to its basis`);
    invariant(line.parts.every((part) => (line.basis_minor < 0 ? part.amount_minor <= 0 : part.amount_minor >= 0)), `line ${line.key}: a part has the wrong sign`);
  }
  const bases = total(split.lines.map((line) => line.basis_minor));
  invariant(total(split.shares.map((share) => share.amount_minor)) === bases, "shares do not sum to the bases");
}

/** Splits a payment between its lines, tax and shipping, then each line by its rule. See the file comment. */
export function splitPayment(input: PaymentInput): SplitPaymentResult {
  assertPaymentInput(input);
  const lineWeights = input.lines.map((line) => line.weight_minor);
  const weights = [...lineWeights, input.tax_weight_minor ?? 0, input.shipping_weight_minor ?? 0];
  if (input.gross_minor > 0 && total(weights) <= 0n) {
    return { ok: false, error: { code: "no_line_weight", path: "lines", message: "the lines, tax and shipping weigh nothing (or less than nothing) together, so the payment cannot be shared between them" } };
  }
  const allocated = allocateSignedByWeights(input.gross_minor, weights);
  const gross_minor = allocated.slice(0, input.lines.length);
  const tax_minor = allocated[input.lines.length] ?? 0;
  const shipping_minor = allocated[input.lines.length + 1] ?? 0;
  // The fee is borne by the lines that brought money in, pro rata to what they brought.
  const revenue = gross_minor.map((g) => Math.max(g, 0));
  if (input.fee_minor > 0 && total(revenue) < BigInt(input.fee_minor)) {
    return { ok: false, error: { code: "fee_exceeds_revenue", path: "fee_minor", message: `Stripe's fee ${input.fee_minor} is larger than what the lines brought in (${total(revenue)}), tax and shipping apart` } };
  }
  const fee_minor = input.fee_minor === 0 ? revenue.map(() => 0) : allocateByWeights(input.fee_minor, revenue);
  const lines: PaymentLineSplit[] = [];
  for (const index of input.lines.keys()) {
    const result = splitLine(input, index, gross_minor[index] ?? 0, fee_minor[index] ?? 0);
    if (!result.ok) return result;
    lines.push(result.line);
  }
  const shares = sumByParty(lines.flatMap((line) => line.parts));
  const net_minor = toSafeNumber(BigInt(input.gross_minor) - BigInt(input.fee_minor), "net_minor");
  const split: PaymentSplit = { currency: input.currency, gross_minor: input.gross_minor, fee_minor: input.fee_minor, net_minor, tax_minor, shipping_minor, lines, shares };
  assertSplit(split);
  return { ok: true, value: split };
}
