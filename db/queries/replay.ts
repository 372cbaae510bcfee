// The payment lines a rule change would have touched: what the what-if replays. A line counts
// when it is in the rule's scope and was split by a rule no more specific than this one: a
// default rule's proposal does not reach the payments that an offer's own rule governs.
import { and, desc, eq, inArray, lte } from "drizzle-orm";
import { chunked, MAX_IDS_PER_STATEMENT, type Db } from "../client";
import { offers, paymentLines, payments, rules } from "../schema";
import { ruleSpecificity, specificityOf, type RuleScope } from "./rules";

export interface ReplayedLine {
  payment_id: string;
  currency: string;
  offer_id: string;
  gross_minor: number;
  fee_minor: number;
}

/**
 * The lines of the last `last` payments (newest first) in the scope of a rule, or
 * `too_many` as soon as more than `maxLines` are found (read no further than that).
 */
export async function recentLinesInScope(db: Db, scope: RuleScope, last: number, maxLines: number): Promise<ReplayedLine[] | "too_many"> {
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
  const lines: ReplayedLine[] = [];
  for (const chunk of chunked(recent.map((r) => r.id), MAX_IDS_PER_STATEMENT)) {
    const rows = await db
      .select({ payment_id: payments.id, currency: payments.currency, offer_id: paymentLines.offerId, gross_minor: paymentLines.grossMinor, fee_minor: paymentLines.feeMinor })
      .from(paymentLines)
      .innerJoin(payments, eq(payments.id, paymentLines.paymentId))
      .innerJoin(offers, eq(offers.id, paymentLines.offerId))
      .innerJoin(rules, eq(rules.id, paymentLines.ruleId))
      .where(and(inArray(payments.id, chunk), inScope))
      .limit(maxLines - lines.length + 1);
    lines.push(...rows);
    if (lines.length > maxLines) return "too_many";
  }
  return lines;
}
