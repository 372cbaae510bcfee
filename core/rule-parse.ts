/**
 * Structural parsing of a rule: JSON (already decoded, so `unknown`) to a typed `Rule`, or
 * every problem found, each with the path of the offending place. Meaning across lines (sums,
 * remaining lines, caps) is checked by `checkRule`; this file only checks shapes.
 */
import { isCurrencyCode } from "./currency";
import { compare, ONE, parseFraction, parsePercentage, type Rational } from "./rational";
import {
  CONTRIBUTORS,
  FEE_POLICIES,
  PARTY_ID_PATTERN,
  RULE_LIMITS,
  isProportional,
  type Basis,
  type CurrencyAmounts,
  type FeePolicy,
  type Line,
  type LineJson,
  type Recipient,
  type Rule,
  type RuleError,
  type RuleErrorCode,
  type RuleJson,
  type Share,
} from "./rule-types";

export type ParseRuleResult =
  | { readonly ok: true; readonly rule: Rule }
  | { readonly ok: false; readonly errors: RuleError[] };

interface ParseState {
  readonly errors: RuleError[];
  lines_total: number;
}

type JsonObject = Readonly<Record<string, unknown>>;

const RULE_FIELDS = ["basis", "lines", "residual_to", "fee_policy", "hold_days"];
const LINE_FIELDS = ["to", "share", "max", "fallback", "label"];

/**
 * A short, safe description of a value someone sent, for an error message: never the whole
 * value (it may be huge, or nested deep enough to overflow JSON.stringify's stack).
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object") return `an object with ${Object.keys(value as object).length} field(s)`;
  return typeof value;
}

function report(state: ParseState, code: RuleErrorCode, path: string, message: string): void {
  if (state.errors.length < RULE_LIMITS.errors) state.errors.push({ code, path, message });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** A misspelt field ("residual_too") must not be silently ignored. */
function rejectUnknownFields(state: ParseState, value: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      report(state, "unknown_field", join(path, key), `unknown field ${describeValue(key)}; expected one of ${allowed.join(", ")}`);
    }
  }
}

function parsePartyId(state: ParseState, value: unknown, path: string): string | null {
  if (typeof value === "string" && PARTY_ID_PATTERN.test(value) && value !== CONTRIBUTORS) return value;
  report(
    state,
    "bad_party_id",
    path,
    `a party id is 1-${RULE_LIMITS.party_id_length} letters, digits or _ . : @ - (and not "${CONTRIBUTORS}"), got ${describeValue(value)}`,
  );
  return null;
}

/** `{ "eur": 500 }`: used for fixed shares (bad_fixed) and caps (bad_cap). */
function parseAmounts(state: ParseState, value: unknown, path: string, code: "bad_fixed" | "bad_cap"): CurrencyAmounts | null {
  const keys = isObject(value) ? Object.keys(value) : [];
  if (!isObject(value) || keys.length === 0 || keys.length > RULE_LIMITS.currencies_per_amount) {
    report(state, code, path, `expected an object of 1-${RULE_LIMITS.currencies_per_amount} amounts by currency, like { "eur": 500 }`);
    return null;
  }
  const before = state.errors.length;
  for (const key of keys) {
    const amount = value[key];
    if (!isCurrencyCode(key)) {
      report(state, "bad_currency", join(path, key), `${describeValue(key)} is not a lower-case currency code like "eur"`);
    } else if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < 0) {
      report(state, code, join(path, key), `an amount is a whole number of minor units >= 0 (500 for 5.00 eur), got ${describeValue(amount)}`);
    }
  }
  return state.errors.length === before ? Object.fromEntries(keys.map((key) => [key, value[key] as number])) : null;
}

function parseRatio(state: ParseState, text: string, path: string): Share | null {
  const isPercent = text.endsWith("%");
  const ratio: Rational | null = isPercent ? parsePercentage(text) : parseFraction(text);
  const code = isPercent ? "bad_percentage" : "bad_share";
  const expected = isPercent ? `a percentage like "12.5%"` : `a fraction like "1/3"`;
  if (ratio === null) {
    report(state, code, path, `${describeValue(text)} is not ${expected}`);
    return null;
  }
  if (compare(ratio, ONE) > 0) {
    report(state, code, path, `${describeValue(text)} is more than the whole (100%)`);
    return null;
  }
  return { kind: isPercent ? "percentage" : "fraction", text, ratio };
}

