// Replaying a proposed rule over recent payments: both the version in force now and the
// proposal are applied to the same line bases, with the offers' current contributors,
// so the two columns compare like with like. A line counts when it is in the rule's scope
// and was split by a rule no more specific than this one: a default rule's proposal does
// not reach the payments that an offer's own rule governs.
import { and, desc, eq, inArray, lte } from "drizzle-orm";
import { applyRule, type Rule } from "../../core";
import { byChunks, type Db } from "../../db/client";
import { offersByIds } from "../../db/queries/catalog";
import { ruleSpecificity, specificityOf, type RuleScope } from "../../db/queries/rules";
import { offers, paymentLines, payments, rules } from "../../db/schema";

interface Totals {
  payments: number;
  totals: { party_id: string; currency: string; now_minor: number; proposed_minor: number; delta_minor: number }[];
  unsplittable: { payment_id: string; reason: string }[];
}

async function recentLinesInScope(db: Db, scope: RuleScope, last: number) {
  const inScope = and(
    "offer_id" in scope ? eq(paymentLines.offerId, scope.offer_id) : "offer_kind" in scope ? eq(offers.kind, scope.offer_kind) : undefined,
    lte(ruleSpecificity, specificityOf(scope)),
  );
  const recent = await db
    .selectDistinct({ id: payments.id, paidAtS: payments.paidAtS })
    .from(payments)
    .innerJoin(paymentLines, eq(paymentLines.paymentId, payments.id))
    .innerJoin(offers, eq(offers.id, paymentLines.offerId))
    .innerJoin(rules, eq(rules.id, paymentLines.ruleId))
    .where(inScope)
    .orderBy(desc(payments.paidAtS), desc(payments.id))
    .limit(last);
  if (recent.length === 0) return [];
  return byChunks(recent.map((r) => r.id), (chunk) =>
    db
      .select({ payment_id: payments.id, currency: payments.currency, offer_id: paymentLines.offerId, kind: offers.kind, gross_minor: paymentLines.grossMinor, fee_minor: paymentLines.feeMinor })
      .from(paymentLines)
      .innerJoin(payments, eq(payments.id, paymentLines.paymentId))
      .innerJoin(offers, eq(offers.id, paymentLines.offerId))
      .innerJoin(rules, eq(rules.id, paymentLines.ruleId))
      .where(and(inArray(payments.id, chunk), inScope)),
  );
}

export async function replayOverRecentPayments(db: Db, scope: RuleScope, last: number, current: Rule | null, proposed: Rule): Promise<Totals> {
  const lines = await recentLinesInScope(db, scope, last);
  const contributorsOf = await offersByIds(db, [...new Set(lines.map((l) => l.offer_id))]);
  const totals = new Map<string, { party_id: string; currency: string; now_minor: number; proposed_minor: number }>();
  const unsplittable: Totals["unsplittable"] = [];
  const add = (party_id: string, currency: string, column: "now_minor" | "proposed_minor", amount: number) => {
    const key = `${party_id}\u0000${currency}`;
    const row = totals.get(key) ?? { party_id, currency, now_minor: 0, proposed_minor: 0 };
    row[column] += amount;
    totals.set(key, row);
  };
  for (const line of lines) {
    const contributors = contributorsOf.get(line.offer_id)?.contributors ?? [];
    for (const [column, rule] of [["now_minor", current], ["proposed_minor", proposed]] as const) {
      if (!rule) continue;
      const basis = rule.basis === "gross" ? line.gross_minor : line.gross_minor - line.fee_minor;
      const applied = applyRule(rule, { amount_minor: basis, currency: line.currency, contributors });
      if (!applied.ok) {
        unsplittable.push({ payment_id: line.payment_id, reason: `${column === "now_minor" ? "current version" : "proposal"}: ${applied.error.message}` });
        continue;
      }
      for (const part of applied.parts) add(part.party_id, line.currency, column, part.amount_minor);
    }
  }
  return {
    payments: new Set(lines.map((l) => l.payment_id)).size,
    totals: [...totals.values()].map((t) => ({ ...t, delta_minor: t.proposed_minor - t.now_minor })).sort((a, b) => a.currency.localeCompare(b.currency) || a.party_id.localeCompare(b.party_id)),
    unsplittable,
  };
}
