// Parties (who can receive a share) and offers (what is sold). An offer is a chain of
// immutable versions, like a rule (core/offer-history.ts): its name, Stripe prices and
// contributors as they stood from one time to the next, so that a payment is resolved with
// the offer as it was when it was paid, whenever its event is processed.
import { and, asc, eq, gte, inArray, ne, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { alias } from "drizzle-orm/sqlite-core";
import type { PriceListing } from "../../core";
import { byChunks, chunked, d1Of, MAX_IDS_PER_STATEMENT, type Db } from "../client";
import { offers, offerVersionContributors, offerVersionPrices, offerVersions, parties, type ContributorRole, type OfferKind, type PartyKind } from "../schema";
import { insertAuditStatement, type AuditEntry } from "./audit";
import type { RuleVersionRow } from "./rules";

export interface Party {
  id: string;
  kind: PartyKind;
  name: string;
  /** Named on the public page (contributors choose; the commons and the reserve always are). */
  public: boolean;
  /** The Stripe connected account payouts go to; null: paid by hand. */
  stripe_account_id: string | null;
  /** Paid out only once the payable balance in a currency reaches this. */
  payout_minimum_minor: number;
}

const partyColumns = { id: parties.id, kind: parties.kind, name: parties.name, public: parties.public, stripe_account_id: parties.stripeAccountId, payout_minimum_minor: parties.payoutMinimumMinor };

export interface Contributor {
  party_id: string;
  weight: number;
  /** What they do for the offer, when the admin said it (absent otherwise). */
  role?: ContributorRole;
}

/** A contributor as stored: `role` only when there is one, so an offer without roles reads (and hashes) as it always did. */
function contributorOf(row: { party_id: string; weight: number; role: ContributorRole | null }): Contributor {
  return row.role === null ? { party_id: row.party_id, weight: row.weight } : { party_id: row.party_id, weight: row.weight, role: row.role };
}

/** An offer at one time: the fields the API has always answered. */
export interface Offer {
  id: string;
  kind: OfferKind;
  name: string;
  stripe_price_ids: string[];
  contributors: Contributor[];
}

/** An offer as it stood at some time, and the version that says so. */
export interface OfferAt extends Offer {
  version: number;
  effective_from_ms: number;
}

/** One immutable version of an offer. */
export interface OfferVersion {
  version: number;
  effective_from_ms: number;
  name: string;
  stripe_price_ids: string[];
  contributors: Contributor[];
  author: string;
  reason: string | null;
  created_at_ms: number;
}

/** An offer's whole history, versions in order. */
export interface OfferHistory {
  id: string;
  kind: OfferKind;
  versions: OfferVersion[];
}

export type NewOfferVersion = Omit<OfferVersion, "created_at_ms">;

const MAX_LIST = 1000;

// ---- parties ------------------------------------------------------------------------------


export async function listParties(db: Db): Promise<Party[]> {
  return db.select(partyColumns).from(parties).orderBy(asc(parties.id)).limit(MAX_LIST);
}

/** Every party id, without a limit: a rule is checked against all of them. */
export async function allPartyIds(db: Db): Promise<string[]> {
  return (await db.select({ id: parties.id }).from(parties)).map((p) => p.id);
}

/** A party as read, with its revision: what a change must find unchanged when it writes. */
export interface PartyRead {
  party: Party;
  revision: number;
}

export async function getParty(db: Db, id: string): Promise<PartyRead | undefined> {
  const [row] = await db.select({ ...partyColumns, revision: parties.revision }).from(parties).where(eq(parties.id, id));
  if (!row) return undefined;
  const { revision, ...party } = row;
  return { party, revision };
}

export async function partiesByIds(db: Db, ids: string[]): Promise<Map<string, Party>> {
  if (ids.length === 0) return new Map();
  const rows = await byChunks(ids, (chunk) => db.select(partyColumns).from(parties).where(inArray(parties.id, chunk)));
  return new Map(rows.map((p) => [p.id, p]));
}

export function insertPartyStatement(db: Db, party: Party, nowMs: number) {
  return db.insert(parties).values({ id: party.id, kind: party.kind, name: party.name, public: party.public, stripeAccountId: party.stripe_account_id, payoutMinimumMinor: party.payout_minimum_minor, createdAtMs: nowMs });
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
    db.update(parties).set({ kind: after.kind, name: after.name, public: after.public, stripeAccountId: after.stripe_account_id, payoutMinimumMinor: after.payout_minimum_minor, revision: read.revision + 1 }).where(unmoved),
  ]);
  return updated.meta.changes > 0;
}

