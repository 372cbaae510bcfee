// The event types the project handles, in one list (workflows/payment-events.ts), and
// `npm run stripe:setup` (infra/scripts/stripe-setup.ts), which registers exactly those at
// Stripe: run against the emulator, in-process and as the command a user runs.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";

import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createStripeEmulator, type StripeEmulator } from "../../infra/stripe-emulator/app";
import { serveEmulator, type RunningEmulator } from "../../infra/stripe-emulator/main";
import { describeSetup, endpointUrl, explainStripeError, parseSetupArgs, SetupError, setupWebhookEndpoint, stripeSettings } from "../../infra/scripts/stripe-setup";
import { classifyEvent, HANDLED_EVENT_TYPES } from "../../workflows/payment-events";
import { STRIPE_API_VERSION } from "../../workflows/stripe-version";

const root = resolve(import.meta.dirname, "../..");

/** Every event type Stripe can send, as the stripe SDK of the pinned version lists them (what an endpoint may enable). */
function stripeEventTypes(): string[] {
  const types = readFileSync(resolve(root, "node_modules/stripe/esm/resources/WebhookEndpoints.d.ts"), "utf8");
  const union = /type EnabledEvent = ([^;]+);/.exec(types)?.[1] ?? "";
  return [...union.matchAll(/'([^']+)'/g)].map((m) => m[1] as string).filter((t) => t !== "*");
}

describe("the event types the project handles", () => {
  const all = stripeEventTypes();

  it("are read from the SDK's list of Stripe's event types, which holds them all", () => {
    expect(all.length).toBeGreaterThan(200);
    expect(all.filter((t) => (HANDLED_EVENT_TYPES as readonly string[]).includes(t)).sort()).toEqual([...HANDLED_EVENT_TYPES].sort());
  });

  it("are exactly those classifyEvent handles: each of them for an object that moves money, no other type for any object", () => {
    // An object that passes every check classifyEvent makes: a paid Checkout in payment mode, an
    // invoice with something paid, a refund that succeeded, a dispute that is no inquiry.
    const object = { id: "obj_1", mode: "payment", payment_status: "paid", amount_paid: 100, status: "succeeded" };
    const handled = all.filter((type) => classifyEvent({ type, data: { object } }).handled);
    expect(handled.sort()).toEqual([...HANDLED_EVENT_TYPES].sort());
    // and charge.refunded, classified on purpose, is not among them: each refund's own events are split
    expect(classifyEvent({ type: "charge.refunded", data: { object } })).toMatchObject({ handled: false });
  });

  it("are the ones the README tells to enable, with the Stripe CLI and in the Dashboard", () => {
    const readme = readFileSync(resolve(root, "README.md"), "utf8");
    const cli = /--events ([a-z_.,]+)/.exec(readme)?.[1]?.split(",");
    expect(cli).toEqual([...HANDLED_EVENT_TYPES]);
    const deploy = readme.slice(readme.indexOf("## Deploy"));
    const listed = /with the events ((?:`[a-z_.]+`(?:, | and )?)+)/.exec(deploy)?.[1];
    expect([...(listed ?? "").matchAll(/`([a-z_.]+)`/g)].map((m) => m[1])).toEqual([...HANDLED_EVENT_TYPES]);
  });
});

describe("stripe:setup's command line", () => {
  it("takes an https URL of the worker's webhook path, and gives a bare origin that path", () => {
    expect(parseSetupArgs(["--url", "https://pot-commun.example.workers.dev/webhooks/stripe"], false)).toEqual({ url: "https://pot-commun.example.workers.dev/webhooks/stripe", recreate: false });
    expect(parseSetupArgs(["--url", "https://pot-commun.example.workers.dev", "--recreate"], false)).toEqual({ url: "https://pot-commun.example.workers.dev/webhooks/stripe", recreate: true });
    expect(endpointUrl("http://127.0.0.1:8787/webhooks/stripe", true)).toBe("http://127.0.0.1:8787/webhooks/stripe");
    expect(parseSetupArgs(["--help"], false)).toBe("help");
  });

  it.each([
    [["--url", "pot-commun.example/webhooks/stripe"], false, /is not a URL/],
    [["--url", "http://pot-commun.example/webhooks/stripe"], false, /must use https/],
    [["--url", "http://127.0.0.1:8787/webhooks/stripe"], false, /must use https/],
    [["--url", "https://pot-commun.example/hooks"], false, /at \/webhooks\/stripe, not \/hooks/],
    [["--url", "https://pot-commun.example/webhooks/stripe?x=1"], false, /query or a fragment/],
    [["--url", "https://user:pw@pot-commun.example/webhooks/stripe"], false, /credentials/],
    [[], false, /--url is required/],
    [["--url", "https://pot-commun.example", "--force"], false, /Unknown option '--force'/],
  ] as const)("refuses %j with a clear message", (argv, local, message) => {
    expect(() => parseSetupArgs([...argv], local)).toThrow(SetupError);
    expect(() => parseSetupArgs([...argv], local)).toThrow(message);
  });
});

