/**
 * Applying a rule to one amount. At each level (the top, or a group splitting its own amount):
 *
 * 1. fixed amounts come out first, in line order, in the payment's currency; one larger than
 *    what is left is cut down to what is left (so on a tiny payment the first fixed lines
 *    take everything and later ones get 0; no part is ever negative);
 * 2. percentages and fractions apply, exactly, to what is left after the fixed amounts;
 * 3. a cap clips its line to the cap; what it cuts off stays for the `remaining` line;
 * 4. the `remaining` line takes the rest, exactly.
 *
 * Then the level's exact amounts are rounded together to integers: by largest remainder (ties
 * in line order), or, when the rule names `residual_to`, by flooring each and adding the
 * residue to that party's residual part. Each integer amount then goes to its party, is split
 * among the offer's contributors by weight (same rounding), or is split by a group's lines.
 */
import { floorWithResidue, exactAmountsByWeights, roundByLargestRemainder } from "./allocate";
import { assertCurrency } from "./currency";
import { assertMinor, invariant, toSafeNumber } from "./invariant";
import { add, compare, fromInteger, min, mul, sub, sum, ZERO, type Rational } from "./rational";
import { checkRuleShape, type Contributor } from "./rule-check";
import { isProportional, RULE_LIMITS, type Line, type Recipient, type Rule, type RuleError } from "./rule-types";

export interface ApplyRuleInput {
  readonly amount_minor: number;
  readonly currency: string;
  readonly contributors: readonly Contributor[];
}

/** One party's integer part; `path` says which line (or contributor) produced it. */
export interface Part {
  readonly party_id: string;
  readonly amount_minor: number;
  readonly path: string;
}

/** The integer amount each line of each level received, for previews and audits. */
export interface LineAmount {
  readonly path: string;
  readonly amount_minor: number;
  readonly label?: string;
}

export type ApplyRuleResult =
  | { readonly ok: true; readonly parts: Part[]; readonly lines: LineAmount[] }
  | { readonly ok: false; readonly error: RuleError };

/** Path of the part that collects the rounding residue when the rule names `residual_to`. */
export const RESIDUAL_PATH = "residual_to";

interface Walk {
  readonly currency: string;
  readonly contributors: readonly Contributor[];
  readonly residual_to: string | undefined;
  readonly parts: Part[];
  readonly lines: LineAmount[];
  residue_minor: number;
}

type Exact = { readonly ok: true; readonly exact_minor: Rational[] } | { readonly ok: false; readonly error: RuleError };

function missing(code: "fixed_missing_currency" | "cap_missing_currency", path: string, currency: string): RuleError {
  const what = code === "fixed_missing_currency" ? "fixed amount" : "cap";
  return { code, path, message: `this ${what} has no amount in ${currency}, the currency of the payment` };
}

/** Step 1: fixed amounts in line order, each cut down to what is left. Returns what is left. */
function takeFixed(lines: readonly Line[], amount_minor: number, walk: Walk, path: string, exact: Rational[]): number | RuleError {
  let left_minor = amount_minor;
  for (const [index, line] of lines.entries()) {
    if (line.share.kind !== "fixed") continue;
    const fixed_minor = line.share.amounts_minor[walk.currency];
    if (!Object.hasOwn(line.share.amounts_minor, walk.currency) || fixed_minor === undefined) {
      return missing("fixed_missing_currency", `${path}[${index}].share`, walk.currency);
    }
    assertMinor(fixed_minor, `${path}[${index}].share.fixed.${walk.currency}`);
    const taken_minor = Math.min(fixed_minor, left_minor);
    exact[index] = fromInteger(taken_minor);
    left_minor -= taken_minor;
  }
  return left_minor;
}

