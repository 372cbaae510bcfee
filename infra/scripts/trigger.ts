/**
 * `npm run stripe:trigger -- training|hosting [options]`: like `stripe trigger`, but local.
 * `npm run stripe:trigger -- refund|dispute --payment <pi_…> [options]`: what happens later to
 * a payment the emulator holds.
 *
 * Builds a consistent set of Stripe objects (infra/stripe-emulator/objects.ts), stores them in
 * the Stripe emulator, signs each event with STRIPE_WEBHOOK_SECRET and POSTs it to the worker's
 * /webhooks/stripe. Nothing here talks to the real Stripe API.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import Stripe from "stripe";

import { formatMinor } from "../../core/currency";
import {
  buildDispute,
  buildHostingPayment,
  buildInquiry,
  buildRefund,
  buildTrainingPayment,
  closeInquiry,
  EMBEDDED_LIST_LIMIT,
  emulatorObjects,
  failRefund,
  loseDispute,
  parsePercentBps,
  winDispute,
  type BuiltDispute,
  type BuiltRefund,
  type HostingPayment,
  type HostingPaymentOptions,
  type PaymentCore,
  type StripeObject,
  type TaxBehavior,
  type TrainingPayment,
} from "../stripe-emulator/objects";

export const KINDS = {
  training: { offer: "training-intro", price: "price_training_intro" },
  hosting: { offer: "hosting-basic", price: "price_hosting_basic" },
} as const;
export type Kind = keyof typeof KINDS;
/** What happens later to a payment the emulator holds. */
export const FOLLOW_UPS = ["refund", "dispute"] as const;

/** Where things go, and the secrets to get there. */
export interface TriggerTargets {
  worker: string;
  emulator: string;
  webhook_secret: string;
  admin_token: string;
}

/** A payment: training or hosting. */
export interface TriggerOptions extends TriggerTargets {
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
}

/** refund --payment <pi_…> [--amount N] [--fail] */
export interface RefundTriggerOptions extends TriggerTargets {
  kind: "refund";
  payment_intent_id: string;
  /** Minor units of the charge's currency (default: what is left to refund). */
  amount_minor?: number;
  /** It succeeds, then fails. */
  fail: boolean;
}

/** dispute --payment <pi_…> [--won|--lost] [--fee-returned] | --inquiry */
export interface DisputeTriggerOptions extends TriggerTargets {
  kind: "dispute";
  payment_intent_id: string;
  /** null: the withdrawal only. */
  outcome: "won" | "lost" | null;
  /** Won: the dispute fee comes back too. */
  fee_returned: boolean;
  /** An inquiry instead of a chargeback: opened and closed, no money. */
  inquiry: boolean;
}

export type AnyTriggerOptions = TriggerOptions | RefundTriggerOptions | DisputeTriggerOptions;

const USAGE = `Usage: npm run stripe:trigger -- <training|hosting> [options]
       npm run stripe:trigger -- refund --payment <pi_…> [--amount <minor units>] [--fail]
       npm run stripe:trigger -- dispute --payment <pi_…> [--won [--fee-returned] | --lost | --inquiry]

A payment (training, hosting):

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

Later, to a payment the emulator holds (a payment intent printed by an earlier trigger; the
emulator keeps objects in memory only, so a restart forgets them):
  refund --payment <pi_…>    a refund that succeeds: refund.created, charge.refunded
    --amount <minor units>   in the payment's currency (default: what is left to refund)
    --fail                   then it fails: refund.updated (to failed), refund.failed, and a
                             refund_failure balance transaction that gives the money back
  dispute --payment <pi_…>   a chargeback: the amount and a 15.00 dispute fee withdrawn:
                             charge.dispute.created, charge.dispute.funds_withdrawn
    --won                    then won: charge.dispute.closed, charge.dispute.funds_reinstated
      --fee-returned         the dispute fee comes back too (default: Stripe keeps it)
    --lost                   then lost: charge.dispute.closed, no money moves
    --inquiry                an inquiry instead: no money; created, then closed (warning_closed)
  A dispute left open (no --won or --lost) is closed by running the same command with one.

  --worker <url>             default http://127.0.0.1:8787
  --emulator <url>           default http://127.0.0.1:12111

Secrets come from .dev.vars (STRIPE_WEBHOOK_SECRET, ADMIN_TOKEN); defaults whsec_local,
local-admin-token.

Example: npm run stripe:trigger -- hosting --tax-percent 20 --amount 12000
  an invoice the customer pays 120.00 EUR for, of which 20.00 EUR is VAT.
Then:    npm run stripe:trigger -- refund --payment <the pi_… it printed> --amount 2000 --fail`;

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

