// The admin console: a token exchanged for a session cookie (never in a URL), CSRF on every
// change, the same API and roles as a bearer token, and every admin task of the README from its
// pages. Browser behaviour (the live preview, the keyboard) is checked by npm run test:browser.
import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../core";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { SECTIONS } from "../../workers/pages/admin/layout";
import { ORIGIN, cookiesOf, get, post, signIn } from "./console-session";
import { api, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog } from "./helpers";

async function token(role: "admin" | "viewer", name = `${role} at the console`): Promise<{ id: string; token: string }> {
  return (await (await api("/tokens", { method: "POST", body: { name, role } })).json()) as { id: string; token: string };
}

beforeEach(async () => {
  await seedCatalog();
});

describe("signing in to the console", () => {
  it("sends a visitor without a session to the sign-in form, which asks for the token in a POST body", async () => {
    const res = await get("/admin/events");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
    const form = await get("/admin/login");
    const html = await form.text();
    expect(html).toContain('<form method="post" action="/admin/login"');
    expect(html).toContain('<input type="password" id="token" name="token"');
    expect(cookiesOf(form)["__Host-pc_login"]?.attributes).toBe("Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=1800");
  });

  it("exchanges the token for an HttpOnly, Secure, SameSite=Strict cookie whose id D1 keeps only as a hash, and never puts the token in a URL", async () => {
    const { id, token: secret } = await token("admin");
    const { res, cookie } = await signIn(secret);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    const session = cookiesOf(res)["__Host-pc_session"];
    expect(session?.attributes).toBe("Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=28800");
    expect(session?.value).toMatch(/^[0-9a-f]{64}$/);
    const rows = await env.DB.prepare("SELECT id_hash, actor, credential_hash FROM console_sessions").all<{ id_hash: string; actor: string; credential_hash: string }>();
    expect(rows.results).toEqual([{ id_hash: await sha256Hex(session?.value ?? ""), actor: `token:${id}`, credential_hash: await sha256Hex(secret) }]);
    const page = await (await get("/admin", { headers: { cookie } })).text();
    expect(page).toContain(`Signed in as token:${id} (admin)`);
    expect(page).not.toContain(secret);
  });

  it("refuses a wrong token (401), a form from elsewhere (403) and one without its guard (403)", async () => {
    expect((await signIn("not-a-token")).res.status).toBe(401);
    const form = await get("/admin/login");
    const guard = cookiesOf(form)["__Host-pc_login"]?.value ?? "";
    const body = new URLSearchParams({ _guard: guard, token: env.ADMIN_TOKEN });
    const elsewhere = await get("/admin/login", { method: "POST", headers: { origin: "https://evil.example", cookie: `__Host-pc_login=${guard}`, "content-type": "application/x-www-form-urlencoded" }, body });
    expect(elsewhere.status).toBe(403);
    const unguarded = await get("/admin/login", { method: "POST", headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" }, body });
    expect(unguarded.status).toBe(403);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM console_sessions").first<{ n: number }>()).toEqual({ n: 0 });
  });

  it("signs a party token in to its own console, not the admin's (console-consent.test.ts follows it further)", async () => {
    const made = await api("/tokens", { method: "POST", body: { name: "camille's own", role: "party", party_id: "camille" } });
    expect(made.status).toBe(201);
    const { res, cookie } = await signIn(((await made.json()) as { token: string }).token);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/me");
    expect((await get("/admin/events", { headers: { cookie } })).status).toBe(403);
  });

  it("ends the session when its token is revoked, and on sign-out", async () => {
    const viewer = await token("viewer");
    const session = await signIn(viewer.token);
    expect((await get("/api/v1/balances", { headers: { cookie: session.cookie } })).status).toBe(200);
    expect((await api(`/tokens/${viewer.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await get("/api/v1/balances", { headers: { cookie: session.cookie } })).status).toBe(401);
    expect((await get("/admin", { headers: { cookie: session.cookie } })).status).toBe(303);

    const admin = await signIn(env.ADMIN_TOKEN);
    const out = await post("/admin/logout", admin, {});
    expect(out.status).toBe(303);
    expect(cookiesOf(out)["__Host-pc_session"]?.attributes).toContain("Max-Age=0");
    expect((await get("/admin", { headers: { cookie: admin.cookie } })).status).toBe(303);
  });
});

describe("the API with the console's session", () => {
  it("reads with the cookie alone, and changes only with the session's CSRF token from this origin", async () => {
    const admin = await signIn(env.ADMIN_TOKEN);
    const headers = { cookie: admin.cookie, "content-type": "application/json" };
    const party = JSON.stringify({ id: "lou", kind: "contributor", name: "Lou" });
    expect((await get("/api/v1/parties", { headers })).status).toBe(200);
    const noToken = await get("/api/v1/parties", { method: "POST", headers: { ...headers, origin: ORIGIN }, body: party });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { code: string }).code).toBe("csrf_failed");
    const otherOrigin = await get("/api/v1/parties", { method: "POST", headers: { ...headers, origin: "https://evil.example", "x-csrf-token": admin.csrf }, body: party });
    expect(((await otherOrigin.json()) as { code: string }).code).toBe("csrf_failed");
    const wrongToken = await get("/api/v1/parties", { method: "POST", headers: { ...headers, origin: ORIGIN, "x-csrf-token": "0".repeat(64) }, body: party });
    expect(wrongToken.status).toBe(403);
    const ok = await get("/api/v1/parties", { method: "POST", headers: { ...headers, origin: ORIGIN, "x-csrf-token": admin.csrf }, body: party });
    expect(ok.status).toBe(201);
  });

  it("gives a viewer's session a viewer's rights: it previews, it cannot change", async () => {
    const viewer = await signIn((await token("viewer")).token);
    const headers = { cookie: viewer.cookie, "content-type": "application/json", origin: ORIGIN, "x-csrf-token": viewer.csrf };
    const preview = await get("/api/v1/rules/preview", { method: "POST", headers, body: JSON.stringify({ rule: { basis: "gross", lines: [{ to: "commons", share: "remaining" }] }, amount_minor: 100, currency: "eur" }) });
    expect(preview.status).toBe(200);
    const change = await get("/api/v1/parties", { method: "POST", headers, body: JSON.stringify({ id: "lou", kind: "contributor", name: "Lou" }) });
    expect(change.status).toBe(403);
    expect(((await change.json()) as { code: string }).code).toBe("forbidden");
  });
});

describe("the console's pages", () => {
  it("renders every section with one h1 under a CSP that runs only this origin's script, and caches nothing", async () => {
    const admin = await signIn(env.ADMIN_TOKEN);
    for (const [path, title] of SECTIONS) {
      const res = await get(path, { headers: { cookie: admin.cookie } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("cache-control"), path).toBe("no-store");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("default-src 'none'");
      const html = await res.text();
      expect(html.match(/<h1[ >]/g)?.length, path).toBe(1);
      if (path !== "/admin") expect(html, path).toContain(`<h1>${title === "Audit log" ? "Audit log" : title === "Events" ? "Events inbox" : title}</h1>`);
    }
  });

  it("refuses a form post without the session's CSRF token or from another origin, and changes nothing", async () => {
    const admin = await signIn(env.ADMIN_TOKEN);
    const fields = { id: "lou", kind: "contributor", name: "Lou" };
    expect((await post("/admin/parties", admin, fields, { csrf: null })).status).toBe(403);
    expect((await post("/admin/parties", admin, fields, { csrf: "f".repeat(64) })).status).toBe(403);
    expect((await post("/admin/parties", admin, fields, { origin: "https://evil.example" })).status).toBe(403);
    expect((await post("/admin/parties", admin, fields, { origin: null })).status).toBe(403);
    expect((await api("/parties/lou")).status).toBe(404);
  });

  it("makes changes through the API, audited as the signed-in token: a party, its public flag, a token shown once", async () => {
    const { id } = await token("admin", "treasurer");
    const session = await signIn((await (await api("/tokens", { method: "POST", body: { name: "console admin", role: "admin" } })).json() as { token: string }).token);
    const created = await post("/admin/parties", session, { id: "lou", kind: "contributor", name: "Lou", public: "true" });
    expect(created.status).toBe(303);
    expect(await (await api("/parties/lou")).json()).toEqual({ id: "lou", kind: "contributor", name: "Lou", public: true, stripe_account_id: null, payout_minimum_minor: 0 });
    const audit = (await (await api("/audit?entity_type=party&entity_id=lou")).json()) as { entries: { actor: string; action: string }[] };
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]?.action).toBe("party.create");
    expect(audit.entries[0]?.actor).toMatch(/^token:tok_/);
    const made = await post("/admin/tokens", session, { name: "auditor", role: "viewer" });
    expect(made.status).toBe(201);
    const secret = /<p class="secret" data-testid="secret">(pc_[0-9a-f]{64})<\/p>/.exec(await made.text())?.[1];
    expect(secret).toBeDefined();
    expect((await get("/api/v1/balances", { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    expect((await post(`/admin/tokens/${id}/revoke`, session, {})).status).toBe(303);
    expect(((await (await api("/tokens")).json()) as { tokens: { id: string; revoked_at: string | null }[] }).tokens.find((t) => t.id === id)?.revoked_at).not.toBeNull();
  });

  it("shows a viewer every page with its buttons disabled, and the API refuses the viewer's form posts", async () => {
    const viewer = await signIn((await token("viewer")).token);
    const page = await (await get("/admin/rules/default", { headers: { cookie: viewer.cookie } })).text();
    expect(page).toContain("You are signed in with a viewer token: you can see everything and change nothing.");
    expect(page).toMatch(/<button type="submit" id="save" disabled="" aria-describedby="viewer-note">Save as version 2<\/button>/);
    const saved = await post("/admin/rules/default/versions", viewer, { body: JSON.stringify({ basis: "net", lines: [{ to: "commons", share: "remaining" }] }), reason: "viewer tries", etag: "*" });
    expect(saved.status).toBe(403);
    expect(await saved.text()).toContain("role viewer may read but not change anything");
    expect(((await (await api("/rules/default")).json()) as { versions: unknown[] }).versions).toHaveLength(1);
  });

  it("saves a rule's next version from the editor with the ETag it read, and keeps the text when someone saved first", async () => {
    const admin = await signIn(env.ADMIN_TOKEN);
    const editor = await (await get("/admin/rules/default", { headers: { cookie: admin.cookie } })).text();
    const etag = /<input type="hidden" name="etag" value="([^"]+)"/.exec(editor)?.[1]?.replace(/&quot;/g, '"') ?? "";
    expect(etag).toMatch(/^"v1-/);
    const body = JSON.stringify({ basis: "net", lines: [{ to: "commons", share: "20%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] });
    const saved = await post("/admin/rules/default/versions", admin, { body, reason: "The assembly chose 20% for the commons", etag });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/admin/rules/default?done=saved&version=2");
    const page = await (await get("/admin/rules/default?done=saved&version=2", { headers: { cookie: admin.cookie } })).text();
    expect(page).toContain("Saved: version 2 is the rule&#39;s latest.");
    expect(page).toContain('<tr data-version="2"><th scope="row">2</th>');
    expect(page).toContain("changed <code>lines[0] (commons).share</code>: &quot;10%&quot; → &quot;20%&quot;");
    const stale = await post("/admin/rules/default/versions", admin, { body, reason: "again, from the old page", etag });
    expect(stale.status).toBe(412);
    const text = await stale.text();
    expect(text).toContain("Not saved: the rule changed since you read it");
    expect(text).toContain("again, from the old page");
  });

  it("retries from the inbox an event parked for an unknown offer, once the offer is created from the offers page", async () => {
    const admin = await signIn(env.ADMIN_TOKEN);
    const built = buildTrainingPayment({ amount_minor: 7000, currency: "eur", price_id: "price_console_workshop", fee_minor: 130 });
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    const inbox = await (await get("/admin/events?status=parked", { headers: { cookie: admin.cookie } })).text();
    expect(inbox).toContain(`<tr data-event="${built.event.id}">`);
    expect(inbox).toMatch(/unknown offer.*price_console_workshop/);
    const offer = await post("/admin/offers", admin, { id: "workshop", kind: "training", name: "Workshop", prices: "price_console_workshop", contributors: "camille 1" });
    expect(offer.status).toBe(303);
    await using rerun = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    const retry = await post(`/admin/events/${built.event.id}/retry`, admin, { back: "parked" });
    expect(retry.status).toBe(303);
    expect(retry.headers.get("location")).toBe(`/admin/events?status=parked&done=started&event=${built.event.id}`);
    await rerun.waitForStatus("complete");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed" });
    const processed = await (await get("/admin/events?status=processed", { headers: { cookie: admin.cookie } })).text();
    expect(processed).toContain(`<tr data-event="${built.event.id}">`);
  });
});
