// What the public page and GET /api/v1/public/flows both show: a period's flows and its need
// pools' closes, the rules in force in plain words, and the proposals to change them (as GET
// /api/v1/public/proposals reads them). Reads from db/, arithmetic and words from core/; nothing
// here is about one payment, and a party not public is never named.
import {
  buildFlows,
  parsePeriod,
  parseRule,
  periodContaining,
  ruleInWords,
  versionInForce,
  isCurrencyCode,
  publicPoolClose,
  type Flows,
  type PublicPoolClose,
  type ReportPeriod,
  type RuleInWords,
  type WordsScope,
} from "../core";
import type { Db } from "../db/client";
import { offersByIds, partiesByIds } from "../db/queries/catalog";
import { flowSums, ledgerSpan, partiesForWords, poolClosesIn, tokenNames } from "../db/queries/public";
import { listProposalRecords, threadRecords, type ProposalRecord } from "../db/queries/proposals";
import { listRules, listRuleVersions, type RuleScope } from "../db/queries/rules";
import { publicProposalView, viewContexts, type PublicProposalView } from "../workflows/proposal-views";
import { settlementCurrencies, type Env } from "../workflows/env";
import { ApiError } from "./errors";

export interface PublicFlows {
  period: ReportPeriod;
  currency: string;
  /** Currencies the ledger holds, and the months of its first and last movements (null: an empty ledger). */
  available: { currencies: string[]; first_period: string | null; last_period: string | null };
  flows: Flows;
  /** The need pools' closes of periods ending in this one, in this currency: names only of public parties. */
  pools: PublicPoolClose[];
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
  const [sums, closes] = await Promise.all([flowSums(db, currency, chosen.from_ms, chosen.to_ms), poolClosesIn(db, currency, chosen.from_ms, chosen.to_ms)]);
  const named = await partiesByIds(db, [...new Set(closes.flatMap((c) => [...c.members.map((m) => m.party_id), ...(c.leftover_to === null ? [] : [c.leftover_to])]))]);
  return {
    period: chosen,
    currency,
    available: {
      currencies: [...new Set([...settlementCurrencies(env), ...span.currencies])],
      first_period: span.first_ms === null ? null : periodContaining(span.first_ms, "month").id,
      last_period: span.last_ms === null ? null : periodContaining(span.last_ms, "month").id,
    },
    flows: buildFlows(sums),
    pools: closes.map((c) => publicPoolClose(c, named)),
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

/** Who objected, as anyone may read it: a party by name only if it chose to be public, else null ("a member"). */
export interface PublicObjector {
  party_id: string | null;
  name: string | null;
  standing: boolean;
}

export interface ProposalForPage {
  view: PublicProposalView;
  rule: { id: string; scope: RuleScope | null; offer_name: string | null };
  /** The proposed rule and the version it changes, in plain words (null: a body that no longer reads). */
  words: Record<"en" | "fr", RuleInWords> | null;
  current_words: Record<"en" | "fr", RuleInWords> | null;
  objectors: PublicObjector[];
  /** The proposal this one amends, when it is an amendment: when it was made and why. */
  amended_from: { id: string; created_at_ms: number; reason: string } | null;
}

/** How long a decided proposal (passed or withdrawn) stays on the public page. */
export const DECIDED_SHOWN_MS = 90 * 86_400_000;

/**
 * What the public page shows of rules changed by consent: the open proposals (held and awaiting
 * ones included) and those decided in the last 90 days (passed, withdrawn; at most 5), each with
 * its rule in words in both languages and who objected (by name only if public). The same
 * records as GET /api/v1/public/proposals.
 */
export async function proposalsForPage(db: Db, nowMs: number, limit = 20): Promise<{ open: ProposalForPage[]; decided: ProposalForPage[] }> {
  const [open, activated, withdrawn] = await Promise.all([
    listProposalRecords(db, { status: "open" }, limit),
    listProposalRecords(db, { status: "activated" }, 5),
    listProposalRecords(db, { status: "withdrawn" }, 5),
  ]);
  const decided = [...activated, ...withdrawn]
    .filter((r) => r.proposal.closed_at_ms !== null && r.proposal.closed_at_ms > nowMs - DECIDED_SHOWN_MS)
    .sort((a, b) => (b.proposal.closed_at_ms ?? 0) - (a.proposal.closed_at_ms ?? 0))
    .slice(0, 5);
  const records = [...open, ...decided];
  if (records.length === 0) return { open: [], decided: [] };
  const [contexts, rules, allParties] = await Promise.all([viewContexts(db, records, nowMs), listRules(db), partiesForWords(db)]);
  const partyMap = new Map(allParties.map((p) => [p.id, p]));
  const ruleMap = new Map(rules.map((r) => [r.id, r]));
  const offerNames = await offersByIds(db, rules.flatMap((r) => ("offer_id" in r.scope ? [r.scope.offer_id] : [])), nowMs);
  const threads = new Map<string, ProposalRecord[]>();
  for (const { proposal } of records) if (!threads.has(proposal.thread_id)) threads.set(proposal.thread_id, await threadRecords(db, proposal.thread_id));
  const forPage = (r: ProposalRecord): ProposalForPage[] => {
    const ctx = contexts.get(r.proposal.id);
    if (!ctx) return [];
    const rule = ruleMap.get(r.proposal.rule_id);
    const scope: WordsScope = rule === undefined ? { default: true } : "offer_id" in rule.scope ? { offer_id: rule.scope.offer_id, offer_name: offerNames.get(rule.scope.offer_id)?.name ?? rule.scope.offer_id } : rule.scope;
    const inWords = (body: unknown) => {
      const parsed = parseRule(body);
      if (!parsed.ok) return null;
      const wordsCtx = { scope, parties: partyMap };
      return { en: ruleInWords(parsed.rule, wordsCtx, "en"), fr: ruleInWords(parsed.rule, wordsCtx, "fr") };
    };
    const thread = threads.get(r.proposal.thread_id) ?? [];
    const previous = r.proposal.amends === null ? undefined : thread.find((t) => t.proposal.id === r.proposal.amends);
    return [
      {
        view: publicProposalView(r, ctx, thread),
        rule: { id: r.proposal.rule_id, scope: rule?.scope ?? null, offer_name: "offer_id" in scope ? scope.offer_name : null },
        words: inWords(r.proposal.body),
        current_words: ctx.base_body === null ? null : inWords(ctx.base_body),
        objectors: publicObjectors(r, partyMap),
        amended_from: previous ? { id: previous.proposal.id, created_at_ms: previous.proposal.created_at_ms, reason: previous.proposal.reason } : null,
      },
    ];
  };
  return { open: open.flatMap(forPage), decided: decided.flatMap(forPage) };
}

/** Each objection of a proposal, oldest first: its party by name only if public, standing or lifted. */
export function publicObjectors(r: ProposalRecord, parties: ReadonlyMap<string, { kind: string; name: string; public: boolean }>): PublicObjector[] {
  return [...r.objections]
    .sort((a, b) => a.raised_at_ms - b.raised_at_ms)
    .map((o) => {
      const party = parties.get(o.party_id);
      const named = party !== undefined && (party.kind !== "contributor" || party.public);
      return { party_id: named ? o.party_id : null, name: named ? party.name : null, standing: o.lifted_at_ms === null };
    });
}
