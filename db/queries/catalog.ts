// Parties and offers: who can receive a share, and what is sold.
import { and, asc, eq, inArray } from "drizzle-orm";
import { byChunks, type Db } from "../client";
import { offerContributors, offerPrices, offers, parties, type OfferKind, type PartyKind } from "../schema";
import { insertAuditStatement, type AuditEntry } from "./audit";

export interface Party {
  id: string;
  kind: PartyKind;
  name: string;
}

export interface Contributor {
  party_id: string;
  weight: number;
}

export interface Offer {
  id: string;
  kind: OfferKind;
  name: string;
  stripe_price_ids: string[];
  contributors: Contributor[];
}

const MAX_LIST = 1000;

export async function listParties(db: Db): Promise<Party[]> {
  return db.select({ id: parties.id, kind: parties.kind, name: parties.name }).from(parties).orderBy(asc(parties.id)).limit(MAX_LIST);
}

/** Every party id, without a limit: a rule is checked against all of them. */
export async function allPartyIds(db: Db): Promise<string[]> {
  return (await db.select({ id: parties.id }).from(parties)).map((p) => p.id);
}

/** The contributors of every offer of a kind, of one offer, or of all offers (no limit, no prices). */
export async function contributorPools(db: Db, filter: { offer_id?: string; kind?: OfferKind }): Promise<{ offer_id: string; contributors: Contributor[] }[]> {
  const rows = await db
    .select({ offer_id: offers.id, party_id: offerContributors.partyId, weight: offerContributors.weight })
    .from(offers)
    .leftJoin(offerContributors, eq(offerContributors.offerId, offers.id))
    .where(filter.offer_id ? eq(offers.id, filter.offer_id) : filter.kind ? eq(offers.kind, filter.kind) : undefined)
    .orderBy(asc(offers.id), asc(offerContributors.position));
  const pools = new Map<string, Contributor[]>();
  for (const r of rows) {
    const pool = pools.get(r.offer_id) ?? [];
    if (r.party_id !== null && r.weight !== null) pool.push({ party_id: r.party_id, weight: r.weight });
    pools.set(r.offer_id, pool);
  }
  return [...pools].map(([offer_id, contributors]) => ({ offer_id, contributors }));
}

/** A party as read, with its revision: what a change must find unchanged when it writes. */
export interface PartyRead {
  party: Party;
  revision: number;
}

export async function getParty(db: Db, id: string): Promise<PartyRead | undefined> {
  const row = await db.query.parties.findFirst({ where: eq(parties.id, id), columns: { id: true, kind: true, name: true, revision: true } });
  return row && { party: { id: row.id, kind: row.kind, name: row.name }, revision: row.revision };
}

export async function partiesByIds(db: Db, ids: string[]): Promise<Map<string, Party>> {
  if (ids.length === 0) return new Map();
  const rows = await byChunks(ids, (chunk) => db.select({ id: parties.id, kind: parties.kind, name: parties.name }).from(parties).where(inArray(parties.id, chunk)));
  return new Map(rows.map((p) => [p.id, p]));
}

export function insertPartyStatement(db: Db, party: Party, nowMs: number) {
  return db.insert(parties).values({ ...party, createdAtMs: nowMs });
}

async function assembleOffers(db: Db, rows: { id: string; kind: OfferKind; name: string }[]): Promise<Offer[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [prices, contributors] = await Promise.all([
    byChunks(ids, (chunk) => db.select().from(offerPrices).where(inArray(offerPrices.offerId, chunk)).orderBy(asc(offerPrices.priceId))),
    byChunks(ids, (chunk) => db.select().from(offerContributors).where(inArray(offerContributors.offerId, chunk)).orderBy(asc(offerContributors.position))),
  ]);
  return rows.map((r) => ({
    ...r,
    stripe_price_ids: prices.filter((p) => p.offerId === r.id).map((p) => p.priceId),
    contributors: contributors.filter((c) => c.offerId === r.id).map((c) => ({ party_id: c.partyId, weight: c.weight })),
  }));
}

const offerColumns = { id: offers.id, kind: offers.kind, name: offers.name };

export async function listOffers(db: Db): Promise<Offer[]> {
  return assembleOffers(db, await db.select(offerColumns).from(offers).orderBy(asc(offers.id)).limit(MAX_LIST));
}

export async function getOffer(db: Db, id: string): Promise<Offer | undefined> {
  const [offer] = await assembleOffers(db, await db.select(offerColumns).from(offers).where(eq(offers.id, id)));
  return offer;
}

export async function offersByIds(db: Db, ids: string[]): Promise<Map<string, Offer>> {
  if (ids.length === 0) return new Map();
  const found = await assembleOffers(db, await byChunks(ids, (chunk) => db.select(offerColumns).from(offers).where(inArray(offers.id, chunk))));
  return new Map(found.map((o) => [o.id, o]));
}

/** Which offer sells each of these Stripe prices (prices no offer lists are absent). */
export async function offerIdsByPrice(db: Db, priceIds: string[]): Promise<Map<string, string>> {
  if (priceIds.length === 0) return new Map();
  const rows = await byChunks(priceIds, (chunk) => db.select().from(offerPrices).where(inArray(offerPrices.priceId, chunk)));
  return new Map(rows.map((r) => [r.priceId, r.offerId]));
}

/** The statements that replace an offer's name, prices and contributors, for one atomic batch. */
export function replaceOfferStatements(db: Db, offer: Offer) {
  return [
    db.update(offers).set({ name: offer.name }).where(eq(offers.id, offer.id)),
    db.delete(offerPrices).where(eq(offerPrices.offerId, offer.id)),
    db.delete(offerContributors).where(eq(offerContributors.offerId, offer.id)),
    ...offerListStatements(db, offer),
  ] as const;
}

/** An offer's prices and contributors, in the contributors' order. */
function offerListStatements(db: Db, offer: Offer) {
  return [
    ...offer.stripe_price_ids.map((priceId) => db.insert(offerPrices).values({ priceId, offerId: offer.id })),
    ...offer.contributors.map((c, position) =>
      db.insert(offerContributors).values({ offerId: offer.id, partyId: c.party_id, weight: c.weight, position }),
    ),
  ];
}

/**
 * Changes a party and writes its audit row in the same batch, both only if the party is
 * still at the revision it was read at: the audit's "before" is what the change replaced,
 * whoever else writes meanwhile. Returns false when it had moved (nothing written).
 */
export async function updatePartyIfUnchanged(db: Db, read: PartyRead, after: Party, audit: AuditEntry, nowMs: number): Promise<boolean> {
  const unmoved = and(eq(parties.id, read.party.id), eq(parties.revision, read.revision));
  const [, updated] = await db.batch([
    insertAuditStatement(db, audit, nowMs, { table: parties, where: unmoved }),
    db.update(parties).set({ kind: after.kind, name: after.name, revision: read.revision + 1 }).where(unmoved),
  ]);
  return updated.meta.changes > 0;
}

/** The statements that create an offer, for one atomic batch. */
export function insertOfferStatements(db: Db, offer: Offer, nowMs: number) {
  return [
    db.insert(offers).values({ id: offer.id, kind: offer.kind, name: offer.name, createdAtMs: nowMs }),
    ...offerListStatements(db, offer),
  ] as const;
}
