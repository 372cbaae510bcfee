// Parties (who receives shares) and offers (what is sold, with its Stripe prices and contributors).
import { createRoute, z } from "@hono/zod-openapi";
import { database, isUniqueViolation } from "../../db/client";
import { insertAuditStatement } from "../../db/queries/audit";
import { getOffer, getParty, insertOfferStatements, insertPartyStatement, listOffers, listParties, offerIdsByPrice, partiesByIds } from "../../db/queries/catalog";
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

export const OfferSchema = z
  .object({
    id: Slug.openapi({ example: "training-intro" }),
    kind: z.enum(OFFER_KINDS),
    name: z.string().trim().min(1).max(200),
    stripe_price_ids: z.array(z.string().regex(/^price_[A-Za-z0-9_]{1,120}$/, "a Stripe price id (price_…)")).max(50).default([]),
    contributors: z
      .array(z.object({ party_id: Slug, weight: z.number().int().min(1).max(1_000_000) }))
      .max(100)
      .default([])
      .openapi({ description: "The offer's contributors; a `contributors` rule line splits among them by weight." }),
  })
  .openapi("Offer");

const IdParam = z.object({ id: Slug.openapi({ param: { name: "id", in: "path" } }) });

export const catalog = newRouter();

catalog.openapi(
  createRoute({ method: "get", path: "/parties", tags: ["catalog"], security: bearer, responses: { 200: jsonBody(z.object({ parties: z.array(PartySchema) }), "All parties"), ...problems(401) } }),
  async (c) => c.json({ parties: await listParties(database(c.env.DB)) }, 200),
);

catalog.openapi(
  createRoute({ method: "get", path: "/parties/{id}", tags: ["catalog"], security: bearer, request: { params: IdParam }, responses: { 200: jsonBody(PartySchema, "A party"), ...problems(401, 404) } }),
  async (c) => {
    const party = await getParty(database(c.env.DB), c.req.valid("param").id);
    if (!party) throw new ApiError("not_found", `no party ${c.req.valid("param").id}`);
    return c.json(party, 200);
  },
);

catalog.openapi(
  createRoute({
    method: "post",
    path: "/parties",
    tags: ["catalog"],
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
  createRoute({ method: "get", path: "/offers", tags: ["catalog"], security: bearer, responses: { 200: jsonBody(z.object({ offers: z.array(OfferSchema) }), "All offers"), ...problems(401) } }),
  async (c) => c.json({ offers: await listOffers(database(c.env.DB)) }, 200),
);

catalog.openapi(
  createRoute({ method: "get", path: "/offers/{id}", tags: ["catalog"], security: bearer, request: { params: IdParam }, responses: { 200: jsonBody(OfferSchema, "An offer"), ...problems(401, 404) } }),
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
    tags: ["catalog"],
    security: bearer,
    request: { body: { required: true, content: { "application/json": { schema: OfferSchema } } } },
    responses: { 201: jsonBody(OfferSchema, "Created"), ...problems(400, 401, 403, 409) },
  }),
  async (c) => {
    const offer = c.req.valid("json");
    const db = database(c.env.DB);
    const partyIds = offer.contributors.map((x) => x.party_id);
    const duplicate = partyIds.find((id, i) => partyIds.indexOf(id) !== i);
    if (duplicate) throw new ApiError("invalid_request", `contributor ${duplicate} is listed twice`, [{ path: "contributors", message: `${duplicate} is listed twice` }]);
    const known = await partiesByIds(db, partyIds);
    const unknown = offer.contributors.findIndex((x) => !known.has(x.party_id));
    if (unknown >= 0) {
      throw new ApiError("invalid_request", `contributors.${unknown}.party_id: no party ${partyIds[unknown]}`, [{ path: `contributors.${unknown}.party_id`, message: `no party ${partyIds[unknown]}` }]);
    }
    const taken = await offerIdsByPrice(db, offer.stripe_price_ids);
    if (taken.size > 0) {
      const [price, owner] = [...taken.entries()][0] as [string, string];
      throw new ApiError("conflict", `price ${price} already belongs to offer ${owner}`);
    }
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
