import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof database>;

export function database(d1: D1Database) {
  return drizzle(d1, { schema });
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
