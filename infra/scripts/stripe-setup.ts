// `npm run stripe:setup -- --url https://<worker>/webhooks/stripe [--recreate]`: registers the
// worker's webhook endpoint at Stripe with exactly the event types the project handles
// (workflows/payment-events.ts, HANDLED_EVENT_TYPES), in the API version the worker is pinned
// to, and says where its signing secret goes. Creates the endpoint, or finds the one with that
// URL and sets its events. Against the local emulator when STRIPE_API_BASE is set (.dev.vars),
// against Stripe otherwise; STRIPE_SECRET_KEY (with STRIPE_API_BASE) from the environment, else
// from .dev.vars.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import Stripe from "stripe";
import { HANDLED_EVENT_TYPES } from "../../workflows/payment-events";
import { STRIPE_API_VERSION } from "../../workflows/stripe-version";
import { readDevVars } from "./trigger";

const root = resolve(import.meta.dirname, "../..");
/** Where the worker takes Stripe's events (workers/app.ts mounts webhooks.ts there). */
export const WEBHOOK_PATH = "/webhooks/stripe";

export const USAGE = `usage: npm run stripe:setup -- --url https://<your worker>${WEBHOOK_PATH} [--recreate]

Registers the webhook endpoint for that URL with exactly the events Pot Commun handles:
  ${HANDLED_EVENT_TYPES.join("\n  ")}
in API version ${STRIPE_API_VERSION}, and prints its signing secret with where it goes.
An endpoint with that URL already there gets these events (its secret is unchanged: Stripe shows
it only at creation); --recreate deletes it and makes a new one, with a new secret.

STRIPE_SECRET_KEY and STRIPE_API_BASE (the local emulator) come from the environment when it sets
STRIPE_SECRET_KEY, else from .dev.vars. Without STRIPE_API_BASE it talks to Stripe; a live key is
never sent elsewhere. The key needs write access to Webhook Endpoints.`;

export class SetupError extends Error {}

export interface SetupOptions {
  url: string;
  recreate: boolean;
}

/** The command line: `--url` (a base URL gets /webhooks/stripe), `--recreate`; "help" for --help. */
export function parseSetupArgs(argv: string[], local: boolean): SetupOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { url: { type: "string" }, recreate: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } }, strict: true });
  } catch (error) {
    throw new SetupError(`${error instanceof Error ? error.message : error}\n${USAGE}`);
  }
  if (parsed.values.help) return "help";
  if (!parsed.values.url) throw new SetupError(`--url is required: where Stripe is to send the events\n${USAGE}`);
  return { url: endpointUrl(parsed.values.url, local), recreate: parsed.values.recreate ?? false };
}

/**
 * The endpoint's URL: absolute, https (http only for this machine, against the emulator), and
 * the worker's webhook path (added to a URL that has no path).
 */
export function endpointUrl(raw: string, local: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SetupError(`--url ${JSON.stringify(raw)} is not a URL: give the worker's address, e.g. https://pot-commun.example.workers.dev${WEBHOOK_PATH}`);
  }
  const thisMachine = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local && thisMachine)) {
    throw new SetupError(`--url ${raw} must use https: Stripe sends events only to https URLs (http is for this machine, against the local emulator)`);
  }
  if (url.username || url.password) throw new SetupError(`--url ${raw} carries credentials: the worker checks Stripe's signature instead`);
  if (url.search || url.hash) throw new SetupError(`--url ${raw} has a query or a fragment: the worker takes Stripe's events at ${WEBHOOK_PATH}, nothing more`);
  if (url.pathname === "/" || url.pathname === "") url.pathname = WEBHOOK_PATH;
  if (url.pathname !== WEBHOOK_PATH) throw new SetupError(`--url ${raw}: the worker takes Stripe's events at ${WEBHOOK_PATH}, not ${url.pathname}`);
  return url.toString();
}

export interface SetupResult {
  action: "created" | "updated" | "unchanged" | "recreated";
  endpoint: { id: string; url: string; enabled_events: string[]; api_version: string | null; status: string };
  /** Shown by Stripe at creation only. */
  secret: string | null;
}

const sameEvents = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/** Creates the endpoint for `opts.url`, or sets the events of the one there (or, with `recreate`, replaces it). */
export async function setupWebhookEndpoint(stripe: Stripe, opts: SetupOptions): Promise<SetupResult> {
  const events = [...HANDLED_EVENT_TYPES];
  const existing = (await stripe.webhookEndpoints.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).filter((e) => e.url === opts.url);
  const view = (e: Stripe.WebhookEndpoint) => ({ id: e.id, url: e.url, enabled_events: e.enabled_events, api_version: e.api_version, status: e.status });
  const create = async () => {
    const made = await stripe.webhookEndpoints.create({ url: opts.url, enabled_events: events, api_version: STRIPE_API_VERSION, description: "Pot Commun: payments, refunds and disputes to split" });
    if (!made.secret) throw new SetupError(`Stripe created endpoint ${made.id} but showed no signing secret: reveal it in the Dashboard (Developers → Webhooks)`);
    return { endpoint: view(made), secret: made.secret };
  };
  if (existing.length === 0) return { action: "created", ...(await create()) };
  if (opts.recreate) {
    for (const e of existing) await stripe.webhookEndpoints.del(e.id);
    return { action: "recreated", ...(await create()) };
  }
  if (existing.length > 1) throw new SetupError(`Stripe has ${existing.length} endpoints for ${opts.url} (${existing.map((e) => e.id).join(", ")}): each event would come ${existing.length} times. Run again with --recreate to keep one`);
  const found = existing[0]!;
  if (found.api_version !== STRIPE_API_VERSION) {
    throw new SetupError(
      `endpoint ${found.id} for ${opts.url} renders events in API version ${found.api_version ?? "of the account's default"}, the worker reads ${STRIPE_API_VERSION}; Stripe cannot change an endpoint's version: run again with --recreate (a new endpoint, a new signing secret)`,
    );
  }
  if (sameEvents(found.enabled_events, events) && found.status === "enabled") return { action: "unchanged", endpoint: view(found), secret: null };
  const updated = await stripe.webhookEndpoints.update(found.id, { enabled_events: events, disabled: false });
  return { action: "updated", endpoint: view(updated), secret: null };
}

