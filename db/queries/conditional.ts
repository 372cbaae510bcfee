import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../client";

/** A condition on a table that a statement of a batch checks when the batch runs. */
export interface OnlyIf {
  table: SQLiteTable;
  where: SQL | undefined;
}

/**
 * INSERT … SELECT: `row` is written only if `onlyIf` holds when the batch runs (one row at most).
 * Every column of the table is bound in order, so `row` names each one (null where empty):
 * defaults do not apply here.
 */
export function insertIf<T extends SQLiteTable>(db: Db, table: T, row: { [K in keyof T["_"]["columns"]]: unknown }, onlyIf: OnlyIf) {
  const values = row as Record<string, unknown>;
  const fields = Object.fromEntries(Object.keys(getTableColumns(table)).map((key) => [key, sql`${values[key] ?? null}`]));
  return db.insert(table).select(db.select(fields).from(onlyIf.table).where(onlyIf.where).limit(1) as never);
}
