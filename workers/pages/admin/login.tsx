// Signing in: an API token typed into a form (never in a URL), checked like a bearer token,
// exchanged for a session cookie. The sign-in form has its own CSRF guard (a random value in
// a SameSite=Strict cookie and in the form, which must match, and Origin), so no other site
// can sign a browser into its own session either.
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { html } from "hono/html";
import { sameDigest, sha256Hex, toHex } from "../../../core";
import { database } from "../../../db/client";
import type { Env } from "../../../workflows/env";
import { principalOfCredential } from "../../credentials";
import { closeSession, fromThisOrigin, openSession, sessionCookie, sessionOf, SESSION_TTL_MS } from "../../session";
import { Page } from "../layout";

const LOGIN_COOKIE = "__Host-pc_login";

function loginCookie(value: string | null): string {
  return `${LOGIN_COOKIE}=${value ?? ""}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${value === null ? 0 : 1800}`;
}

function LoginPage(props: { guard: string; error?: string }) {
  return (
    <Page lang="en" title="Sign in · Pot Commun console" skip="Skip to the content" bodyClass="console" header={<header class="site"><p class="brand"><a href="/">Pot Commun</a></p></header>}>
      <h1>Sign in to the console</h1>
      <p>Paste an API token: the bootstrap ADMIN_TOKEN, or one made with POST /api/v1/tokens or npm run token. An admin token changes things; a viewer token sees everything and changes nothing; a party's token shows that party its balance, statement, pools and the proposals that affect it. The token is exchanged for a session cookie and is not kept by your browser.</p>
      {props.error ? (
        <p class="notice error" role="alert" data-testid="notice">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/admin/login" class="fields">
        <input type="hidden" name="_guard" value={props.guard} />
        <p>
          <label for="token">API token</label>
          <input type="password" id="token" name="token" autocomplete="off" required spellcheck={false} />
        </p>
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </Page>
  );
}

export const login = new Hono<{ Bindings: Env }>();

login.get("/login", async (c) => {
  if (await sessionOf(c)) return c.redirect("/admin", 303);
  const guard = toHex(crypto.getRandomValues(new Uint8Array(32)));
  c.header("set-cookie", loginCookie(guard));
  return c.html(html`<!doctype html>${(<LoginPage guard={guard} />)}`);
});

login.post("/login", async (c) => {
  const form = await c.req.parseBody();
  const guard = getCookie(c, LOGIN_COOKIE);
  const sent = typeof form._guard === "string" ? form._guard : "";
  const fresh = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const again = (status: 400 | 401 | 403, error: string) => {
    c.header("set-cookie", loginCookie(fresh));
    return c.html(html`<!doctype html>${(<LoginPage guard={fresh} error={error} />)}`, status);
  };
  if (!fromThisOrigin(c) || guard === undefined || !sameDigest(guard, sent)) return again(403, "This sign-in form did not come from this page (CSRF check): try again.");
  const token = typeof form.token === "string" ? form.token.trim() : "";
  if (!/^\S{1,512}$/.test(token)) return again(400, "Paste an API token (one word, no spaces).");
  const db = database(c.env.DB);
  const credentialHash = await sha256Hex(token);
  const principal = await principalOfCredential(c.env, db, credentialHash);
  if (!principal) return again(401, "That token is unknown or revoked.");
  // A party token signs in to its own small console (index.ts, partyConsole): the API's roles stay the only guard.
  const { id } = await openSession(db, principal, credentialHash, Date.now());
  c.header("set-cookie", sessionCookie(id, SESSION_TTL_MS / 1000), { append: true });
  c.header("set-cookie", loginCookie(null), { append: true });
  return c.redirect(principal.role === "party" ? "/admin/me" : "/admin", 303);
});

login.post("/logout", async (c) => {
  const session = await sessionOf(c);
  const form = await c.req.parseBody();
  if (session) {
    // Signing out is a change too: only from the console's own page.
    if (!fromThisOrigin(c) || typeof form._csrf !== "string" || !sameDigest(form._csrf, session.csrf)) return c.text("This form did not come from this console's page (CSRF check).", 403);
    await closeSession(c, session);
  }
  c.header("set-cookie", sessionCookie(null, 0));
  return c.redirect("/admin/login", 303);
});