const OPTIONS = {
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
  payment: { type: "string" },
  fail: { type: "boolean" },
  won: { type: "boolean" },
  lost: { type: "boolean" },
  "fee-returned": { type: "boolean" },
  inquiry: { type: "boolean" },
  worker: { type: "string" },
  emulator: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** Options of a payment only; refused for refund and dispute, which take everything from the payment. */
const PAYMENT_ONLY = ["currency", "offer", "price", "tax-percent", "tax-inclusive", "discount-percent", "upgrade-from", "from-amount", "unused-percent"] as const;
/** Options of refund and dispute only. */
const FOLLOW_UP_ONLY = { payment: "refund and dispute", fail: "refund", won: "dispute", lost: "dispute", "fee-returned": "dispute", inquiry: "dispute" } as const;

function targets(values: { worker?: string | undefined; emulator?: string | undefined }, vars: Record<string, string>): TriggerTargets {
  return {
    worker: (values.worker ?? "http://127.0.0.1:8787").replace(/\/+$/, ""),
    emulator: (values.emulator ?? "http://127.0.0.1:12111").replace(/\/+$/, ""),
    webhook_secret: vars.STRIPE_WEBHOOK_SECRET || process.env.STRIPE_WEBHOOK_SECRET || "whsec_local",
    admin_token: vars.ADMIN_TOKEN || process.env.ADMIN_TOKEN || "local-admin-token",
  };
}

function followUpArgs(kind: (typeof FOLLOW_UPS)[number], values: Values, vars: Record<string, string>): RefundTriggerOptions | DisputeTriggerOptions {
  for (const name of PAYMENT_ONLY) {
    if (values[name] !== undefined) throw new TriggerError(`--${name} is for training and hosting: a ${kind} takes its currency and amounts from the payment`);
  }
  for (const [name, owner] of Object.entries(FOLLOW_UP_ONLY)) {
    if (values[name as keyof Values] !== undefined && owner !== "refund and dispute" && owner !== kind) throw new TriggerError(`--${name} is for ${owner}, not ${kind}`);
  }
  const payment = values.payment;
  if (typeof payment !== "string") throw new TriggerError(`${kind} needs --payment <pi_…>: the payment intent of a payment the emulator holds (an earlier trigger prints it)\n\n${USAGE}`);
  if (!/^pi_[A-Za-z0-9_]+$/.test(payment)) throw new TriggerError(`--payment must be a payment intent id (pi_…), got '${payment}'`);
  const where = targets(values, vars);
  if (kind === "refund") {
    const raw = values.amount;
    if (raw !== undefined && (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1)) {
      throw new TriggerError(`--amount must be a positive integer number of minor units of the payment's currency (e.g. 2000 for 20.00 EUR), got '${raw}'`);
    }
    return { kind, payment_intent_id: payment, ...(raw !== undefined ? { amount_minor: Number(raw) } : {}), fail: values.fail === true, ...where };
  }
  if (values.amount !== undefined) throw new TriggerError("--amount is for training, hosting and refund: a dispute is of the whole payment");
  const chosen = (["won", "lost", "inquiry"] as const).filter((f) => values[f] === true);
  if (chosen.length > 1) throw new TriggerError(`give one of --won, --lost and --inquiry, not ${chosen.map((f) => `--${f}`).join(" and ")}`);
  if (values["fee-returned"] === true && values.won !== true) throw new TriggerError("--fee-returned says what a won dispute gives back: give --won too");
  return {
    kind,
    payment_intent_id: payment,
    outcome: values.won === true ? "won" : values.lost === true ? "lost" : null,
    fee_returned: values["fee-returned"] === true,
    inquiry: values.inquiry === true,
    ...where,
  };
}

/**
 * The command line: a payment (TriggerOptions, for `trigger`), a refund or a dispute (for
 * `triggerRefund` / `triggerDispute`; `run` dispatches), or "help".
 */
export function parseCommand(argv: string[], vars: Record<string, string>): AnyTriggerOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new TriggerError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const kind = positionals[0];
  if (!kind) throw new TriggerError(`Missing event kind.\n\n${USAGE}`);
  if (!(kind in KINDS) && !(FOLLOW_UPS as readonly string[]).includes(kind)) {
    throw new TriggerError(`Unknown kind '${kind}': use one of ${[...Object.keys(KINDS), ...FOLLOW_UPS].join(", ")}.\n\n${USAGE}`);
  }
  if (positionals.length > 1) throw new TriggerError(`Unexpected argument '${positionals[1]}'.\n\n${USAGE}`);
  if ((FOLLOW_UPS as readonly string[]).includes(kind)) return followUpArgs(kind as (typeof FOLLOW_UPS)[number], values, vars);
  return paymentArgs(kind as Kind, values, vars);
}

