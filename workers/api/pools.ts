// Need pools: created and changed by admins; members declare their own needs (a `party`
// token) and read their pool; a close distributes by need (now, or by the daily schedule) and
// each period's distribution is explained member by member.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { contentHash, etagOf, explainClose, explainMember, ifMatchAccepts, needCap, poolPeriodOf, planClose, POOL_PERIODS, type ClosedMember, type PoolPeriod } from "../../core";
import { database, type Db } from "../../db/client";
import { partiesByIds } from "../../db/queries/catalog";
import { feeBearers } from "../../db/queries/ledger";
import {
  balancesOf,
  addMember,
  closesOf,
  createPool,
  declareNeed,
  getClose,
  getPool,
  lastClose,
  listPools,
  needHistory,
  needsOf,
  removeMember,
  updatePoolIfUnchanged,
  type Need,
  type Pool,
  type PoolCloseMember,
  type PoolSettings,
} from "../../db/queries/pools";
import { settlementCurrencies } from "../../workflows/env";
import { closePoolPeriod, PoolCloseError } from "../../workflows/pool-close";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems, Slug, type AppEnv } from "./openapi";

const iso = (ms: number) => new Date(ms).toISOString();
const Minor = z.number().int().min(0).max(1_000_000_000_000);
const Currency = z.string().regex(/^[a-z]{3}$/, "a lower-case ISO 4217 code, as Stripe writes it");
const NeedValue = z.union([z.number().int(), z.literal("auto")]).openapi({ description: "Minor units, or `auto`: an equal part of what the declared needs leave" });

const Solidarity = z
  .object({
    minimum_minor: Minor.openapi({ description: "A member paid less than this at a close is topped up from the reserve towards it (never above their need)" }),
    budget_minor: Minor.openapi({ description: "The most the reserve tops up at one close, per currency (and never more than the reserve holds)" }),
  })
  .strict()
  .openapi("PoolSolidarity");

const PoolSettingsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  period: z.enum(POOL_PERIODS).default("month").openapi({ description: "How often the pool closes: `month` (the default), `week` (ISO) or `quarter`, in UTC" }),
  floor_minor: Minor.nullable()
    .default(null)
    .openapi({ description: "What a newcomer may ask at first, and what any member may always ask; null: the median of what members received last period" }),
  leftover_to: Slug.nullable().default(null).openapi({ description: "Who takes what needs leave over; null: the reserve (the one party of kind reserve)" }),
  solidarity: Solidarity.nullable().default(null).openapi({ description: "An optional solidarity floor, topped up from the reserve" }),
});

const NewPoolSchema = PoolSettingsSchema.extend({
  id: Slug.openapi({ example: "facilitators" }),
  members: z
    .array(Slug)
    .max(200)
    .default([])
    .refine((ids) => new Set(ids).size === ids.length, "a member is listed twice")
    .openapi({ description: "Party ids (not pools)", example: ["ana", "ben", "cleo"] }),
})
  .strict()
  .openapi("NewPool");

const PoolChangeSchema = PoolSettingsSchema.extend({
  period: PoolSettingsSchema.shape.period.removeDefault(),
  floor_minor: PoolSettingsSchema.shape.floor_minor.removeDefault(),
  leftover_to: PoolSettingsSchema.shape.leftover_to.removeDefault(),
  solidarity: PoolSettingsSchema.shape.solidarity.removeDefault(),
})
  .partial()
  .strict()
  .openapi("PoolChange");

const NeedSchema = z.object({ party_id: z.string(), currency: z.string(), need: NeedValue, updated_at: z.string() });

const PoolSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    period: z.enum(POOL_PERIODS),
    floor_minor: z.number().int().nullable(),
    leftover_to: z.string().nullable(),
    solidarity: Solidarity.nullable(),
    members: z.array(z.object({ party_id: z.string(), joined_at: z.string() })),
    created_at: z.string(),
  })
  .openapi("Pool");