// ---- offers: reading ------------------------------------------------------------------------

/** Runs groups of read statements as one D1 batch, one round trip, and gives back each group's rows. */
async function readTogether<G extends readonly (readonly BatchItem<"sqlite">[])[]>(db: Db, groups: G): Promise<{ -readonly [K in keyof G]: G[K][number]["_"]["result"] }> {
  const statements = groups.flat();
  if (statements.length === 0) return groups.map(() => []) as never;
  const results = (await db.batch(statements as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[][];
  let next = 0;
  return groups.map((group) => group.flatMap(() => results[next++] ?? [])) as never;
}

/** Another version of the same offer, in the subqueries below. */
const sibling = alias(offerVersions, "sibling");
/** `from offer_versions as sibling` (a raw fragment does not name an alias's table). */
const fromSibling = sql`${offerVersions} as ${sql.identifier("sibling")}`;

/**
 * True for the `offer_versions` row that a payment made at `atMs` is resolved with: the last
 * version in force then, or the first one for a payment made before it (the rule of core's
 * `offerVersionAt`, in SQL, so that a payment's offers are read in one round trip). Versions
 * take effect in the order of their numbers.
 */
function isVersionAt(atMs: number): SQL {
  const x = sibling;
  return eq(
    offerVersions.version,
    sql`coalesce((select max(${x.version}) from ${fromSibling} where ${x.offerId} = ${offerVersions.offerId} and ${x.effectiveFromMs} <= ${atMs}), (select min(${x.version}) from ${fromSibling} where ${x.offerId} = ${offerVersions.offerId}))`,
  );
}

/** True for the versions that can still split a payment from `atMs` on: the one in force then and every later one. */
function isVersionFrom(atMs: number): SQL {
  const x = sibling;
  return gte(
    offerVersions.version,
    sql`coalesce((select max(${x.version}) from ${fromSibling} where ${x.offerId} = ${offerVersions.offerId} and ${x.effectiveFromMs} <= ${atMs}), 1)`,
  );
}

/** The three reads that assemble offers at one time, for the offers `which` selects (over `offer_versions.offer_id`). */
function offerAtStatements(db: Db, which: SQL | undefined, atMs: number) {
  const at = and(which, isVersionAt(atMs));
  const sameVersion = <T extends typeof offerVersionPrices | typeof offerVersionContributors>(t: T) => and(eq(t.offerId, offerVersions.offerId), eq(t.version, offerVersions.version));
  return {
    versions: db
      .select({ id: offers.id, kind: offers.kind, version: offerVersions.version, effective_from_ms: offerVersions.effectiveFromMs, name: offerVersions.name })
      .from(offerVersions)
      .innerJoin(offers, eq(offers.id, offerVersions.offerId))
      .where(at)
      .orderBy(asc(offers.id))
      .limit(MAX_LIST),
    prices: db
      .select({ offer_id: offerVersionPrices.offerId, price_id: offerVersionPrices.priceId })
      .from(offerVersionPrices)
      .innerJoin(offerVersions, sameVersion(offerVersionPrices))
      .where(at)
      .orderBy(asc(offerVersionPrices.priceId)),
    contributors: db
      .select({ offer_id: offerVersionContributors.offerId, party_id: offerVersionContributors.partyId, weight: offerVersionContributors.weight, role: offerVersionContributors.role })
      .from(offerVersionContributors)
      .innerJoin(offerVersions, sameVersion(offerVersionContributors))
      .where(at)
      .orderBy(asc(offerVersionContributors.offerId), asc(offerVersionContributors.position)),
  };
}

type OfferAtStatements = ReturnType<typeof offerAtStatements>;

function assembleOffersAt(
  versions: OfferAtStatements["versions"]["_"]["result"],
  prices: OfferAtStatements["prices"]["_"]["result"],
  contributors: OfferAtStatements["contributors"]["_"]["result"],
): OfferAt[] {
  const priceIds = groupBy(prices, (p) => p.offer_id, (p) => p.price_id);
  const pools = groupBy(contributors, (c) => c.offer_id, contributorOf);
  return versions.map((v) => ({ ...v, stripe_price_ids: priceIds.get(v.id) ?? [], contributors: pools.get(v.id) ?? [] }));
}

function groupBy<T, V>(rows: readonly T[], key: (row: T) => string, value: (row: T) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), value(row)]);
  return groups;
}

