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

import { formatMinor } from "../../core/currency";
import {
  buildHostingPayment,
  buildTrainingPayment,
  emulatorObjects,
  parsePercentBps,
  type HostingPayment,
  type HostingPaymentOptions,
  type TaxBehavior,
  type TrainingPayment,
} from "../stripe-emulator/objects";

export const KINDS = {
  training: { offer: "training-intro", price: "price_training_intro" },
  hosting: { offer: "hosting-basic", price: "price_hosting_basic" },
} as const;
export type Kind = keyof typeof KINDS;

export interface TriggerOptions {
  kind: Kind;
  /** What the customer pays in all, tax included. */
  amount_minor: number;
  currency: string;
  price_id: string;
  offer_id?: string;
  /** Tax on every line: a rate in basis points, exclusive unless --tax-inclusive. */
  tax?: { rate_bps: number; behavior: TaxBehavior };
  /** A discount on the whole payment, in basis points. */
  discount_bps?: number;
  /** hosting: the subscriber moves from this offer's plan to --price. */
  upgrade?: { from_offer_id: string; from_unit_amount_minor?: number; unused_bps: number };
  worker: string;
  emulator: string;
  webhook_secret: string;
  admin_token: string;
}

const USAGE = `Usage: npm run stripe:trigger -- <training|hosting> [options]

  --amount <minor units>     what the customer pays in all, tax included, integer minor units
                             (default 10001); the price is worked out from it
  --currency <code>          ISO currency (default eur)
  --offer <offer id>         sets metadata.offer_id (session for training; invoice and
                             subscription for hosting)
  --price <price id>         default: price_training_intro / price_hosting_basic
  --tax-percent <n>          tax on every line, e.g. 20 or 5.5 (exclusive: on top of the price)
  --tax-inclusive            the tax is included in the price instead
  --discount-percent <n>     a coupon on the whole payment, e.g. 10
  --upgrade-from <offer id>  hosting: the subscriber moves from that offer's plan (its Stripe price,
                             read from GET /api/v1/offers/{id}) to --price, mid-period: the invoice
                             has a credit for the unused part of the old plan and a charge for the
                             rest of the period on the new one
  --from-amount <minor>      the old plan's price per month (default: the price the emulator holds
                             for it from an earlier trigger, else 5000)
  --unused-percent <n>       part of the period left when moving (default 50)
  --worker <url>             default http://127.0.0.1:8787
  --emulator <url>           default http://127.0.0.1:12111

Secrets come from .dev.vars (STRIPE_WEBHOOK_SECRET, ADMIN_TOKEN); defaults whsec_local,
local-admin-token.

Example: npm run stripe:trigger -- hosting --tax-percent 20 --amount 12000
  an invoice the customer pays 120.00 EUR for, of which 20.00 EUR is VAT.`;

