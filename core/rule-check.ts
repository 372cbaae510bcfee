/**
 * What a rule means, checked when it is saved (and, for the rule alone, again before it is
 * applied). A level must place every unit of any amount, exactly once:
 *
 * - percentages and fractions at one level may not add up to more than 100%;
 * - a level has at most one `remaining` line;
 * - a level without a `remaining` line must have percentages and fractions adding up to
 *   exactly 100% (of what is left after its fixed amounts): otherwise some amount would
 *   belong to nobody. A level of fixed amounts only is therefore rejected too, since a
 *   payment larger than their sum would leave money unassigned;
 * - a cap needs a `remaining` line at its level, where its excess goes.
 */
import { describeValue, parseRule } from "./rule-parse";
import { isCurrencyCode } from "./currency";
import { add, compare, formatPercentage, formatRational, ONE, ZERO, type Rational } from "./rational";
import {
  isProportional,
  RULE_LIMITS,
  type CurrencyAmounts,
  type Line,
  type Rule,
  type RuleError,
  type RuleErrorCode,
} from "./rule-types";

export interface Contributor {
  readonly party_id: string;
  readonly weight: number;
}

/** The contributors of one offer the rule may be applied to (of one of its versions, when it names one). */
export interface ContributorPool {
  readonly offer_id: string;
  readonly version?: number;
  readonly contributors: readonly Contributor[];
}

export interface RuleContext {
  /** Known party ids, or a predicate saying whether an id is known. */
  readonly parties: ReadonlySet<string> | ((party_id: string) => boolean);
  /** Known need pools; a line sending to a pool not in it is refused. None given: no pool is known. */
  readonly pools?: ReadonlySet<string>;
  /** Offers whose contributors `contributors` lines will split among. */
  readonly contributorPools?: readonly ContributorPool[];
  /** Currencies payments may come in: every fixed amount and cap must name each of them. */
  readonly currencies?: readonly string[];
  /** Whether there is exactly one party of kind reserve, and of kind commons, to bear fees under those policies. */
  readonly feeBearers?: { readonly reserve: boolean; readonly commons: boolean };
}

export type CheckRuleResult = { readonly ok: true } | { readonly ok: false; readonly errors: RuleError[] };

type Report = (code: RuleErrorCode, path: string, message: string) => void;

function collector(): { errors: RuleError[]; report: Report } {
  const errors: RuleError[] = [];
  const report: Report = (code, path, message) => {
    if (errors.length < RULE_LIMITS.errors) errors.push({ code, path, message });
  };
  return { errors, report };
}

function describe(total: Rational): string {
  return formatPercentage(total) ?? formatRational(total);
}

/** Visits every level (path of its lines array, and the lines) depth first, in line order. */
function forEachLevel(lines: readonly Line[], path: string, visit: (lines: readonly Line[], path: string) => void): void {
  visit(lines, path);
  lines.forEach((line, index) => {
    if (line.to.kind === "group") forEachLevel(line.to.lines, `${path}[${index}].to.group`, visit);
  });
}

/** Visits every line depth first in document order: a group's lines right after the group. */
function forEachLine(lines: readonly Line[], path: string, visit: (line: Line, path: string) => void): void {
  lines.forEach((line, index) => {
    visit(line, `${path}[${index}]`);
    if (line.to.kind === "group") forEachLine(line.to.lines, `${path}[${index}].to.group`, visit);
  });
}

function checkLevel(lines: readonly Line[], path: string, report: Report): void {
  const hasRemaining = lines.some((line) => line.share.kind === "remaining");
  let total: Rational = ZERO;
  let exceeded = false;
  let remainingSeen = false;
  lines.forEach((line, index) => {
    const linePath = `${path}[${index}]`;
    if (isProportional(line.share)) {
      total = add(total, line.share.ratio);
      if (!exceeded && compare(total, ONE) > 0) {
        exceeded = true;
        report("shares_exceed_whole", `${linePath}.share`, `with this line the percentages and fractions of this level reach ${describe(total)}, above 100%`);
      }
    }
    if (line.share.kind === "remaining") {
      if (remainingSeen) report("two_remaining", `${linePath}.share`, `a level has at most one "remaining" line; another one comes before this one`);
      remainingSeen = true;
    }
    if (line.max_minor !== undefined && !hasRemaining) {
      report("cap_without_remaining", `${linePath}.max`, `a capped line needs a "remaining" line at its level to take what the cap cuts off`);
    }
  });
  if (!hasRemaining && !exceeded && compare(total, ONE) !== 0) {
    const onlyFixed = lines.every((line) => line.share.kind === "fixed");
    const message = onlyFixed
      ? `fixed amounts alone cannot place a payment larger than their sum: add a "remaining" line (or a 100% line) to this level`
      : `without a "remaining" line, percentages and fractions must add up to exactly 100% of what is left after fixed amounts; they add up to ${describe(total)}`;
    report("shares_not_whole", path, message);
  }
}

