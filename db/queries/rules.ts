// Split rules: a scope and a chain of immutable versions.
import { and, asc, desc, eq, lte, or, sql } from "drizzle-orm";
import type { Db } from "../client";
import { rules, ruleVersions, type OfferKind, type RuleScopeKind } from "../schema";

export type RuleScope = { default: true } | { offer_kind: OfferKind } | { offer_id: string };

export interface RuleVersionRow {
  rule_id: string;
  version: number;
  effective_from_ms: number;
  body: unknown;
  content_hash: string;
  author: string;
  reason: string;
  /** The proposal this version came from; null for a version an admin wrote directly. */
  proposal_id: string | null;
  created_at_ms: number;
}

/** How a rule changes by consent: a proposal's notice (ISO 8601 duration) and the admins' approvals it needs. */
export interface Governance {
  notice: string;
  approvals: number;
}

export const DEFAULT_GOVERNANCE: Governance = { notice: "P7D", approvals: 0 };

export interface RuleRow {
  id: string;
  scope: RuleScope;
  governance: Governance;
  created_at_ms: number;
}

export function scopeColumns(scope: RuleScope): { scopeKind: RuleScopeKind; scopeValue: string } {
  if ("offer_id" in scope) return { scopeKind: "offer", scopeValue: scope.offer_id };
  if ("offer_kind" in scope) return { scopeKind: "offer_kind", scopeValue: scope.offer_kind };
  return { scopeKind: "default", scopeValue: "" };
}

export function scopeOf(kind: RuleScopeKind, value: string): RuleScope {
  if (kind === "offer") return { offer_id: value };
  if (kind === "offer_kind") return { offer_kind: value as OfferKind };
  return { default: true };
}

const versionColumns = {
  rule_id: ruleVersions.ruleId,
  version: ruleVersions.version,
  effective_from_ms: ruleVersions.effectiveFromMs,
  body: ruleVersions.body,
  content_hash: ruleVersions.contentHash,
  author: ruleVersions.author,
  reason: ruleVersions.reason,
  proposal_id: ruleVersions.proposalId,
  created_at_ms: ruleVersions.createdAtMs,
};

function parsed<T extends { body: string }>(row: T): Omit<T, "body"> & { body: unknown } {
  return { ...row, body: JSON.parse(row.body) as unknown };
}

function ruleRow(r: typeof rules.$inferSelect): RuleRow {
  return { id: r.id, scope: scopeOf(r.scopeKind, r.scopeValue), governance: { notice: r.governanceNotice, approvals: r.governanceApprovals }, created_at_ms: r.createdAtMs };
}

export async function listRules(db: Db, limit = 500): Promise<RuleRow[]> {
  const rows = await db.select().from(rules).orderBy(asc(rules.id)).limit(limit);
  return rows.map(ruleRow);
}

export async function getRule(db: Db, id: string): Promise<RuleRow | undefined> {
  const r = await db.query.rules.findFirst({ where: eq(rules.id, id) });
  return r && ruleRow(r);
}

export async function ruleIdForScope(db: Db, scope: RuleScope): Promise<string | undefined> {
  const { scopeKind, scopeValue } = scopeColumns(scope);
  const r = await db.query.rules.findFirst({ where: and(eq(rules.scopeKind, scopeKind), eq(rules.scopeValue, scopeValue)), columns: { id: true } });
  return r?.id;
}

/** One rule's versions in order, or every rule's (by rule, then version) when no id is given. */
export async function listRuleVersions(db: Db, ruleId?: string, limit = 10_000): Promise<RuleVersionRow[]> {
  const rows = await db
    .select(versionColumns)
    .from(ruleVersions)
    .where(ruleId === undefined ? undefined : eq(ruleVersions.ruleId, ruleId))
    .orderBy(asc(ruleVersions.ruleId), asc(ruleVersions.version))
    .limit(limit);
  return rows.map(parsed);
}

export async function getRuleVersion(db: Db, ruleId: string, version: number): Promise<RuleVersionRow | undefined> {
  const [row] = await db.select(versionColumns).from(ruleVersions).where(and(eq(ruleVersions.ruleId, ruleId), eq(ruleVersions.version, version)));
  return row && parsed(row);
}