/** The old plan's price when neither --from-amount nor the emulator says it. */
export const DEFAULT_FROM_AMOUNT_MINOR = 5000;

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
        "tax-percent": { type: "string" },
        "tax-inclusive": { type: "boolean" },
        "discount-percent": { type: "string" },
        "upgrade-from": { type: "string" },
        "from-amount": { type: "string" },
        "unused-percent": { type: "string" },
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
  const percent = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    try {
      return parsePercentBps(raw, name);
    } catch (err) {
      throw new TriggerError((err as Error).message);
    }
  };
  const tax_bps = percent("--tax-percent", values["tax-percent"]);
  if (values["tax-inclusive"] && tax_bps === undefined) throw new TriggerError("--tax-inclusive needs --tax-percent (the rate included in the price)");
  const discount_bps = percent("--discount-percent", values["discount-percent"]);
  if (discount_bps !== undefined && discount_bps >= 10_000) throw new TriggerError("--discount-percent must be below 100: a payment of nothing is not split");
  const upgradeFrom = values["upgrade-from"];
  if (upgradeFrom === undefined && (values["from-amount"] !== undefined || values["unused-percent"] !== undefined)) {
    throw new TriggerError("--from-amount and --unused-percent describe an upgrade: give --upgrade-from <offer id> too");
  }
  if (upgradeFrom !== undefined && k !== "hosting") throw new TriggerError("--upgrade-from is for hosting: a training is paid once, there is no plan to move from");
  if (upgradeFrom !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(upgradeFrom)) throw new TriggerError(`--upgrade-from must be an offer id, got '${upgradeFrom}'`);
  const fromAmount = values["from-amount"];
  if (fromAmount !== undefined && (!/^\d+$/.test(fromAmount) || !Number.isSafeInteger(Number(fromAmount)))) {
    throw new TriggerError(`--from-amount must be a non-negative integer number of minor units, got '${fromAmount}'`);
  }
  const unused_bps = percent("--unused-percent", values["unused-percent"]) ?? 5_000;
  if (unused_bps <= 0 || unused_bps >= 10_000) throw new TriggerError("--unused-percent must be above 0 and below 100: the move happens during the period");
  return {
    kind: k,
    amount_minor: Number(amountRaw),
    currency,
    price_id: values.price ?? KINDS[k].price,
    ...(values.offer !== undefined ? { offer_id: values.offer } : {}),
    ...(tax_bps !== undefined ? { tax: { rate_bps: tax_bps, behavior: values["tax-inclusive"] ? ("inclusive" as const) : ("exclusive" as const) } } : {}),
    ...(discount_bps !== undefined ? { discount_bps } : {}),
    ...(upgradeFrom !== undefined
      ? { upgrade: { from_offer_id: upgradeFrom, unused_bps, ...(fromAmount !== undefined ? { from_unit_amount_minor: Number(fromAmount) } : {}) } }
      : {}),
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

/**
 * The Stripe price of the offer a subscriber leaves, from the worker's admin API. An offer
 * lists its prices; the first is the plan's.
 */
export async function offerPrice(opts: Pick<TriggerOptions, "worker" | "admin_token">, offer_id: string, fetchFn: Fetch): Promise<string> {
  const url = `${opts.worker}/api/v1/offers/${encodeURIComponent(offer_id)}`;
  const res = await call(fetchFn, url, { headers: { Authorization: `Bearer ${opts.admin_token}` } }, "Cannot reach the worker to read the offer moved from: is `npm start` running?");
  if (res.status === 404) throw new TriggerError(`--upgrade-from: there is no offer '${offer_id}' (GET ${url} answered 404); list them with GET /api/v1/offers`);
  if (res.status === 401 || res.status === 403) throw new TriggerError(`--upgrade-from: the worker refused the admin token (HTTP ${res.status}); check ADMIN_TOKEN in .dev.vars`);
  if (!res.ok) throw new TriggerError(`--upgrade-from: GET ${url} answered HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { stripe_price_ids?: unknown };
  const prices = Array.isArray(body.stripe_price_ids) ? body.stripe_price_ids.filter((p): p is string => typeof p === "string") : [];
  if (prices.length === 0) throw new TriggerError(`--upgrade-from: offer '${offer_id}' has no Stripe price to move from; give it one (PATCH /api/v1/offers/${offer_id})`);
  return prices[0]!;
}

/** The old plan's price as the emulator holds it (an earlier trigger stored it), if it does. */
async function storedUnitAmount(opts: Pick<TriggerOptions, "emulator">, price_id: string, fetchFn: Fetch): Promise<number | undefined> {
  const res = await call(fetchFn, `${opts.emulator}/_emulator/objects/${encodeURIComponent(price_id)}`, {}, "Cannot reach the Stripe emulator: is `npm start` (or `npm run stripe:emulator`) running?");
  if (!res.ok) return undefined;
  const price = (await res.json()) as { object?: unknown; unit_amount?: unknown };
  return price.object === "price" && typeof price.unit_amount === "number" && Number.isSafeInteger(price.unit_amount) ? price.unit_amount : undefined;
}

/** The builder's options for what the command line asked. */
export async function builderOptions(opts: TriggerOptions, fetchFn: Fetch): Promise<HostingPaymentOptions> {
  let upgrade: HostingPaymentOptions["upgrade"];
  if (opts.upgrade) {
    const from_price_id = await offerPrice(opts, opts.upgrade.from_offer_id, fetchFn);
    if (from_price_id === opts.price_id) {
      throw new TriggerError(`--upgrade-from ${opts.upgrade.from_offer_id}: its price ${from_price_id} is also the price moved to; give the new plan's price with --price (e.g. --price price_hosting_plus)`);
    }
    const from_unit_amount_minor = opts.upgrade.from_unit_amount_minor ?? (await storedUnitAmount(opts, from_price_id, fetchFn)) ?? DEFAULT_FROM_AMOUNT_MINOR;
    upgrade = { from_price_id, from_unit_amount_minor, unused: { numerator: opts.upgrade.unused_bps, denominator: 10_000 } };
  }
  return {
    amount_minor: opts.amount_minor,
    currency: opts.currency,
    price_id: opts.price_id,
    ...(opts.offer_id !== undefined ? { offer_id: opts.offer_id } : {}),
    ...(opts.tax ? { tax: opts.tax } : {}),
    ...(opts.discount_bps !== undefined ? { discount: { percent_bps: opts.discount_bps } } : {}),
    ...(upgrade ? { upgrade } : {}),
  };
}

