// What the integration tests share: calling the worker, signing Stripe events, feeding the
// emulator, setting the clock, and a catalog written straight to D1 with rule versions in force
// since 1970 (the API refuses past dates, rightly; tests of the payment path need a rule in force).
// D1 is emptied before every test (setup.ts); the emulator is shared by every test file.
import { introspectWorkflow, introspectWorkflowInstance } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import Stripe from "stripe";
import { vi } from "vitest";
import { DEMO_RULE } from "../../infra/seed";
import { emulatorObjects, type HostingPayment, type SubscriptionCheckout, type TrainingPayment } from "../../infra/stripe-emulator/objects";

const stripe = new Stripe("sk_test_local");

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://pot-commun.test${path}`, init));
}

export function api(path: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? env.ADMIN_TOKEN}`, ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return call(`/api/v1${path}`, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

export async function signed(payload: string, opts: { secret?: string; timestamp?: number } = {}): Promise<string> {
  return stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: opts.secret ?? env.STRIPE_WEBHOOK_SECRET, timestamp: opts.timestamp });
}

export async function deliver(event: unknown, opts: { secret?: string; timestamp?: number } = {}): Promise<Response> {
  const payload = JSON.stringify(event);
  return call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": await signed(payload, opts), "content-type": "application/json" }, body: payload });
}

export async function putStripeObjects(built: TrainingPayment | HostingPayment | SubscriptionCheckout): Promise<void> {
  const res = await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) });
  if (!res.ok) throw new Error(`emulator refused objects: ${res.status} ${await res.text()}`);
}

/** Delivers an event and waits for its workflow to finish; returns the workflow's output. */
export async function deliverAndSettle(event: { id: string }, configure?: Parameters<Awaited<ReturnType<typeof introspectWorkflowInstance>>["modify"]>[0]): Promise<unknown> {
  await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, event.id);
  if (configure) await instance.modify(configure);
  const res = await deliver(event);
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  await instance.waitForStatus("complete");
  return instance.getOutput();
}

/**
 * Freezes the clock at `at`. The worker runs in the tests' isolate, so its Date.now() is this
 * one too (handlers and workflow steps alike); timers stay real. setup.ts restores the real clock
 * after each test. Returns the frozen time in ms.
 */
export function setClock(at: string | number): number {
  vi.setSystemTime(new Date(at));
  return Date.now();
}

/** Moves a frozen clock (setClock) forward by `ms`; returns the new time in ms. */
export function advanceClock(ms: number): number {
  vi.setSystemTime(new Date(Date.now() + ms));
  return Date.now();
}

/** Makes the emulator answer `status` to the next `times` requests whose path starts with `path_prefix`. */
export async function stripeFault(path_prefix: string, status: number, times: number): Promise<void> {
  // Always scoped to a path: the emulator is shared by test files that may run at the same time.
  const res = await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path_prefix, status, times }) });
  if (!res.ok) throw new Error(`emulator refused the fault: ${res.status} ${await res.text()}`);
}

/** The emulator's log of the requests it answered (every test file's), as `status` by `path`. */
export async function stripeRequests(path_prefix: string): Promise<{ method: string; path: string; status: number }[]> {
  const log = (await (await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/requests")).json()) as { requests: { method: string; path: string; status: number }[] };
  return log.requests.filter((r) => r.path.startsWith(path_prefix)).map((r) => ({ method: r.method, path: r.path, status: r.status }));
}

export async function eventStatus(id: string): Promise<{ status: string; reason: string | null }> {
  return (await (await api(`/events/${id}`)).json()) as { status: string; reason: string | null };
}

/** The demo seed's default rule: 10% commons, 15% reserve, the rest to contributors, on net. */
export const DEFAULT_RULE = DEMO_RULE;

/** Parties, two offers and a default rule (each at version 1, in force since the epoch). Idempotent. */
export async function seedCatalog(rule: unknown = DEFAULT_RULE): Promise<void> {
  const sql = [
    `INSERT OR IGNORE INTO parties (id, kind, name, created_at_ms) VALUES ('commons','commons','Commons',0), ('reserve','reserve','Reserve',0), ('camille','contributor','Camille',0), ('dominique','contributor','Dominique',0), ('sacha','contributor','Sacha',0)`,
    `INSERT OR IGNORE INTO offers (id, kind, created_at_ms) VALUES ('training-intro','training',0), ('hosting-basic','hosting',0)`,
    `INSERT OR IGNORE INTO offer_versions (offer_id, version, effective_from_ms, name, author, reason, created_at_ms) VALUES ('training-intro',1,0,'Training','test',NULL,0), ('hosting-basic',1,0,'Hosting','test',NULL,0)`,
    `INSERT OR IGNORE INTO offer_version_prices (offer_id, version, price_id) VALUES ('training-intro',1,'price_training_intro'), ('hosting-basic',1,'price_hosting_basic')`,
    `INSERT OR IGNORE INTO offer_version_contributors (offer_id, version, party_id, weight, position) VALUES ('training-intro',1,'camille',2,0), ('training-intro',1,'dominique',1,1), ('hosting-basic',1,'sacha',1,0)`,
    `INSERT OR IGNORE INTO rules (id, scope_kind, scope_value, created_at_ms) VALUES ('default','default','',0)`,
  ];
  await env.DB.batch([
    ...sql.map((s) => env.DB.prepare(s)),
    env.DB.prepare(`INSERT OR IGNORE INTO rule_versions (rule_id, version, effective_from_ms, body, content_hash, author, reason, created_at_ms) VALUES ('default', 1, 0, ?, 'sha256:test', 'test', 'test seed', 0)`).bind(JSON.stringify(rule)),
  ]);
}

/** An offer written straight to D1, at version 1 in force since the epoch: for states the API refuses (no contributors under a rule that needs them). */
export async function insertOffer(offer: { id: string; kind: "training" | "hosting"; name: string; stripe_price_ids?: string[]; contributors?: { party_id: string; weight: number }[] }): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("INSERT INTO offers (id, kind, created_at_ms) VALUES (?, ?, 0)").bind(offer.id, offer.kind),
    env.DB.prepare("INSERT INTO offer_versions (offer_id, version, effective_from_ms, name, author, reason, created_at_ms) VALUES (?, 1, 0, ?, 'test', NULL, 0)").bind(offer.id, offer.name),
    ...(offer.stripe_price_ids ?? []).map((price) => env.DB.prepare("INSERT INTO offer_version_prices (offer_id, version, price_id) VALUES (?, 1, ?)").bind(offer.id, price)),
    ...(offer.contributors ?? []).map((c, i) => env.DB.prepare("INSERT INTO offer_version_contributors (offer_id, version, party_id, weight, position) VALUES (?, 1, ?, ?, ?)").bind(offer.id, c.party_id, c.weight, i)),
  ]);
}

export type WorkflowIntrospector = Awaited<ReturnType<typeof introspectWorkflow>>;

/** Every instance the introspector saw start, waited for to complete; their outputs, in order. */
export async function allComplete(introspector: WorkflowIntrospector): Promise<unknown[]> {
  const outputs: unknown[] = [];
  for (const instance of await introspector.get()) {
    await instance.waitForStatus("complete");
    outputs.push(await instance.getOutput());
  }
  return outputs;
}