export async function latestRuleVersion(db: Db, ruleId: string): Promise<RuleVersionRow | undefined> {
  const [row] = await db.select(versionColumns).from(ruleVersions).where(eq(ruleVersions.ruleId, ruleId)).orderBy(desc(ruleVersions.version)).limit(1);
  return row && parsed(row);
}

export function scopeCovers(scope: RuleScope, offer: { id: string; kind: OfferKind }): boolean {
  return "offer_id" in scope ? scope.offer_id === offer.id : "offer_kind" in scope ? scope.offer_kind === offer.kind : true;
}

/** How specific a rule's scope is: offer 3, offer kind 2, default 1 (SQL, over `rules`). */
export const ruleSpecificity = sql<number>`case ${rules.scopeKind} when 'offer' then 3 when 'offer_kind' then 2 else 1 end`;

export function specificityOf(scope: RuleScope): 1 | 2 | 3 {
  return "offer_id" in scope ? 3 : "offer_kind" in scope ? 2 : 1;
}

/**
 * The rule version that splits a payment of this offer made at `atMs`: the most specific
 * scope (offer, then offer kind, then default) that had a version in force then, and in
 * it the last version whose `effective_from` had come. Later versions never apply.
 */
export async function resolveRuleVersion(db: Db, offer: { id: string; kind: OfferKind }, atMs: number): Promise<RuleVersionRow | undefined> {
  const [row] = await db
    .select(versionColumns)
    .from(ruleVersions)
    .innerJoin(rules, eq(rules.id, ruleVersions.ruleId))
    .where(
      and(
        lte(ruleVersions.effectiveFromMs, atMs),
        or(
          and(eq(rules.scopeKind, "offer"), eq(rules.scopeValue, offer.id)),
          and(eq(rules.scopeKind, "offer_kind"), eq(rules.scopeValue, offer.kind)),
          eq(rules.scopeKind, "default"),
        ),
      ),
    )
    .orderBy(desc(ruleSpecificity), desc(ruleVersions.effectiveFromMs), desc(ruleVersions.version))
    .limit(1);
  return row && parsed(row);
}

/**
 * The versions that could split a payment of this offer from now on: in each rule whose
 * scope covers it, the version in force and every scheduled one.
 */
export async function versionsCovering(db: Db, offer: { id: string; kind: OfferKind }, nowMs = Date.now()): Promise<RuleVersionRow[]> {
  const rows = await db
    .select(versionColumns)
    .from(ruleVersions)
    .innerJoin(rules, eq(rules.id, ruleVersions.ruleId))
    .where(
      or(
        and(eq(rules.scopeKind, "offer"), eq(rules.scopeValue, offer.id)),
        and(eq(rules.scopeKind, "offer_kind"), eq(rules.scopeValue, offer.kind)),
        eq(rules.scopeKind, "default"),
      ),
    )
    .orderBy(asc(ruleVersions.ruleId), asc(ruleVersions.version));
  const inForce = new Map<string, number>();
  for (const r of rows) if (r.effective_from_ms <= nowMs) inForce.set(r.rule_id, r.version);
  return rows.filter((r) => r.version >= (inForce.get(r.rule_id) ?? 0)).map(parsed);
}

export type NewRuleVersion = Omit<RuleVersionRow, "rule_id" | "created_at_ms" | "proposal_id">;

export function insertRuleStatement(db: Db, id: string, scope: RuleScope, governance: Governance, nowMs: number) {
  return db.insert(rules).values({ id, ...scopeColumns(scope), governanceNotice: governance.notice, governanceApprovals: governance.approvals, createdAtMs: nowMs });
}

export function updateGovernanceStatement(db: Db, id: string, governance: Governance) {
  return db.update(rules).set({ governanceNotice: governance.notice, governanceApprovals: governance.approvals }).where(eq(rules.id, id));
}

/** (rule_id, version) is the primary key: two admins racing for the same number cannot both win. */
export function insertRuleVersionStatement(db: Db, ruleId: string, v: NewRuleVersion, nowMs: number) {
  return db.insert(ruleVersions).values({
    ruleId,
    version: v.version,
    effectiveFromMs: v.effective_from_ms,
    body: JSON.stringify(v.body),
    contentHash: v.content_hash,
    author: v.author,
    reason: v.reason,
    createdAtMs: nowMs,
  });
}