const pad = (text: string, width: number) => (text.length >= width ? text : text + " ".repeat(width - text.length));

/** What was built, line by line: amounts in minor units, then the total in major units. */
export function describeBuilt(built: TrainingPayment | HostingPayment): string[] {
  const money = (minor: number, currency: string) => `${formatMinor(minor, currency)} ${currency.toUpperCase()}`;
  const rate = built.tax_rates[0];
  const taxNote = rate ? ` · tax ${rate.percentage}% ${rate.inclusive ? "inclusive" : "exclusive"}` : "";
  const couponNote = built.coupons.length ? ` · coupon ${built.coupons.map((c) => `${c.id} (${c.percent_off}% off)`).join(", ")}` : "";
  if ("session" in built) {
    const s = built.session;
    const currency = s.currency ?? "";
    const out = [`Checkout session ${s.id} (${currency}${taxNote}${couponNote})`];
    for (const i of built.line_items.data) {
      out.push(`  item   ${pad(i.description ?? "", 44)} subtotal ${i.amount_subtotal}  discount ${i.amount_discount}  tax ${i.amount_tax}  total ${i.amount_total}`);
    }
    const td = s.total_details!;
    out.push(`  total  ${s.amount_total} = ${money(s.amount_total ?? 0, currency)} (subtotal ${s.amount_subtotal}, discount ${td.amount_discount}, shipping ${td.amount_shipping}, tax ${td.amount_tax})`);
    return out;
  }
  const inv = built.invoice;
  const out = [`Invoice ${inv.id} (${inv.currency}, ${inv.billing_reason}${taxNote}${couponNote})`];
  for (const l of built.invoice_lines.data) {
    const discount = (l.discount_amounts ?? []).reduce((a, d) => a + d.amount, 0);
    const tax = (l.taxes ?? []).reduce((a, t) => a + t.amount, 0);
    const proration = l.parent?.subscription_item_details?.proration ? " (proration)" : "";
    out.push(`  line   ${pad((l.description ?? "") + proration, 60)} amount ${l.amount}  discount ${discount}  tax ${tax}`);
  }
  const discounts = (inv.total_discount_amounts ?? []).reduce((a, d) => a + d.amount, 0);
  const taxes = (inv.total_taxes ?? []).reduce((a, t) => a + t.amount, 0);
  out.push(`  total  ${inv.total} = ${money(inv.total, inv.currency)} (subtotal ${inv.subtotal}, discount ${discounts}, tax ${taxes}, excluding tax ${inv.total_excluding_tax}); paid ${inv.amount_paid}`);
  return out;
}

/** Does the work; `fetchFn` is injectable so tests can route to in-process apps. */
export async function trigger(opts: TriggerOptions, fetchFn: Fetch = fetch, log: (line: string) => void = console.log): Promise<TriggerResult> {
  const options = await builderOptions(opts, fetchFn);
  let built: TrainingPayment | HostingPayment;
  try {
    built = opts.kind === "training" ? buildTrainingPayment(options) : buildHostingPayment(options);
  } catch (err) {
    throw new TriggerError(`cannot build that payment: ${(err as Error).message}`);
  }
  for (const line of describeBuilt(built)) log(line);

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
        `  amount          ${opts.amount_minor} ${opts.currency} (minor units), paid by the customer, tax included`,
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
