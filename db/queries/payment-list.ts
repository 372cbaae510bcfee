// The payments on the ledger, newest first, a page at a time: what the console lists.
import { sql } from "drizzle-orm";
import type { Db } from "../client";

export interface PaymentSummaryRow {
  id: string;
  source_type: "checkout.session" | "invoice";
  paid_at_s: number;
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  tax_minor: number;
  /** `rule_id@version`, comma-separated. */
  rule_versions: string;
  /** Offer ids, comma-separated. */
  offer_ids: string;
  refunded_minor: number;
  disputed_minor: number;
}

/** A page of payments paid before `before` (by paid time, then id), newest first. */
export async function listPayments(db: Db, before: { paid_at_s: number; id: string } | null, limit: number): Promise<PaymentSummaryRow[]> {
  const page = before === null ? sql`1 = 1` : sql`(p.paid_at_s < ${before.paid_at_s} or (p.paid_at_s = ${before.paid_at_s} and p.id < ${before.id}))`;
  return db.all<PaymentSummaryRow>(sql`
    select p.id as id, p.source_type as source_type, p.paid_at_s as paid_at_s, p.currency as currency,
           p.gross_minor as gross_minor, p.fee_minor as fee_minor, p.net_minor as net_minor, p.tax_minor as tax_minor,
           coalesce((select group_concat(distinct l.rule_id || '@' || l.rule_version) from payment_lines l where l.payment_id = p.id), '') as rule_versions,
           coalesce((select group_concat(distinct l.offer_id) from payment_lines l where l.payment_id = p.id), '') as offer_ids,
           coalesce((select sum(t.charge_amount_minor) from ledger_transactions t where t.payment_id = p.id and t.kind in ('refund', 'refund_failed')), 0) as refunded_minor,
           coalesce((select sum(t.charge_amount_minor) from ledger_transactions t where t.payment_id = p.id and t.kind in ('dispute_withdrawn', 'dispute_reinstated')), 0) as disputed_minor
    from payments p
    where ${page}
    order by p.paid_at_s desc, p.id desc
    limit ${limit}`);
}