function parseShare(state: ParseState, value: unknown, path: string): Share | null {
  if (value === "remaining") return { kind: "remaining" };
  if (typeof value === "string" && (value.endsWith("%") || value.includes("/"))) return parseRatio(state, value, path);
  if (isObject(value) && Object.keys(value).length === 1 && "fixed" in value) {
    const amounts_minor = parseAmounts(state, value["fixed"], join(path, "fixed"), "bad_fixed");
    return amounts_minor === null ? null : { kind: "fixed", amounts_minor };
  }
  report(state, "bad_share", path, `a share is "12.5%", "1/3", { "fixed": { "eur": 500 } } or "remaining", got ${describeValue(value)}`);
  return null;
}

function parseRecipient(state: ParseState, value: unknown, path: string, depth: number): Recipient | null {
  if (value === CONTRIBUTORS) return { kind: "contributors" };
  if (typeof value === "string") {
    const party_id = parsePartyId(state, value, path);
    return party_id === null ? null : { kind: "party", party_id };
  }
  if (isObject(value) && Object.keys(value).length === 1 && "group" in value) {
    const lines = parseLevel(state, value["group"], join(path, "group"), depth + 1);
    return lines === null ? null : { kind: "group", lines };
  }
  if (isObject(value) && Object.keys(value).length === 1 && "pool" in value) {
    const pool_id = parsePartyId(state, value["pool"], join(path, "pool"));
    return pool_id === null ? null : { kind: "pool", pool_id };
  }
  report(state, "bad_to", path, `"to" is a party id, "${CONTRIBUTORS}", { "group": [lines] } or { "pool": id }, got ${describeValue(value)}`);
  return null;
}

function parseLabel(state: ParseState, value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length <= RULE_LIMITS.label_length) return value;
  report(state, "bad_label", path, `a label is a string of at most ${RULE_LIMITS.label_length} characters`);
  return undefined;
}

/** Attaches the optional fallback to a contributors recipient; anywhere else it is an error. */
function withFallback(state: ParseState, to: Recipient, value: unknown, path: string): Recipient {
  if (value === undefined) return to;
  if (to.kind !== "contributors") {
    report(state, "bad_fallback", path, `"fallback" only applies to a line whose "to" is "${CONTRIBUTORS}"`);
    return to;
  }
  const fallback = parsePartyId(state, value, path);
  return fallback === null ? to : { kind: "contributors", fallback };
}

function parseCap(state: ParseState, value: unknown, share: Share | null, path: string): CurrencyAmounts | undefined {
  if (value === undefined) return undefined;
  if (share !== null && !isProportional(share)) {
    report(state, "bad_cap", path, `a cap ("max") only applies to a percentage or fraction share`);
    return undefined;
  }
  return parseAmounts(state, value, path, "bad_cap") ?? undefined;
}

function parseLine(state: ParseState, value: unknown, path: string, depth: number): Line | null {
  if (!isObject(value)) {
    report(state, "bad_line", path, `a line is an object like { "to": "commons", "share": "10%" }`);
    return null;
  }
  const before = state.errors.length;
  rejectUnknownFields(state, value, LINE_FIELDS, path);
  const recipient = parseRecipient(state, value["to"], join(path, "to"), depth);
  const share = parseShare(state, value["share"], join(path, "share"));
  const to = recipient === null ? null : withFallback(state, recipient, value["fallback"], join(path, "fallback"));
  const max_minor = parseCap(state, value["max"], share, join(path, "max"));
  const label = parseLabel(state, value["label"], join(path, "label"));
  if (to === null || share === null || state.errors.length !== before) return null;
  return { to, share, ...(max_minor === undefined ? {} : { max_minor }), ...(label === undefined ? {} : { label }) };
}

function parseLevel(state: ParseState, value: unknown, path: string, depth: number): Line[] | null {
  if (depth > RULE_LIMITS.depth) {
    report(state, "too_deep", path, `groups nest at most ${RULE_LIMITS.depth} levels deep, the top level included`);
    return null;
  }
  if (!Array.isArray(value)) {
    report(state, "bad_lines", path, `expected an array of lines`);
    return null;
  }
  if (value.length === 0) {
    report(state, "empty_lines", path, `a level needs at least one line`);
    return null;
  }
  state.lines_total += value.length;
  if (value.length > RULE_LIMITS.lines_per_level || state.lines_total > RULE_LIMITS.lines_total) {
    report(state, "too_many_lines", path, `at most ${RULE_LIMITS.lines_per_level} lines per level and ${RULE_LIMITS.lines_total} in a rule`);
    return null;
  }
  const lines = value.map((line: unknown, index) => parseLine(state, line, `${path}[${index}]`, depth));
  return lines.every((line): line is Line => line !== null) ? lines : null;
}

