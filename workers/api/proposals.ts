// Rules changed by consent: propose a rule's next version, read proposals with their thread,
// object and lift an objection, amend, approve, withdraw; and the public read of proposals for
// the flow page. Handlers parse, call workflows/consent.ts, answer.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PROPOSAL_STATUSES } from "../../core";
import { database } from "../../db/client";
import { getProposalRecord, listProposalRecords, threadRecords, type ProposalRecord } from "../../db/queries/proposals";
import { STORED_PROPOSAL_STATUSES } from "../../db/schema";
import { amend, approve, ConsentError, lift, object, propose, withdraw, type ConsentErrorCode } from "../../workflows/consent";
import { proposalView, publicProposalView, viewContexts, type Reader } from "../../workflows/proposal-views";
import type { Principal } from "../auth";
import { ApiError, type ErrorCode } from "../errors";
import { bearer, jsonBody, newRouter, problems, Slug, type AppEnv } from "./openapi";
import { RuleBodyInput, RuleBodySchema } from "./rule-schema";

/** Each refusal of the consent logic, as the API's stable code (the same names). */
const CONSENT_CODES: Record<ConsentErrorCode, ErrorCode> = {
  not_found: "not_found",
  invalid_request: "invalid_request",
  invalid_rule: "invalid_rule",
  conflict: "conflict",
  proposal_pending: "proposal_pending",
  proposal_closed: "proposal_closed",
  not_affected: "not_affected",
  self_approval: "self_approval",
  forbidden: "forbidden",
};

async function consent<T>(act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (error) {
    if (error instanceof ConsentError) throw new ApiError(CONSENT_CODES[error.code], error.message, error.errors);
    throw error;
  }
}

function readerOf(principal: Principal): Reader {
  switch (principal.role) {
    case "admin":
    case "viewer":
      return { all: true };
    case "party":
      return { all: false, party_id: principal.party_id ?? null };
  }
}

// ---- schemas ------------------------------------------------------------------------------

const ProposalId = z.string().regex(/^prop_[0-9a-f]{16}$/, "a proposal id (prop_…)");
const ProposalIdParam = z.object({ id: ProposalId.openapi({ param: { name: "id", in: "path" } }) });
const ObjectionParams = ProposalIdParam.extend({ objection_id: z.string().regex(/^obj_[0-9a-f]{16}$/, "an objection id (obj_…)").openapi({ param: { name: "objection_id", in: "path" } }) });

const AffectedSchema = z
  .object({ party_id: z.string(), currency: z.string(), now_minor: z.number().int(), proposed_minor: z.number().int(), delta_minor: z.number().int() })
  .openapi("AffectedParty", { description: "A party whose share of the replayed payments would change: its total now, under the proposal, and the difference, in one currency" });

const RuleChangeSchema = z.object({ change: z.enum(["added", "removed", "changed", "moved"]), path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() }).openapi("RuleChange");

const StatusSchema = z.enum(PROPOSAL_STATUSES).openapi({
  description:
    "`open`: the notice runs and nothing holds it; `held`: an objection stands, or the rule no longer applies (`hold_reason`); `awaiting_approvals`: the notice is over, approvals are missing; `due`: the notice is over and nothing holds it, it is becoming a version; `activated`, `amended`, `withdrawn`: closed",
});

const PublicProposalSchema = z
  .object({
    id: z.string(),
    rule_id: z.string(),
    thread_id: z.string().openapi({ description: "The first proposal of the thread; amendments keep it" }),
    amends: z.string().nullable(),
    status: StatusSchema,
    reason: z.string(),
    created_at: z.string(),
    notice_ends: z.string(),
    effective_from: z.string().nullable().openapi({ description: "When the proposer asked it to take effect; null: as soon as it passes" }),
    activated_version: z.number().int().nullable(),
    closed_at: z.string().nullable(),
    in_words: z.array(z.string()).openapi({ description: "The proposed rule in plain words" }),
    current_in_words: z.array(z.string()).openapi({ description: "The version it changes, in plain words" }),
    changes: z.array(RuleChangeSchema),
    approvals: z.object({ required: z.number().int(), given: z.number().int() }),
    objections: z.object({ standing: z.number().int(), lifted: z.number().int() }),
    affected_count: z.number().int().openapi({ description: "How many parties it affects" }),
    affected: z.array(AffectedSchema).openapi({ description: "The cooperative's own accounts it affects (commons, reserve, pools); a contributor's amounts are not public" }),
    steps: z
      .array(z.object({ at: z.string(), kind: z.enum(["proposed", "amended", "objected", "objection_lifted", "approved", "held", "withdrawn", "activated"]), proposal_id: z.string(), version: z.number().int().optional() }))
      .optional()
      .openapi({ description: "Every step of its thread, in order, without who took it or why (on the public read)" }),
  })
  .openapi("PublicProposal");

