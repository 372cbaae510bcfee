// Parties (who receives shares) and offers (what is sold, with its Stripe prices and contributors).
import { createRoute, z } from "@hono/zod-openapi";
import { contentHash, effectiveFrom, etagOf, ifMatchAccepts, listedFrom, offerVersionAt, versionInForce, versionNeedingContributors, versionStatus } from "../../core";
import { database, isUniqueViolation, type Db } from "../../db/client";
import { insertAuditStatement } from "../../db/queries/audit";
import {
  appendOfferVersion,
  createOffer,
  getParty,
  insertPartyStatement,
  listOffers,
  listParties,
  offerExists,
  offerHistory,
  partiesByIds,
  priceListings,
  updatePartyIfUnchanged,
  type Contributor,
  type OfferHistory,
  type OfferVersion,
  type PartyRead,
} from "../../db/queries/catalog";
import { versionsCovering } from "../../db/queries/rules";
import { CONTRIBUTOR_ROLES, OFFER_KINDS, PARTY_KINDS, type OfferKind } from "../../db/schema";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems, Slug } from "./openapi";

export const PartySchema = z
  .object({
    id: Slug.openapi({ example: "commons" }),
    kind: z.enum(PARTY_KINDS),
    name: z.string().trim().min(1).max(200).openapi({ example: "Le commun" }),
    public: z
      .boolean()
      .default(false)
      .openapi({
        description: "A contributor who chose to be named on the public page (`GET /`, `/api/v1/public/flows`); otherwise their shares appear only among the contributors, together. The commons and the reserve are always shown. False unless given.",
      }),
    stripe_account_id: z
      .string()
      .regex(/^acct_[A-Za-z0-9]{1,64}$/, "a Stripe connected account id (acct_…)")
      .nullable()
      .default(null)
      .openapi({ description: "The Stripe connected account payouts go to by transfer; null: the party is listed for a payment by hand", example: "acct_1Nv0FGQ9RKHgCVdK" }),
    payout_minimum_minor: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .default(0)
      .openapi({ description: "A payout run pays the party only when its payable balance in a currency reaches this many minor units", example: 5000 }),
  })
  .openapi("Party");

const OfferName = z.string().trim().min(1).max(200);
const StripePriceIds = z
  .array(z.string().regex(/^price_[A-Za-z0-9_]{1,120}$/, "a Stripe price id (price_…)"))
  .max(50)
  .refine((ids) => new Set(ids).size === ids.length, "a price is listed twice");
const ContributorRoleSchema = z.enum(CONTRIBUTOR_ROLES).openapi("ContributorRole", {
  description: "What a contributor does for the offer (optional): `facilitator` runs the training, `author` wrote its content, `host` hosts or maintains the platform. Statements show it on each share.",
});
const Contributors = z
  .array(z.object({ party_id: Slug, weight: z.number().int().min(1).max(1_000_000), role: ContributorRoleSchema.optional() }))
  .max(100)
  .openapi({ description: "The offer's contributors; a `contributors` rule line splits among them by weight. `role` is absent when none was given." });

const Reason = z.string().trim().min(1).max(2000).optional().openapi({ description: "Why, for the history (optional)" });

const OfferFields = {
  id: Slug.openapi({ example: "training-intro" }),
  kind: z.enum(OFFER_KINDS),
  name: OfferName,
  stripe_price_ids: StripePriceIds,
  contributors: Contributors,
};

export const NewOfferSchema = z
  .object({ ...OfferFields, stripe_price_ids: StripePriceIds.default([]), contributors: Contributors.default([]), reason: Reason })
  .openapi("NewOffer", { description: "An offer and its version 1, in force from now (and for payments made before it, see `GET /api/v1/offers/{id}`)." });

const OfferNowFields = {
  ...OfferFields,
  version: z.number().int().openapi({ description: "The version the fields above come from" }),
  effective_from: z.string().openapi({ description: "When that version took effect (ISO 8601)" }),
};

const OfferNowSchema = z.object(OfferNowFields).openapi("OfferNow", { description: "An offer as it stands now" });

