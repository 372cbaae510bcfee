// The payment lines a rule change would have touched: what the what-if replays. A line counts
// when it is in the rule's scope and was split by a rule no more specific than this one: a
// default rule's proposal does not reach the payments that an offer's own rule governs.
import { and, asc, desc, eq, gte, inArray, lte } from "drizzle-orm";
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

/**
 * The lines of the payments in a rule's scope paid since `sinceS` (seconds, as Stripe stamps
 * them), newest first, at most `maxLines`: when more were paid, the oldest are left out (whole
 * payments only) and `complete` is false. What a proposal's `affected` replays.
 */
export async function linesInScopePaidSince(db: Db, scope: RuleScope, sinceS: number, maxLines: number): Promise<{ lines: ReplayedLine[]; complete: boolean }> {
  const rows = await db
    .select({ payment_id: payments.id, currency: payments.currency, offer_id: paymentLines.offerId, gross_minor: paymentLines.grossMinor, fee_minor: paymentLines.feeMinor })
    .from(paymentLines)
    .innerJoin(payments, eq(payments.id, paymentLines.paymentId))
    .innerJoin(offers, eq(offers.id, paymentLines.offerId))
    .innerJoin(rules, eq(rules.id, paymentLines.ruleId))
    .where(
      and(
        gte(payments.paidAtS, sinceS),
        "offer_id" in scope ? eq(paymentLines.offerId, scope.offer_id) : "offer_kind" in scope ? eq(offers.kind, scope.offer_kind) : undefined,
        lte(ruleSpecificity, specificityOf(scope)),
      ),
    )
    .orderBy(desc(payments.paidAtS), desc(payments.id), asc(paymentLines.lineNo))
    .limit(maxLines + 1);
  if (rows.length <= maxLines) return { lines: rows, complete: true };
  // One line too many: drop the payment it belongs to, whose other lines may be missing too.
  const cut = rows[maxLines]?.payment_id;
  return { lines: rows.slice(0, maxLines).filter((r) => r.payment_id !== cut), complete: false };
}
