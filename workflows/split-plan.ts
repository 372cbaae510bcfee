// From a payment's facts to what the split engine needs: each line's offer and that offer's
// contributors as they stood when the payment was made, and the rule version in force then.
import { offerOfLine, type RuleJson } from "../core";
import type { Db } from "../db/client";
import { offersForPayment, type Contributor } from "../db/queries/catalog";
import type { RuleOverride } from "../db/queries/events";
import { getRule, getRuleVersion, scopeCovers, type RuleVersionRow } from "../db/queries/rules";
import type { OfferKind } from "../db/schema";
import type { PaymentFacts } from "./payment-facts";

export interface PlannedLine {
  offer_id: string;
  price_id: string | null;
  weight_minor: number;
  rule_id: string;
  rule_version: number;
  /** The rule version's stored JSON; parsed where it is applied (parsed rules hold bigints). */
  rule: RuleJson;
  contributors: Contributor[];
}

export type SplitPlan = { ok: true; lines: PlannedLine[] } | { ok: false; reason: string };

/**
 * The version in force when the payment was made (`inForce`, read with the offers); only where
 * none was does an admin's override apply, and only if its rule's scope covers the offer.
 */
async function versionFor(db: Db, offer: { id: string; kind: OfferKind }, inForce: RuleVersionRow | undefined, override: RuleOverride | undefined): Promise<RuleVersionRow | undefined> {
  if (inForce || !override) return inForce;
  const rule = await getRule(db, override.rule_id);
  if (!rule || !scopeCovers(rule.scope, offer)) return undefined;
  return getRuleVersion(db, override.rule_id, override.version);
}

export async function planSplit(db: Db, facts: PaymentFacts, override?: RuleOverride): Promise<SplitPlan> {
  const lines = facts.lines;
  // Which offer each price belonged to, and each offer's contributors, at the time it was paid,
  // whenever this runs: a retry days later sees the offers as they were, not as they are.
  const paidAtMs = facts.paid_at_s * 1000;
  const priceIds = lines.flatMap((l) => (l.price_id ? [l.price_id] : []));
  const { listings, offers: known, rules: inForce } = await offersForPayment(db, { priceIds, offerIds: facts.offer_hint ? [facts.offer_hint] : [] }, paidAtMs);
  const offerIds = lines.map((l) => (l.price_id ? offerOfLine(listings.get(l.price_id) ?? [], facts.offer_hint, paidAtMs) : facts.offer_hint));
  const missing = offerIds.findIndex((id) => id === null);
  if (missing >= 0) {
    const price = lines[missing]?.price_id;
    return { ok: false, reason: `unknown offer: line ${missing + 1}${price ? ` (price ${price})` : ""} matches no offer's stripe_price_ids and the payment has no metadata.offer_id` };
  }
  const planned: PlannedLine[] = [];
  const versions = new Map<string, RuleVersionRow | undefined>();
  for (const [i, line] of lines.entries()) {
    const offer = known.get(offerIds[i] as string);
    if (!offer) return { ok: false, reason: `unknown offer: metadata.offer_id "${offerIds[i]}" names no offer` };
    if (!versions.has(offer.id)) versions.set(offer.id, await versionFor(db, offer, inForce.get(offer.id), override));
    const version = versions.get(offer.id);
    if (!version) {
      const chosen = override ? ` (the chosen ${override.rule_id}@${override.version} does not exist or does not cover this offer)` : "";
      return { ok: false, reason: `no split rule was in force for offer ${offer.id} at ${new Date(facts.paid_at_s * 1000).toISOString()}${chosen}` };
    }
    planned.push({
      offer_id: offer.id,
      price_id: line.price_id,
      weight_minor: line.weight_minor,
      rule_id: version.rule_id,
      rule_version: version.version,
      rule: version.body as RuleJson,
      contributors: offer.contributors,
    });
  }
  return { ok: true, lines: planned };
}
