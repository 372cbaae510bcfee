// Split rules that admins govern: create, propose versions (If-Match), read history,
// diff, preview, and replay a proposal over recent payments. Versions are immutable and
// never retroactive: a version takes effect now or later, never in the past.
import { createRoute, z } from "@hono/zod-openapi";
import {
  applyRule,
  contentHash,
  diffRules,
  effectiveFrom,
  etagOf,
  ifMatchAccepts,
  lineBasis,
  parseDuration,
  parseRule,
  replayRules,
  ruleInWords,
  sumByParty,
  validateRule,
  versionInForce,
  versionStatus,
  type Rule,
  type RuleJson,
} from "../../core";
import { database, isUniqueViolation, type Db } from "../../db/client";
import { insertAuditStatement } from "../../db/queries/audit";
import { allPartyIds, getOffer, offersByIds } from "../../db/queries/catalog";
import { partiesForWords } from "../../db/queries/public";
import { openProposalOf } from "../../db/queries/proposals";
import { recentLinesInScope } from "../../db/queries/replay";
import {
  DEFAULT_GOVERNANCE,
  getRule,
  getRuleVersion,
  insertRuleStatement,
  insertRuleVersionStatement,
  latestRuleVersion,
  listRules,
  listRuleVersions,
  ruleIdForScope,
  updateGovernanceStatement,
  type Governance,
  type RuleRow,
  type RuleScope,
  type RuleVersionRow,
} from "../../db/queries/rules";
import { OFFER_KINDS } from "../../db/schema";
import type { Env } from "../../workflows/env";
import { allPoolIds } from "../../db/queries/pools";
import { checkRuleBody } from "../../workflows/rule-validity";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems, Slug } from "./openapi";
import { RuleBodyInput, RuleBodySchema, ruleProblem } from "./rule-schema";

const ScopeSchema = z
  .union([z.object({ default: z.literal(true) }).strict(), z.object({ offer_kind: z.enum(OFFER_KINDS) }).strict(), z.object({ offer_id: Slug }).strict()])
  .openapi("RuleScope", { description: "Which payments the rule splits; the most specific one in force applies (offer, then offer kind, then default)." });

const NewVersionSchema = z
  .object({
    effective_from: z.iso.datetime({ offset: true }).optional().openapi({ description: "When it takes effect (ISO 8601); now if omitted; never in the past" }),
    reason: z.string().trim().min(1).max(2000),
    body: RuleBodyInput,
  })
  .openapi("NewRuleVersion");

const VersionSchema = z
  .object({
    version: z.number().int(),
    effective_from: z.string(),
    status: z.enum(["superseded", "in_force", "scheduled"]),
    reason: z.string(),
    author: z.string(),
    content_hash: z.string(),
    created_at: z.string(),
    proposal_id: z.string().nullable().openapi({ description: "The proposal this version came from, by consent (GET /api/v1/proposals/{id}); null for a version written directly" }),
    body: RuleBodySchema,
  })
  .openapi("RuleVersion");

/** An ISO 8601 notice, checked by the core (core/duration.ts); a 400 naming `governance.notice` otherwise. */
const Notice = z
  .string()
  .max(40)
  .superRefine((text, ctx) => {
    const parsed = parseDuration(text);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message, params: { code: parsed.code } });
  })
  .openapi({ description: "How long a proposal stays open to objections: an ISO 8601 duration in weeks, days, hours, minutes or seconds (`P7D`, `P2W`, `PT36H`, `PT3S`), from one second to 365 days", example: "P7D" });

const Approvals = z.number().int().min(0).max(10).openapi({ description: "How many admins must approve a proposal besides nobody objecting (never its own proposer)", example: 0 });

const GovernanceSchema = z
  .object({ notice: z.string(), approvals: z.number().int() })
  .openapi("RuleGovernance", { description: "How the rule changes by consent: a proposal's notice and the approvals it needs" });

const GovernanceInput = z.object({ notice: Notice.optional(), approvals: Approvals.optional() }).strict().openapi("RuleGovernanceChange", { description: "Either field, or both; the other keeps its value (P7D and 0 for a new rule)" });