function parseBasis(state: ParseState, value: unknown): Basis | null {
  if (value === "net" || value === "gross") return value;
  report(state, "bad_basis", "basis", `"basis" is "net" (after Stripe's fee) or "gross" (what the customer paid)`);
  return null;
}

function parseFeePolicy(state: ParseState, value: unknown): FeePolicy | null {
  if (typeof value === "string" && (FEE_POLICIES as readonly string[]).includes(value)) return value as FeePolicy;
  report(state, "bad_fee_policy", "fee_policy", `"fee_policy" is one of ${FEE_POLICIES.map((p) => `"${p}"`).join(", ")}: who bears the fees Stripe keeps when money goes back`);
  return null;
}

function parseHoldDays(state: ParseState, value: unknown): number | null {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= RULE_LIMITS.hold_days) return value;
  report(state, "bad_hold_days", "hold_days", `"hold_days" is a whole number of days from 0 to ${RULE_LIMITS.hold_days}, got ${describeValue(value)}`);
  return null;
}

/** Structural parse of admin JSON. Collects every error (up to a limit), each with its path. */
export function parseRule(input: unknown): ParseRuleResult {
  const state: ParseState = { errors: [], lines_total: 0 };
  if (!isObject(input)) {
    report(state, "bad_rule", "", `a rule is an object like { "basis": "net", "lines": [...] }`);
    return { ok: false, errors: state.errors };
  }
  rejectUnknownFields(state, input, RULE_FIELDS, "");
  const basis = parseBasis(state, input["basis"]);
  const lines = parseLevel(state, input["lines"], "lines", 1);
  const residual_to = input["residual_to"] === undefined ? undefined : parsePartyId(state, input["residual_to"], "residual_to");
  const fee_policy = input["fee_policy"] === undefined ? undefined : parseFeePolicy(state, input["fee_policy"]);
  const hold_days = input["hold_days"] === undefined ? undefined : parseHoldDays(state, input["hold_days"]);
  if (basis === null || lines === null || residual_to === null || fee_policy === null || hold_days === null || state.errors.length > 0) {
    return { ok: false, errors: state.errors };
  }
  return {
    ok: true,
    rule: { basis, lines, ...(residual_to === undefined ? {} : { residual_to }), ...(fee_policy === undefined ? {} : { fee_policy }), ...(hold_days === undefined ? {} : { hold_days }) },
  };
}

function formatShare(share: Share): LineJson["share"] {
  switch (share.kind) {
    case "percentage":
    case "fraction":
      return share.text;
    case "fixed":
      return { fixed: { ...share.amounts_minor } };
    case "remaining":
      return "remaining";
  }
}

function formatRecipient(to: Recipient): LineJson["to"] {
  switch (to.kind) {
    case "party":
      return to.party_id;
    case "group":
      return { group: to.lines.map(formatLine) };
    case "pool":
      return { pool: to.pool_id };
    case "contributors":
      return CONTRIBUTORS;
  }
}

function formatLine(line: Line): LineJson {
  const to = formatRecipient(line.to);
  const json: LineJson = { to, share: formatShare(line.share) };
  if (line.to.kind === "contributors" && line.to.fallback !== undefined) json.fallback = line.to.fallback;
  if (line.max_minor !== undefined) json.max = { ...line.max_minor };
  if (line.label !== undefined) json.label = line.label;
  return json;
}

/** The JSON form of a rule, for storage and display; `parseRule(formatRule(rule))` gives it back. */
export function formatRule(rule: Rule): RuleJson {
  const json: RuleJson = { basis: rule.basis, lines: rule.lines.map(formatLine) };
  if (rule.residual_to !== undefined) json.residual_to = rule.residual_to;
  if (rule.fee_policy !== undefined) json.fee_policy = rule.fee_policy;
  if (rule.hold_days !== undefined) json.hold_days = rule.hold_days;
  return json;
}
