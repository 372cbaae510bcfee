// From a payment's facts to what the split engine needs: each line's offer, the rule
// version in force when the payment was made, and the offer's contributors.
import type { RuleJson } from "../core";
import type { Db } from "../db/client";
import { offerIdsByPrice, offersByIds, type Contributor } from "../db/queries/catalog";
import { getRuleVersion, resolveRuleVersion } from "../db/queries/rules";
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

export async function planSplit(db: Db, facts: PaymentFacts, override?: { rule_id: string; version: number }): Promise<SplitPlan> {
  // A payment without line items (an invoice of credits only, say) is one line of the whole amount.
  const lines = facts.lines.length > 0 ? facts.lines : [{ price_id: null, amount_minor: facts.presentment_amount_minor, description: null }];
  const priceIds = lines.flatMap((l) => (l.price_id ? [l.price_id] : []));
  const byPrice = await offerIdsByPrice(db, priceIds);
  const offerIds = lines.map((l) => (l.price_id && byPrice.get(l.price_id)) || facts.offer_hint);
  const missing = offerIds.findIndex((id) => id === null);
  if (missing >= 0) {
    const price = lines[missing]?.price_id;
    return { ok: false, reason: `unknown offer: line ${missing + 1}${price ? ` (price ${price})` : ""} matches no offer's stripe_price_ids and the payment has no metadata.offer_id` };
  }
  const known = await offersByIds(db, [...new Set(offerIds as string[])]);
  const planned: PlannedLine[] = [];
  const versions = new Map<string, Awaited<ReturnType<typeof resolveRuleVersion>>>();
  for (const [i, line] of lines.entries()) {
    const offer = known.get(offerIds[i] as string);
    if (!offer) return { ok: false, reason: `unknown offer: metadata.offer_id "${offerIds[i]}" names no offer` };
    if (!versions.has(offer.id)) {
      versions.set(offer.id, override ? await getRuleVersion(db, override.rule_id, override.version) : await resolveRuleVersion(db, offer, facts.paid_at_s * 1000));
    }
    const version = versions.get(offer.id);
    if (!version && override) return { ok: false, reason: `rule ${override.rule_id} has no version ${override.version}` };
    if (!version) {
      return { ok: false, reason: `no split rule was in force for offer ${offer.id} at ${new Date(facts.paid_at_s * 1000).toISOString()}` };
    }
    planned.push({
      offer_id: offer.id,
      price_id: line.price_id,
      weight_minor: line.amount_minor,
      rule_id: version.rule_id,
      rule_version: version.version,
      rule: version.body as RuleJson,
      contributors: offer.contributors,
    });
  }
  return { ok: true, lines: planned };
}