const RuleViewSchema = z
  .object({
    id: z.string(),
    scope: ScopeSchema,
    governance: GovernanceSchema,
    etag: z.string().openapi({ description: "Send it as If-Match to propose the next version" }),
    current: VersionSchema.nullable().openapi({ description: "The version in force now (null while the first is scheduled)" }),
    latest: VersionSchema,
    versions: z.array(VersionSchema),
  })
  .openapi("Rule");

const RuleIdParam = z.object({ id: Slug.openapi({ param: { name: "id", in: "path" } }) });

/** Payment lines one what-if replays at most: bounds the CPU a request can ask for. */
export const MAX_WHAT_IF_LINES = 5_000;

const SharesSchema = z.array(z.object({ party_id: z.string(), amount_minor: z.number().int() }));
const Minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Currency = z.string().regex(/^[a-z]{3}$/, "a lower-case ISO 4217 code, as Stripe writes it");

// ---------------------------------------------------------------------------------------

/** Parses and checks a rule body against what exists: parties, the scope's offers, currencies. */
async function validRule(db: Db, env: Env, body: unknown, scope: RuleScope): Promise<Rule> {
  const result = await checkRuleBody(db, env, body, scope);
  if (!result.ok) throw ruleProblem(result.errors);
  return result.rule;
}

/** `effective_from` as the policy places it (core/rule-versioning.ts), or a 400 naming the field. */
function effectiveFromOrThrow(requested: string | undefined, nowMs: number, notBeforeMs: number, path: string): number {
  const at = effectiveFrom(requested, nowMs, notBeforeMs);
  if (!at.ok) throw new ApiError("invalid_request", `${path} ${at.message}`, [{ path, message: at.code === "in_the_past" ? "must be now or later" : "must not precede the previous version" }]);
  return at.effective_from_ms;
}

function versionView(v: RuleVersionRow, inForce: number | null) {
  return {
    version: v.version,
    effective_from: new Date(v.effective_from_ms).toISOString(),
    status: versionStatus(v.version, inForce),
    reason: v.reason,
    author: v.author,
    content_hash: v.content_hash,
    created_at: new Date(v.created_at_ms).toISOString(),
    proposal_id: v.proposal_id,
    body: v.body as RuleJson,
  };
}

async function ruleView(db: Db, rule: RuleRow, nowMs: number) {
  return viewOf(rule, await listRuleVersions(db, rule.id), nowMs);
}

function viewOf(rule: RuleRow, versions: RuleVersionRow[], nowMs: number) {
  const latest = versions.at(-1);
  if (!latest) throw new Error(`rule ${rule.id} has no version`);
  const inForce = versionInForce(versions, nowMs)?.version ?? null;
  const views = versions.map((v) => versionView(v, inForce));
  return { id: rule.id, scope: rule.scope, governance: rule.governance, etag: etagOf(latest), current: views.find((v) => v.version === inForce) ?? null, latest: views.at(-1) as (typeof views)[number], versions: views };
}

async function existingRule(db: Db, id: string): Promise<RuleRow> {
  const rule = await getRule(db, id);
  if (!rule) throw new ApiError("not_found", `no rule ${id}`);
  return rule;
}

// ---------------------------------------------------------------------------------------

export const rulesApi = newRouter();

rulesApi.openapi(
  createRoute({ method: "get", path: "/rules", operationId: "listRules", summary: "List the rules", tags: ["rules"], security: bearer, responses: { 200: jsonBody(z.object({ rules: z.array(RuleViewSchema) }), "Every rule with its current version and history"), ...problems(401) } }),
  async (c) => {
    const db = database(c.env.DB);
    const now = Date.now();
    const [rows, versions] = await Promise.all([listRules(db), listRuleVersions(db)]);
    const rules = rows.map((r) => viewOf(r, versions.filter((v) => v.rule_id === r.id), now));
    return c.json({ rules }, 200);
  },
);

