// Hostile input (issue 12). fast-check sends random and mutated requests to every operation the
// served OpenAPI document lists (a new route is covered without touching this file): bodies
// shaped by the operation's schema with one place mutated, random JSON, text that is not JSON,
// wrong content types; path parameters that exist, that match the documented pattern, and
// garbage; query parameters valid and not; If-Match headers right, `*` and wrong; as an admin,
// a viewer, a party, an unknown token, a malformed header and nobody. Then the webhook: random bytes,
// signatures that do not match, a valid signature over text that is not JSON and over JSON
// that is not a Stripe event, oversized and chunked bodies, wrong content types, old signatures.
//
// Every answer is below 500; every refusal is a problem+json whose stable code has the status
// it came with; and a refused request changes no row of any table (a snapshot of every row of
// every table before and after). A request that succeeds may change things: the next request's
// snapshot is taken once any work it started in the background (a payout run, an event's run)
// is over.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { statusOf, type ErrorCode } from "../../workers/errors";
import { bodyFor, fromSchema, hostile, operationsOf, rowCounts, snapshot, type ApiDocument, type Operation } from "./fuzz";
import { api, call, deliverAndSettle, putStripeObjects, seedCatalog, signed } from "./helpers";

/** Thousands of requests in all; beside the other test files on two cores, each test takes tens of seconds. */
const FUZZ_TIMEOUT_MS = 240_000;

interface Fixture {
  doc: ApiDocument;
  operations: Operation[];
  /** Ids that exist, by the collection that names them in a path. */
  known: Record<string, string>;
  viewer: string;
  /** A party token: camille's. */
  party: string;
  event: { id: string; payload: string };
}

let fixture: Fixture;

// A catalog, a payment split and posted (its event and payment exist), a pool, a viewer's token and a party's.
beforeEach(async () => {
  await seedCatalog();
  const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro" });
  await putStripeObjects(built);
  await deliverAndSettle(built.event);
  const token = async (body: unknown) => (await (await api("/tokens", { method: "POST", body })).json()) as { id: string; token: string };
  const viewer = await token({ name: "fuzz viewer", role: "viewer" });
  const party = await token({ name: "fuzz party", role: "party", party_id: "camille" });
  expect((await api("/pools", { method: "POST", body: { id: "fuzz-pool", name: "Fuzz pool", members: ["camille", "dominique"] } })).status).toBe(201);
  const doc = (await (await call("/openapi.json")).json()) as ApiDocument;
  fixture = {
    doc,
    operations: operationsOf(doc),
    known: { parties: "camille", offers: "training-intro", rules: "default", events: built.event.id, payments: built.payment_intent.id, tokens: viewer.id, pools: "fuzz-pool", members: "camille", needs: "camille" },
    viewer: viewer.token,
    party: party.token,
    event: { id: built.event.id, payload: JSON.stringify(built.event) },
  };
});

type Principal = "admin" | "viewer" | "party" | "unknown token" | "malformed header" | "nobody";

function authorization(principal: Principal): Record<string, string> {
  switch (principal) {
    case "admin":
      return { authorization: `Bearer ${env.ADMIN_TOKEN}` };
    case "viewer":
      return { authorization: `Bearer ${fixture.viewer}` };
    case "party":
      return { authorization: `Bearer ${fixture.party}` };
    case "unknown token":
      return { authorization: "Bearer pc_0000000000000000000000000000000000000000000000000000000000000000" };
    case "malformed header":
      return { authorization: `Basic ${"A".repeat(600)}` };
    case "nobody":
      return {};
  }
}

