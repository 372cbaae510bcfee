// Admin console sessions (schema.ts, consoleSessions): stored by the SHA-256 of their id.
import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../client";
import { consoleSessions } from "../schema";

export interface SessionRow {
  actor: string;
  credential_hash: string;
  csrf_token: string;
  expires_at_ms: number;
}

export function insertSession(db: Db, s: { id_hash: string; actor: string; credential_hash: string; csrf_token: string; created_at_ms: number; expires_at_ms: number }) {
  return db.insert(consoleSessions).values({ idHash: s.id_hash, actor: s.actor, credentialHash: s.credential_hash, csrfToken: s.csrf_token, createdAtMs: s.created_at_ms, expiresAtMs: s.expires_at_ms });
}

/** The session, if it exists and has not expired at `nowMs`. */
export async function findSession(db: Db, idHash: string, nowMs: number): Promise<SessionRow | undefined> {
  const [row] = await db
    .select({ actor: consoleSessions.actor, credential_hash: consoleSessions.credentialHash, csrf_token: consoleSessions.csrfToken, expires_at_ms: consoleSessions.expiresAtMs })
    .from(consoleSessions)
    .where(and(eq(consoleSessions.idHash, idHash), gt(consoleSessions.expiresAtMs, nowMs)));
  return row;
}

export function deleteSession(db: Db, idHash: string) {
  return db.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
}

/** Sessions past their expiry: removed when someone signs in, so the table never grows without bound. */
export function deleteExpiredSessions(db: Db, nowMs: number) {
  return db.delete(consoleSessions).where(lte(consoleSessions.expiresAtMs, nowMs));
}