/** A payment's command line (training or hosting), or "help": what `trigger` takes. */
export function parseTriggerArgs(argv: string[], vars: Record<string, string>): TriggerOptions | "help" {
  const opts = parseCommand(argv, vars);
  if (opts !== "help" && (opts.kind === "refund" || opts.kind === "dispute")) {
    throw new TriggerError(`'${opts.kind}' is not a payment (training, hosting): read its command line with parseCommand`);
  }
  return opts;
}

function paymentArgs(k: Kind, values: Values, vars: Record<string, string>): TriggerOptions {
  for (const [name, owner] of Object.entries(FOLLOW_UP_ONLY)) {
    if (values[name as keyof Values] !== undefined) throw new TriggerError(`--${name} is for ${owner}, not ${k}`);
  }
  const amountRaw = values.amount ?? "10001";
  if (!/^\d+$/.test(amountRaw) || !Number.isSafeInteger(Number(amountRaw)) || Number(amountRaw) < 1) {
    throw new TriggerError(`--amount must be a positive integer number of minor units (e.g. 10001 for 100.01 EUR), got '${amountRaw}'`);
  }
  const currency = (values.currency ?? "eur").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw new TriggerError(`--currency must be a 3-letter ISO code, got '${values.currency}'`);
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
    ...targets(values, vars),
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

  await storeObjects(opts, emulatorObjects(built), fetchFn, log);
  const { status, body } = await deliver(opts, built.event, fetchFn, log);
  return {
    event_id: built.event.id,
    event_type: built.event.type,
    payment_intent_id: built.payment_intent.id,
    worker_status: status,
    worker_body: body,
    built,
  };
}

const EMULATOR_DOWN = "Cannot reach the Stripe emulator: is `npm start` (or `npm run stripe:emulator`) running?";

async function storeObjects(opts: TriggerTargets, objects: StripeObject[], fetchFn: Fetch, log: (line: string) => void): Promise<void> {
  const stored = await call(
    fetchFn,
    `${opts.emulator}/_emulator/objects`,
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(objects) },
    EMULATOR_DOWN,
  );
  if (!stored.ok) throw new TriggerError(`The Stripe emulator refused the objects: HTTP ${stored.status} ${await stored.text()}`);
  log(`Stored in the Stripe emulator (${opts.emulator}): ${objects.map((o) => o.id).join(", ")}`);
}

/** Signs `event` as Stripe would and POSTs it to the worker; what it answered. */
async function deliver(opts: TriggerTargets, event: Stripe.Event, fetchFn: Fetch, log: (line: string) => void): Promise<{ status: number; body: string }> {
  const payload = JSON.stringify(event, null, 2);
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
  log(`Sent ${event.type} ${event.id} to ${opts.worker}/webhooks/stripe → HTTP ${res.status}`);
  log(body ? `Worker response: ${body}` : "Worker response: (empty body)");
  return { status: res.status, body };
}

// ---------------------------------------------------------------------------------------------
// Later: a refund or a dispute of a payment the emulator holds
// ---------------------------------------------------------------------------------------------

/** One event delivered to the worker, and its answer. */
export interface SentEvent {
  event_id: string;
  event_type: string;
  worker_status: number;
  worker_body: string;
}

export interface FollowUpResult {
  kind: "refund" | "dispute";
  payment_intent_id: string;
  /** The refund's or the dispute's id. */
  object_id: string;
  /** Its status at the end. */
  status: string;
  /** Every event sent, in order. */
  sent: SentEvent[];
  /** Its balance transactions at the end. */
  balance_transactions: Stripe.BalanceTransaction[];
}

