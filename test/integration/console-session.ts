// The console as a browser drives it, for integration tests: a session opened with a token,
// pages read without following redirects, and form posts carrying the session's CSRF token.
import { call } from "./helpers";

export const ORIGIN = "http://pot-commun.test";

export interface ConsoleSession {
  cookie: string;
  csrf: string;
  /** Where the sign-in sent the browser: /admin, or /admin/me for a party. */
  home: string;
  res: Response;
}

/** The worker's own answer: a redirect is looked at, not followed (a service binding's fetch follows by default). */
export function get(path: string, init: RequestInit = {}): Promise<Response> {
  return call(path, { redirect: "manual", ...init });
}

/** The cookie pairs a response sets, as a Cookie header would send them back. */
export function cookiesOf(res: Response): Record<string, { value: string; attributes: string }> {
  return Object.fromEntries(
    res.headers.getSetCookie().map((line) => {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      return [pair.slice(0, at), { value: pair.slice(at + 1), attributes: attributes.join(";").trim() }];
    }),
  );
}

export async function signIn(token: string): Promise<ConsoleSession> {
  const form = await get("/admin/login");
  const guard = cookiesOf(form)["__Host-pc_login"]?.value ?? "";
  const res = await get("/admin/login", { method: "POST", headers: { origin: ORIGIN, cookie: `__Host-pc_login=${guard}`, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ _guard: guard, token }) });
  const session = cookiesOf(res)["__Host-pc_session"]?.value ?? "";
  const cookie = `__Host-pc_session=${session}`;
  const home = res.headers.get("location") ?? "/admin";
  const page = await (await get(home, { headers: { cookie } })).text();
  return { cookie, home, csrf: /<meta name="csrf-token" content="([0-9a-f]+)"/.exec(page)?.[1] ?? "", res };
}

/** A console page as the signed-in browser reads it. */
export function page(path: string, who: { cookie: string }): Promise<Response> {
  return get(path, { headers: { cookie: who.cookie } });
}

/** A console form post, as the browser sends it from the console's page (a field given a list repeats, like checkboxes). */
export function post(path: string, who: { cookie: string; csrf: string }, fields: Record<string, string | string[]>, opts: { origin?: string | null; csrf?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { cookie: who.cookie, "content-type": "application/x-www-form-urlencoded" };
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
  if (opts.csrf !== null) body.set("_csrf", opts.csrf ?? who.csrf);
  return get(path, { method: "POST", headers, body });
}

/** A hidden input's value as the page wrote it (HTML-escaped quotes read back). */
export function hiddenValue(html: string, name: string): string {
  return new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&quot;/g, '"') ?? "";
}
