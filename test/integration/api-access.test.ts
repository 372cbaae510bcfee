import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { createTokenSql } from "../../infra/scripts/token";
import { advanceClock, api, call, seedCatalog, setClock } from "./helpers";

beforeEach(async () => {
  await seedCatalog();
});

describe("/api/v1/tokens", () => {
  it("shows a new token's secret once, stores only its hash, and lists tokens without secrets", async () => {
    const res = await api("/tokens", { method: "POST", body: { name: "treasurer", role: "admin" } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; token: string; role: string };
    expect(created.token).toMatch(/^pc_[0-9a-f]{64}$/);

    const stored = await env.DB.prepare("SELECT token_hash FROM api_tokens WHERE id = ?").bind(created.id).first<{ token_hash: string }>();
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.token_hash).not.toContain(created.token);

    const listed = await (await api("/tokens")).text();
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.token);
    expect(listed).not.toContain(stored?.token_hash);

    expect((await api("/parties", { token: created.token })).status).toBe(200);
    expect((await api("/parties", { token: created.token, method: "POST", body: { id: "made-by-token", kind: "reserve", name: "R" } })).status).toBe(201);
  });

  it("revokes a token: it no longer authenticates, and revoking twice is a conflict", async () => {
    setClock("2031-03-12T09:00:00.000Z");
    const { id, token } = (await (await api("/tokens", { method: "POST", body: { name: "temp", role: "viewer" } })).json()) as { id: string; token: string };
    expect((await api("/balances", { token })).status).toBe(200);
    advanceClock(90_000);
    const revoked = await api(`/tokens/${id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ id, name: "temp", role: "viewer", party_id: null, created_by: "bootstrap", created_at: "2031-03-12T09:00:00.000Z", revoked_at: "2031-03-12T09:01:30.000Z" });
    expect((await api("/balances", { token })).status).toBe(401);
    expect((await api(`/tokens/${id}`, { method: "DELETE" })).status).toBe(409);
    expect((await api("/tokens/tok_0000", { method: "DELETE" })).status).toBe(404);
  });

  it("refuses a role that does not exist", async () => {
    const res = await api("/tokens", { method: "POST", body: { name: "x", role: "root" } });
    expect(res.status).toBe(400);
  });

  it("accepts a token made by the CLI's SQL, whose creation is audited as the CLI's", async () => {
    const { token, sql } = await createTokenSql("first admin", "admin", Date.parse("2031-03-12T09:00:00.000Z"));
    for (const statement of sql.split(/;\s*/).filter(Boolean)) await env.DB.prepare(statement).run();
    expect((await api("/tokens", { token: token.secret })).status).toBe(200);
    const audit = (await (await api(`/audit?entity_type=token&entity_id=${token.id}`)).json()) as { entries: { id: number }[] };
    expect(audit.entries).toEqual([
      { id: 1, at: "2031-03-12T09:00:00.000Z", actor: "cli", action: "token.create", entity_type: "token", entity_id: token.id, before: null, after: { id: token.id, name: "first admin", role: "admin" } },
    ]);
  });
});

describe("every documented route", () => {
  /** Every documented operation under /api/v1, but those documented without security (`security: []`), which `publicRoutes` lists. */
  async function documentedRoutes(which: "guarded" | "public" = "guarded"): Promise<[string, string][]> {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    return Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/v1/"))
      .flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([, op]) => (op.security?.length === 0) === (which === "public"))
          .map(([method]): [string, string] => [method.toUpperCase(), path.replace(/\{id\}/g, "evt_any")]),
      );
  }

  it("documents exactly the public routes without security, and they answer without a token", async () => {
    expect(await documentedRoutes("public")).toEqual([["GET", "/api/v1/public/proposals"], ["GET", "/api/v1/public/flows"]]);
    const res = await call("/api/v1/public/flows");
    expect(res.status).toBe(200);
    // A token is not needed, and a wrong one changes nothing: the route never reads it.
    expect((await call("/api/v1/public/flows", { headers: { authorization: "Bearer wrong" } })).status).toBe(200);
  });

  it("answers 401 without a token and with a revoked one", async () => {
    const { id, token } = (await (await api("/tokens", { method: "POST", body: { name: "soon revoked", role: "admin" } })).json()) as { id: string; token: string };
    expect((await api(`/tokens/${id}`, { method: "DELETE" })).status).toBe(200);
    const routes = await documentedRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const [method, path] of routes) {
      const anonymous = await call(path, { method, headers: { "content-type": "application/json" }, body: method === "GET" ? undefined : "{}" });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      const revoked = await api(path.slice("/api/v1".length), { method, token, body: method === "GET" ? undefined : {} });
      expect(revoked.status, `${method} ${path} (revoked)`).toBe(401);
    }
  });

  it("answers 403 to a viewer on every route that changes something", async () => {
    const viewer = (await (await api("/tokens", { method: "POST", body: { name: "reader", role: "viewer" } })).json()) as { token: string };
    const computing = /\/rules\/(preview|evt_any\/what-if)$/;
    const checked: string[] = [];
    for (const [method, path] of await documentedRoutes()) {
      if (method === "GET" || computing.test(path)) continue;
      const res = await api(path.slice("/api/v1".length), { method, token: viewer.token, body: {} });
      expect(res.status, `${method} ${path}`).toBe(403);
      checked.push(`${method} ${path}`);
    }
    // At least every change the README lists was among them (the loop cannot pass by finding none).
    expect(checked).toEqual(
      expect.arrayContaining([
        "POST /api/v1/events/evt_any/retry",
        "POST /api/v1/parties",
        "PATCH /api/v1/parties/evt_any",
        "POST /api/v1/offers",
        "PATCH /api/v1/offers/evt_any",
        "POST /api/v1/rules",
        "POST /api/v1/rules/evt_any/versions",
        "POST /api/v1/tokens",
        "DELETE /api/v1/tokens/evt_any",
        "PATCH /api/v1/rules/evt_any",
        "POST /api/v1/rules/evt_any/proposals",
        "POST /api/v1/proposals/evt_any/objections",
        "DELETE /api/v1/proposals/evt_any/objections/{objection_id}",
        "POST /api/v1/proposals/evt_any/amendments",
        "POST /api/v1/proposals/evt_any/approvals",
        "POST /api/v1/proposals/evt_any/withdrawal",
        "POST /api/v1/webhook-endpoints",
        "DELETE /api/v1/webhook-endpoints/evt_any",
      ]),
    );
  });
});

describe("GET /api/v1/audit", () => {
  it("records changes to parties and tokens with who, when, before and after, and never a secret", async () => {
    setClock("2031-03-12T09:00:00.000Z");
    expect((await api("/parties", { method: "POST", body: { id: "audited", kind: "contributor", name: "Audited" } })).status).toBe(201);
    advanceClock(1000);
    const { id } = (await (await api("/tokens", { method: "POST", body: { name: "audited-token", role: "viewer" } })).json()) as { id: string };
    advanceClock(1000);
    expect((await api(`/tokens/${id}`, { method: "DELETE" })).status).toBe(200);
    const log = (await (await api("/audit?limit=500")).json()) as { entries: unknown[] };
    const token = { id, name: "audited-token", role: "viewer", party_id: null, created_by: "bootstrap", created_at: "2031-03-12T09:00:01.000Z" };
    // The seeded catalog is written straight to D1 (helpers.ts), so it is not in the log.
    expect(log.entries).toEqual([
      { id: 3, at: "2031-03-12T09:00:02.000Z", actor: "bootstrap", action: "token.revoke", entity_type: "token", entity_id: id, before: { ...token, revoked_at: null }, after: { ...token, revoked_at: "2031-03-12T09:00:02.000Z" } },
      { id: 2, at: "2031-03-12T09:00:01.000Z", actor: "bootstrap", action: "token.create", entity_type: "token", entity_id: id, before: null, after: { id, name: "audited-token", role: "viewer", party_id: null } },
      { id: 1, at: "2031-03-12T09:00:00.000Z", actor: "bootstrap", action: "party.create", entity_type: "party", entity_id: "audited", before: null, after: { id: "audited", kind: "contributor", name: "Audited", public: false, stripe_account_id: null, payout_minimum_minor: 0 } },
    ]);
    expect(JSON.stringify(log)).not.toMatch(/pc_[0-9a-f]{64}/);
  });

  it("pages newest first: a page of 2, then what is before it", async () => {
    for (const n of [1, 2, 3]) await api("/parties", { method: "POST", body: { id: `page-${n}`, kind: "contributor", name: `P${n}` } });
    const first = (await (await api("/audit?limit=2")).json()) as { entries: { id: number; entity_id: string }[]; next_before: number };
    expect(first.entries.map((e) => [e.id, e.entity_id])).toEqual([[3, "page-3"], [2, "page-2"]]);
    expect(first.next_before).toBe(2);
    const second = (await (await api(`/audit?limit=2&before=${first.next_before}`)).json()) as { entries: { id: number; entity_id: string }[] };
    expect(second.entries.map((e) => [e.id, e.entity_id])).toEqual([[1, "page-1"]]);
  });
});

describe("the OpenAPI document and docs", () => {
  it("is OpenAPI 3.1 and documents every route, its schemas and its security", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/api/v1/rules", "/api/v1/rules/{id}", "/api/v1/rules/{id}/versions", "/api/v1/rules/{id}/diff", "/api/v1/rules/preview", "/api/v1/rules/{id}/what-if", "/api/v1/tokens", "/api/v1/tokens/{id}", "/api/v1/audit", "/api/v1/parties", "/api/v1/offers", "/api/v1/payments/{id}", "/api/v1/balances", "/api/v1/ledger/check", "/api/v1/events/{id}"]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.components.securitySchemes).toHaveProperty("bearerAuth");
    expect(doc.components.schemas).toHaveProperty("Problem");
  });

  it("serves interactive docs at /docs", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/openapi\.json/);
  });
});

/** Hundreds of requests each: alone they take a second or two, beside the other test files on two cores several times that. */
const FUZZ_TIMEOUT_MS = 30_000;

// Random and mutated requests on every documented route, and on the webhook: hostile-input.test.ts.
describe("no input, however malformed, yields a 5xx", () => {
  it("for rule-shaped bodies with random lines and shares", async () => {
    const share = fc.oneof(fc.constantFrom("10%", "remaining", "1/3", "0%", "100%", "-5%", "1/0", "abc", "12.5%", "1e3%"), fc.record({ fixed: fc.dictionary(fc.constantFrom("eur", "jpy", "EUR", "x"), fc.oneof(fc.integer(), fc.double())) }), fc.integer());
    const to = fc.oneof(fc.constantFrom("commons", "reserve", "contributors", "ghost", ""), fc.record({ group: fc.array(fc.record({ to: fc.constantFrom("commons", "reserve"), share }), { maxLength: 3 }) }));
    const rule = fc.record({ basis: fc.constantFrom("net", "gross", "weird"), lines: fc.array(fc.record({ to, share, max: fc.option(fc.dictionary(fc.constantFrom("eur"), fc.integer()), { nil: undefined }) }), { maxLength: 5 }) });
    await fc.assert(
      fc.asyncProperty(rule, fc.integer({ min: -10, max: 2 ** 40 }), async (body, amount) => {
        const res = await api("/rules/preview", { method: "POST", body: { rule: body, amount_minor: amount, currency: "eur", offer_id: "training-intro" } });
        await res.body?.cancel();
        return res.status < 500;
      }),
      { numRuns: 200 },
    );
  }, FUZZ_TIMEOUT_MS);

  it("for JSON nested far deeper than any rule, in every place a rule goes", async () => {
    const deep = JSON.parse(`${"[".repeat(50_000)}${"]".repeat(50_000)}`) as unknown;
    const rule = { basis: "net", lines: [{ to: "commons", share: deep }] };
    const etag = (await api("/rules/default")).headers.get("etag") ?? "";
    for (const [path, body] of [
      ["/rules/preview", { rule, amount_minor: 1, currency: "eur" }],
      ["/rules", { id: "deep", scope: { offer_kind: "hosting" }, version: { reason: "x", body: rule } }],
      ["/rules/default/versions", { reason: "x", body: rule }],
      ["/rules/default/what-if", { body: rule, last: 1 }],
    ] as const) {
      const res = await api(path, { method: "POST", body, headers: { "if-match": etag } });
      expect(res.status, path).toBe(422);
      expect(((await res.json()) as { detail: string }).detail.length).toBeLessThan(500);
    }
  });
});