/** Steps 2 and 3: each proportional share of what is left, clipped to its cap. Returns their total. */
function takeProportional(lines: readonly Line[], rest: Rational, walk: Walk, path: string, exact: Rational[]): Rational | RuleError {
  let total = ZERO;
  for (const [index, line] of lines.entries()) {
    if (!isProportional(line.share)) continue;
    let amount = mul(rest, line.share.ratio);
    if (line.max_minor !== undefined) {
      const cap_minor = line.max_minor[walk.currency];
      if (!Object.hasOwn(line.max_minor, walk.currency) || cap_minor === undefined) {
        return missing("cap_missing_currency", `${path}[${index}].max`, walk.currency);
      }
      assertMinor(cap_minor, `${path}[${index}].max.${walk.currency}`);
      amount = min(amount, fromInteger(cap_minor));
    }
    exact[index] = amount;
    total = add(total, amount);
  }
  return total;
}

/** The exact rational amount of every line of a level; they sum to `amount_minor`. */
function exactLevelAmounts(lines: readonly Line[], amount_minor: number, walk: Walk, path: string): Exact {
  const exact: Rational[] = lines.map(() => ZERO);
  const left_minor = takeFixed(lines, amount_minor, walk, path, exact);
  if (typeof left_minor !== "number") return { ok: false, error: left_minor };
  const rest = fromInteger(left_minor);
  const proportional = takeProportional(lines, rest, walk, path, exact);
  if ("code" in proportional) return { ok: false, error: proportional };
  const remainder = sub(rest, proportional);
  invariant(remainder.num >= 0n, "percentages took more than what was left");
  const remainingIndex = lines.findIndex((line) => line.share.kind === "remaining");
  if (remainingIndex >= 0) exact[remainingIndex] = remainder;
  else invariant(remainder.num === 0n, "a level without a remaining line left money unassigned");
  invariant(compare(sum(exact), fromInteger(amount_minor)) === 0, "exact amounts of a level do not sum to its amount");
  return { ok: true, exact_minor: exact };
}

/** Largest remainder, or floors with the residue set aside for `residual_to`. */
function roundAmounts(exact_minor: readonly Rational[], total_minor: number, walk: Walk): number[] {
  if (walk.residual_to === undefined) return roundByLargestRemainder(exact_minor, total_minor);
  const { parts_minor, residue_minor } = floorWithResidue(exact_minor, total_minor);
  walk.residue_minor += residue_minor;
  return parts_minor;
}

function assertUnderCaps(lines: readonly Line[], amounts_minor: readonly number[], currency: string): void {
  lines.forEach((line, index) => {
    const cap_minor = line.max_minor?.[currency];
    if (cap_minor !== undefined) invariant((amounts_minor[index] ?? 0) <= cap_minor, "a capped line ended above its cap");
  });
}

function emptyPool(path: string): RuleError {
  return {
    code: "empty_contributor_pool",
    path,
    message: `the offer has no contributor with a weight above 0 and this line has no "fallback" party`,
  };
}

/** A contributors line: split by weight, or all to the fallback when nobody has a weight. */
function splitAmongContributors(recipient: Extract<Recipient, { kind: "contributors" }>, amount_minor: number, walk: Walk, path: string): RuleError | null {
  const pool = walk.contributors;
  if (!pool.some((contributor) => contributor.weight > 0)) {
    if (recipient.fallback === undefined) return emptyPool(`${path}.to`);
    walk.parts.push({ party_id: recipient.fallback, amount_minor, path: `${path}.fallback` });
    return null;
  }
  const weights = pool.map((contributor) => contributor.weight);
  const amounts_minor = roundAmounts(exactAmountsByWeights(amount_minor, weights), amount_minor, walk);
  pool.forEach((contributor, index) => {
    walk.parts.push({ party_id: contributor.party_id, amount_minor: amounts_minor[index] ?? 0, path: `${path}.contributors[${index}]` });
  });
  return null;
}