const OfferVersionSchema = z
  .object({
    version: z.number().int(),
    status: z.enum(["superseded", "in_force", "scheduled"]),
    effective_from: z.string(),
    name: z.string(),
    stripe_price_ids: z.array(z.string()),
    contributors: z.array(z.object({ party_id: z.string(), weight: z.number().int(), role: ContributorRoleSchema.optional() })),
    author: z.string(),
    reason: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("OfferVersion");

export const OfferSchema = z
  .object({
    ...OfferNowFields,
    etag: z.string().openapi({ description: "The latest version's ETag: send it as If-Match to change the offer" }),
    versions: z.array(OfferVersionSchema).openapi({ description: "The offer's history, version 1 first: what it was, is and will be, and from when" }),
  })
  .openapi("Offer", {
    description:
      "An offer as it stands now (`id` … `contributors`: the version in force; before version 1 takes effect, version 1) and its history. A payment is split with the version in force when it was paid.",
  });

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
    if (party.kind === "pool") throw new ApiError("invalid_request", "kind: a pool is created with POST /api/v1/pools", [{ path: "kind", message: "create pools with POST /api/v1/pools" }]);
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
  createRoute({ method: "get", path: "/offers", operationId: "listOffers", summary: "List the offers", tags: ["offers"], security: bearer, responses: { 200: jsonBody(z.object({ offers: z.array(OfferNowSchema) }), "Every offer as it stands now"), ...problems(401) } }),
  async (c) => {
    const offers = await listOffers(database(c.env.DB), Date.now());
    return c.json({ offers: offers.map(({ effective_from_ms, ...offer }) => ({ ...offer, effective_from: iso(effective_from_ms) })) }, 200);
  },
);

catalog.openapi(
  createRoute({
    method: "get",
    path: "/offers/{id}",
    operationId: "getOffer",
    summary: "Get an offer and its history",
    tags: ["offers"],
    security: bearer,
    request: { params: IdParam },
    responses: { 200: { ...jsonBody(OfferSchema, "The offer as it stands now, and its versions; ETag header"), headers: EtagHeader }, ...problems(401, 404) },
  }),
  async (c) => {
    const view = await offerView(await existingOffer(database(c.env.DB), c.req.valid("param").id), Date.now());
    return c.json(view, 200, { etag: view.etag });
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
    request: { body: { required: true, content: { "application/json": { schema: NewOfferSchema } } } },
    responses: { 201: { ...jsonBody(OfferSchema, "Created, with version 1"), headers: EtagHeader }, ...problems(400, 401, 403, 409, 422) },
  }),
  async (c) => {
    const { id, kind, reason, ...fields } = c.req.valid("json");
    const db = database(c.env.DB);
    if (await offerExists(db, id)) throw new ApiError("conflict", `offer ${id} exists already`);
    const now = Date.now();
    const first = { version: 1, effective_from_ms: effectiveFromOrThrow(undefined, now, 0), ...fields, author: c.get("principal").actor, reason: reason ?? null };
    await assertContributorsCanSplit(db, { id, kind }, first);
    await assertPricesFree(db, id, first);
    const audit = { actor: first.author, action: "offer.create", entity_type: "offer", entity_id: id, before: null, after: auditState({ id, kind }, first) } as const;
    const created = await createOffer(db, { id, kind }, first, audit, now);
    if (created === "exists") throw new ApiError("conflict", `offer ${id} exists already`);
    if (created === "price_taken") throw new ApiError("conflict", "one of these prices was just given to another offer");
    const view = await offerView(await existingOffer(db, id), now);
    return c.json(view, 201, { etag: view.etag });
  },
);

// No defaults here: a field left out is a field left as it is.
const OfferChangeSchema = z
  .object({
    name: OfferName,
    stripe_price_ids: StripePriceIds,
    contributors: Contributors,
    effective_from: z.iso.datetime({ offset: true }).openapi({ description: "When the change takes effect (ISO 8601); now if omitted; never in the past, never before the latest version" }),
    reason: Reason,
  })
  .partial()
  .strict()
  .refine((c) => c.name !== undefined || c.stripe_price_ids !== undefined || c.contributors !== undefined, "give at least one of name, stripe_price_ids, contributors to change")
  .openapi("OfferChange", {
    description: "What to change: only the fields named change (a list replaces that list), as a new version of the offer. The kind of an offer does not change.",
  });