const ThreadEntrySchema = z
  .object({
    at: z.string(),
    kind: z.enum(["proposed", "amended", "objected", "objection_lifted", "approved", "held", "withdrawn", "activated"]),
    proposal_id: z.string(),
    actor: z.string(),
    party_id: z.string().optional(),
    objection_id: z.string().optional(),
    reason: z.string().optional(),
    version: z.number().int().optional(),
  })
  .openapi("ProposalThreadEntry");

const ObjectionSchema = z
  .object({ id: z.string(), party_id: z.string(), reason: z.string(), raised_by: z.string(), raised_at: z.string(), standing: z.boolean(), lifted_at: z.string().nullable(), lifted_by: z.string().nullable() })
  .openapi("Objection");

const ProposalSchema = PublicProposalSchema.extend({
  amended_by: z.string().nullable(),
  proposer: z.string(),
  notice: z.string().openapi({ description: "The rule's notice when proposed (ISO 8601)" }),
  base_version: z.number().int().openapi({ description: "The version it changes" }),
  closed_by: z.string().nullable(),
  close_reason: z.string().nullable(),
  hold_reason: z.string().nullable(),
  held_at: z.string().nullable().openapi({ description: "When its notice ended with something holding it" }),
  approvals: z.object({ required: z.number().int(), given: z.array(z.object({ by: z.string(), at: z.string() })) }),
  objections: z.array(ObjectionSchema),
  affected: z.array(AffectedSchema).openapi({ description: "Each party whose share would change and by how much, per currency, over the last 90 days' payments; a party token sees its own rows and the cooperative's accounts'" }),
  replayed: z.object({ since: z.string(), payments: z.number().int(), complete: z.boolean() }).openapi({ description: "The payments `affected` was replayed over; `complete` is false when there were more than a replay takes" }),
  body: RuleBodySchema,
  thread: z.array(ThreadEntrySchema).optional().openapi({ description: "Everything that happened in the thread, in order (on a single proposal's read)" }),
}).openapi("Proposal");

const ProposalInputSchema = z
  .object({
    body: RuleBodyInput,
    reason: z.string().trim().min(1).max(2000),
    effective_from: z.iso.datetime({ offset: true }).optional().openapi({ description: "When it takes effect if it passes (ISO 8601): never before its notice ends; as soon as it passes if omitted" }),
  })
  .strict();

// ---- routes -------------------------------------------------------------------------------

export const proposalsApi = newRouter();

async function viewOne(c: Context<AppEnv>, record: ProposalRecord) {
  const db = database(c.env.DB);
  const now = Date.now();
  const ctx = (await viewContexts(db, [record], now)).get(record.proposal.id);
  if (!ctx) throw new Error(`no view context for ${record.proposal.id}`);
  return proposalView(record, ctx, readerOf(c.get("principal")), await threadRecords(db, record.proposal.thread_id));
}