/** A path parameter: one that exists, one that matches its pattern, or garbage (encoded, or not). */
function pathValue(op: Operation, name: string): fc.Arbitrary<string> {
  const param = op.parameters.find((p) => p.in === "path" && p.name === name);
  const segments = op.path.split("/");
  const collection = segments[segments.indexOf(`{${name}}`) - 1] ?? "";
  const existing = fixture.known[collection];
  const shaped = param ? fromSchema(param.schema, fixture.doc.components.schemas).map(String) : fc.string();
  return fc.oneof(
    { weight: 3, arbitrary: existing === undefined ? shaped : fc.constant(existing) },
    { weight: 2, arbitrary: shaped },
    { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 300, unit: "binary" }), fc.constantFrom("..", "%2e%2e", "a".repeat(300), "%00", "evt_", "pi_x;DROP", "tok_ABC")).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom("", "a/b", "..%2f..", "?x=1", "#frag") },
  );
}

/** Query parameters: each documented one valid, garbage or absent, sometimes repeated, sometimes one nobody asked for. */
function queryFor(op: Operation): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === "query");
  const value = (schema: ApiDocument["components"]["schemas"][string]) => fc.oneof(fromSchema(schema, fixture.doc.components.schemas).map(String), fc.string({ maxLength: 40 }), fc.constantFrom("-1", "0", "1e9", "9".repeat(40), "true", "[]", ""));
  const one = params.map((p) => fc.option(fc.array(value(p.schema), { minLength: 1, maxLength: 2 }).map((vs) => vs.map((v) => `${p.name}=${encodeURIComponent(v)}`).join("&")), { nil: "" }));
  return fc.tuple(fc.tuple(...one), fc.option(fc.string({ maxLength: 20 }), { nil: undefined })).map(([parts, extra]) => {
    const all = [...parts.filter(Boolean), ...(extra === undefined ? [] : [`${encodeURIComponent(extra)}=${encodeURIComponent(extra)}`])];
    return all.length === 0 ? "" : `?${all.join("&")}`;
  });
}

const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json, text/plain", ""];

/** A body: shaped by the schema and mutated, random JSON, or text that is not JSON at all; with a content type, mostly JSON's. */
function bodyText(op: Operation): fc.Arbitrary<{ body: string | undefined; contentType: string }> {
  const json = op.body ? fc.oneof({ weight: 5, arbitrary: bodyFor(op.body, fixture.doc.components.schemas) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) }) : fc.jsonValue({ maxDepth: 3 });
  const text = fc.oneof(
    { weight: 6, arbitrary: json.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: json.chain((v) => fc.nat().map((n) => JSON.stringify(v).slice(0, n % Math.max(1, JSON.stringify(v).length)))) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 200, unit: "binary" }), fc.constantFrom("", "null", "{", '{"a":', "[1,2", "\u0000", "{}".repeat(1000))) },
  );
  return fc.record({
    body: op.body || op.method !== "GET" ? fc.option(text, { nil: undefined, freq: 8 }) : fc.constant(undefined),
    contentType: fc.oneof({ weight: 6, arbitrary: fc.constant("application/json") }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
  });
}

/** If-Match: none, the resource's ETag as it is now, `*`, or garbage. */
const ifMatch = fc.oneof(fc.constant(undefined), fc.constant("current"), fc.constant("*"), fc.string({ maxLength: 300 }), fc.constantFrom('"sha256:0"', 'W/"x"', '"a", "b"', "*, *"));

interface FuzzRequest {
  op: Operation;
  path: string;
  body: string | undefined;
  contentType: string;
  ifMatch: string | undefined;
  principal: Principal;
}

function requestFor(principals: fc.Arbitrary<Principal>): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...fixture.operations).chain((op) => {
    const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
    return fc
      .record({ values: fc.tuple(...names.map((n) => pathValue(op, n))), query: queryFor(op), content: bodyText(op), ifMatch, principal: principals })
      .map(({ values, query, content, ifMatch: match, principal }) => ({
        op,
        path: names.reduce((p, n, i) => p.replace(`{${n}}`, values[i] ?? ""), op.path) + query,
        body: content.body,
        contentType: content.contentType,
        ifMatch: match,
        principal,
      }));
  });
}

/** The ETag the resource at `path` (or the one above it) has now, for an If-Match that is right. */
async function currentEtag(path: string): Promise<string> {
  const bare = path.split("?")[0] ?? path;
  for (const candidate of [bare, bare.split("/").slice(0, -1).join("/")]) {
    const res = await call(candidate, { headers: authorization("admin") });
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    if (etag) return etag;
  }
  return "*";
}

