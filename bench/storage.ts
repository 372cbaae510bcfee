// What a processed payment occupies in D1, measured on the bench's own database once the load is
// over and the stack stopped: SQLite's dbstat gives the bytes of every table and index, pages
// included. Counted per payment: the ledger's tables (payments, their lines, transactions,
// postings) and the share of stripe_events held by the events that were split (the floor's
// events, stored by the bench only, are left out).
import { DatabaseSync } from "node:sqlite";
import { round } from "./stats";

export interface StorageResult {
  payments: number;
  bytes_per_payment: number;
  /** The whole D1 file, seed data and the floor's events included. */
  database_bytes: number;
  /** What each table, its indexes included, holds per payment. */
  per_payment_by_table: Record<string, number>;
}

const LEDGER_TABLES = ["payments", "payment_lines", "ledger_transactions", "postings", "account_balances"];

export function measureStorage(file: string): StorageResult {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const owner = new Map((db.prepare("select name, tbl_name from sqlite_schema where type in ('table', 'index')").all() as { name: string; tbl_name: string }[]).map((r) => [r.name, r.tbl_name]));
    const bytesByTable = new Map<string, number>();
    for (const row of db.prepare("select name, sum(pgsize) as bytes from dbstat group by name").all() as { name: string; bytes: number }[]) {
      const table = owner.get(row.name) ?? row.name;
      bytesByTable.set(table, (bytesByTable.get(table) ?? 0) + Number(row.bytes));
    }
    const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
    const payments = count("select count(*) as n from payments");
    if (payments === 0) throw new Error("no payment in the database: nothing to measure storage by");
    const events = count("select count(*) as n from stripe_events");
    const split = count("select count(*) as n from stripe_events where status = 'processed'");
    const per_payment_by_table: Record<string, number> = {};
    for (const table of LEDGER_TABLES) per_payment_by_table[table] = round((bytesByTable.get(table) ?? 0) / payments, 0);
    per_payment_by_table.stripe_events = round(((bytesByTable.get("stripe_events") ?? 0) * (split / Math.max(events, 1))) / payments, 0);
    const page = db.prepare("pragma page_size").get() as { page_size: number };
    const pages = db.prepare("pragma page_count").get() as { page_count: number };
    return {
      payments,
      bytes_per_payment: Object.values(per_payment_by_table).reduce((a, b) => a + b, 0),
      database_bytes: Number(page.page_size) * Number(pages.page_count),
      per_payment_by_table,
    };
  } finally {
    db.close();
  }
}