rulesApi.openapi(
  createRoute({
    method: "post",
    path: "/rules",
    operationId: "createRule",
    summary: "Create a rule with its first version",
    tags: ["rules"],
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: z.object({ id: Slug, scope: ScopeSchema, governance: GovernanceInput.optional(), version: NewVersionSchema }).openapi("NewRule") } } } },
    responses: { 201: jsonBody(RuleViewSchema, "Created, with version 1"), ...problems(400, 401, 403, 409, 422) },
  }),
  async (c) => {
    const { id, scope, version, governance: asked } = c.req.valid("json");
    const governance: Governance = { ...DEFAULT_GOVERNANCE, ...asked };
    const db = database(c.env.DB);
    if ("offer_id" in scope && !(await getOffer(db, scope.offer_id))) {
      throw new ApiError("invalid_request", `scope.offer_id: no offer ${scope.offer_id}`, [{ path: "scope.offer_id", message: `no offer ${scope.offer_id}` }]);
    }
    const holder = await ruleIdForScope(db, scope);
    if (holder) throw new ApiError("conflict", `rule ${holder} already governs this scope: propose a new version of it`);
    await validRule(db, c.env, version.body, scope);
    const now = Date.now();
    const first = { version: 1, effective_from_ms: effectiveFromOrThrow(version.effective_from, now, 0, "version.effective_from"), body: version.body, content_hash: await contentHash(version.body), author: c.get("principal").actor, reason: version.reason };
    try {
      await db.batch([
        insertRuleStatement(db, id, scope, governance, now),
        insertRuleVersionStatement(db, id, first, now),
        insertAuditStatement(db, { actor: first.author, action: "rule.create", entity_type: "rule", entity_id: id, before: null, after: { scope, governance, ...first } }, now),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError("conflict", `rule ${id} exists already, or its scope is taken`);
      throw error;
    }
    const view = await ruleView(db, await existingRule(db, id), now);
    return c.json(view, 201, { etag: view.etag });
  },
);

rulesApi.openapi(
  createRoute({ method: "get", path: "/rules/{id}", operationId: "getRule", summary: "Get a rule and its versions", tags: ["rules"], security: bearer, request: { params: RuleIdParam }, responses: { 200: jsonBody(RuleViewSchema, "The rule: current version, latest, history; ETag header"), ...problems(401, 404) } }),
  async (c) => {
    const db = database(c.env.DB);
    const view = await ruleView(db, await existingRule(db, c.req.valid("param").id), Date.now());
    return c.json(view, 200, { etag: view.etag });
  },
);

rulesApi.openapi(
  createRoute({
    method: "patch",
    path: "/rules/{id}",
    operationId: "updateRule",
    summary: "Change how a rule is governed",
    tags: ["rules"],
    security: bearer,
    description:
      "Sets the rule's `governance`: the notice a proposal to change it stays open to objections, and the admins' approvals it needs. Proposals already open keep the notice and approvals they were made with.",
    request: { params: RuleIdParam, body: { required: true, content: { "application/json": { schema: z.object({ governance: GovernanceInput }).strict().openapi("RuleChange") } } } },
    responses: { 200: jsonBody(RuleViewSchema, "The rule, governed as asked"), ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const rule = await existingRule(db, c.req.valid("param").id);
    const governance: Governance = { ...rule.governance, ...c.req.valid("json").governance };
    const now = Date.now();
    await db.batch([
      updateGovernanceStatement(db, rule.id, governance),
      insertAuditStatement(db, { actor: c.get("principal").actor, action: "rule.governance", entity_type: "rule", entity_id: rule.id, before: rule.governance, after: governance }, now),
    ]);
    const view = await ruleView(db, { ...rule, governance }, now);
    return c.json(view, 200, { etag: view.etag });
  },
);

rulesApi.openapi(
  createRoute({
    method: "post",
    path: "/rules/{id}/versions",
    operationId: "createRuleVersion",
    summary: "Propose a rule's next version",
    tags: ["rules"],
    security: bearer,
    description:
      "Writes the next version directly, without a notice (a change by consent is `POST /api/v1/rules/{id}/proposals`). Needs `If-Match` with the rule's ETag: a stale one gets 412, so two admins cannot overwrite each other. Refused with 409 `proposal_pending` while a proposal to change the rule is open.",
    request: { params: RuleIdParam, headers: z.object({ "if-match": z.string().max(200).optional() }), body: { required: true, content: { "application/json": { schema: NewVersionSchema } } } },
    responses: { 201: jsonBody(RuleViewSchema, "Created"), ...problems(400, 401, 403, 404, 409, 412, 422, 428) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const rule = await existingRule(db, c.req.valid("param").id);
    const pending = await openProposalOf(db, rule.id);
    if (pending) throw new ApiError("proposal_pending", `proposal ${pending} to change rule ${rule.id} is open: amend it, or withdraw it before writing a version directly`);
    const ifMatch = c.req.valid("header")["if-match"];
    if (!ifMatch) throw new ApiError("precondition_required", "send If-Match with the rule's ETag (GET /api/v1/rules/{id})");
    const latest = await latestRuleVersion(db, rule.id);
    if (!latest) throw new Error(`rule ${rule.id} has no version`);
    if (!ifMatchAccepts(ifMatch, etagOf(latest))) throw new ApiError("precondition_failed", `the rule changed since you read it: its ETag is now ${etagOf(latest)}`);
    const input = c.req.valid("json");
    await validRule(db, c.env, input.body, rule.scope);
    const now = Date.now();
    const next = { version: latest.version + 1, effective_from_ms: effectiveFromOrThrow(input.effective_from, now, latest.effective_from_ms, "effective_from"), body: input.body, content_hash: await contentHash(input.body), author: c.get("principal").actor, reason: input.reason };
    try {
      await db.batch([
        insertRuleVersionStatement(db, rule.id, next, now),
        insertAuditStatement(db, { actor: next.author, action: "rule.version", entity_type: "rule", entity_id: rule.id, before: latest, after: next }, now),
      ]);
    } catch (error) {
      // Another admin's version took this number between our read and our write.
      if (isUniqueViolation(error)) throw new ApiError("precondition_failed", `version ${next.version} of rule ${rule.id} was just created by someone else`);
      throw error;
    }
    const view = await ruleView(db, rule, now);
    return c.json(view, 201, { etag: view.etag });
  },
);

rulesApi.openapi(
  createRoute({
    method: "get",
    path: "/rules/{id}/diff",
    operationId: "diffRuleVersions",
    summary: "Compare two versions of a rule",
    tags: ["rules"],
    security: bearer,
    request: { params: RuleIdParam, query: z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) }) },
    responses: {
      200: jsonBody(
        z.object({ rule_id: z.string(), from: z.number().int(), to: z.number().int(), changes: z.array(z.object({ change: z.enum(["added", "removed", "changed", "moved"]), path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() })) }),
        "What changed, line by line",
      ),
      ...problems(400, 401, 404),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const { id } = c.req.valid("param");
    const { from, to } = c.req.valid("query");
    const [a, b] = await Promise.all([getRuleVersion(db, id, from), getRuleVersion(db, id, to)]);
    if (!a || !b) throw new ApiError("not_found", `rule ${id} has no version ${!a ? from : to}`);
    return c.json({ rule_id: id, from, to, changes: diffRules(a.body as RuleJson, b.body as RuleJson) }, 200);
  },
);

const PreviewSchema = z
  .object({
    rule: RuleBodyInput,
    amount_minor: Minor.openapi({ description: "What the customer paid, in minor units", example: 10001 }),
    currency: Currency.openapi({ example: "eur" }),
    fee_minor: Minor.default(0),
    offer_id: Slug.optional().openapi({ description: "Whose contributors a `contributors` line splits among" }),
    scope: ScopeSchema.optional().openapi({ description: "The scope the rule would have, for its words (`in_words`); every payment if omitted" }),
  })
  .openapi("Preview");

const WordsSchema = z.object({ sentence: z.string(), rounding: z.string(), fee_policy: z.string() });

rulesApi.openapi(
  createRoute({
    method: "post",
    path: "/rules/preview",
    operationId: "previewRule",
    summary: "Preview a rule on an amount",
    tags: ["rules"],
    security: bearer,
    description: "Applies a rule to an amount; nothing is stored.",
    request: { body: { required: true, content: { "application/json": { schema: PreviewSchema } } } },
    responses: {
      200: jsonBody(
        z.object({
          basis_minor: z.number().int(),
          shares: SharesSchema,
          lines: z.array(z.object({ path: z.string(), amount_minor: z.number().int(), label: z.string().optional() })),
          in_words: z.object({ en: WordsSchema, fr: WordsSchema }).openapi({ description: "The rule in plain words, as the public page states it (a contributor who chose not to be named is not named)" }),
        }),
        "The parts, and the rule in words",
      ),
      ...problems(400, 401, 403, 404, 422),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    if (input.fee_minor > input.amount_minor) throw new ApiError("invalid_request", "fee_minor is larger than amount_minor", [{ path: "fee_minor", message: "must not exceed amount_minor" }]);
    const db = database(c.env.DB);
    const offer = input.offer_id ? await getOffer(db, input.offer_id) : undefined;
    if (input.offer_id && !offer) throw new ApiError("not_found", `no offer ${input.offer_id}`);
    const [partyIds, poolIds] = await Promise.all([allPartyIds(db), allPoolIds(db)]);
    const needPools = new Set(poolIds);
    const checked = validateRule(input.rule, { parties: new Set(partyIds.filter((id) => !needPools.has(id))), pools: needPools });
    if (!checked.ok) throw ruleProblem(checked.errors);
    const rule = checked.rule;
    const basis_minor = lineBasis(rule.basis, { gross_minor: input.amount_minor, fee_minor: input.fee_minor });
    const applied = applyRule(rule, { amount_minor: basis_minor, currency: input.currency, contributors: offer?.contributors ?? [] });
    if (!applied.ok) throw ruleProblem([applied.error], offer ? "the rule" : "the rule (without offer_id, there are no contributors)");
    const scope = input.scope ?? { default: true as const };
    const scoped = "offer_id" in scope ? await getOffer(db, scope.offer_id) : undefined;
    const ctx = { scope: "offer_id" in scope ? { offer_id: scope.offer_id, offer_name: scoped?.name ?? scope.offer_id } : scope, parties: new Map((await partiesForWords(db)).map((p) => [p.id, p])) };
    const in_words = { en: ruleInWords(rule, ctx, "en"), fr: ruleInWords(rule, ctx, "fr") };
    return c.json({ basis_minor, shares: sumByParty(applied.parts), lines: applied.lines.map((l) => ({ ...l })), in_words }, 200);
  },
);

rulesApi.openapi(
  createRoute({
    method: "post",
    path: "/rules/{id}/what-if",
    operationId: "whatIfRule",
    summary: "Replay a proposed version over recent payments",
    tags: ["rules"],
    security: bearer,
    description: "Replays a proposed body over the last N payments of the rule's scope: each party's total under the version in force now and under the proposal. Nothing is stored. At most 5,000 payment lines are replayed: more is refused with 422 `limit_exceeded`.",
    request: { params: RuleIdParam, body: { required: true, content: { "application/json": { schema: z.object({ body: RuleBodyInput, last: z.number().int().min(1).max(500).default(50) }).openapi("WhatIf") } } } },
    responses: {
      200: jsonBody(
        z.object({
          rule_id: z.string(),
          current_version: z.number().int().nullable(),
          payments: z.number().int(),
          totals: z.array(z.object({ party_id: z.string(), currency: z.string(), now_minor: z.number().int(), proposed_minor: z.number().int(), delta_minor: z.number().int() })),
          unsplittable: z.array(z.object({ payment_id: z.string(), reason: z.string() })),
        }),
        "Totals now and under the proposal",
      ),
      ...problems(400, 401, 403, 404, 422),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const rule = await existingRule(db, c.req.valid("param").id);
    const { body, last } = c.req.valid("json");
    const proposed = await validRule(db, c.env, body, rule.scope);
    const now = Date.now();
    const current = versionInForce(await listRuleVersions(db, rule.id), now);
    const currentRule = current ? parseRule(current.body) : null;
    const lines = await recentLinesInScope(db, rule.scope, last, MAX_WHAT_IF_LINES);
    if (lines === "too_many") {
      throw new ApiError("limit_exceeded", `the last ${last} payments of this rule's scope hold more than ${MAX_WHAT_IF_LINES} payment lines, more than one what-if replays: ask for fewer payments (last)`, [{ path: "last", message: `too many payment lines (more than ${MAX_WHAT_IF_LINES})` }]);
    }
    const offers = await offersByIds(db, [...new Set(lines.map((l) => l.offer_id))]);
    // Both columns use the offers' current contributors, so they compare like with like.
    const replayed = lines.map((l) => ({ ...l, contributors: offers.get(l.offer_id)?.contributors ?? [] }));
    const result = replayRules(replayed, currentRule?.ok ? currentRule.rule : null, proposed);
    return c.json({ rule_id: rule.id, current_version: current?.version ?? null, ...result }, 200);
  },
);
