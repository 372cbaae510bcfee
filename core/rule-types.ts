/**
 * The split-rule language, as values. `parseRule` turns admin JSON into these types; the
 * types make some mistakes unrepresentable (a fallback only exists on a contributors line).
 * See core/README.md for the language as admins read it.
 */
import type { Rational } from "./rational";

/** What a rule splits: what the customer paid (gross) or what arrived after Stripe's fee (net). */
export type Basis = "net" | "gross";

/** Amounts in minor units by lower-case currency code: `{ eur: 500, jpy: 80 }`. */
export type CurrencyAmounts = Readonly<Record<string, number>>;

/** `text` keeps what the admin wrote ("12.5%", "2/6") so a rule formats back unchanged. */
export type Share =
  | { readonly kind: "percentage"; readonly text: string; readonly ratio: Rational }
  | { readonly kind: "fraction"; readonly text: string; readonly ratio: Rational }
  | { readonly kind: "fixed"; readonly amounts_minor: CurrencyAmounts }
  | { readonly kind: "remaining" };

export type Recipient =
  | { readonly kind: "party"; readonly party_id: string }
  | { readonly kind: "contributors"; readonly fallback?: string }
  | { readonly kind: "group"; readonly lines: readonly Line[] }
  /** A need pool: its share is held in the pool's account and distributed by need when the pool's period closes. */
  | { readonly kind: "pool"; readonly pool_id: string };

export interface Line {
  readonly to: Recipient;
  readonly share: Share;
  /** Cap per currency for this line, per payment; only on percentage or fraction shares. */
  readonly max_minor?: CurrencyAmounts;
  readonly label?: string;
}

/**
 * Who bears what Stripe keeps when money goes back (its fee is not returned on a refund; a
 * dispute has a fee of its own): the parties in proportion to their shares (the default), the
 * reserve, the commons (the one party of that kind), or the cooperative's own funds.
 */
export const FEE_POLICIES = ["proportional", "reserve", "commons", "cooperative"] as const;
export type FeePolicy = (typeof FEE_POLICIES)[number];

export interface Rule {
  readonly basis: Basis;
  readonly lines: readonly Line[];
  /** When set, every rounding floors and this party takes the whole residue (see README). */
  readonly residual_to?: string;
  /** Who bears the fees Stripe keeps when money goes back; "proportional" when absent. */
  readonly fee_policy?: FeePolicy;
  /** Days a share is held before it can be paid out (so that most refunds hit money not yet paid); the deployment's default when absent. */
  readonly hold_days?: number;
}

/** The JSON form admins write and the database stores. */
export interface LineJson {
  to: string | { group: LineJson[] } | { pool: string };
  share: string | { fixed: Record<string, number> };
  max?: Record<string, number>;
  fallback?: string;
  label?: string;
}

export interface RuleJson {
  basis: Basis;
  lines: LineJson[];
  residual_to?: string;
  fee_policy?: FeePolicy;
  hold_days?: number;
}

/** Stable machine codes; messages are for humans and may change. */
export const RULE_ERROR_CODES = [
  // structure (parseRule)
  "bad_rule",
  "unknown_field",
  "bad_basis",
  "bad_fee_policy",
  "bad_hold_days",
  "bad_lines",
  "empty_lines",
  "too_many_lines",
  "too_deep",
  "bad_line",
  "bad_to",
  "bad_party_id",
  "bad_share",
  "bad_percentage",
  "bad_fixed",
  "bad_cap",
  "bad_currency",
  "bad_fallback",
  "bad_label",
  // meaning of one level (checkRule, and applyRule before it splits anything)
  "shares_exceed_whole",
  "shares_not_whole",
  "two_remaining",
  "cap_without_remaining",
  // against the context (checkRule) or the payment (applyRule)
  "unknown_party",
  "unknown_pool",
  "fixed_missing_currency",
  "cap_missing_currency",
  "empty_contributor_pool",
  "no_fee_bearer",
] as const;

export type RuleErrorCode = (typeof RULE_ERROR_CODES)[number];

/** `path` names the offending place in the JSON, e.g. `lines[2].share`, `lines[1].to.group[0]`. */
export interface RuleError {
  readonly code: RuleErrorCode;
  readonly path: string;
  readonly message: string;
}

/** Limits: a rule is read by people and applied to every payment; keep it small. */
export const RULE_LIMITS = {
  /** Lines at one level (the top, or inside one group). */
  lines_per_level: 50,
  /** Levels of lines, the top one included: at most three groups nested in one another. */
  depth: 4,
  /** Lines in the whole rule, all levels together. */
  lines_total: 200,
  label_length: 200,
  party_id_length: 64,
  currencies_per_amount: 50,
  /** Errors reported at once; past this a rule is not worth listing every problem of. */
  errors: 50,
  /** Contributors of one offer. */
  contributors: 1000,
  /** Longest hold a rule may set, in days. */
  hold_days: 365,
} as const;

/** A party id: 1-64 characters of letters, digits and `_ . : @ -`, starting alphanumeric. */
export const PARTY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;

/** `to: "contributors"` means the offer's contributors, so no party may be called that. */
export const CONTRIBUTORS = "contributors";

export function isProportional(share: Share): share is Extract<Share, { ratio: Rational }> {
  return share.kind === "percentage" || share.kind === "fraction";
}
