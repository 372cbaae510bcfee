/**
 * `npm run stripe:trigger -- training|hosting [options]`: like `stripe trigger`, but local.
 *
 * Builds a consistent set of Stripe objects (infra/stripe-emulator/objects.ts), stores them in
 * the Stripe emulator, signs the event with STRIPE_WEBHOOK_SECRET and POSTs it to the worker's
 * /webhooks/stripe. Nothing here talks to the real Stripe API.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import Stripe from "stripe";

import {
  buildHostingPayment,
  buildTrainingPayment,
  emulatorObjects,
  type HostingPayment,
  type TrainingPayment,
} from "../stripe-emulator/objects";

export const KINDS = {
  training: { offer: "training-intro", price: "price_training_intro" },
  hosting: { offer: "hosting-basic", price: "price_hosting_basic" },
} as const;
export type Kind = keyof typeof KINDS;

export interface TriggerOptions {
  kind: Kind;
  amount_minor: number;
  currency: string;
  price_id: string;
  offer_id?: string;
  worker: string;
  emulator: string;
  webhook_secret: string;
  admin_token: string;
}

const USAGE = `Usage: npm run stripe:trigger -- <training|hosting> [options]

  --amount <minor units>   amount paid, integer minor units (default 10001)
  --currency <code>        ISO currency (default eur)
  --offer <offer id>       sets metadata.offer_id (session for training; invoice and
                           subscription for hosting)
  --price <price id>       default: price_training_intro / price_hosting_basic
  --worker <url>           default http://127.0.0.1:8787
  --emulator <url>         default http://127.0.0.1:12111

Secrets come from .dev.vars (STRIPE_WEBHOOK_SECRET, ADMIN_TOKEN); defaults whsec_local,
local-admin-token.`;

export class TriggerError extends Error {}

/** Minimal dotenv parser: KEY=VALUE lines, # comments, optional `export`, optional quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, "\n") : quoted[2]!;
    else value = value.replace(/\s+#.*$/, "");
    out[m[1]!] = value;
  }
  return out;
}

export function readDevVars(projectRoot: string): Record<string, string> {
  try {
    return parseDotenv(readFileSync(resolve(projectRoot, ".dev.vars"), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
}

export function parseTriggerArgs(argv: string[], vars: Record<string, string>): TriggerOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        amount: { type: "string" },
        currency: { type: "string" },
        offer: { type: "string" },
        price: { type: "string" },
        worker: { type: "string" },
        emulator: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new TriggerError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const kind = positionals[0];
  if (!kind) throw new TriggerError(`Missing event kind.\n\n${USAGE}`);
  if (!(kind in KINDS)) throw new TriggerError(`Unknown kind '${kind}': use one of ${Object.keys(KINDS).join(", ")}.\n\n${USAGE}`);
  if (positionals.length > 1) throw new TriggerError(`Unexpected argument '${positionals[1]}'.\n\n${USAGE}`);
  const amountRaw = values.amount ?? "10001";
  if (!/^\d+$/.test(amountRaw) || !Number.isSafeInteger(Number(amountRaw)) || Number(amountRaw) < 1) {
    throw new TriggerError(`--amount must be a positive integer number of minor units (e.g. 10001 for 100.01 EUR), got '${amountRaw}'`);
  }
  const currency = (values.currency ?? "eur").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw new TriggerError(`--currency must be a 3-letter ISO code, got '${values.currency}'`);
  const k = kind as Kind;
  return {
    kind: k,
    amount_minor: Number(amountRaw),
    currency,
    price_id: values.price ?? KINDS[k].price,
    ...(values.offer !== undefined ? { offer_id: values.offer } : {}),
    worker: (values.worker ?? "http://127.0.0.1:8787").replace(/\/+$/, ""),
    emulator: (values.emulator ?? "http://127.0.0.1:12111").replace(/\/+$/, ""),
    webhook_secret: vars.STRIPE_WEBHOOK_SECRET || process.env.STRIPE_WEBHOOK_SECRET || "whsec_local",
    admin_token: vars.ADMIN_TOKEN || process.env.ADMIN_TOKEN || "local-admin-token",
  };
}

export interface TriggerResult {
  event_id: string;
  event_type: string;
  payment_intent_id: string;
  worker_status: number;
  worker_body: string;
  built: TrainingPayment | HostingPayment;
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function call(fetchFn: Fetch, url: string, init: RequestInit, unreachable: string): Promise<Response> {
  try {
    return await fetchFn(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new TriggerError(`${unreachable} (${url}: ${cause})`);
  }
}

/** Does the work; `fetchFn` is injectable so tests can route to in-process apps. */
export async function trigger(opts: TriggerOptions, fetchFn: Fetch = fetch, log: (line: string) => void = console.log): Promise<TriggerResult> {
  const common = {
    amount_minor: opts.amount_minor,
    currency: opts.currency,
    price_id: opts.price_id,
    ...(opts.offer_id !== undefined ? { offer_id: opts.offer_id } : {}),
  };
  const built = opts.kind === "training" ? buildTrainingPayment(common) : buildHostingPayment(common);

  const stored = await call(
    fetchFn,
    `${opts.emulator}/_emulator/objects`,
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) },
    "Cannot reach the Stripe emulator: is `npm start` (or `npm run stripe:emulator`) running?",
  );
  if (!stored.ok) throw new TriggerError(`The Stripe emulator refused the objects: HTTP ${stored.status} ${await stored.text()}`);
  log(`Stored in the Stripe emulator (${opts.emulator}): ${emulatorObjects(built).map((o) => o.id).join(", ")}`);

  const payload = JSON.stringify(built.event, null, 2);
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: opts.webhook_secret });
  const res = await call(
    fetchFn,
    `${opts.worker}/webhooks/stripe`,
    {
      method: "POST",
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      },
      body: payload,
    },
    "Cannot reach the worker: is `npm start` running?",
  );
  const body = await res.text();
  log(`Sent ${built.event.type} ${built.event.id} to ${opts.worker}/webhooks/stripe → HTTP ${res.status}`);
  log(body ? `Worker response: ${body}` : "Worker response: (empty body)");
  return {
    event_id: built.event.id,
    event_type: built.event.type,
    payment_intent_id: built.payment_intent.id,
    worker_status: res.status,
    worker_body: body,
    built,
  };
}

async function main(): Promise<number> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  try {
    const opts = parseTriggerArgs(process.argv.slice(2), readDevVars(root));
    if (opts === "help") {
      console.log(USAGE);
      return 0;
    }
    const r = await trigger(opts);
    const ok = r.worker_status >= 200 && r.worker_status < 300;
    console.log(
      [
        "",
        `  kind            ${opts.kind}${opts.offer_id ? ` (metadata.offer_id=${opts.offer_id})` : ""}, price ${opts.price_id}`,
        `  amount          ${opts.amount_minor} ${opts.currency} (minor units)`,
        `  event           ${r.event_id} (${r.event_type})`,
        `  payment intent  ${r.payment_intent_id}`,
        "",
        "Next:",
        `  curl -H "Authorization: Bearer ${opts.admin_token}" ${opts.worker}/api/v1/payments/${r.payment_intent_id}`,
      ].join("\n"),
    );
    if (!ok) console.error(`\nThe worker answered HTTP ${r.worker_status}: the event was not accepted.`);
    return ok ? 0 : 1;
  } catch (err) {
    console.error(err instanceof TriggerError ? `stripe:trigger: ${err.message}` : err);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