/** Every offer (the first 1000 by id) as it stands at `atMs`, in one round trip. */
export async function listOffers(db: Db, atMs: number): Promise<OfferAt[]> {
  const s = offerAtStatements(db, undefined, atMs);
  const [versions, prices, contributors] = await readTogether(db, [[s.versions], [s.prices], [s.contributors]] as const);
  return assembleOffersAt(versions, prices, contributors);
}

/** These offers as they stood at `atMs` (unknown ids are absent), in one round trip, looked up in chunks. */
export async function offersByIds(db: Db, ids: readonly string[], atMs = Date.now()): Promise<Map<string, OfferAt>> {
  const chunks = chunked([...new Set(ids)], MAX_IDS_PER_STATEMENT).map((chunk) => offerAtStatements(db, inArray(offerVersions.offerId, chunk), atMs));
  const [versions, prices, contributors] = await readTogether(db, [chunks.map((s) => s.versions), chunks.map((s) => s.prices), chunks.map((s) => s.contributors)] as const);
  return new Map(assembleOffersAt(versions, prices, contributors).map((o) => [o.id, o]));
}

/** One offer as it stood at `atMs` (now by default). */
export async function getOffer(db: Db, id: string, atMs = Date.now()): Promise<OfferAt | undefined> {
  return (await offersByIds(db, [id], atMs)).get(id);
}

export async function offerExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: offers.id }).from(offers).where(eq(offers.id, id))).length > 0;
}

/** An offer with all its versions, in one round trip. */
export async function offerHistory(db: Db, id: string): Promise<OfferHistory | undefined> {
  const [offer, versions, prices, contributors] = await readTogether(db, [
    [db.select({ id: offers.id, kind: offers.kind }).from(offers).where(eq(offers.id, id))],
    [db.select().from(offerVersions).where(eq(offerVersions.offerId, id)).orderBy(asc(offerVersions.version))],
    [db.select().from(offerVersionPrices).where(eq(offerVersionPrices.offerId, id)).orderBy(asc(offerVersionPrices.priceId))],
    [db.select().from(offerVersionContributors).where(eq(offerVersionContributors.offerId, id)).orderBy(asc(offerVersionContributors.position))],
  ] as const);
  const [row] = offer;
  if (!row) return undefined;
  return {
    ...row,
    versions: versions.map((v) => ({
      version: v.version,
      effective_from_ms: v.effectiveFromMs,
      name: v.name,
      stripe_price_ids: prices.filter((p) => p.version === v.version).map((p) => p.priceId),
      contributors: contributors.filter((c) => c.version === v.version).map((c) => contributorOf({ party_id: c.partyId, weight: c.weight, role: c.role })),
      author: v.author,
      reason: v.reason,
      created_at_ms: v.createdAtMs,
    })),
  };
}

const nextVersion = alias(offerVersions, "next_version");

/**
 * Every time an offer listed one of these prices that lasts until `fromMs` or later: each
 * version that lists it, from its `effective_from` until the next version's (null: the
 * latest). Earlier listings, over before `fromMs`, are left out; core's `listedFrom` and
 * `offerOfLine` decide among the rest.
 */
function priceListingStatement(db: Db, priceIds: readonly string[], fromMs: number, exceptOfferId?: string) {
  return db
    // Named apart: in a D1 batch, drizzle reads rows by column name, and both times are `effective_from_ms`.
    .select({
      price_id: offerVersionPrices.priceId,
      offer_id: offerVersionPrices.offerId,
      from_ms: sql<number>`${offerVersions.effectiveFromMs}`.as("from_ms"),
      until_ms: sql<number | null>`${nextVersion.effectiveFromMs}`.as("until_ms"),
    })
    .from(offerVersionPrices)
    .innerJoin(offerVersions, and(eq(offerVersions.offerId, offerVersionPrices.offerId), eq(offerVersions.version, offerVersionPrices.version)))
    .leftJoin(nextVersion, and(eq(nextVersion.offerId, offerVersionPrices.offerId), eq(nextVersion.version, sql`${offerVersionPrices.version} + 1`)))
    .where(
      and(
        inArray(offerVersionPrices.priceId, [...priceIds]),
        exceptOfferId === undefined ? undefined : ne(offerVersionPrices.offerId, exceptOfferId),
        or(sql`${nextVersion.version} is null`, sql`${nextVersion.effectiveFromMs} > ${fromMs}`),
      ),
    )
    .orderBy(asc(offerVersionPrices.priceId), asc(offerVersions.effectiveFromMs));
}

