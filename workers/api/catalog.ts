// Parties (who receives shares) and offers (what is sold, with its Stripe prices and contributors).
import { createRoute, z } from "@hono/zod-openapi";
import { database, isUniqueViolation, type Db } from "../../db/client";
import { insertAuditStatement } from "../../db/queries/audit";
import {
  getOffer,
  getParty,
  insertOfferStatements,
  insertPartyStatement,
  listOffers,
  listParties,
  offerIdsByPrice,
  partiesByIds,
  replaceOfferStatements,
  updatePartyIfUnchanged,
  type Offer,
  type PartyRead,
} from "../../db/queries/catalog";
import { versionsCovering } from "../../db/queries/rules";
import { contentHash, etagOf, ifMatchAccepts, versionNeedingContributors } from "../../core";
import { OFFER_KINDS, PARTY_KINDS } from "../../db/schema";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems, Slug } from "./openapi";

export const PartySchema = z
  .object({
    id: Slug.openapi({ example: "commons" }),
    kind: z.enum(PARTY_KINDS),
    name: z.string().trim().min(1).max(200).openapi({ example: "Le commun" }),
  })
  .openapi("Party");

const OfferName = z.string().trim().min(1).max(200);
const StripePriceIds = z
  .array(z.string().regex(/^price_[A-Za-z0-9_]{1,120}$/, "a Stripe price id (price_…)"))
  .max(50)
  .refine((ids) => new Set(ids).size === ids.length, "a price is listed twice");
const Contributors = z
  .array(z.object({ party_id: Slug, weight: z.number().int().min(1).max(1_000_000) }))
  .max(100)
  .openapi({ description: "The offer's contributors; a `contributors` rule line splits among them by weight." });

export const OfferSchema = z
  .object({
    id: Slug.openapi({ example: "training-intro" }),
    kind: z.enum(OFFER_KINDS),
    name: OfferName,
    stripe_price_ids: StripePriceIds.default([]),
    contributors: Contributors.default([]),
  })
  .openapi("Offer");

const IdParam = z.object({ id: Slug.openapi({ param: { name: "id", in: "path" } }) });
const IfMatchHeader = z.object({ "if-match": z.string().max(200).optional().openapi({ description: "The ETag of the state you read (or a list of ETags, or `*`)" }) });
const EtagHeader = { etag: { description: "Send it as If-Match to change this", schema: { type: "string" as const } } };

export const catalog = newRouter();

catalog.openapi(
  createRoute({ method: "get", path: "/parties", operationId: "listParties", summary: "List the parties", tags: ["parties"], security: bearer, responses: { 200: jsonBody(z.object({ parties: z.array(PartySchema) }), "All parties"), ...problems(401) } }),
  async (c) => c.json({ parties: await listParties(database(c.env.DB)) }, 200),
);

catalog.openapi(
  createRoute({
    method: "get",
    path: "/parties/{id}",
    operationId: "getParty",
    summary: "Get a party",
    tags: ["parties"],
    security: bearer,
    request: { params: IdParam },
    responses: { 200: { ...jsonBody(PartySchema, "A party"), headers: EtagHeader }, ...problems(401, 404) },
  }),
  async (c) => {
    const read = await existingParty(database(c.env.DB), c.req.valid("param").id);
    return c.json(read.party, 200, { etag: await partyEtag(read) });
  },
);

