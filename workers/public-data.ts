// What the public page and GET /api/v1/public/flows both show: a period's flows, and the rules
// in force in plain words. Reads from db/, arithmetic and words from core/; nothing here is
// about one payment.
import {
  buildFlows,
  parsePeriod,
  parseRule,
  periodContaining,
  ruleInWords,
  versionInForce,
  isCurrencyCode,
  type Flows,
  type ReportPeriod,
  type RuleInWords,
  type WordsScope,
} from "../core";
import type { Db } from "../db/client";
import { offersByIds } from "../db/queries/catalog";
import { flowSums, ledgerSpan, partiesForWords, tokenNames } from "../db/queries/public";
import { listRules, listRuleVersions, type RuleScope } from "../db/queries/rules";
import { settlementCurrencies, type Env } from "../workflows/env";
import { ApiError } from "./errors";

export interface PublicFlows {
  period: ReportPeriod;
  currency: string;
  /** Currencies the ledger holds, and the months of its first and last movements (null: an empty ledger). */
  available: { currencies: string[]; first_period: string | null; last_period: string | null };
  flows: Flows;
}

/**
 * `period` and `currency` as asked, or 400 naming the field. Without a period: the year of the
 * ledger's latest movement (the current year on an empty ledger); without a currency, the
 * first settlement currency (CURRENCIES).
 */
export async function publicFlows(db: Db, env: Pick<Env, "CURRENCIES">, asked: { period?: string; currency?: string }, nowMs: number): Promise<PublicFlows> {
  if (asked.currency !== undefined && !isCurrencyCode(asked.currency)) {
    throw new ApiError("invalid_request", `currency ${JSON.stringify(asked.currency.slice(0, 10))} is not a lower-case ISO 4217 code (eur)`, [{ path: "currency", message: "a lower-case ISO 4217 code, as Stripe writes it" }]);
  }
  let period: ReportPeriod | undefined;
  if (asked.period !== undefined) {
    const parsed = parsePeriod(asked.period);
    if (!parsed.ok) throw new ApiError("invalid_request", parsed.message, [{ path: "period", message: "a month (2026-10), a quarter (2026-Q4) or a year (2026)", code: parsed.code }]);
    period = parsed.period;
  }
  const span = await ledgerSpan(db);
  const chosen = period ?? periodContaining(span.last_ms ?? nowMs, "year");
  const currency = asked.currency ?? settlementCurrencies(env)[0] ?? "eur";
  const sums = await flowSums(db, currency, chosen.from_ms, chosen.to_ms);
  return {
    period: chosen,
    currency,
    available: {
      currencies: [...new Set([...settlementCurrencies(env), ...span.currencies])],
      first_period: span.first_ms === null ? null : periodContaining(span.first_ms, "month").id,
      last_period: span.last_ms === null ? null : periodContaining(span.last_ms, "month").id,
    },
    flows: buildFlows(sums),
  };
}

/** Who wrote a rule version: the bootstrap token, a named token, or something else (the CLI, the demo seed). */
export type Author = { kind: "bootstrap" } | { kind: "token"; name: string | null } | { kind: "other"; actor: string };

export interface RuleInForce {
  id: string;
  scope: RuleScope;
  /** The offer's name now, for a rule of one offer. */
  offer_name: string | null;
  version: number;
  effective_from_ms: number;
  author: Author;
  reason: string;
  words: Record<"en" | "fr", RuleInWords>;
  /** The next version, if one is scheduled. */
  next: { version: number; effective_from_ms: number } | null;
}

/** Every rule with a version in force at `nowMs`, in plain words, with who made that version and why. */
export async function rulesInForce(db: Db, nowMs: number): Promise<RuleInForce[]> {
  const [rules, versions, parties] = await Promise.all([listRules(db), listRuleVersions(db), partiesForWords(db)]);
  const offerIds = rules.flatMap((r) => ("offer_id" in r.scope ? [r.scope.offer_id] : []));
  const offerNames = await offersByIds(db, offerIds, nowMs);
  const partyMap = new Map(parties.map((p) => [p.id, p]));
  const inForce = rules.flatMap((rule) => {
    const own = versions.filter((v) => v.rule_id === rule.id);
    const current = versionInForce(own, nowMs);
    if (!current) return [];
    const parsed = parseRule(current.body);
    if (!parsed.ok) return []; // stored versions were checked when written; a body that no longer parses is not shown rather than guessed at
    const scope: WordsScope = "offer_id" in rule.scope ? { offer_id: rule.scope.offer_id, offer_name: offerNames.get(rule.scope.offer_id)?.name ?? rule.scope.offer_id } : rule.scope;
    const ctx = { scope, parties: partyMap };
    const next = own.find((v) => v.version > current.version);
    return [{ rule, current, offer_name: "offer_id" in scope ? scope.offer_name : null, words: { en: ruleInWords(parsed.rule, ctx, "en"), fr: ruleInWords(parsed.rule, ctx, "fr") }, next }];
  });
  const names = await tokenNames(db, inForce.map((r) => r.current.author).filter((a) => a.startsWith("token:")).map((a) => a.slice("token:".length)));
  const specificity = (scope: RuleScope) => ("offer_id" in scope ? 3 : "offer_kind" in scope ? 2 : 1);
  return inForce
    .sort((a, b) => specificity(a.rule.scope) - specificity(b.rule.scope) || (a.rule.id < b.rule.id ? -1 : 1))
    .map(({ rule, current, offer_name, words, next }) => ({
      id: rule.id,
      scope: rule.scope,
      offer_name,
      version: current.version,
      effective_from_ms: current.effective_from_ms,
      author: authorOf(current.author, names),
      reason: current.reason,
      words,
      next: next ? { version: next.version, effective_from_ms: next.effective_from_ms } : null,
    }));
}

function authorOf(actor: string, names: ReadonlyMap<string, string>): Author {
  if (actor === "bootstrap") return { kind: "bootstrap" };
  if (actor.startsWith("token:")) return { kind: "token", name: names.get(actor.slice("token:".length)) ?? null };
  return { kind: "other", actor };
}