function listingsByPrice(rows: Awaited<ReturnType<typeof priceListingStatement>>): Map<string, PriceListing[]> {
  return groupBy(rows, (r) => r.price_id, (r) => ({ offer_id: r.offer_id, from_ms: r.from_ms, until_ms: r.until_ms }));
}

/** The listings of these prices by offers other than `exceptOfferId` that last until `fromMs` or later: who else has them. */
export async function priceListings(db: Db, priceIds: readonly string[], fromMs: number, exceptOfferId: string): Promise<Map<string, PriceListing[]>> {
  const statements = chunked([...new Set(priceIds)], MAX_IDS_PER_STATEMENT).map((chunk) => priceListingStatement(db, chunk, fromMs, exceptOfferId));
  const [rows] = await readTogether(db, [statements] as const);
  return listingsByPrice(rows);
}

// ---- a payment's offers and rules: plain SQL, one round trip ----------------------------------
// A payment's run asks this once per payment: its statements are prepared from fixed strings (the
// same SQL drizzle built for `offerAtStatements` and `priceListingStatement` above, and for
// `resolveRuleVersion`), not built anew each time, which was most of the CPU a plan took.

const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** `offer_versions` row of the version a payment made at the bound time is resolved with (isVersionAt). */
const VERSION_AT = `"offer_versions"."version" = coalesce((select max("sibling"."version") from "offer_versions" as "sibling" where "sibling"."offer_id" = "offer_versions"."offer_id" and "sibling"."effective_from_ms" <= ?), (select min("sibling"."version") from "offer_versions" as "sibling" where "sibling"."offer_id" = "offer_versions"."offer_id"))`;

/** Offers a payment may belong to, over `column`: those that ever listed one of the prices, or those named. */
type Candidates = { kind: "prices" | "offers"; ids: string[] };
const candidatesIn = (column: string, c: Candidates) =>
  c.kind === "prices" ? `${column} in (select distinct "offer_id" from "offer_version_prices" where "offer_version_prices"."price_id" in (${marks(c.ids.length)}))` : `${column} in (${marks(c.ids.length)})`;

/**
 * What a payment made at `atMs` needs to find its offers and their rules, in one round trip:
 * the listings of its prices that last until then or later; as they stood then, the offers it
 * names and every offer that ever listed one of its prices (`stripe_price_ids` left empty: the
 * listings say it); and for each of those offers the rule version in force then (the most
 * specific scope with a version in force, its last version to have taken effect), if any.
 * Looked up in chunks.
 */