catalog.openapi(
  createRoute({
    method: "post",
    path: "/parties",
    operationId: "createParty",
    summary: "Create a party",
    tags: ["parties"],
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: PartySchema } } } },
    responses: { 201: jsonBody(PartySchema, "Created"), ...problems(400, 401, 403, 409) },
  }),
  async (c) => {
    const party = c.req.valid("json");
    const db = database(c.env.DB);
    const now = Date.now();
    try {
      await db.batch([
        insertPartyStatement(db, party, now),
        insertAuditStatement(db, { actor: c.get("principal").actor, action: "party.create", entity_type: "party", entity_id: party.id, before: null, after: party }, now),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError("conflict", `party ${party.id} exists already`);
      throw error;
    }
    return c.json(party, 201);
  },
);

catalog.openapi(
  createRoute({ method: "get", path: "/offers", operationId: "listOffers", summary: "List the offers", tags: ["offers"], security: bearer, responses: { 200: jsonBody(z.object({ offers: z.array(OfferSchema) }), "All offers"), ...problems(401) } }),
  async (c) => c.json({ offers: await listOffers(database(c.env.DB)) }, 200),
);

catalog.openapi(
  createRoute({ method: "get", path: "/offers/{id}", operationId: "getOffer", summary: "Get an offer", tags: ["offers"], security: bearer, request: { params: IdParam }, responses: { 200: jsonBody(OfferSchema, "An offer"), ...problems(401, 404) } }),
  async (c) => {
    const offer = await getOffer(database(c.env.DB), c.req.valid("param").id);
    if (!offer) throw new ApiError("not_found", `no offer ${c.req.valid("param").id}`);
    return c.json(offer, 200);
  },
);

catalog.openapi(
  createRoute({
    method: "post",
    path: "/offers",
    operationId: "createOffer",
    summary: "Create an offer",
    tags: ["offers"],
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: OfferSchema } } } },
    responses: { 201: jsonBody(OfferSchema, "Created"), ...problems(400, 401, 403, 409) },
  }),
  async (c) => {
    const offer = c.req.valid("json");
    const db = database(c.env.DB);
    if (await getOffer(db, offer.id)) throw new ApiError("conflict", `offer ${offer.id} exists already`);
    await assertOfferCanBeSplit(db, offer);
    const now = Date.now();
    try {
      await db.batch([
        ...insertOfferStatements(db, offer, now),
        insertAuditStatement(db, { actor: c.get("principal").actor, action: "offer.create", entity_type: "offer", entity_id: offer.id, before: null, after: offer }, now),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError("conflict", `offer ${offer.id} (or one of its prices) exists already`);
      throw error;
    }
    return c.json(offer, 201);
  },
);

// No defaults here: a field left out is a field left as it is.
const OfferChangeSchema = z
  .object({ name: OfferName, stripe_price_ids: StripePriceIds, contributors: Contributors })
  .partial()
  .strict()
  .openapi("OfferChange", { description: "What to change: only the fields named change; a list replaces the offer's list. The kind of an offer does not change." });

catalog.openapi(
  createRoute({
    method: "patch",
    path: "/offers/{id}",
    operationId: "updateOffer",
    summary: "Change an offer's name, prices or contributors",
    tags: ["offers"],
    security: bearer,
    description: "Changes an offer's name, Stripe prices or contributors. Payments already split keep their shares; the next ones use the new contributors.",
    request: { params: IdParam, body: { required: true, content: { "application/json": { schema: OfferChangeSchema } } } },
    responses: { 200: jsonBody(OfferSchema, "Changed"), ...problems(400, 401, 403, 404, 409, 422) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const before = await getOffer(db, c.req.valid("param").id);
    if (!before) throw new ApiError("not_found", `no offer ${c.req.valid("param").id}`);
    const change = c.req.valid("json");
    const after = {
      ...before,
      name: change.name ?? before.name,
      stripe_price_ids: change.stripe_price_ids ?? before.stripe_price_ids,
      contributors: change.contributors ?? before.contributors,
    };
    await assertOfferCanBeSplit(db, after, { contributors: change.contributors !== undefined, prices: change.stripe_price_ids !== undefined });
    const now = Date.now();
    try {
      await db.batch([
        ...replaceOfferStatements(db, after),
        insertAuditStatement(db, { actor: c.get("principal").actor, action: "offer.update", entity_type: "offer", entity_id: after.id, before, after }, now),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError("conflict", "one of these prices belongs to another offer");
      throw error;
    }
    return c.json(after, 200);
  },
);

catalog.openapi(
  createRoute({
    method: "patch",
    path: "/parties/{id}",
    operationId: "updateParty",
    summary: "Change a party's kind or name",
    tags: ["parties"],
    security: bearer,
    description: "Changes only the fields named. Needs `If-Match` with the party's ETag (from `GET /api/v1/parties/{id}`): a stale one gets 412, so two admins cannot overwrite each other.",
    request: {
      params: IdParam,
      headers: IfMatchHeader,
      body: { required: true, content: { "application/json": { schema: PartySchema.pick({ kind: true, name: true }).partial().strict().openapi("PartyChange") } } },
    },
    responses: { 200: { ...jsonBody(PartySchema, "Changed"), headers: EtagHeader }, ...problems(400, 401, 403, 404, 412, 428) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const read = await existingParty(db, c.req.valid("param").id);
    requireIfMatch(c.req.valid("header")["if-match"], await partyEtag(read), `party ${read.party.id}`, "/api/v1/parties/{id}");
    const before = read.party;
    const after = { ...before, ...c.req.valid("json") };
    const audit = { actor: c.get("principal").actor, action: "party.update", entity_type: "party", entity_id: after.id, before, after } as const;
    if (!(await updatePartyIfUnchanged(db, read, after, audit, Date.now()))) {
      throw new ApiError("precondition_failed", `party ${after.id} was changed by someone else since you read it: read it again`);
    }
    return c.json(after, 200, { etag: await partyEtag({ party: after, revision: read.revision + 1 }) });
  },
);

async function existingParty(db: Db, id: string): Promise<PartyRead> {
  const read = await getParty(db, id);
  if (!read) throw new ApiError("not_found", `no party ${id}`);
  return read;
}

/** A party's ETag: its revision and what it says, in the form rule versions use. */
async function partyEtag(read: PartyRead): Promise<string> {
  return etagOf({ version: read.revision, content_hash: await contentHash(read.party) });
}

/**
 * If-Match, as rule versions take it (core's `ifMatchAccepts`: the ETag, a list, or `*`):
 * 428 without it, 412 when it names another state than the one read.
 */
function requireIfMatch(header: string | undefined, etag: string, what: string, readAt: string): void {
  if (!header) throw new ApiError("precondition_required", `send If-Match with the ${what}'s ETag (GET ${readAt})`);
  if (!ifMatchAccepts(header, etag)) throw new ApiError("precondition_failed", `${what} changed since you read it: its ETag is now ${etag}`);
}

/**
 * An offer's contributors must exist, appear once, and its prices must be free; and if it
 * has no contributors, no rule that covers it (now or scheduled) may send a line to
 * `contributors` without a fallback: its payments could never be split. A change checks
 * only what it changes: renaming an offer that has no contributors leaves it as splittable
 * as it was.
 */
async function assertOfferCanBeSplit(db: Db, offer: Offer, changed: { contributors: boolean; prices: boolean } = { contributors: true, prices: true }): Promise<void> {
  if (changed.contributors) await assertContributors(db, offer);
  if (changed.prices) {
    const owners = await offerIdsByPrice(db, offer.stripe_price_ids);
    const taken = [...owners].find(([, owner]) => owner !== offer.id);
    if (taken) throw new ApiError("conflict", `price ${taken[0]} already belongs to offer ${taken[1]}`);
  }
}

async function assertContributors(db: Db, offer: Offer): Promise<void> {
  const partyIds = offer.contributors.map((x) => x.party_id);
  const duplicate = partyIds.findIndex((id, i) => partyIds.indexOf(id) !== i);
  if (duplicate >= 0) throw new ApiError("invalid_request", `contributors.${duplicate}: ${partyIds[duplicate]} is listed twice`, [{ path: `contributors.${duplicate}.party_id`, message: "listed twice" }]);
  const known = await partiesByIds(db, partyIds);
  const unknown = partyIds.findIndex((id) => !known.has(id));
  if (unknown >= 0) {
    throw new ApiError("invalid_request", `contributors.${unknown}.party_id: no party ${partyIds[unknown]}`, [{ path: `contributors.${unknown}.party_id`, message: `no party ${partyIds[unknown]}` }]);
  }
  if (offer.contributors.length > 0) return;
  const blocking = versionNeedingContributors(offer.id, await versionsCovering(db, offer));
  if (blocking) {
    const { version, error } = blocking;
    throw new ApiError("invalid_rule", `offer ${offer.id} has no contributors, but rule ${version.rule_id} version ${version.version} sends ${error.path} to contributors without a fallback: give the offer contributors, or the rule a fallback`, [
      { path: "contributors", message: `rule ${version.rule_id}@${version.version}: ${error.message}`, code: error.code },
    ]);
  }
}