describe("stripe:setup's key", () => {
  const local = () => ({ STRIPE_SECRET_KEY: "sk_test_local", STRIPE_API_BASE: "http://127.0.0.1:12111" });
  it("comes with its API base from the environment when it sets the key, so a deployment's key never meets .dev.vars' emulator", () => {
    expect(stripeSettings({ STRIPE_SECRET_KEY: "rk_live_x" }, local)).toEqual({ key: "rk_live_x", base: undefined });
    expect(stripeSettings({ STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_BASE: "http://127.0.0.1:9999" }, local)).toEqual({ key: "sk_test_x", base: "http://127.0.0.1:9999" });
  });
  it("comes from .dev.vars otherwise (the emulator of npm start)", () => {
    expect(stripeSettings({}, local)).toEqual({ key: "sk_test_local", base: "http://127.0.0.1:12111" });
    expect(stripeSettings({}, () => ({}))).toEqual({ key: undefined, base: undefined });
  });
});

describe("stripe:setup against the emulator", () => {
  const URL_ = "https://pot-commun.example.workers.dev/webhooks/stripe";
  let app: StripeEmulator;
  const client = (key = "sk_test_local") =>
    new Stripe(key, { apiVersion: STRIPE_API_VERSION, httpClient: Stripe.createFetchHttpClient(async (url, init) => app.fetch(new Request(url, init))), host: "127.0.0.1", port: 12111, protocol: "http", maxNetworkRetries: 0 });
  beforeEach(() => {
    app = createStripeEmulator();
  });

  it("creates the endpoint with exactly the handled events in the pinned API version, and shows its secret once; run again, it changes nothing", async () => {
    const made = await setupWebhookEndpoint(client(), { url: URL_, recreate: false });
    expect(made).toMatchObject({ action: "created", endpoint: { url: URL_, enabled_events: [...HANDLED_EVENT_TYPES], api_version: STRIPE_API_VERSION, status: "enabled" } });
    expect(made.secret).toMatch(/^whsec_/);
    const stored = await client().webhookEndpoints.retrieve(made.endpoint.id);
    expect([stored.enabled_events, stored.api_version, stored.secret]).toEqual([[...HANDLED_EVENT_TYPES], STRIPE_API_VERSION, undefined]);

    const again = await setupWebhookEndpoint(client(), { url: URL_, recreate: false });
    expect(again).toEqual({ action: "unchanged", endpoint: made.endpoint, secret: null });
    expect((await client().webhookEndpoints.list()).data).toHaveLength(1);
  });

  it("finds the endpoint of that URL and sets its events to exactly the handled ones, enabling it, keeping its secret", async () => {
    const other = await client().webhookEndpoints.create({ url: "https://elsewhere.example/hook", enabled_events: ["charge.succeeded"] });
    const old = await client().webhookEndpoints.create({ url: URL_, enabled_events: ["invoice.paid", "customer.created"], api_version: STRIPE_API_VERSION });
    await client().webhookEndpoints.update(old.id, { disabled: true });
    const result = await setupWebhookEndpoint(client(), { url: URL_, recreate: false });
    expect(result).toMatchObject({ action: "updated", secret: null, endpoint: { id: old.id, enabled_events: [...HANDLED_EVENT_TYPES], status: "enabled" } });
    expect((await client().webhookEndpoints.retrieve(other.id)).enabled_events).toEqual(["charge.succeeded"]);
  });

  it("refuses an endpoint in another API version, which Stripe cannot change, and --recreate replaces it with a new secret", async () => {
    const old = await client().webhookEndpoints.create({ url: URL_, enabled_events: [...HANDLED_EVENT_TYPES], api_version: "2025-03-31.basil" });
    await expect(setupWebhookEndpoint(client(), { url: URL_, recreate: false })).rejects.toThrow(/API version 2025-03-31\.basil, the worker reads 2026-10-28\.endive.*--recreate/);
    const result = await setupWebhookEndpoint(client(), { url: URL_, recreate: true });
    expect(result.action).toBe("recreated");
    expect(result.endpoint.id).not.toBe(old.id);
    expect(result.secret).toMatch(/^whsec_/);
    expect((await client().webhookEndpoints.list()).data.map((e) => e.id)).toEqual([result.endpoint.id]);
  });

  it("refuses two endpoints for one URL (each event would come twice) unless --recreate", async () => {
    await client().webhookEndpoints.create({ url: URL_, enabled_events: ["invoice.paid"], api_version: STRIPE_API_VERSION });
    await client().webhookEndpoints.create({ url: URL_, enabled_events: ["invoice.paid"], api_version: STRIPE_API_VERSION });
    await expect(setupWebhookEndpoint(client(), { url: URL_, recreate: false })).rejects.toThrow(/2 endpoints for .*--recreate/);
    expect((await setupWebhookEndpoint(client(), { url: URL_, recreate: true })).action).toBe("recreated");
    expect((await client().webhookEndpoints.list()).data).toHaveLength(1);
  });

  it("says which key was refused and why", async () => {
    const refused = await setupWebhookEndpoint(client("pk_test_not_secret"), { url: URL_, recreate: false }).catch((e: unknown) => e);
    expect(explainStripeError(refused, "Stripe").message).toMatch(/^Stripe refused the key in STRIPE_SECRET_KEY \(401: Invalid API Key provided/);
    await app.fetch(new Request("http://127.0.0.1:12111/_emulator/faults", { method: "POST", body: JSON.stringify({ path_prefix: "/v1/webhook_endpoints", status: 403, times: 1, error: { type: "invalid_request_error", message: "The provided key does not have the required permissions" } }) }));
    const forbidden = await setupWebhookEndpoint(client("rk_test_restricted"), { url: URL_, recreate: false }).catch((e: unknown) => e);
    expect(explainStripeError(forbidden, "Stripe").message).toMatch(/^Stripe refused the request \(403: .*\): a restricted key needs write access to Webhook Endpoints/);
  });

  it("tells where the secret goes: .dev.vars locally, wrangler's secrets for a deployment", () => {
    const result = { action: "created" as const, endpoint: { id: "we_1", url: URL_, enabled_events: ["invoice.paid"], api_version: STRIPE_API_VERSION, status: "enabled" }, secret: "whsec_abc" };
    expect(describeSetup(result, true)).toContain("it goes in .dev.vars: STRIPE_WEBHOOK_SECRET=whsec_abc (then restart npm start)");
    expect(describeSetup(result, false)).toContain("it goes in the worker's secrets: npx wrangler secret put STRIPE_WEBHOOK_SECRET (paste it when asked)");
    expect(describeSetup({ ...result, action: "unchanged", secret: null }, false).at(-1)).toMatch(/^its signing secret is unchanged/);
  });
});

describe("npm run stripe:setup, as a user runs it", () => {
  let running: RunningEmulator;
  let base: string;
  beforeAll(async () => {
    running = await serveEmulator(0, { log: () => {} });
    base = `http://127.0.0.1:${(running.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await running.close();
  });
  // Not spawnSync: the emulator answers from this process, which must keep running meanwhile.
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      execFile(resolve(root, "node_modules/.bin/tsx"), ["infra/scripts/stripe-setup.ts", ...args], { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
        done({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      );
    });

  it("registers the endpoint at the emulator named by STRIPE_API_BASE and prints the secret with where it goes; a bad URL or a refused key exits with a sentence", async () => {
    const ok = await run(["--url", "https://pot-commun.example/webhooks/stripe"], { STRIPE_SECRET_KEY: "sk_test_local", STRIPE_API_BASE: base });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^talking to the emulator at ${base}\ncreated webhook endpoint we_\\w+ → https://pot-commun.example/webhooks/stripe \\(enabled, API version ${STRIPE_API_VERSION.replace(".", "\\.")}\\)\nevents: ${HANDLED_EVENT_TYPES.join(", ")}\nsigning secret, shown once: whsec_\\w+\nit goes in .dev.vars: STRIPE_WEBHOOK_SECRET=whsec_\\w+ \\(then restart npm start\\)\n$`));

    const bad = await run(["--url", "http://pot-commun.example/webhooks/stripe"], { STRIPE_SECRET_KEY: "sk_test_local", STRIPE_API_BASE: base });
    expect([bad.status, bad.stdout, bad.stderr.trim()]).toEqual([2, "", "--url http://pot-commun.example/webhooks/stripe must use https: Stripe sends events only to https URLs (http is for this machine, against the local emulator)"]);

    // The emulator takes any sk_ key: it refuses this one as Stripe refuses a revoked key.
    running.app.store.faults.push({ path_prefix: "/v1/webhook_endpoints", status: 401, times: 1, error: { message: "Invalid API Key provided: sk_test_****oked" } });
    const refused = await run(["--url", "https://pot-commun.example/webhooks/stripe"], { STRIPE_SECRET_KEY: "sk_test_revoked", STRIPE_API_BASE: base });
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toBe("the emulator refused the key in STRIPE_SECRET_KEY (401: Invalid API Key provided: sk_test_****oked): check it, test or live as you mean");

    const live = await run(["--url", "https://pot-commun.example/webhooks/stripe"], { STRIPE_SECRET_KEY: "rk_live_abc", STRIPE_API_BASE: base });
    expect([live.status, live.stdout]).toEqual([2, ""]);
    expect(live.stderr).toMatch(/^STRIPE_API_BASE is set \(http:\/\/127\.0\.0\.1:\d+\): a live key is not sent anywhere but to Stripe/);
  });
});