export async function offersForPayment(
  db: Db,
  lines: { priceIds: readonly string[]; offerIds: readonly string[] },
  atMs: number,
): Promise<{ listings: Map<string, PriceListing[]>; offers: Map<string, OfferAt>; rules: Map<string, RuleVersionRow> }> {
  const d1 = d1Of(db);
  const priceChunks = chunked([...new Set(lines.priceIds)], MAX_IDS_PER_STATEMENT);
  const candidates: Candidates[] = [...priceChunks.map((ids) => ({ kind: "prices" as const, ids })), ...chunked([...new Set(lines.offerIds)], MAX_IDS_PER_STATEMENT).map((ids) => ({ kind: "offers" as const, ids }))];
  const listingStatements = priceChunks.map((chunk) =>
    d1
      .prepare(
        `select "offer_version_prices"."price_id", "offer_version_prices"."offer_id", "offer_versions"."effective_from_ms" as "from_ms", "next_version"."effective_from_ms" as "until_ms" from "offer_version_prices" inner join "offer_versions" on ("offer_versions"."offer_id" = "offer_version_prices"."offer_id" and "offer_versions"."version" = "offer_version_prices"."version") left join "offer_versions" "next_version" on ("next_version"."offer_id" = "offer_version_prices"."offer_id" and "next_version"."version" = "offer_version_prices"."version" + 1) where ("offer_version_prices"."price_id" in (${marks(chunk.length)}) and ("next_version"."version" is null or "next_version"."effective_from_ms" > ?)) order by "offer_version_prices"."price_id" asc, "offer_versions"."effective_from_ms" asc`,
      )
      .bind(...chunk, atMs),
  );
  const versionStatements = candidates.map((c) =>
    d1
      .prepare(
        `select "offers"."id", "offers"."kind", "offer_versions"."version", "offer_versions"."effective_from_ms", "offer_versions"."name" from "offer_versions" inner join "offers" on "offers"."id" = "offer_versions"."offer_id" where (${candidatesIn(`"offer_versions"."offer_id"`, c)} and ${VERSION_AT}) order by "offers"."id" asc limit ?`,
      )
      .bind(...c.ids, atMs, MAX_LIST),
  );
  const contributorStatements = candidates.map((c) =>
    d1
      .prepare(
        `select "offer_version_contributors"."offer_id", "offer_version_contributors"."party_id", "offer_version_contributors"."weight", "offer_version_contributors"."role" from "offer_version_contributors" inner join "offer_versions" on ("offer_version_contributors"."offer_id" = "offer_versions"."offer_id" and "offer_version_contributors"."version" = "offer_versions"."version") where (${candidatesIn(`"offer_versions"."offer_id"`, c)} and ${VERSION_AT}) order by "offer_version_contributors"."offer_id" asc, "offer_version_contributors"."position" asc`,
      )
      .bind(...c.ids, atMs),
  );
  // resolveRuleVersion's query, for every candidate offer at once.
  const ruleStatements = candidates.map((c) =>
    d1
      .prepare(
        `select "offers"."id" as "offer_id", "rv"."rule_id", "rv"."version", "rv"."effective_from_ms", "rv"."body", "rv"."content_hash", "rv"."author", "rv"."reason", "rv"."proposal_id", "rv"."created_at_ms" from "offers" inner join "rule_versions" "rv" on ("rv"."rule_id", "rv"."version") = (select "v"."rule_id", "v"."version" from "rule_versions" "v" inner join "rules" "r" on "r"."id" = "v"."rule_id" where ("v"."effective_from_ms" <= ? and (("r"."scope_kind" = 'offer' and "r"."scope_value" = "offers"."id") or ("r"."scope_kind" = 'offer_kind' and "r"."scope_value" = "offers"."kind") or "r"."scope_kind" = 'default')) order by case "r"."scope_kind" when 'offer' then 3 when 'offer_kind' then 2 else 1 end desc, "v"."effective_from_ms" desc, "v"."version" desc limit 1) where ${candidatesIn(`"offers"."id"`, c)}`,
      )
      .bind(atMs, ...c.ids),
  );
  const statements = [...listingStatements, ...versionStatements, ...contributorStatements, ...ruleStatements];
  const results = statements.length === 0 ? [] : await d1.batch(statements);
  let next = 0;
  const take = <T>(count: number) => results.slice(next, (next += count)).flatMap((r) => r.results as T[]);
  const listings = take<{ price_id: string; offer_id: string; from_ms: number; until_ms: number | null }>(listingStatements.length);
  const versions = take<OfferAtStatements["versions"]["_"]["result"][number]>(versionStatements.length);
  const contributors = take<OfferAtStatements["contributors"]["_"]["result"][number]>(contributorStatements.length);
  const rules = take<Omit<RuleVersionRow, "body"> & { offer_id: string; body: string }>(ruleStatements.length);
  return {
    listings: groupBy(listings, (r) => r.price_id, (r) => ({ offer_id: r.offer_id, from_ms: r.from_ms, until_ms: r.until_ms })),
    offers: new Map(assembleOffersAt(versions, [], contributors).map((o) => [o.id, o])),
    rules: new Map(rules.map(({ offer_id, ...row }) => [offer_id, { ...row, body: JSON.parse(row.body) as unknown }])),
  };
}

/**
 * The contributors of every version, of every offer of a kind, of one offer, or of all
 * offers, that can still split a payment from `nowMs` on: the version in force and every
 * scheduled one (no limit, no prices). A rule version takes effect now or later, so these
 * are the pools it will split among.
 */
