import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof drizzle<typeof schema, D1Database>>;

/** One drizzle instance per D1 binding: it holds no state of its own, and making one reads the whole schema. */
const instances = new WeakMap<D1Database, Db>();

/**
 * The database behind a D1 binding. Building a drizzle instance works out the relations of every
 * table, a few milliseconds of CPU that a payment paid several times over (once per request and
 * workflow step) until the instance was kept for the binding's lifetime.
 */
export function database(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    instances.set(d1, db);
  }
  return db;
}

/**
 * The D1 binding under `db`, for the few statements on a payment's way that run as plain SQL:
 * drizzle builds its SQL anew on every call (a fraction of a millisecond each, the larger part of
 * what a payment cost in CPU before), a prepared string does not.
 */
export function d1Of(db: Db): D1Database {
  return db.$client;
}

/** D1 reports a unique-key violation only in its message (other constraints differ). */
export function isUniqueViolation(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (/UNIQUE constraint failed/.test(e.message)) return true;
  }
  return false;
}

/** D1 binds at most 100 parameters per statement; lists of ids are looked up in chunks. */
export const MAX_IDS_PER_STATEMENT = 90;

export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function byChunks<T>(ids: readonly string[], query: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (const chunk of chunked(ids, MAX_IDS_PER_STATEMENT)) out.push(...(await query(chunk)));
  return out;
}
