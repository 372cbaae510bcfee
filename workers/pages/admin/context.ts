// What every console page shares: its session, and a client of the very API that tokens use.
// The console never reads or writes D1 itself: each page calls /api/v1 inside the worker with
// the browser's session cookie (and, for a change, the session's CSRF token and this origin),
// so it passes the same authentication, the same roles, the same validation and the same audit
// as any other client. A viewer's console sees everything and changes nothing because the API
// says 403.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Env } from "../../../workflows/env";
import { CSRF_HEADER, csrfMatches, fromThisOrigin, sessionOf, type Session } from "../../session";

/** How the console reaches the API: the worker's own fetch, given by app.ts (no network). */
export type ApiFetch = (request: Request, env: Env, ctx: Context["executionCtx"]) => Response | Promise<Response>;

export interface ApiAnswer<T = unknown> {
  status: number;
  ok: boolean;
  body: T;
  etag: string | null;
}

/** An RFC 9457 problem as the API answers it. */
export interface Problem {
  code: string;
  detail: string;
  errors?: { path: string; message: string; code?: string }[];
}

export interface ConsoleApi {
  get<T>(path: string): Promise<ApiAnswer<T>>;
  send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer<T>>;
  /** A read whose answer is passed on as it comes (a CSV download, streamed): the API's own response. */
  download(path: string, accept: string): Promise<Response>;
}

export type ConsoleEnv = { Bindings: Env; Variables: { session: Session; api: ConsoleApi } };
export type ConsoleContext = Context<ConsoleEnv>;

function apiFor(c: Context<ConsoleEnv>, apiFetch: ApiFetch, session: Session): ConsoleApi {
  const origin = new URL(c.req.url).origin;
  const fetchApi = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> => {
    const h: Record<string, string> = { cookie: c.req.header("cookie") ?? "", accept: "application/json", ...headers };
    if (method !== "GET") {
      h.origin = origin;
      h[CSRF_HEADER] = session.csrf;
    }
    if (body !== undefined) h["content-type"] = "application/json";
    return Promise.resolve(apiFetch(new Request(`${origin}/api/v1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }), c.env, c.executionCtx));
  };
  const call = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> => {
    const res = await fetchApi(method, path, body, headers);
    const text = await res.text();
    return { status: res.status, ok: res.ok, body: (text === "" ? null : JSON.parse(text)) as T, etag: res.headers.get("etag") };
  };
  return { get: (path) => call("GET", path), send: (method, path, body, headers) => call(method, path, body, headers), download: (path, accept) => fetchApi("GET", path, undefined, { accept }) };
}

/**
 * Every console page but the sign-in: a live session, or the sign-in page (a form post without
 * one gets 401). A form post must come from this origin and carry the session's CSRF token in
 * `_csrf`; SameSite=Strict already keeps the cookie from other sites' requests.
 */
export function requireSession(apiFetch: ApiFetch) {
  return createMiddleware<ConsoleEnv>(async (c, next) => {
    const session = await sessionOf(c);
    if (!session) {
      if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect("/admin/login", 303);
      return c.text("Your session has ended: sign in again at /admin/login.", 401);
    }
    if (c.req.method === "POST") {
      const form = await c.req.parseBody();
      if (!fromThisOrigin(c) || !csrfMatches(session, typeof form._csrf === "string" ? form._csrf : undefined)) {
        return c.text("This form did not come from this console's page (CSRF check): reload the page and try again.", 403);
      }
    }
    c.set("session", session);
    c.set("api", apiFor(c, apiFetch, session));
    await next();
  });
}

/** The text of a form field (trimmed), or undefined when absent or empty. */
export async function field(c: ConsoleContext, name: string): Promise<string | undefined> {
  const value = (await c.req.parseBody())[name];
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** A problem answer's words for a person, with the fields at fault. */
export function problemText(answer: ApiAnswer): string {
  const p = answer.body as Problem | null;
  if (!p || typeof p.detail !== "string") return `The API answered ${answer.status}.`;
  return p.detail;
}

/** A datetime-local field ("2026-10-01T09:30", read as UTC) as ISO 8601, or undefined. */
export function utcFromLocalInput(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : value;
}