catalog.openapi(
  createRoute({
    method: "patch",
    path: "/offers/{id}",
    operationId: "updateOffer",
    summary: "Change an offer's name, prices or contributors",
    tags: ["offers"],
    security: bearer,
    description:
      "Changes only the fields named, as the offer's next version, in force from now or from `effective_from` (never in the past). Payments are split with the offer as it was when they were paid, even when processed later. " +
      "Needs `If-Match` with the offer's ETag (from `GET /api/v1/offers/{id}`): a stale one gets 412, so two admins cannot overwrite each other.",
    request: { params: IdParam, headers: IfMatchHeader, body: { required: true, content: { "application/json": { schema: OfferChangeSchema } } } },
    responses: { 200: { ...jsonBody(OfferSchema, "Changed: the offer as it stands now, and its versions"), headers: EtagHeader }, ...problems(400, 401, 403, 404, 409, 412, 422, 428) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const history = await existingOffer(db, c.req.valid("param").id);
    const latest = latestVersion(history);
    requireIfMatch(c.req.valid("header")["if-match"], await offerEtag(history, latest), `offer ${history.id}`, "/api/v1/offers/{id}");
    const change = c.req.valid("json");
    const now = Date.now();
    const next = {
      version: latest.version + 1,
      effective_from_ms: effectiveFromOrThrow(change.effective_from, now, latest.effective_from_ms),
      name: change.name ?? latest.name,
      stripe_price_ids: change.stripe_price_ids ?? latest.stripe_price_ids,
      contributors: change.contributors ?? latest.contributors,
      author: c.get("principal").actor,
      reason: change.reason ?? null,
    };
    // Only what changes is checked: a new name leaves the offer as splittable as it was.
    if (change.contributors !== undefined) await assertContributorsCanSplit(db, history, next);
    if (change.stripe_price_ids !== undefined) await assertPricesFree(db, history.id, next);
    const audit = { actor: next.author, action: "offer.update", entity_type: "offer", entity_id: history.id, before: auditState(history, latest), after: auditState(history, next) } as const;
    const appended = await appendOfferVersion(db, history.id, next, audit, now);
    if (appended === "stale") throw new ApiError("precondition_failed", `offer ${history.id} was changed by someone else since you read it (its version ${next.version} exists): read it again`);
    if (appended === "price_taken") throw new ApiError("conflict", "one of these prices was just given to another offer");
    const view = await offerView(await existingOffer(db, history.id), now);
    return c.json(view, 200, { etag: view.etag });
  },
);

catalog.openapi(
  createRoute({
    method: "patch",
    path: "/parties/{id}",
    operationId: "updateParty",
    summary: "Change a party's kind, name, public flag, connected account or payout minimum",
    tags: ["parties"],
    security: bearer,
    description: "Changes only the fields named. Needs `If-Match` with the party's ETag (from `GET /api/v1/parties/{id}`): a stale one gets 412, so two admins cannot overwrite each other.",
    request: {
      params: IdParam,
      headers: IfMatchHeader,
      body: { required: true, content: { "application/json": { schema: PartySchema.pick({ kind: true, name: true })
            .extend({ public: PartySchema.shape.public.removeDefault(), stripe_account_id: PartySchema.shape.stripe_account_id.removeDefault(), payout_minimum_minor: PartySchema.shape.payout_minimum_minor.removeDefault() })
            .partial()
            .strict()
            .openapi("PartyChange") } } },
    },
    responses: { 200: { ...jsonBody(PartySchema, "Changed"), headers: EtagHeader }, ...problems(400, 401, 403, 404, 412, 428) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const read = await existingParty(db, c.req.valid("param").id);
    requireIfMatch(c.req.valid("header")["if-match"], await partyEtag(read), `party ${read.party.id}`, "/api/v1/parties/{id}");
    const before = read.party;
    const after = { ...before, ...c.req.valid("json") };
    if ((before.kind === "pool") !== (after.kind === "pool")) {
      throw new ApiError("invalid_request", `kind: a pool stays a pool and a party does not become one (pools are made with POST /api/v1/pools)`, [{ path: "kind", message: "cannot change to or from pool" }]);
    }
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

// ---- offers ------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString();

async function existingOffer(db: Db, id: string): Promise<OfferHistory> {
  const history = await offerHistory(db, id);
  if (!history || history.versions.length === 0) throw new ApiError("not_found", `no offer ${id}`);
  return history;
}

function latestVersion(history: OfferHistory): OfferVersion {
  const latest = history.versions.at(-1);
  if (!latest) throw new Error(`offer ${history.id} has no version`);
  return latest;
}

/** The ETag of an offer: its latest version, in the form rule versions use. */
async function offerEtag(history: OfferHistory, latest: OfferVersion): Promise<string> {
  const { version, effective_from_ms, name, stripe_price_ids, contributors } = latest;
  return etagOf({ version, content_hash: await contentHash({ id: history.id, version, effective_from_ms, name, stripe_price_ids, contributors }) });
}

async function offerView(history: OfferHistory, nowMs: number) {
  const now = offerVersionAt(history.versions, nowMs) ?? latestVersion(history);
  const inForce = versionInForce(history.versions, nowMs)?.version ?? null;
  return {
    id: history.id,
    kind: history.kind,
    name: now.name,
    stripe_price_ids: now.stripe_price_ids,
    contributors: now.contributors,
    version: now.version,
    effective_from: iso(now.effective_from_ms),
    etag: await offerEtag(history, latestVersion(history)),
    versions: history.versions.map((v) => ({
      version: v.version,
      status: versionStatus(v.version, inForce),
      effective_from: iso(v.effective_from_ms),
      name: v.name,
      stripe_price_ids: v.stripe_price_ids,
      contributors: v.contributors,
      author: v.author,
      reason: v.reason,
      created_at: iso(v.created_at_ms),
    })),
  };
}

/** A version of an offer as the audit log keeps it. */
function auditState(offer: { id: string; kind: OfferKind }, v: Omit<OfferVersion, "created_at_ms" | "author">) {
  return { id: offer.id, kind: offer.kind, version: v.version, effective_from: iso(v.effective_from_ms), name: v.name, stripe_price_ids: v.stripe_price_ids, contributors: v.contributors, reason: v.reason };
}

/** `effective_from` as core's policy places it (whole seconds, never in the past), or a 400 naming the field. */
function effectiveFromOrThrow(requested: string | undefined, nowMs: number, notBeforeMs: number): number {
  const at = effectiveFrom(requested, nowMs, notBeforeMs);
  if (!at.ok) {
    const message = at.code === "in_the_past" ? "is in the past: an offer's change never applies to payments already made" : at.message;
    throw new ApiError("invalid_request", `effective_from ${message}`, [{ path: "effective_from", message: at.code === "in_the_past" ? "must be now or later" : "must not precede the latest version" }]);
  }
  return at.effective_from_ms;
}

/**
 * A version's contributors must exist and appear once; and if it has none, no rule version
 * that covers the offer and can be in force while it is (from its `effective_from` on) may
 * send a line to `contributors` without a fallback: its payments could never be split.
 */
async function assertContributorsCanSplit(db: Db, offer: { id: string; kind: OfferKind }, v: { contributors: Contributor[]; effective_from_ms: number }): Promise<void> {
  const partyIds = v.contributors.map((x) => x.party_id);
  const duplicate = partyIds.findIndex((id, i) => partyIds.indexOf(id) !== i);
  if (duplicate >= 0) throw new ApiError("invalid_request", `contributors.${duplicate}: ${partyIds[duplicate]} is listed twice`, [{ path: `contributors.${duplicate}.party_id`, message: "listed twice" }]);
  const known = await partiesByIds(db, partyIds);
  const unknown = partyIds.findIndex((id) => !known.has(id));
  if (unknown >= 0) {
    throw new ApiError("invalid_request", `contributors.${unknown}.party_id: no party ${partyIds[unknown]}`, [{ path: `contributors.${unknown}.party_id`, message: `no party ${partyIds[unknown]}` }]);
  }
  if (v.contributors.length > 0) return;
  const blocking = versionNeedingContributors(offer.id, await versionsCovering(db, offer, v.effective_from_ms));
  if (blocking) {
    const { version, error } = blocking;
    throw new ApiError("invalid_rule", `offer ${offer.id} has no contributors, but rule ${version.rule_id} version ${version.version} sends ${error.path} to contributors without a fallback: give the offer contributors, or the rule a fallback`, [
      { path: "contributors", message: `rule ${version.rule_id}@${version.version}: ${error.message}`, code: error.code },
    ]);
  }
}

/** A price belongs to one offer at most at any moment: none of these may be another offer's from `effective_from` on. */
async function assertPricesFree(db: Db, offerId: string, v: { stripe_price_ids: string[]; effective_from_ms: number }): Promise<void> {
  const others = await priceListings(db, v.stripe_price_ids, v.effective_from_ms, offerId);
  for (const price of v.stripe_price_ids) {
    const [owner] = listedFrom(others.get(price) ?? [], v.effective_from_ms);
    if (!owner) continue;
    const when = `from ${iso(owner.from_ms)}${owner.until_ms === null ? "" : ` until ${iso(owner.until_ms)}`}`;
    throw new ApiError("conflict", `price ${price} belongs to offer ${owner.offer_id} ${when}, while this version would list it from ${iso(v.effective_from_ms)}: a price belongs to one offer at a time; to move it, give offer ${owner.offer_id} a version without it first`, [
      { path: "stripe_price_ids", message: `${price} belongs to offer ${owner.offer_id} ${when}` },
    ]);
  }
}