/** Waits until nothing started by a successful request is still writing: no payout run running, no event waiting for or in a run. */
async function quiet(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const busy = await env.DB.prepare("SELECT (SELECT count(*) FROM payout_runs WHERE status = 'running') + (SELECT count(*) FROM stripe_events WHERE status IN ('received', 'processing')) AS n").first<{ n: number }>();
    if (busy?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("background work started by a request did not finish within 10 s");
}

/** Sends a request; checks it is not a 5xx, and that a refusal is a problem with a stable code and changed nothing. Returns the status. */
async function sendChecked(what: string, path: string, init: RequestInit): Promise<number> {
  const before = await snapshot();
  const res = await call(path, init);
  const text = await res.text();
  if (res.status >= 500) throw new Error(`${what}: ${res.status} ${text.slice(0, 500)}`);
  if (res.status >= 400) {
    expect(res.headers.get("content-type"), `${what}: ${res.status}`).toBe("application/problem+json");
    const problem = JSON.parse(text) as { code: ErrorCode; detail: string };
    expect(statusOf(problem.code), `${what}: ${res.status} ${text.slice(0, 300)}`).toBe(res.status);
    expect(problem.detail.length, what).toBeGreaterThan(0);
    const after = await snapshot();
    if (after !== before) throw new Error(`${what}: refused with ${res.status} ${problem.code}, yet the database changed: rows ${JSON.stringify(rowCounts(before))} → ${JSON.stringify(rowCounts(after))}`);
  } else {
    await quiet();
  }
  return res.status;
}

async function sendApi(r: FuzzRequest): Promise<number> {
  const headers: Record<string, string> = { ...authorization(r.principal) };
  if (r.contentType) headers["content-type"] = r.contentType;
  if (r.ifMatch !== undefined) headers["if-match"] = r.ifMatch === "current" ? await currentEtag(r.path) : r.ifMatch;
  const init: RequestInit = { method: r.op.method, headers, ...(r.body === undefined || r.op.method === "GET" ? {} : { body: r.body }) };
  return sendChecked(`${r.principal} ${r.op.method} ${r.path.slice(0, 200)} (${r.op.id}) body ${(r.body ?? "").slice(0, 200)}`, r.path, init);
}

describe("every documented operation, fuzzed", () => {
  it("lists the operations from the served OpenAPI document, every one of them", () => {
    expect(fixture.operations.length).toBeGreaterThanOrEqual(50);
    expect(fixture.operations.filter((o) => o.public).map((o) => o.id).sort()).toEqual(["getPublicFlows", "listPublicProposals"]);
    expect(new Set(fixture.operations.map((o) => o.id)).size).toBe(fixture.operations.length);
    expect(fixture.operations.filter((o) => o.body !== null).map((o) => o.id)).toContain("createRule");
  });

  it("as an admin, with bodies shaped by each schema and mutated in one place: no 5xx, and a refusal changes nothing", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestFor(fc.constant("admin")), async (r) => {
        const status = await sendApi(r);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: 1_200 },
    );
    // The requests reach the handlers (successes) as well as the validation (400s): the fuzz is not all refused at the door.
    const successes = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    expect(successes).toBeGreaterThan(100);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  }, FUZZ_TIMEOUT_MS);

  it("as a viewer, an unknown token, a malformed header and nobody: no 5xx, and nothing changes unless an admin asked", async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(fc.constantFrom<Principal>("viewer", "unknown token", "malformed header", "nobody")), async (r) => {
        const before = await snapshot();
        const status = await sendApi(r);
        // A viewer may read and preview; nobody else gets past the door of an operation that needs a token.
        if (r.principal !== "viewer" && !r.op.public) expect(status, `${r.principal} ${r.op.method} ${r.path}`).toBe(401);
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: 600 },
    );
  }, FUZZ_TIMEOUT_MS);

  it("as a party (its own needs and statement, nothing else): no 5xx, and a refusal changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(fc.constant<Principal>("party")), async (r) => {
        await sendApi(r);
      }),
      { numRuns: 300 },
    );
  }, FUZZ_TIMEOUT_MS);

  it("with methods no route has, on every documented path: 404, nothing changes", async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(fc.constant("admin")), fc.constantFrom("PUT", "DELETE", "PATCH", "POST", "OPTIONS"), async (r, method) => {
        const documented = fixture.operations.some((o) => o.method === method && new RegExp(`^${o.path.replace(/\{\w+\}/g, "[^/]+")}(\\?|$)`).test(r.path));
        fc.pre(!documented);
        await sendApi({ ...r, op: { ...r.op, method } });
      }),
      { numRuns: 200 },
    );
  }, FUZZ_TIMEOUT_MS);
});