const ClosedMemberSchema = z
  .object({
    party_id: z.string(),
    declared: NeedValue.nullable().openapi({ description: "What they declared for the period (null: nothing, a need of 0)" }),
    cap_minor: z.number().int().nullable().openapi({ description: "The most their need could count for (null: no cap, the pool's first close or `auto`)" }),
    need_minor: z.number().int().openapi({ description: "The need the distribution used" }),
    paid_minor: z.number().int(),
    topup_minor: z.number().int().openapi({ description: "From the reserve, by the solidarity floor" }),
    throttled: z.boolean().openapi({ description: "Their declared need was above their cap and counted as the cap" }),
    why: z.string(),
  })
  .openapi("PoolMemberShare");

const PeriodSchema = z
  .object({
    pool_id: z.string(),
    period: z.string(),
    currency: z.string(),
    income_minor: z.number().int().openapi({ description: "What the pool's account held at the close: the period's shares, less refunds carried in" }),
    leftover_minor: z.number().int(),
    leftover_to: z.string().nullable(),
    carried_minor: z.number().int().openapi({ description: "A negative income, left on the pool's account for the next close" }),
    topups_minor: z.number().int(),
    members: z.array(ClosedMemberSchema),
    explanation: z.string(),
    transaction_id: z.string().nullable(),
    closed_at: z.string(),
    closed_by: z.string(),
  })
  .openapi("PoolPeriod");

const EstimateSchema = z
  .object({
    period: z.string(),
    currency: z.string(),
    income_minor: z.number().int(),
    leftover_minor: z.number().int(),
    members: z.array(ClosedMemberSchema),
    explanation: z.string(),
  })
  .openapi("PoolEstimate", { description: "What a close would distribute now, from the pool's balance and the needs as they stand" });

const PoolDetailSchema = PoolSchema.extend({
  balances: z.array(z.object({ currency: z.string(), balance_minor: z.number().int() })),
  needs: z.array(NeedSchema),
  next_close: z.object({ period: z.string(), scheduled_at: z.string(), estimates: z.array(EstimateSchema) }),
  closes: z.array(z.object({ period: z.string(), currency: z.string(), income_minor: z.number().int(), leftover_minor: z.number().int(), closed_at: z.string() })),
}).openapi("PoolDetail");

const PoolIdParam = z.object({ id: Slug.openapi({ param: { name: "id", in: "path" } }) });
const MemberParams = PoolIdParam.extend({ party_id: Slug.openapi({ param: { name: "party_id", in: "path" } }) });
const PeriodParams = PoolIdParam.extend({ period: z.string().min(1).max(16).openapi({ param: { name: "period", in: "path" }, example: "2026-11" }) });
const IfMatchHeader = z.object({ "if-match": z.string().max(200).optional().openapi({ description: "The pool's ETag, from GET /api/v1/pools/{id} (or a list of ETags, or `*`)" }) });
const EtagHeader = { etag: { description: "Send it as If-Match to change this", schema: { type: "string" as const } } };

function poolView(pool: Pool) {
  return {
    id: pool.id,
    name: pool.name,
    period: pool.period,
    floor_minor: pool.floor_minor,
    leftover_to: pool.leftover_to,
    solidarity: pool.solidarity_minimum_minor === null ? null : { minimum_minor: pool.solidarity_minimum_minor, budget_minor: pool.solidarity_budget_minor },
    members: pool.members.map((m) => ({ party_id: m.party_id, joined_at: iso(m.joined_at_ms) })),
    created_at: iso(pool.created_at_ms),
  };
}

async function poolEtag(pool: Pool): Promise<string> {
  return etagOf({ version: pool.revision, content_hash: await contentHash(poolView(pool)) });
}

function memberView(m: PoolCloseMember): ClosedMember {
  return {
    party_id: m.partyId,
    declared: m.declaredAuto ? "auto" : m.declaredMinor,
    cap_minor: m.capMinor,
    need_minor: m.needMinor,
    paid_minor: m.paidMinor,
    topup_minor: m.topupMinor,
    throttled: m.throttled,
  };
}

const withWhy = (m: ClosedMember, currency: string) => ({ ...m, why: explainMember(m, currency) });

async function existingPool(db: Db, id: string): Promise<Pool> {
  const pool = await getPool(db, id);
  if (!pool) throw new ApiError("not_found", `no pool ${id}`);
  return pool;
}

