// Who is calling the API. A bearer token (ADMIN_TOKEN, or a token stored hashed in D1, each
// with a role), or, for the admin console in a browser, its session cookie (workers/session.ts)
// with, for anything but a read, the session's CSRF token in X-CSRF-Token and this origin in
// Origin. Either way the principal and its role are the token's (workers/credentials.ts): the
// console can do exactly what its token can.
import { createMiddleware } from "hono/factory";
import { sha256Hex, toHex } from "../core";
import { database } from "../db/client";
import type { Env } from "../workflows/env";
import { principalOfCredential, type Principal } from "./credentials";
import { ApiError } from "./errors";
import { CSRF_HEADER, csrfMatches, fromThisOrigin, sessionOf } from "./session";

export type { Principal } from "./credentials";

export type AuthVariables = { principal: Principal };

const randomHex = (bytes: number) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

/** A new token and what is stored of it. The secret exists only in the answer that shows it. */
export async function newToken(): Promise<{ id: string; secret: string; hash: string }> {
  const secret = `pc_${randomHex(32)}`;
  return { id: `tok_${randomHex(8)}`, secret, hash: await sha256Hex(secret) };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const authenticate = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
    if (!match?.[1]) throw new ApiError("unauthorized", "send Authorization: Bearer <token>");
    const principal = await principalOfCredential(c.env, database(c.env.DB), await sha256Hex(match[1]));
    if (!principal) throw new ApiError("unauthorized", "the bearer token is unknown or revoked");
    c.set("principal", principal);
    return next();
  }
  const session = await sessionOf(c);
  if (!session) throw new ApiError("unauthorized", "send Authorization: Bearer <token> (or sign in to the console at /admin)");
  if (!SAFE_METHODS.has(c.req.method)) {
    // A cookie goes with every request the browser makes; a change must prove it comes from the console.
    if (!fromThisOrigin(c)) throw new ApiError("csrf_failed", "a change made with the console's session must come from this origin (Origin header)");
    if (!csrfMatches(session, c.req.header(CSRF_HEADER))) throw new ApiError("csrf_failed", `a change made with the console's session needs its CSRF token in ${CSRF_HEADER}`);
  }
  c.set("principal", session.principal);
  return next();
});

/** POSTs that compute and store nothing (a preview, a what-if): reads, for every role. */
const COMPUTING_POSTS = [/^\/api\/v1\/rules\/preview$/, /^\/api\/v1\/rules\/[^/]+\/what-if$/];

/**
 * What a `party` token may do: read its own balances and statement, read the pools (their
 * routes check that it is a member), declare its own needs, read proposals, and object to one
 * and lift its own objection (their routes check that the objection is its party's). A `party`
 * group in a path must be the token's own party.
 */
const PARTY_ROUTES: { methods: string[]; path: RegExp }[] = [
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/balances$/ },
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/parties\/(?<party>[^/]+)(?:\/statement)?$/ },
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/pools\/[^/]+(?:\/needs|\/periods|\/periods\/[^/]+)?$/ },
  { methods: ["PUT"], path: /^\/api\/v1\/pools\/[^/]+\/needs\/(?<party>[^/]+)$/ },
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/proposals(?:\/[^/]+)?$/ },
  { methods: ["POST"], path: /^\/api\/v1\/proposals\/[^/]+\/objections$/ },
  { methods: ["DELETE"], path: /^\/api\/v1\/proposals\/[^/]+\/objections\/[^/]+$/ },
];

function partyMay(method: string, path: string, party_id: string | undefined): boolean {
  return PARTY_ROUTES.some((route) => {
    if (!route.methods.includes(method)) return false;
    const match = route.path.exec(path);
    if (!match) return false;
    const named = match.groups?.["party"];
    if (named === undefined) return true;
    try {
      return decodeURIComponent(named) === party_id;
    } catch {
      return false;
    }
  });
}

/** Admins do anything; viewers read; a party token does what PARTY_ROUTES lists, for itself. */
export const authorize = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const principal = c.get("principal");
  if (principal.role === "party") {
    if (!partyMay(c.req.method, c.req.path, principal.party_id)) throw new ApiError("forbidden", `a party token reads its own party's balances and statement, declares its own needs, reads proposals and objects to them; nothing else`);
    return next();
  }
  const readOnly = c.req.method === "GET" || c.req.method === "HEAD" || (c.req.method === "POST" && COMPUTING_POSTS.some((p) => p.test(c.req.path)));
  if (!readOnly && principal.role !== "admin") {
    throw new ApiError("forbidden", `role ${principal.role} may read but not change anything`);
  }
  return next();
});

/**
 * Whether a principal may read a party's statement. Admins and viewers read every party's, a
 * party token its own. A role added later must say here what it may read: until it does, this
 * does not compile.
 */
export function mayReadPartyStatement(principal: Principal, partyId: string): boolean {
  switch (principal.role) {
    case "admin":
    case "viewer":
      return true;
    case "party":
      return principal.party_id === partyId;
  }
}

/** Whether a principal may export every posting of the ledger: admins and viewers. A role added later must say here whether it may. */
export function mayExportLedger(principal: Principal): boolean {
  switch (principal.role) {
    case "admin":
    case "viewer":
      return true;
    case "party":
      return false;
  }
}
