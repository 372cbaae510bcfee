/**
 * Offers as they were when paid. An offer is a chain of immutable versions, like a rule: each
 * says the offer's name, Stripe prices and contributors, in force from its `effective_from`
 * until the next version's. Which offer a Stripe price belongs to is part of that history, and
 * a price belongs to one offer at most at any moment. Pure: the caller passes the times.
 */
import { versionInForce } from "./rule-versioning";

/**
 * The version of an offer that a payment made at `at_ms` is resolved with: the one in force
 * then. A payment made before the offer's first version (sold before the offer was written
 * down, parked, and retried once it was) is resolved with that first version. Versions in order.
 */
export function offerVersionAt<V extends { version: number; effective_from_ms: number }>(versions: readonly V[], at_ms: number): V | undefined {
  return versionInForce(versions, at_ms) ?? versions[0];
}

/** A time during which an offer listed a Stripe price: one of its versions, until the next one (null: its latest). */
export interface PriceListing {
  readonly offer_id: string;
  readonly from_ms: number;
  readonly until_ms: number | null;
}

/** The listings of a price in force at `at_ms` or at some moment after it, earliest first. A version superseded the moment it began was never in force. */
export function listedFrom(listings: readonly PriceListing[], at_ms: number): PriceListing[] {
  return listings.filter((l) => l.until_ms === null || l.until_ms > Math.max(at_ms, l.from_ms)).sort((a, b) => a.from_ms - b.from_ms);
}

/**
 * The offer a line of a payment made at `at_ms` belongs to, from the listings of its price
 * and the offer the payment names (`metadata.offer_id`, or null):
 *
 * 1. the offer that listed the price when the payment was made;
 * 2. else the offer the payment names: what the seller said at the time;
 * 3. else the first offer to list the price afterwards: an admin who gives an unknown price to
 *    an offer answers for the payments parked for want of it.
 *
 * null when none of them: the offer is unknown.
 */
export function offerOfLine(listings: readonly PriceListing[], named: string | null, at_ms: number): string | null {
  const live = listedFrom(listings, at_ms);
  const then = live.find((l) => l.from_ms <= at_ms);
  if (then) return then.offer_id;
  if (named !== null) return named;
  return live[0]?.offer_id ?? null;
}