/** Admins and viewers read every pool; a party token only the pools it belongs to. */
function mayRead(c: Context<AppEnv>, pool: Pool): void {
  const principal = c.get("principal");
  if (principal.role === "party" && !pool.members.some((m) => m.party_id === principal.party_id)) {
    throw new ApiError("forbidden", `party ${principal.party_id ?? "?"} is not a member of pool ${pool.id}`);
  }
}

/** Members and the leftover's party must be parties, not pools; without a leftover party, there must be a reserve. */
async function checkParties(db: Db, members: readonly string[], leftoverTo: string | null): Promise<void> {
  const known = await partiesByIds(db, [...new Set([...members, ...(leftoverTo === null ? [] : [leftoverTo])])]);
  const errors = members.flatMap((id, i) => (known.get(id)?.kind === "pool" ? [{ path: `members.${i}`, message: `${id} is a pool, not a party` }] : known.has(id) ? [] : [{ path: `members.${i}`, message: `no party ${id}` }]));
  if (leftoverTo !== null && (!known.has(leftoverTo) || known.get(leftoverTo)?.kind === "pool")) errors.push({ path: "leftover_to", message: `no party ${leftoverTo}` });
  if (leftoverTo === null && (await feeBearers(db)).reserve === null) errors.push({ path: "leftover_to", message: "name the party that takes the leftover: there is not exactly one party of kind reserve" });
  if (errors.length > 0) throw new ApiError("invalid_request", errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
}

function settingsOf(id: string, input: z.infer<typeof PoolSettingsSchema>): PoolSettings {
  return {
    id,
    name: input.name,
    period: input.period,
    floor_minor: input.floor_minor,
    leftover_to: input.leftover_to,
    solidarity_minimum_minor: input.solidarity?.minimum_minor ?? null,
    solidarity_budget_minor: input.solidarity?.budget_minor ?? 0,
  };
}

/** What a close would distribute now, per currency the pool holds money or needs in. */
async function estimates(db: Db, pool: Pool, currencies: readonly string[], nowMs: number) {
  const [balances, needs, bearers] = await Promise.all([balancesOf(db, pool.id), needsOf(db, pool.id), feeBearers(db)]);
  const reserveBalances = bearers.reserve === null ? new Map<string, number>() : await balancesOf(db, bearers.reserve);
  const all = [...new Set([...balances.keys(), ...needs.map((n) => n.currency), ...currencies.slice(0, 1)])].sort();
  const period = poolPeriodOf(pool.period as PoolPeriod, nowMs);
  return Promise.all(
    all.map(async (currency) => {
      const last = await lastClose(db, pool.id, currency);
      const declared = new Map(needs.filter((n) => n.currency === currency).map((n) => [n.party_id, n.need]));
      const plan = planClose({
        income_minor: balances.get(currency) ?? 0,
        members: pool.members.map((m) => ({ party_id: m.party_id, declared: declared.get(m.party_id) ?? null })),
        last: last === null ? null : { received: new Map(last.members.map((m) => [m.partyId, m.paidMinor + m.topupMinor])), leftover_minor: last.close.leftoverMinor },
        floor_minor: pool.floor_minor,
        ...(pool.solidarity_minimum_minor === null || bearers.reserve === null
          ? {}
          : { solidarity: { minimum_minor: pool.solidarity_minimum_minor, budget_minor: Math.max(0, Math.min(pool.solidarity_budget_minor, reserveBalances.get(currency) ?? 0)) } }),
      });
      return {
        period,
        currency,
        income_minor: plan.income_minor,
        leftover_minor: plan.leftover_minor,
        members: plan.members.map((m) => withWhy(m, currency)),
        explanation: explainClose(plan, currency, pool.leftover_to ?? bearers.reserve),
      };
    }),
  );
}

export const poolsApi = newRouter();

poolsApi.openapi(
  createRoute({
    method: "post",
    path: "/pools",
    operationId: "createPool",
    summary: "Create a need pool",
    description:
      "A pool is a party of its own (kind `pool`, the same id): a rule line `{ \"to\": { \"pool\": id }, \"share\": \"60%\" }` sends its share to the pool's account, " +
      "and each close distributes what the account holds to the members by their declared needs.",
    tags: ["pools"],
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: NewPoolSchema } } } },
    responses: { 201: { ...jsonBody(PoolSchema, "Created"), headers: EtagHeader }, ...problems(400, 401, 403, 409) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const db = database(c.env.DB);
    await checkParties(db, input.members, input.leftover_to);
    const settings = settingsOf(input.id, input);
    const now = Date.now();
    const outcome = await createPool(db, settings, input.members, { actor: c.get("principal").actor, action: "pool.create", entity_type: "pool", entity_id: input.id, before: null, after: { ...input } }, now);
    if (outcome === "exists") throw new ApiError("conflict", `a party or pool ${input.id} exists already`);
    const pool = await existingPool(db, input.id);
    return c.json(poolView(pool), 201, { etag: await poolEtag(pool) });
  },
);