function deliver(line: Line, amount_minor: number, walk: Walk, path: string, depth: number): RuleError | null {
  walk.lines.push({ path, amount_minor, ...(line.label === undefined ? {} : { label: line.label }) });
  switch (line.to.kind) {
    case "party":
      walk.parts.push({ party_id: line.to.party_id, amount_minor, path });
      return null;
    case "contributors":
      return splitAmongContributors(line.to, amount_minor, walk, path);
    case "group":
      return splitLevel(line.to.lines, amount_minor, walk, `${path}.to.group`, depth + 1);
    case "pool":
      // A pool is a party of its own: its share is held on its account until the pool closes.
      walk.parts.push({ party_id: line.to.pool_id, amount_minor, path });
      return null;
  }
}

function splitLevel(lines: readonly Line[], amount_minor: number, walk: Walk, path: string, depth: number): RuleError | null {
  invariant(depth <= RULE_LIMITS.depth && lines.length > 0, "a level is empty or nested too deep");
  const exact = exactLevelAmounts(lines, amount_minor, walk, path);
  if (!exact.ok) return exact.error;
  const amounts_minor = roundAmounts(exact.exact_minor, amount_minor, walk);
  assertUnderCaps(lines, amounts_minor, walk.currency);
  for (const [index, line] of lines.entries()) {
    const error = deliver(line, amounts_minor[index] ?? 0, walk, `${path}[${index}]`, depth);
    if (error !== null) return error;
  }
  return null;
}

function assertInput(input: ApplyRuleInput): void {
  assertMinor(input.amount_minor, "amount_minor");
  assertCurrency(input.currency);
  invariant(input.contributors.length <= RULE_LIMITS.contributors, `more than ${RULE_LIMITS.contributors} contributors`);
  input.contributors.forEach((contributor, index) => {
    invariant(typeof contributor.party_id === "string" && contributor.party_id.length > 0, `contributors[${index}] has no party id`);
    assertMinor(contributor.weight, `contributors[${index}].weight`);
  });
}

function assertParts(parts: readonly Part[], amount_minor: number): void {
  invariant(parts.every((part) => Number.isSafeInteger(part.amount_minor) && part.amount_minor >= 0), "a part is negative or not an integer");
  const total = parts.reduce((acc, part) => acc + BigInt(part.amount_minor), 0n);
  invariant(total === BigInt(amount_minor), "parts do not sum to the amount");
}

/**
 * Splits `amount_minor` by `rule`. Parts sum exactly to the amount and none is negative
 * (asserted). Fails with a typed error when the rule cannot apply to this payment: no fixed
 * amount or cap in its currency, or no contributors and no fallback.
 */
export function applyRule(rule: Rule, input: ApplyRuleInput): ApplyRuleResult {
  assertInput(input);
  const shapeErrors = checkRuleShape(rule);
  if (shapeErrors[0] !== undefined) return { ok: false, error: shapeErrors[0] };
  const walk: Walk = {
    currency: input.currency,
    contributors: input.contributors,
    residual_to: rule.residual_to,
    parts: [],
    lines: [],
    residue_minor: 0,
  };
  const error = splitLevel(rule.lines, input.amount_minor, walk, "lines", 1);
  if (error !== null) return { ok: false, error };
  if (walk.residual_to !== undefined) {
    walk.parts.push({ party_id: walk.residual_to, amount_minor: walk.residue_minor, path: RESIDUAL_PATH });
  }
  assertParts(walk.parts, input.amount_minor);
  return { ok: true, parts: walk.parts, lines: walk.lines };
}

/** Total per party, in the order parties first appear in `parts`. */
export function sumByParty(parts: readonly Part[]): Array<{ party_id: string; amount_minor: number }> {
  const totals = new Map<string, bigint>();
  for (const part of parts) totals.set(part.party_id, (totals.get(part.party_id) ?? 0n) + BigInt(part.amount_minor));
  return [...totals].map(([party_id, total]) => ({ party_id, amount_minor: toSafeNumber(total, "party total") }));
}
