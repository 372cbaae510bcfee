// The payment lines a rule change would have touched: what the what-if replays. A line counts
// when it is in the rule's scope and was split by a rule no more specific than this one: a
// default rule's proposal does not reach the payments that an offer's own rule governs.
import { and, desc, eq, inArray, lte } from "drizzle-orm";
import { byChunks, type Db } from "../client";
import { offers, paymentLines, payments, rules } from "../schema";
import { ruleSpecificity, specificityOf, type RuleScope } from "./rules";

export interface ReplayedLine {
  payment_id: string;
  currency: string;
  offer_id: string;
  gross_minor: number;
  fee_minor: number;
}

/** The lines of the last `last` payments (newest first) in the scope of a rule. */
export async function recentLinesInScope(db: Db, scope: RuleScope, last: number): Promise<ReplayedLine[]> {
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
      .select({ payment_id: payments.id, currency: payments.currency, offer_id: paymentLines.offerId, gross_minor: paymentLines.grossMinor, fee_minor: paymentLines.feeMinor })
      .from(paymentLines)
      .innerJoin(payments, eq(payments.id, paymentLines.paymentId))
      .innerJoin(offers, eq(offers.id, paymentLines.offerId))
      .innerJoin(rules, eq(rules.id, paymentLines.ruleId))
      .where(and(inArray(payments.id, chunk), inScope)),
  );
}