/** Checks that needs the rule alone: sums, remaining lines, caps. `applyRule` runs these too. */
export function checkRuleShape(rule: Rule): RuleError[] {
  const { errors, report } = collector();
  forEachLevel(rule.lines, "lines", (lines, path) => checkLevel(lines, path, report));
  return errors;
}

function knows(ctx: RuleContext, party_id: string): boolean {
  return typeof ctx.parties === "function" ? ctx.parties(party_id) : ctx.parties.has(party_id);
}

function checkParty(ctx: RuleContext, party_id: string, path: string, report: Report): void {
  if (!knows(ctx, party_id)) report("unknown_party", path, `no party has the id ${describeValue(party_id)}`);
}

function checkCurrencies(
  amounts: CurrencyAmounts,
  currencies: readonly string[],
  path: string,
  code: "fixed_missing_currency" | "cap_missing_currency",
  report: Report,
): void {
  const missing = currencies.filter((currency) => !Object.hasOwn(amounts, currency));
  if (missing.length > 0) {
    const what = code === "fixed_missing_currency" ? "fixed amount" : "cap";
    report(code, path, `this ${what} has no amount for ${missing.join(", ")}, a currency payments can come in`);
  }
}

function checkContributorPools(ctx: RuleContext, path: string, report: Report): void {
  const empty = (ctx.contributorPools ?? []).filter((pool) => !pool.contributors.some((c) => c.weight > 0));
  if (empty.length > 0) {
    const offers = empty.map((pool) => (pool.version === undefined ? pool.offer_id : `${pool.offer_id} (version ${pool.version})`)).join(", ");
    report("empty_contributor_pool", path, `offer(s) ${offers} have no contributor with a weight above 0, and this line has no "fallback" party to take its share`);
  }
}

function checkLineContext(line: Line, path: string, ctx: RuleContext, report: Report): void {
  const currencies = ctx.currencies ?? [];
  if (line.to.kind === "party") checkParty(ctx, line.to.party_id, `${path}.to`, report);
  if (line.to.kind === "pool" && !(ctx.pools?.has(line.to.pool_id) ?? false)) report("unknown_pool", `${path}.to.pool`, `no need pool has the id ${describeValue(line.to.pool_id)}`);
  if (line.to.kind === "contributors") {
    if (line.to.fallback !== undefined) checkParty(ctx, line.to.fallback, `${path}.fallback`, report);
    else checkContributorPools(ctx, `${path}.to`, report);
  }
  if (line.share.kind === "fixed") checkCurrencies(line.share.amounts_minor, currencies, `${path}.share`, "fixed_missing_currency", report);
  if (line.max_minor !== undefined) checkCurrencies(line.max_minor, currencies, `${path}.max`, "cap_missing_currency", report);
}

/**
 * Save-time check of a parsed rule: its own meaning (`checkRuleShape`) and the context it
 * will run in (known parties, contributor pools, currencies). Reports every error found.
 */
export function checkRule(rule: Rule, ctx: RuleContext): CheckRuleResult {
  const errors = checkRuleShape(rule);
  const { errors: contextErrors, report } = collector();
  (ctx.currencies ?? []).forEach((currency, index) => {
    if (!isCurrencyCode(currency)) report("bad_currency", `currencies[${index}]`, `${describeValue(currency)} is not a lower-case currency code`);
  });
  if (rule.residual_to !== undefined) checkParty(ctx, rule.residual_to, "residual_to", report);
  if ((rule.fee_policy === "reserve" || rule.fee_policy === "commons") && ctx.feeBearers !== undefined && !ctx.feeBearers[rule.fee_policy]) {
    report("no_fee_bearer", "fee_policy", `"fee_policy": "${rule.fee_policy}" needs exactly one party of kind ${rule.fee_policy} to bear the fees`);
  }
  forEachLine(rule.lines, "lines", (line, path) => checkLineContext(line, path, ctx, report));
  const all = [...errors, ...contextErrors].slice(0, RULE_LIMITS.errors);
  return all.length === 0 ? { ok: true } : { ok: false, errors: all };
}

/** A stored rule version, as the checks below read it. */
export interface StoredVersion {
  readonly rule_id: string;
  readonly version: number;
  readonly body: unknown;
}

/**
 * The first of these versions that could not split a payment of an offer without
 * contributors (a `contributors` line with no `fallback`), with the error naming the line;
 * null when every one of them could. Versions that do not parse are someone else's problem.
 */
export function versionNeedingContributors(offer_id: string, versions: readonly StoredVersion[]): { version: StoredVersion; error: RuleError } | null {
  for (const version of versions) {
    const rule = parseRule(version.body);
    if (!rule.ok) continue;
    const checked = checkRule(rule.rule, { parties: () => true, contributorPools: [{ offer_id, contributors: [] }] });
    const error = checked.ok ? undefined : checked.errors.find((e) => e.code === "empty_contributor_pool");
    if (error) return { version, error };
  }
  return null;
}