export async function contributorPools(db: Db, filter: { offer_id?: string; kind?: OfferKind }, nowMs = Date.now()): Promise<{ offer_id: string; version: number; contributors: Contributor[] }[]> {
  const rows = await db
    .select({ offer_id: offerVersions.offerId, version: offerVersions.version, party_id: offerVersionContributors.partyId, weight: offerVersionContributors.weight })
    .from(offerVersions)
    .innerJoin(offers, eq(offers.id, offerVersions.offerId))
    .leftJoin(offerVersionContributors, and(eq(offerVersionContributors.offerId, offerVersions.offerId), eq(offerVersionContributors.version, offerVersions.version)))
    .where(and(filter.offer_id ? eq(offers.id, filter.offer_id) : filter.kind ? eq(offers.kind, filter.kind) : undefined, isVersionFrom(nowMs)))
    .orderBy(asc(offerVersions.offerId), asc(offerVersions.version), asc(offerVersionContributors.position));
  const pools = new Map<string, { offer_id: string; version: number; contributors: Contributor[] }>();
  for (const r of rows) {
    const key = `${r.offer_id}@${r.version}`;
    const pool = pools.get(key) ?? { offer_id: r.offer_id, version: r.version, contributors: [] };
    if (r.party_id !== null && r.weight !== null) pool.contributors.push({ party_id: r.party_id, weight: r.weight });
    pools.set(key, pool);
  }
  return [...pools.values()];
}

// ---- offers: writing ------------------------------------------------------------------------

/** The statements that write one version of an offer: the version, then its prices and its contributors in order. */
function offerVersionStatements(db: Db, offerId: string, v: NewOfferVersion, nowMs: number) {
  return {
    version: db.insert(offerVersions).values({ offerId, version: v.version, effectiveFromMs: v.effective_from_ms, name: v.name, author: v.author, reason: v.reason, createdAtMs: nowMs }),
    lists: [
      ...v.stripe_price_ids.map((priceId) => db.insert(offerVersionPrices).values({ offerId, version: v.version, priceId })),
      ...v.contributors.map((c, position) => db.insert(offerVersionContributors).values({ offerId, version: v.version, partyId: c.party_id, weight: c.weight, position, role: c.role ?? null })),
    ],
  };
}

/** The trigger of migration 0006 refused a price that another offer lists at that time. */
function isPriceTaken(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (/price_taken/.test(e.message)) return true;
  return false;
}

function isVersionTaken(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (/UNIQUE constraint failed: offer_versions\./.test(e.message)) return true;
  return false;
}

function isOfferTaken(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (/UNIQUE constraint failed: offers\.id/.test(e.message)) return true;
  return false;
}

/** Creates an offer with its version 1 and the audit row, in one batch. */
export async function createOffer(db: Db, offer: { id: string; kind: OfferKind }, first: NewOfferVersion, audit: AuditEntry, nowMs: number): Promise<"created" | "exists" | "price_taken"> {
  try {
    const written = offerVersionStatements(db, offer.id, first, nowMs);
    await db.batch([db.insert(offers).values({ id: offer.id, kind: offer.kind, createdAtMs: nowMs }), written.version, ...written.lists, insertAuditStatement(db, audit, nowMs)]);
    return "created";
  } catch (error) {
    if (isOfferTaken(error)) return "exists";
    if (isPriceTaken(error)) return "price_taken";
    throw error;
  }
}

/**
 * Appends the next version of an offer with its audit row, in one batch. `next.version` is
 * one more than the version read: the primary key (offer_id, version) lets it be written
 * only if nobody appended a version since, so the audit's "before" (the version read) is
 * still the one it follows. "stale" when someone did (nothing written); "price_taken" when
 * another offer lists one of its prices at that time (nothing written).
 */
export async function appendOfferVersion(db: Db, offerId: string, next: NewOfferVersion, audit: AuditEntry, nowMs: number): Promise<"appended" | "stale" | "price_taken"> {
  try {
    const written = offerVersionStatements(db, offerId, next, nowMs);
    await db.batch([written.version, ...written.lists, insertAuditStatement(db, audit, nowMs)]);
    return "appended";
  } catch (error) {
    if (isVersionTaken(error)) return "stale";
    if (isPriceTaken(error)) return "price_taken";
    throw error;
  }
}
