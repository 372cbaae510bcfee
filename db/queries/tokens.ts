import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../client";
import { apiTokens, type TokenRole } from "../schema";

export async function findActiveToken(db: Db, tokenHash: string) {
  return db.query.apiTokens.findFirst({
    where: and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAtMs)),
    columns: { id: true, role: true, partyId: true },
  });
}

const publicColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  role: apiTokens.role,
  party_id: apiTokens.partyId,
  created_by: apiTokens.createdBy,
  created_at_ms: apiTokens.createdAtMs,
  revoked_at_ms: apiTokens.revokedAtMs,
};

/** Tokens without their hashes. */
export async function listTokens(db: Db, limit = 1000) {
  return db.select(publicColumns).from(apiTokens).orderBy(asc(apiTokens.createdAtMs), asc(apiTokens.id)).limit(limit);
}

export async function getToken(db: Db, id: string) {
  const [row] = await db.select(publicColumns).from(apiTokens).where(eq(apiTokens.id, id));
  return row;
}

export function insertTokenStatement(db: Db, t: { id: string; name: string; role: TokenRole; partyId: string | null; tokenHash: string; createdBy: string }, nowMs: number) {
  return db.insert(apiTokens).values({ ...t, createdAtMs: nowMs });
}

export function revokeTokenStatement(db: Db, id: string, nowMs: number) {
  return db.update(apiTokens).set({ revokedAtMs: nowMs }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAtMs)));
}