/** What the emulator holds of a payment: its intent, charge and balance transaction, and what happened to it since. */
export interface HeldPayment {
  payment: PaymentCore;
  /** The charge's refunds, newest first. */
  refunds: Stripe.Refund[];
  /** The charge's disputes. */
  disputes: Stripe.Dispute[];
}

async function heldObject(opts: TriggerTargets, id: string, fetchFn: Fetch): Promise<StripeObject | undefined> {
  const url = `${opts.emulator}/_emulator/objects/${encodeURIComponent(id)}`;
  const res = await call(fetchFn, url, {}, EMULATOR_DOWN);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new TriggerError(`GET ${url} answered HTTP ${res.status}: ${await res.text()}`);
  return (await res.json()) as StripeObject;
}

async function heldOfType(opts: TriggerTargets, type: string, fetchFn: Fetch): Promise<StripeObject[]> {
  const url = `${opts.emulator}/_emulator/objects?object=${encodeURIComponent(type)}`;
  const res = await call(fetchFn, url, {}, EMULATOR_DOWN);
  if (!res.ok) throw new TriggerError(`GET ${url} answered HTTP ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: StripeObject[] }).data;
}

const idOf = (v: unknown): unknown => (typeof v === "object" && v !== null ? (v as { id?: unknown }).id : v);

/**
 * The payment behind `payment_intent_id`, read from the emulator's store: the intent, its
 * latest charge (with its refunds as the builders list them) and the charge's balance
 * transaction. Says so plainly when the emulator does not hold them.
 */
export async function heldPayment(opts: TriggerTargets, payment_intent_id: string, fetchFn: Fetch): Promise<HeldPayment> {
  const pi = await heldObject(opts, payment_intent_id, fetchFn);
  if (!pi) {
    throw new TriggerError(
      `the Stripe emulator (${opts.emulator}) does not know payment intent ${payment_intent_id}. It keeps objects in memory only, so a restarted emulator has forgotten earlier payments: trigger a payment first (npm run stripe:trigger -- training) and use the payment intent it prints.`,
    );
  }
  if (pi.object !== "payment_intent") throw new TriggerError(`${payment_intent_id} is a ${pi.object} in the emulator, not a payment intent`);
  const chargeId = idOf(pi.latest_charge);
  if (typeof chargeId !== "string") throw new TriggerError(`payment intent ${payment_intent_id} has no charge (status ${String(pi.status)}): nothing was paid, nothing to refund or dispute`);
  const charge = await heldObject(opts, chargeId, fetchFn);
  if (!charge) throw new TriggerError(`the Stripe emulator holds payment intent ${payment_intent_id} but not its charge ${chargeId}`);
  if (charge.status !== "succeeded") throw new TriggerError(`charge ${chargeId} of ${payment_intent_id} is ${String(charge.status)}: only a succeeded charge is refunded or disputed`);
  const btId = idOf(charge.balance_transaction);
  if (typeof btId !== "string") throw new TriggerError(`charge ${chargeId} has no balance transaction yet (Stripe has not attached it): store it first (attachBalanceTransaction)`);
  const bt = await heldObject(opts, btId, fetchFn);
  if (!bt) throw new TriggerError(`the Stripe emulator holds charge ${chargeId} but not its balance transaction ${btId}`);
  const byCreated = (a: StripeObject, b: StripeObject) => Number(b.created ?? 0) - Number(a.created ?? 0);
  const refunds = (await heldOfType(opts, "refund", fetchFn)).filter((r) => idOf(r.charge) === chargeId).sort(byCreated);
  const disputes = (await heldOfType(opts, "dispute", fetchFn)).filter((d) => idOf(d.charge) === chargeId);
  const withRefunds = {
    ...charge,
    refunds: { object: "list", data: refunds.slice(0, EMBEDDED_LIST_LIMIT), has_more: refunds.length > EMBEDDED_LIST_LIMIT, url: `/v1/charges/${chargeId}/refunds` },
  };
  return {
    payment: { payment_intent: pi as unknown as Stripe.PaymentIntent, charge: withRefunds as unknown as Stripe.Charge, balance_transaction: bt as unknown as Stripe.BalanceTransaction },
    refunds: refunds as unknown as Stripe.Refund[],
    disputes: disputes as unknown as Stripe.Dispute[],
  };
}

function built<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    throw new TriggerError(`cannot build that ${what}: ${(err as Error).message}`);
  }
}

function describeBalanceTransaction(bt: Stripe.BalanceTransaction): string {
  const money = (minor: number) => `${formatMinor(minor, bt.currency)} ${bt.currency.toUpperCase()}`;
  const rate = bt.exchange_rate !== null ? ` at ${bt.exchange_rate}` : "";
  return `  balance transaction ${bt.id} ${bt.type}/${bt.reporting_category}: amount ${money(bt.amount)}, fee ${money(bt.fee)}, net ${money(bt.net)}${rate}`;
}

/** Stores a step's objects, then delivers its events in order. */
async function sendStep(opts: TriggerTargets, step: BuiltRefund | BuiltDispute, fetchFn: Fetch, log: (line: string) => void): Promise<SentEvent[]> {
  await storeObjects(opts, emulatorObjects(step), fetchFn, log);
  const sent: SentEvent[] = [];
  for (const event of step.events) {
    const { status, body } = await deliver(opts, event, fetchFn, log);
    sent.push({ event_id: event.id, event_type: event.type, worker_status: status, worker_body: body });
  }
  return sent;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * refund --payment <pi_…> [--amount N] [--fail]: a refund that succeeds (refund.created,
 * charge.refunded); with --fail it then fails (refund.updated to failed, refund.failed) and a
 * refund_failure balance transaction gives the money back. Each step's objects are stored
 * before its events are sent, so the worker reading Stripe sees what the event says.
 */
export async function triggerRefund(opts: RefundTriggerOptions, fetchFn: Fetch = fetch, log: (line: string) => void = console.log): Promise<FollowUpResult> {
  const held = await heldPayment(opts, opts.payment_intent_id, fetchFn);
  const charge = held.payment.charge;
  const chargeback = held.disputes.find((d) => !d.is_charge_refundable);
  if (chargeback) throw new TriggerError(`charge ${charge.id} is disputed (${chargeback.id}, ${chargeback.status}): Stripe does not refund a charge that has been charged back`);
  const left = charge.amount - charge.amount_refunded;
  if (left === 0) throw new TriggerError(`payment ${opts.payment_intent_id} is already refunded in full (${charge.amount} ${charge.currency})`);
  if (opts.amount_minor !== undefined && opts.amount_minor > left) {
    throw new TriggerError(`--amount ${opts.amount_minor} is more than the ${left} ${charge.currency} left to refund on ${opts.payment_intent_id} (paid ${charge.amount}, refunded ${charge.amount_refunded})`);
  }
  const created = nowSeconds();
  const made = built("refund", () => buildRefund(held.payment, { ...(opts.amount_minor !== undefined ? { amount_minor: opts.amount_minor } : {}), created }));
  const money = (minor: number) => `${formatMinor(minor, made.refund.currency)} ${made.refund.currency.toUpperCase()}`;
  log(`Refund ${made.refund.id} of ${opts.payment_intent_id} (charge ${charge.id}): ${made.refund.amount} ${made.refund.currency} = ${money(made.refund.amount)}, ${made.refund.status}; refunded ${made.payment.charge.amount_refunded} of ${charge.amount}`);
  for (const bt of made.balance_transactions) log(describeBalanceTransaction(bt));
  const sent = await sendStep(opts, made, fetchFn, log);
  let last: BuiltRefund = made;
  if (opts.fail) {
    last = built("refund failure", () => failRefund(made, { created }));
    log(`Refund ${last.refund.id} failed (${last.refund.failure_reason}): the money is back in the balance; refunded ${last.payment.charge.amount_refunded} of ${charge.amount}`);
    for (const bt of last.balance_transactions.slice(made.balance_transactions.length)) log(describeBalanceTransaction(bt));
    sent.push(...(await sendStep(opts, last, fetchFn, log)));
  }
  return { kind: "refund", payment_intent_id: opts.payment_intent_id, object_id: last.refund.id, status: last.refund.status ?? "", sent, balance_transactions: last.balance_transactions };
}

const OPEN_CHARGEBACK = new Set(["needs_response", "under_review"]);

/**
 * dispute --payment <pi_…> [--won [--fee-returned] | --lost | --inquiry]: a chargeback (the
 * amount and the dispute fee withdrawn), then its outcome if one is given; run again with
 * --won or --lost on a payment whose chargeback is open, it closes that one. --inquiry: an
 * inquiry, opened and closed, no money.
 */
export async function triggerDispute(opts: DisputeTriggerOptions, fetchFn: Fetch = fetch, log: (line: string) => void = console.log): Promise<FollowUpResult> {
  const held = await heldPayment(opts, opts.payment_intent_id, fetchFn);
  const charge = held.payment.charge;
  const created = nowSeconds();
  const existing = held.disputes[0];
  const sent: SentEvent[] = [];
  let current: BuiltDispute;
  const show = (step: BuiltDispute, from = 0) => {
    const d = step.dispute;
    log(`Dispute ${d.id} of ${opts.payment_intent_id} (charge ${charge.id}): ${d.amount} ${d.currency}, ${d.reason}, ${d.status}`);
    for (const bt of step.balance_transactions.slice(from)) log(describeBalanceTransaction(bt));
  };
  if (existing) {
    if (opts.outcome === null || opts.inquiry || !OPEN_CHARGEBACK.has(existing.status)) {
      const hint = OPEN_CHARGEBACK.has(existing.status) ? "; close it with --won or --lost" : "";
      throw new TriggerError(`charge ${charge.id} already has dispute ${existing.id} (${existing.status}): Stripe opens one dispute per charge${hint}`);
    }
    current = { dispute: existing, balance_transactions: existing.balance_transactions, payment: held.payment, events: [] };
  } else {
    const opened = built("dispute", () => (opts.inquiry ? buildInquiry(held.payment, { created, reason: "general" }) : buildDispute(held.payment, { created })));
    show(opened);
    sent.push(...(await sendStep(opts, opened, fetchFn, log)));
    current = opened;
  }
  const before = current.balance_transactions.length;
  const outcome = opts.inquiry ? closeInquiry : opts.outcome === "won" ? (b: BuiltDispute) => winDispute(b, { fee_returned: opts.fee_returned, created }) : opts.outcome === "lost" ? loseDispute : null;
  if (outcome) {
    const closed = built("dispute outcome", () => outcome(current, { created }));
    show(closed, before);
    sent.push(...(await sendStep(opts, closed, fetchFn, log)));
    current = closed;
  }
  return { kind: "dispute", payment_intent_id: opts.payment_intent_id, object_id: current.dispute.id, status: current.dispute.status, sent, balance_transactions: current.balance_transactions };
}

function summarizePayment(opts: TriggerOptions, r: TriggerResult): boolean {
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
      `  npm run stripe:trigger -- refund --payment ${r.payment_intent_id} --amount 1000`,
    ].join("\n"),
  );
  if (!ok) console.error(`\nThe worker answered HTTP ${r.worker_status}: the event was not accepted.`);
  return ok;
}

function summarizeFollowUp(opts: RefundTriggerOptions | DisputeTriggerOptions, r: FollowUpResult): boolean {
  const refused = r.sent.filter((s) => s.worker_status < 200 || s.worker_status >= 300);
  console.log(
    [
      "",
      `  ${r.kind.padEnd(15)} ${r.object_id} (${r.status})`,
      `  payment intent  ${r.payment_intent_id}`,
      ...r.sent.map((s) => `  event           ${s.event_id} (${s.event_type}) → HTTP ${s.worker_status}`),
      ...r.balance_transactions.map((bt) => `  balance tx      ${bt.id} ${bt.type}/${bt.reporting_category} ${bt.amount} ${bt.currency}, fee ${bt.fee}, net ${bt.net}`),
      "",
      "Next:",
      `  curl -H "Authorization: Bearer ${opts.admin_token}" ${opts.worker}/api/v1/payments/${r.payment_intent_id}`,
    ].join("\n"),
  );
  for (const s of refused) console.error(`\nThe worker answered HTTP ${s.worker_status} to ${s.event_type} ${s.event_id}: the event was not accepted.`);
  return refused.length === 0;
}

async function main(): Promise<number> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  try {
    const opts = parseCommand(process.argv.slice(2), readDevVars(root));
    if (opts === "help") {
      console.log(USAGE);
      return 0;
    }
    let ok: boolean;
    if (opts.kind === "refund") ok = summarizeFollowUp(opts, await triggerRefund(opts));
    else if (opts.kind === "dispute") ok = summarizeFollowUp(opts, await triggerDispute(opts));
    else ok = summarizePayment(opts, await trigger(opts));
    return ok ? 0 : 1;
  } catch (err) {
    console.error(err instanceof TriggerError ? `stripe:trigger: ${err.message}` : err);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