// ---- the webhook ---------------------------------------------------------------------------

const WEBHOOK = "/webhooks/stripe";

async function webhook(what: string, body: BodyInit | undefined, headers: Record<string, string>, extra: RequestInit = {}): Promise<number> {
  return sendChecked(`webhook: ${what}`, WEBHOOK, { method: "POST", headers, ...(body === undefined ? {} : { body }), ...extra });
}

const signatureHeader = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.stringMatching(/^[0-9a-f]{64}$/)).map(([t, v]) => `t=${t},v1=${v}`),
  fc.constantFrom("t=,v1=", "v1=abc", "t=abc,v1=abc", "t=1,v0=ab", `t=${Math.floor(Date.now() / 1000)},${"v1=00,".repeat(2_000)}`),
);

describe("the webhook, fuzzed", () => {
  it("refuses random bytes and random signatures with a 4xx, storing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_048 }), signatureHeader, fc.constantFrom(...CONTENT_TYPES), async (bytes, signature, contentType) => {
        const headers: Record<string, string> = { ...(signature === undefined ? {} : { "stripe-signature": signature }), ...(contentType ? { "content-type": contentType } : {}) };
        const status = await webhook("random bytes", bytes, headers);
        expect(status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 300 },
    );
  }, FUZZ_TIMEOUT_MS);

  it("refuses a valid signature over text that is not JSON, or JSON that is not a Stripe event, storing nothing", async () => {
    const notJson = fc.oneof(fc.string({ maxLength: 300, unit: "binary" }), fc.nat().map((n) => fixture.event.payload.slice(0, n % fixture.event.payload.length)), fc.constantFrom("", "{", "nul", "\uFEFF{}"));
    const notEvent = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, [], 1, "evt", { object: "event" }, { object: "event", id: "evt_x", type: "t", created: 1, data: null }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(notJson, notEvent.map((v) => JSON.stringify(v))), async (text) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const eventShaped = typeof parsed === "object" && parsed !== null && (parsed as { object?: unknown }).object === "event" && typeof (parsed as { data?: { object?: unknown } }).data?.object === "object";
        fc.pre(!eventShaped);
        const status = await webhook("signed, not an event", text, { "stripe-signature": await signed(text), "content-type": "application/json" });
        expect(status).toBe(400);
      }),
      { numRuns: 300 },
    );
  }, FUZZ_TIMEOUT_MS);

  it("takes a signed event mutated in one place, or refuses it, without a 5xx; a refusal stores nothing", async () => {
    const event = JSON.parse(fixture.event.payload) as Record<string, unknown>;
    const types = fc.constantFrom("checkout.session.completed", "checkout.session.async_payment_succeeded", "invoice.paid", "refund.created", "refund.updated", "refund.failed", "charge.dispute.created", "charge.dispute.closed", "charge.refunded", "customer.created");
    const mutated = fc
      .tuple(types, fc.nat(), fc.constantFrom("replace", "replace", "drop", "add" as const), hostile, fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^evt_[A-Za-z0-9]{8,24}$/) }, { weight: 1, arbitrary: fc.string({ maxLength: 120 }) }))
      .map(([type, choice, mutation, with_, id]) => {
        const base = { ...event, id, type };
        return mutation === "replace" ? replaceAt(base, choice, with_) : mutation === "drop" ? dropAt(base, choice) : { ...base, unknown_field: with_ };
      });
    await fc.assert(
      fc.asyncProperty(mutated, async (value) => {
        const text = JSON.stringify(value);
        await webhook(`signed mutated event ${text.slice(0, 300)}`, text, { "stripe-signature": await signed(text), "content-type": "application/json" });
      }),
      { numRuns: 300 },
    );
  }, FUZZ_TIMEOUT_MS);

  it("refuses a signature made more than 300 s ago, whatever the body; a fresh one over a known event is a duplicate that changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 301, max: 10 * 365 * 86_400 }), async (age_s) => {
        const payload = fixture.event.payload.replace(fixture.event.id, `evt_replayed${age_s}`);
        const status = await webhook(`a signature ${age_s} s old`, payload, { "stripe-signature": await signed(payload, { timestamp: Math.floor(Date.now() / 1000) - age_s }), "content-type": "application/json" });
        expect(status).toBe(400);
      }),
      { numRuns: 50 },
    );
    const before = await snapshot();
    const res = await call(WEBHOOK, { method: "POST", headers: { "stripe-signature": await signed(fixture.event.payload), "content-type": "application/json" }, body: fixture.event.payload });
    expect(await res.json()).toMatchObject({ received: true, duplicate: true });
    expect(await snapshot()).toBe(before);
  }, FUZZ_TIMEOUT_MS);

  it("refuses bodies above 512 KiB, with a Content-Length or chunked, signed or not, storing nothing; reads a signed chunked body under it", async () => {
    const big = `{"pad":"${"x".repeat(600 * 1024)}"}`;
    expect(await webhook("600 KiB with Content-Length, signed", big, { "stripe-signature": await signed(big), "content-type": "application/json" })).toBe(413);
    expect(await webhook("600 KiB chunked", chunked(new TextEncoder().encode(big), 7_919), { "stripe-signature": "t=1,v1=00" }, { duplex: "half" } as RequestInit)).toBe(413);
    expect(await webhook("300,000 two-byte characters", "é".repeat(300_000), { "stripe-signature": "t=1,v1=00" })).toBe(413);
    const event = fixture.event.payload.replace(fixture.event.id, "evt_chunked");
    const res = await call(WEBHOOK, { method: "POST", headers: { "stripe-signature": await signed(event) }, body: chunked(new TextEncoder().encode(event), 3), duplex: "half" } as RequestInit);
    expect(await res.json()).toMatchObject({ received: true, id: "evt_chunked" });
    await quiet();
  }, FUZZ_TIMEOUT_MS);

  it("takes a validly signed event whatever content type it says it is: the signature, not the header, vouches for it", async () => {
    for (const [i, contentType] of CONTENT_TYPES.entries()) {
      const payload = fixture.event.payload.replace(fixture.event.id, `evt_typed${i}`);
      const res = await call(WEBHOOK, { method: "POST", headers: { "stripe-signature": await signed(payload), ...(contentType ? { "content-type": contentType } : {}) }, body: payload });
      expect(res.status, contentType).toBe(200);
      await res.body?.cancel();
      await quiet();
    }
  });
});

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** Every place in a JSON object, as a path (the root apart). */
function places(value: unknown, at: string[] = []): string[][] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...places(v, [...at, k])]);
}

function replaceAt(value: Record<string, unknown>, choice: number, with_: unknown): Record<string, unknown> {
  const all = places(value);
  const path = all[choice % all.length] ?? [];
  const copy = structuredClone(value);
  let parent: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  parent[path[path.length - 1] as string] = with_;
  return copy;
}

function dropAt(value: Record<string, unknown>, choice: number): Record<string, unknown> {
  const all = places(value);
  const path = all[choice % all.length] ?? [];
  const copy = structuredClone(value);
  let parent: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  if (Array.isArray(parent)) parent.splice(Number(path[path.length - 1]), 1);
  else delete parent[path[path.length - 1] as string];
  return copy;
}