/** What Stripe's refusal means for whoever runs the script. */
export function explainStripeError(error: unknown, where: string): Error {
  if (error instanceof SetupError) return error;
  const e = error as { type?: string; statusCode?: number; message?: string };
  if (e.type === "StripeAuthenticationError" || e.statusCode === 401) return new SetupError(`${where} refused the key in STRIPE_SECRET_KEY (401: ${e.message}): check it, test or live as you mean`);
  if (e.type === "StripePermissionError" || e.statusCode === 403) return new SetupError(`${where} refused the request (403: ${e.message}): a restricted key needs write access to Webhook Endpoints`);
  if (e.type === "StripeConnectionError") return new SetupError(`${where} could not be reached (${e.message})${where === "the emulator" ? ": is `npm run stripe:emulator` (or `npm start`) running?" : ""}`);
  if (typeof e.statusCode === "number") return new SetupError(`${where} answered ${e.statusCode}: ${e.message}`);
  return error instanceof Error ? error : new Error(String(error));
}

/** The lines to print: what was done, and where the secret goes. */
export function describeSetup(result: SetupResult, local: boolean): string[] {
  const e = result.endpoint;
  const lines = [`${result.action} webhook endpoint ${e.id} → ${e.url} (${e.status}, API version ${e.api_version ?? "the account's default"})`, `events: ${e.enabled_events.join(", ")}`];
  if (result.secret) {
    lines.push(`signing secret, shown once: ${result.secret}`);
    if (local) lines.push(`it goes in .dev.vars: STRIPE_WEBHOOK_SECRET=${result.secret} (then restart npm start)`);
    else lines.push(`it goes in the worker's secrets: npx wrangler secret put STRIPE_WEBHOOK_SECRET (paste it when asked)`);
  } else {
    lines.push("its signing secret is unchanged (Stripe shows it only at creation; the Dashboard reveals it, or --recreate makes a new one)");
  }
  return lines;
}

/**
 * The key and the API base, read together: from the environment when it sets STRIPE_SECRET_KEY
 * (a deployment's key must not meet .dev.vars' local STRIPE_API_BASE), else from .dev.vars.
 */
export function stripeSettings(env: Record<string, string | undefined>, devVars: () => Record<string, string>): { key: string | undefined; base: string | undefined } {
  if (env.STRIPE_SECRET_KEY) return { key: env.STRIPE_SECRET_KEY, base: env.STRIPE_API_BASE || undefined };
  const vars = devVars();
  return { key: vars.STRIPE_SECRET_KEY, base: env.STRIPE_API_BASE || vars.STRIPE_API_BASE || undefined };
}

/** The Stripe client the script talks to: STRIPE_API_BASE (the emulator) when set, else Stripe. */
export function setupClient(key: string, base: string | undefined): Stripe {
  const config: Stripe.StripeConfig = { apiVersion: STRIPE_API_VERSION, maxNetworkRetries: 2, timeout: 20_000 };
  if (base) {
    const url = new URL(base);
    config.host = url.hostname;
    config.port = url.port || (url.protocol === "https:" ? "443" : "80");
    config.protocol = url.protocol === "https:" ? "https" : "http";
  }
  return new Stripe(key, config);
}

async function main(): Promise<number> {
  const { key, base } = stripeSettings(process.env, () => readDevVars(root));
  const local = Boolean(base);
  try {
    if (base && key && /^(sk|rk)_live_/.test(key)) throw new SetupError(`STRIPE_API_BASE is set (${base}): a live key is not sent anywhere but to Stripe. Unset STRIPE_API_BASE`);
    const opts = parseSetupArgs(process.argv.slice(2), local);
    if (opts === "help") {
      console.log(USAGE);
      return 0;
    }
    if (!key) throw new SetupError("STRIPE_SECRET_KEY is not set (the environment or .dev.vars): a secret key (sk_…) or a restricted key (rk_…) with write access to Webhook Endpoints");
    if (!/^(sk|rk)_/.test(key)) throw new SetupError("STRIPE_SECRET_KEY is not a Stripe secret key (sk_… or rk_…)");
    const where = local ? "the emulator" : "Stripe";
    console.log(`talking to ${local ? `the emulator at ${base}` : `Stripe (${/_live_/.test(key) ? "live" : "test"} mode)`}`);
    let result: SetupResult;
    try {
      result = await setupWebhookEndpoint(setupClient(key, base), opts);
    } catch (error) {
      throw explainStripeError(error, where);
    }
    for (const line of describeSetup(result, local)) console.log(line);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return error instanceof SetupError ? 2 : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main();
}