proposalsApi.openapi(
  createRoute({
    method: "post",
    path: "/rules/{id}/proposals",
    operationId: "createProposal",
    summary: "Propose a change to a rule",
    tags: ["proposals"],
    security: bearer,
    description:
      "Proposes the rule's next version. It is open to objections from the parties it affects for the rule's notice (`governance.notice`), then becomes a version by itself unless an objection stands or approvals are missing. `affected` comes from a what-if over the last 90 days of the rule's payments. One proposal at a time per rule: 409 `proposal_pending` while one is open.",
    request: { params: z.object({ id: Slug.openapi({ param: { name: "id", in: "path" } }) }), body: { required: true, content: { "application/json": { schema: ProposalInputSchema.openapi("NewProposal") } } } },
    responses: { 201: jsonBody(ProposalSchema, "Proposed: its notice runs"), ...problems(400, 401, 403, 404, 409, 422) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const record = await consent(() => propose(c.env, c.req.valid("param").id, input, c.get("principal").actor, Date.now()));
    return c.json(await viewOne(c, record), 201);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "get",
    path: "/proposals",
    operationId: "listProposals",
    summary: "List proposals",
    tags: ["proposals"],
    security: bearer,
    request: {
      query: z.object({
        status: z.enum(STORED_PROPOSAL_STATUSES).optional().openapi({ description: "`open` (held and awaiting ones included), `activated`, `amended` or `withdrawn`" }),
        rule_id: Slug.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    responses: { 200: jsonBody(z.object({ proposals: z.array(ProposalSchema) }), "Newest first, without their threads"), ...problems(400, 401, 403) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const q = c.req.valid("query");
    const records = await listProposalRecords(db, { ...(q.status ? { status: q.status } : {}), ...(q.rule_id ? { rule_id: q.rule_id } : {}) }, q.limit);
    const now = Date.now();
    const contexts = await viewContexts(db, records, now);
    const reader = readerOf(c.get("principal"));
    return c.json({ proposals: records.flatMap((r) => { const ctx = contexts.get(r.proposal.id); return ctx ? [proposalView(r, ctx, reader, null)] : []; }) }, 200);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "get",
    path: "/proposals/{id}",
    operationId: "getProposal",
    summary: "Get a proposal with its thread",
    tags: ["proposals"],
    security: bearer,
    responses: { 200: jsonBody(ProposalSchema, "The proposal, the rule before and after in plain words, who it affects, and its thread"), ...problems(400, 401, 403, 404) },
    request: { params: ProposalIdParam },
  }),
  async (c) => {
    const id = c.req.valid("param").id;
    const record = await getProposalRecord(database(c.env.DB), id);
    if (!record) throw new ApiError("not_found", `no proposal ${id}`);
    return c.json(await viewOne(c, record), 200);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "post",
    path: "/proposals/{id}/objections",
    operationId: "raiseObjection",
    summary: "Object to a proposal",
    tags: ["proposals"],
    security: bearer,
    description:
      "An affected party objects, with a reason: with its own `party` token (`party_id` omitted or its own), or an admin on its behalf (naming `party_id`). A standing objection holds the proposal until it is lifted. 403 `not_affected` for a party the proposal does not affect; 409 `proposal_closed` once it is a version, amended or withdrawn.",
    request: {
      params: ProposalIdParam,
      body: { required: true, content: { "application/json": { schema: z.object({ reason: z.string().trim().min(1).max(2000), party_id: z.string().min(1).max(64).optional() }).strict().openapi("NewObjection") } } },
    },
    responses: { 201: jsonBody(z.object({ objection: ObjectionSchema, proposal: ProposalSchema }), "Raised: it holds the proposal"), ...problems(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const { reason, party_id } = c.req.valid("json");
    const principal = c.get("principal");
    let party: string;
    if (principal.role === "party") {
      if (party_id !== undefined && party_id !== principal.party_id) throw new ApiError("forbidden", `a party token objects for its own party (${principal.party_id ?? "?"}), not for ${party_id}`);
      party = principal.party_id ?? "";
    } else {
      if (party_id === undefined) throw new ApiError("invalid_request", "party_id: an admin objects on behalf of a party: name it", [{ path: "party_id", message: "required for an admin" }]);
      party = party_id;
    }
    const { record, objection } = await consent(() => object(c.env, c.req.valid("param").id, party, reason, principal.actor, Date.now()));
    const view = await viewOne(c, record);
    const raised = view.objections.find((o) => o.id === objection.id);
    if (!raised) throw new Error(`objection ${objection.id} not in its proposal's view`);
    return c.json({ objection: raised, proposal: view }, 201);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "delete",
    path: "/proposals/{id}/objections/{objection_id}",
    operationId: "liftObjection",
    summary: "Lift an objection",
    tags: ["proposals"],
    security: bearer,
    description: "The objector (its `party` token) or an admin lifts it. Once the notice is over, a proposal that nothing else holds becomes a version at once.",
    request: { params: ObjectionParams },
    responses: { 200: jsonBody(ProposalSchema, "Lifted; the proposal as it now stands"), ...problems(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const { id, objection_id } = c.req.valid("param");
    const principal = c.get("principal");
    const record = await consent(() => lift(c.env, id, objection_id, { actor: principal.actor, party_id: principal.role === "party" ? (principal.party_id ?? "") : null }, Date.now()));
    return c.json(await viewOne(c, record), 200);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "post",
    path: "/proposals/{id}/amendments",
    operationId: "amendProposal",
    summary: "Amend a proposal",
    tags: ["proposals"],
    security: bearer,
    description: "A new proposal in the same thread, with its own notice and who it affects; the one it replaces is closed as `amended`, its objections and approvals stay in the thread.",
    request: { params: ProposalIdParam, body: { required: true, content: { "application/json": { schema: ProposalInputSchema.openapi("Amendment") } } } },
    responses: { 201: jsonBody(ProposalSchema, "The amendment, open: its notice runs"), ...problems(400, 401, 403, 404, 409, 422) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const record = await consent(() => amend(c.env, c.req.valid("param").id, input, c.get("principal").actor, Date.now()));
    return c.json(await viewOne(c, record), 201);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "post",
    path: "/proposals/{id}/approvals",
    operationId: "approveProposal",
    summary: "Approve a proposal",
    tags: ["proposals"],
    security: bearer,
    description:
      "An admin's approval, for rules whose `governance.approvals` asks for some. Nobody approves their own proposal (nor a thread they proposed in): 403 `self_approval`. Once the notice is over, the last approval makes it a version at once.",
    request: { params: ProposalIdParam },
    responses: { 201: jsonBody(ProposalSchema, "Approved; the proposal as it now stands"), ...problems(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const record = await consent(() => approve(c.env, c.req.valid("param").id, c.get("principal").actor, Date.now()));
    return c.json(await viewOne(c, record), 201);
  },
);

proposalsApi.openapi(
  createRoute({
    method: "post",
    path: "/proposals/{id}/withdrawal",
    operationId: "withdrawProposal",
    summary: "Withdraw a proposal",
    tags: ["proposals"],
    security: bearer,
    request: { params: ProposalIdParam, body: { required: true, content: { "application/json": { schema: z.object({ reason: z.string().trim().min(1).max(2000).optional() }).strict().openapi("Withdrawal") } } } },
    responses: { 200: jsonBody(ProposalSchema, "Withdrawn"), ...problems(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const { reason } = c.req.valid("json");
    const record = await consent(() => withdraw(c.env, c.req.valid("param").id, c.get("principal").actor, reason ?? null, Date.now()));
    return c.json(await viewOne(c, record), 200);
  },
);

// ---- public -------------------------------------------------------------------------------

/** Read without a token (workers/app.ts, PUBLIC_API): what the public flow page shows. */
export const publicProposalsApi = newRouter();

publicProposalsApi.openapi(
  createRoute({
    method: "get",
    path: "/public/proposals",
    operationId: "listPublicProposals",
    summary: "List proposals for everyone to read",
    tags: ["public"],
    security: [],
    description:
      "No token needed. The open proposals by default (held and awaiting ones included), or those of a `status`, newest first: where each stands, the rule before and after in plain words, what changes, how many parties it affects, objections and approvals counted. What a contributor would gain or lose is not public.",
    request: { query: z.object({ status: z.enum([...STORED_PROPOSAL_STATUSES, "all"]).default("open"), limit: z.coerce.number().int().min(1).max(100).default(50) }) },
    responses: { 200: jsonBody(z.object({ proposals: z.array(PublicProposalSchema) }), "Proposals as anyone may read them"), ...problems(400) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const q = c.req.valid("query");
    const records = await listProposalRecords(db, q.status === "all" ? {} : { status: q.status }, q.limit);
    const contexts = await viewContexts(db, records, Date.now());
    const threads = new Map<string, ProposalRecord[]>();
    for (const { proposal } of records) if (!threads.has(proposal.thread_id)) threads.set(proposal.thread_id, await threadRecords(db, proposal.thread_id));
    return c.json({ proposals: records.flatMap((r) => { const ctx = contexts.get(r.proposal.id); return ctx ? [publicProposalView(r, ctx, threads.get(r.proposal.thread_id))] : []; }) }, 200);
  },
);
