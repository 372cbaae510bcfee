// The admin console's session: an API token typed once into /admin/login and exchanged for a
// cookie (HttpOnly, Secure, SameSite=Strict, __Host-: this origin only, never sent by another
// site, never readable by a script). D1 keeps only the SHA-256 of the session id. Every request
// checks the token again (principalOfCredential), so revoking it ends the session. A change
// made with the cookie must also carry the session's CSRF token and come from this origin.
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { sameDigest, sha256Hex, toHex } from "../core";
import { database, type Db } from "../db/client";
import { deleteExpiredSessions, deleteSession, findSession, insertSession } from "../db/queries/sessions";
import type { Env } from "../workflows/env";
import { principalOfCredential, type Principal } from "./credentials";

/** `__Host-`: the browser keeps it only if Secure, for Path=/ and this very host. */
export const SESSION_COOKIE = "__Host-pc_session";
/** A session lasts a working day; then the token is asked again. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** The header the console's script sends its CSRF token in; forms send the field `_csrf`. */
export const CSRF_HEADER = "x-csrf-token";

const randomHex = (bytes: number) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

export interface Session {
  principal: Principal;
  csrf: string;
  id_hash: string;
  expires_at_ms: number;
}

/** Opens a session for a token already checked; returns the cookie's value and the session. Expired sessions are swept at the same time. */
export async function openSession(db: Db, principal: Principal, credentialHash: string, nowMs: number): Promise<{ id: string; session: Session }> {
  const id = randomHex(32);
  const id_hash = await sha256Hex(id);
  const csrf = randomHex(32);
  const expires_at_ms = nowMs + SESSION_TTL_MS;
  await db.batch([deleteExpiredSessions(db, nowMs), insertSession(db, { id_hash, actor: principal.actor, credential_hash: credentialHash, csrf_token: csrf, created_at_ms: nowMs, expires_at_ms })]);
  return { id, session: { principal, csrf, id_hash, expires_at_ms } };
}

/** The request's session, if its cookie names one that has not expired and whose token still holds. */
export async function sessionOf<E extends { Bindings: Env }>(c: Context<E>): Promise<Session | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id === undefined || !/^[0-9a-f]{64}$/.test(id)) return null;
  const db = database(c.env.DB);
  const id_hash = await sha256Hex(id);
  const row = await findSession(db, id_hash, Date.now());
  if (!row) return null;
  const principal = await principalOfCredential(c.env, db, row.credential_hash);
  if (!principal || principal.actor !== row.actor) {
    // The token was revoked (or ADMIN_TOKEN changed): the session ends with it.
    await deleteSession(db, id_hash);
    return null;
  }
  return { principal, csrf: row.csrf_token, id_hash, expires_at_ms: row.expires_at_ms };
}

export async function closeSession<E extends { Bindings: Env }>(c: Context<E>, session: Session): Promise<void> {
  await deleteSession(database(c.env.DB), session.id_hash);
}

/** The Set-Cookie value: HttpOnly, Secure, SameSite=Strict, the whole site, for the session's life (or to clear it). */
export function sessionCookie(id: string | null, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id ?? ""}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${id === null ? 0 : maxAgeS}`;
}

/** True when the request says it comes from this origin (browsers send Origin on every POST). */
export function fromThisOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  return origin !== undefined && origin === new URL(c.req.url).origin;
}

/** A CSRF token matches the session's, compared in constant time. */
export function csrfMatches(session: Session, token: string | undefined): boolean {
  return typeof token === "string" && sameDigest(token, session.csrf);
}