poolsApi.openapi(
  createRoute({ method: "get", path: "/pools", operationId: "listPools", summary: "List the need pools", description: "Every pool; a `party` token, only the pools it is a member of.", tags: ["pools"], security: bearer, responses: { 200: jsonBody(z.object({ pools: z.array(PoolSchema) }), "Every pool (a party token's own)"), ...problems(401, 403) } }),
  async (c) => {
    const principal = c.get("principal");
    const pools = await listPools(database(c.env.DB));
    // A party's console finds its pools here: it reads no pool it is not a member of (as GET /pools/{id}).
    const readable = principal.role === "party" ? pools.filter((p) => p.members.some((m) => m.party_id === principal.party_id)) : pools;
    return c.json({ pools: readable.map(poolView) }, 200);
  },
);

poolsApi.openapi(
  createRoute({
    method: "get",
    path: "/pools/{id}",
    operationId: "getPool",
    summary: "Get a pool: members, needs, balance, its closes and an estimate of the next",
    tags: ["pools"],
    security: bearer,
    request: { params: PoolIdParam },
    responses: { 200: { ...jsonBody(PoolDetailSchema, "The pool"), headers: EtagHeader }, ...problems(401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const pool = await existingPool(db, c.req.valid("param").id);
    mayRead(c, pool);
    const now = Date.now();
    const [balances, needs, closes, next] = await Promise.all([balancesOf(db, pool.id), needsOf(db, pool.id), closesOf(db, pool.id, 24), estimates(db, pool, settlementCurrencies(c.env), now)]);
    return c.json(
      {
        ...poolView(pool),
        balances: [...balances].map(([currency, balance_minor]) => ({ currency, balance_minor })),
        needs: needs.map((n) => ({ party_id: n.party_id, currency: n.currency, need: n.need, updated_at: iso(n.updated_at_ms) })),
        next_close: { period: poolPeriodOf(pool.period as PoolPeriod, now), scheduled_at: nextScheduledClose(pool.period as PoolPeriod, now), estimates: next },
        closes: closes.map((x) => ({ period: x.period, currency: x.currency, income_minor: x.incomeMinor, leftover_minor: x.leftoverMinor, closed_at: iso(x.closedAtMs) })),
      },
      200,
      { etag: await poolEtag(pool) },
    );
  },
);

/** When the daily cron (00:15 UTC) first runs after the current period ends. */
function nextScheduledClose(kind: PoolPeriod, nowMs: number): string {
  let at = nowMs;
  const label = poolPeriodOf(kind, nowMs);
  // Step by days to the period's end: at most 92 steps.
  const day = 86_400_000;
  at = Math.floor(at / day) * day;
  while (poolPeriodOf(kind, at) === label) at += day;
  return iso(at + 15 * 60_000);
}

poolsApi.openapi(
  createRoute({
    method: "patch",
    path: "/pools/{id}",
    operationId: "updatePool",
    summary: "Change a pool's name, period, floor, leftover party or solidarity floor",
    description: "Changes only the fields named. Needs `If-Match` with the pool's ETag (from `GET /api/v1/pools/{id}`). Members are added and removed with `PUT` and `DELETE /api/v1/pools/{id}/members/{party_id}`.",
    tags: ["pools"],
    security: bearer,
    request: { params: PoolIdParam, headers: IfMatchHeader, body: { required: true, content: { "application/json": { schema: PoolChangeSchema } } } },
    responses: { 200: { ...jsonBody(PoolSchema, "Changed"), headers: EtagHeader }, ...problems(400, 401, 403, 404, 412, 428) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const pool = await existingPool(db, c.req.valid("param").id);
    const ifMatch = c.req.valid("header")["if-match"];
    const etag = await poolEtag(pool);
    if (!ifMatch) throw new ApiError("precondition_required", `send If-Match with the pool's ETag (GET /api/v1/pools/${pool.id})`);
    if (!ifMatchAccepts(ifMatch, etag)) throw new ApiError("precondition_failed", `pool ${pool.id} changed since you read it: its ETag is now ${etag}`);
    const before = poolView(pool);
    const change = c.req.valid("json");
    const merged = { name: pool.name, period: pool.period, floor_minor: pool.floor_minor, leftover_to: pool.leftover_to, solidarity: before.solidarity, ...change };
    if ("leftover_to" in change) await checkParties(db, [], merged.leftover_to);
    const after = settingsOf(pool.id, merged);
    const audit = { actor: c.get("principal").actor, action: "pool.update", entity_type: "pool", entity_id: pool.id, before, after: change } as const;
    if (!(await updatePoolIfUnchanged(db, pool, after, audit, Date.now()))) throw new ApiError("precondition_failed", `pool ${pool.id} was changed by someone else since you read it: read it again`);
    const updated = await existingPool(db, pool.id);
    return c.json(poolView(updated), 200, { etag: await poolEtag(updated) });
  },
);

poolsApi.openapi(
  createRoute({
    method: "put",
    path: "/pools/{id}/members/{party_id}",
    operationId: "addPoolMember",
    summary: "Add a member to a pool",
    description: "A member who joins after the pool's first close is a newcomer: their need starts at the pool's floor.",
    tags: ["pools"],
    security: bearer,
    request: { params: MemberParams },
    responses: { 200: jsonBody(PoolSchema, "A member already"), 201: jsonBody(PoolSchema, "Added"), ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const { id, party_id } = c.req.valid("param");
    await existingPool(db, id);
    const party = (await partiesByIds(db, [party_id])).get(party_id);
    if (!party || party.kind === "pool") throw new ApiError("invalid_request", `party_id: ${party ? `${party_id} is a pool, not a party` : `no party ${party_id}`}`, [{ path: "party_id", message: "not a party" }]);
    const added = await addMember(db, id, party_id, { actor: c.get("principal").actor, action: "pool.member_add", entity_type: "pool", entity_id: id, before: null, after: { party_id } }, Date.now());
    return c.json(poolView(await existingPool(db, id)), added ? 201 : 200);
  },
);

poolsApi.openapi(
  createRoute({
    method: "delete",
    path: "/pools/{id}/members/{party_id}",
    operationId: "removePoolMember",
    summary: "Remove a member from a pool",
    description: "The member's closes and the history of their needs stay. What they were paid stays theirs.",
    tags: ["pools"],
    security: bearer,
    request: { params: MemberParams },
    responses: { 200: jsonBody(PoolSchema, "Removed"), ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const { id, party_id } = c.req.valid("param");
    await existingPool(db, id);
    const removed = await removeMember(db, id, party_id, { actor: c.get("principal").actor, action: "pool.member_remove", entity_type: "pool", entity_id: id, before: { party_id }, after: null }, Date.now());
    if (!removed) throw new ApiError("not_found", `${party_id} is not a member of pool ${id}`);
    return c.json(poolView(await existingPool(db, id)), 200);
  },
);

const DeclareNeedSchema = z
  .union([
    z.object({ currency: Currency.optional(), amount_minor: Minor }).strict(),
    z.object({ currency: Currency.optional(), auto: z.literal(true) }).strict(),
  ])
  .openapi("NeedDeclaration", {
    description: "`{ currency, amount_minor }` or `{ auto: true }` (an equal part of what the declared needs leave). Without `currency`: the deployment's first settlement currency.",
    example: { currency: "eur", amount_minor: 120_000 },
  });

poolsApi.openapi(
  createRoute({
    method: "put",
    path: "/pools/{id}/needs/{party_id}",
    operationId: "declareNeed",
    summary: "Declare a member's need for the coming closes",
    description:
      "A member declares their own need with their `party` token (an admin may for them). The need stands until changed. Every change is recorded (who, when, from, to) and visible to the pool's members. " +
      "The answer says what the need counts for at the next close: a need may rise from one period to the next by at most the largest of twice what the member received, that plus the leftover, the pool's median, or its floor (a newcomer starts at the floor).",
    tags: ["pools"],
    security: bearer,
    request: { params: MemberParams, body: { required: true, content: { "application/json": { schema: DeclareNeedSchema } } } },
    responses: {
      200: jsonBody(
        z.object({
          pool_id: z.string(),
          party_id: z.string(),
          currency: z.string(),
          need: NeedValue,
          previous: NeedValue.nullable(),
          changed: z.boolean(),
          cap_minor: z.number().int().nullable().openapi({ description: "The most the need counts for at the next close (null: no cap)" }),
          throttled: z.boolean().openapi({ description: "The need is above its cap: it will count as the cap" }),
        }),
        "Declared",
      ),
      ...problems(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const { id, party_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const pool = await existingPool(db, id);
    if (!pool.members.some((m) => m.party_id === party_id)) throw new ApiError("not_found", `${party_id} is not a member of pool ${id}`);
    const currencies = settlementCurrencies(c.env);
    const currency = body.currency ?? currencies[0] ?? "eur";
    if (!currencies.includes(currency)) throw new ApiError("invalid_request", `currency: ${currency} is not a settlement currency here (${currencies.join(", ")})`, [{ path: "currency", message: "not a settlement currency" }]);
    const need: Need = "auto" in body ? "auto" : body.amount_minor;
    const { from, changed } = await declareNeed(db, { pool_id: id, party_id, currency, need, actor: c.get("principal").actor }, Date.now());
    const last = await lastClose(db, id, currency);
    const cap = need === "auto" ? null : needCap(party_id, last === null ? null : { received: new Map(last.members.map((m) => [m.partyId, m.paidMinor + m.topupMinor])), leftover_minor: last.close.leftoverMinor }, pool.floor_minor);
    return c.json({ pool_id: id, party_id, currency, need, previous: from, changed, cap_minor: cap, throttled: typeof need === "number" && cap !== null && need > cap }, 200);
  },
);

poolsApi.openapi(
  createRoute({
    method: "get",
    path: "/pools/{id}/needs",
    operationId: "listNeeds",
    summary: "A pool's needs as they stand, and every change of them",
    tags: ["pools"],
    security: bearer,
    request: { params: PoolIdParam },
    responses: {
      200: jsonBody(
        z.object({
          needs: z.array(NeedSchema),
          history: z.array(z.object({ party_id: z.string(), currency: z.string(), from: NeedValue.nullable(), to: NeedValue, by: z.string(), at: z.string() })),
        }),
        "Standing needs, and their changes newest first (the latest 500)",
      ),
      ...problems(401, 403, 404),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const pool = await existingPool(db, c.req.valid("param").id);
    mayRead(c, pool);
    const [needs, history] = await Promise.all([needsOf(db, pool.id), needHistory(db, pool.id)]);
    return c.json(
      {
        needs: needs.map((n) => ({ party_id: n.party_id, currency: n.currency, need: n.need, updated_at: iso(n.updated_at_ms) })),
        history: history.map((h) => ({ party_id: h.party_id, currency: h.currency, from: h.from, to: h.to, by: h.actor, at: iso(h.at_ms) })),
      },
      200,
    );
  },
);

poolsApi.openapi(
  createRoute({
    method: "post",
    path: "/pools/{id}/close",
    operationId: "closePool",
    summary: "Close a pool's period now and distribute it by need",
    description:
      "Closes the current period (or `period`, one already ended that no later close covers): what the pool's account holds is distributed by need, the leftover to the reserve or the pool's `leftover_to`. " +
      "A close happens once per period and currency: asked again, it answers what was done (200). Money arriving after a close waits for the next one.",
    tags: ["pools"],
    security: bearer,
    request: {
      params: PoolIdParam,
      body: { required: false, content: { "application/json": { schema: z.object({ period: z.string().min(1).max(16).optional().openapi({ example: "2026-11" }) }).strict() } } },
    },
    responses: {
      200: jsonBody(z.object({ outcome: z.literal("already_closed"), periods: z.array(PeriodSchema) }), "Closed already: what that close did"),
      201: jsonBody(z.object({ outcome: z.literal("closed"), periods: z.array(PeriodSchema) }), "Closed now"),
      ...problems(400, 401, 403, 404, 409),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const pool = await existingPool(db, c.req.valid("param").id);
    const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
    const now = Date.now();
    const period = body.period ?? poolPeriodOf(pool.period as PoolPeriod, now);
    let outcome;
    try {
      outcome = await closePoolPeriod(c.env, pool.id, period, c.get("principal").actor, now);
    } catch (error) {
      if (error instanceof PoolCloseError) throw new ApiError(error.code === "no_leftover_party" ? "conflict" : "invalid_request", error.message, error.code === "bad_period" ? [{ path: "period", message: error.message }] : undefined);
      throw error;
    }
    if (outcome.outcome === "superseded" || outcome.outcome === "refused") throw new ApiError("conflict", `period ${period} of pool ${pool.id}: ${outcome.reason}`);
    const periods = await periodViews(db, pool, period);
    if (outcome.outcome === "closed") return c.json({ outcome: "closed" as const, periods }, 201);
    return c.json({ outcome: "already_closed" as const, periods }, 200);
  },
);

async function periodViews(db: Db, pool: Pool, period: string) {
  return (await getClose(db, pool.id, period)).map(({ close, members }) => {
    const shares = members.map(memberView);
    const order = new Map(pool.members.map((m, i) => [m.party_id, i]));
    shares.sort((a, b) => (order.get(a.party_id) ?? 1e9) - (order.get(b.party_id) ?? 1e9) || a.party_id.localeCompare(b.party_id));
    const plan = { income_minor: close.incomeMinor, members: shares, leftover_minor: close.leftoverMinor, carried_minor: close.carriedMinor, topups_minor: close.topupsMinor };
    return {
      pool_id: pool.id,
      period: close.period,
      currency: close.currency,
      income_minor: close.incomeMinor,
      leftover_minor: close.leftoverMinor,
      leftover_to: close.leftoverTo,
      carried_minor: close.carriedMinor,
      topups_minor: close.topupsMinor,
      members: shares.map((m) => withWhy(m, close.currency)),
      explanation: explainClose(plan, close.currency, close.leftoverTo),
      transaction_id: close.transactionId,
      closed_at: iso(close.closedAtMs),
      closed_by: close.closedBy,
    };
  });
}

poolsApi.openapi(
  createRoute({
    method: "get",
    path: "/pools/{id}/periods",
    operationId: "listPoolPeriods",
    summary: "A pool's closed periods, newest first",
    tags: ["pools"],
    security: bearer,
    request: { params: PoolIdParam },
    responses: { 200: jsonBody(z.object({ periods: z.array(PeriodSchema) }), "Each close with its distribution (the latest 24 periods)"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const pool = await existingPool(db, c.req.valid("param").id);
    mayRead(c, pool);
    const labels = [...new Set((await closesOf(db, pool.id, 200)).map((x) => x.period))].slice(0, 24);
    return c.json({ periods: (await Promise.all(labels.map((p) => periodViews(db, pool, p)))).flat() }, 200);
  },
);

poolsApi.openapi(
  createRoute({
    method: "get",
    path: "/pools/{id}/periods/{period}",
    operationId: "getPoolPeriod",
    summary: "A closed period: who got what and why",
    description: "The distribution of one closed period, in `currency` (the deployment's first settlement currency when absent).",
    tags: ["pools"],
    security: bearer,
    request: { params: PeriodParams, query: z.object({ currency: Currency.optional() }) },
    responses: { 200: jsonBody(PeriodSchema, "The distribution and its explanation"), ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const { id, period } = c.req.valid("param");
    const pool = await existingPool(db, id);
    mayRead(c, pool);
    const currency = c.req.valid("query").currency ?? settlementCurrencies(c.env)[0] ?? "eur";
    const view = (await periodViews(db, pool, period)).find((p) => p.currency === currency);
    if (!view) throw new ApiError("not_found", `pool ${id} has not closed ${period} in ${currency}`);
    return c.json(view, 200);
  },
);

