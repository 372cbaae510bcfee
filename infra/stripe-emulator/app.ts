/**
 * A local emulator of the part of Stripe's REST API that Pot Commun calls.
 *
 * Web-standard only (no node: imports): runs under Node (infra/stripe-emulator/main.ts) and
 * inside workerd / miniflare tests (`createStripeEmulator().fetch(request)`).
 *
 *   GET /v1/checkout/sessions/:id[/line_items]   GET /v1/payment_intents/:id   GET /v1/charges/:id
 *   GET /v1/balance_transactions/:id   GET /v1/invoices/:id[/lines]   GET /v1/invoice_payments[/:id]
 *   GET /v1/refunds/:id   GET /v1/disputes/:id   GET /v1/events/:id   (+ prices, products,
 *   tax rates, coupons, shipping rates, payment records, customers, subscriptions, transfers,
 *   accounts),
 *   lists newest first: GET /v1/refunds?charge=&payment_intent=&created[…]=,
 *   GET /v1/disputes?charge=&payment_intent=&created[…]=, GET /v1/charges/:id/refunds,
 *   GET /v1/balance_transactions?created[gte|gt|lte|lt]=&type=&source=&currency=,
 *   with `expand[]` (includables: a session's line_items, a line item's taxes and discounts, an
 *   invoice's payments and amount_paid_off_stripe, a charge's refunds) and Stripe-shaped errors.
 *   Embedded lists (an invoice's lines, expanded line items and refunds) hold 10 items and say
 *   `has_more`, as Stripe's do.
 *
 *   Writes (writes.ts): POST /v1/transfers, GET /v1/transfers?transfer_group=&destination=,
 *   POST/GET /v1/transfers/:id/reversals, GET /v1/accounts, POST/GET/DELETE /v1/webhook_endpoints[/:id];
 *   every POST honours Idempotency-Key as Stripe does.
 *
 *   Test control (no auth): POST/GET/DELETE /_emulator/objects[/:id], POST/GET/DELETE
 *   /_emulator/faults (scoped by path, method and parameters), POST/GET/DELETE /_emulator/chaos,
 *   GET/DELETE /_emulator/requests, POST /_emulator/reset, GET /_emulator/health.
 */
import { Hono } from "hono";
import { unitHash } from "../../core/hash.ts";
// vitest.config.ts loads this file in the test host: relative imports keep their `.ts`
// extension and there are no JSON imports, so a native config loader can follow them too.
import { errorResponse, invalid, isRecord, json, KNOWN_ERRORS, missing, StripeHttpError, type StripeErrorBody } from "./http.ts";
import { EMBEDDED_LIST_LIMIT, STRIPE_API_VERSION, stripeId, type StripeObject } from "./ids.ts";
import { registerWrites } from "./writes.ts";

export type { StripeObject };

/** The next `times` requests matching it (method and path prefix) fail with `status`. */
export interface EmulatorFault {
  /** Matched against the request path, e.g. "/v1/checkout/sessions" (default: every /v1 path). */
  path_prefix?: string;
  /** e.g. "GET" (default: any method). */
  method?: string;
  status: number;
  times: number;
  /**
   * Only requests with these parameters: the form body's on POST (`destination`,
   * `metadata[party_id]`, as the stripe SDK encodes them), the query's on GET. Scopes a fault to
   * one object when test files share the emulator.
   */
  match?: Record<string, string>;
  /**
   * Overrides of the Stripe error body (`type`, `code`, `message`, `param`). A code Stripe
   * documents (KNOWN_ERRORS in http.ts: `balance_insufficient`, `account_invalid`, …) brings its
   * message and doc_url.
   */
  error?: { type?: string; code?: string; message?: string; param?: string };
  /** Sends `Stripe-Should-Retry: true|false`, which the stripe SDK obeys. */
  should_retry?: boolean;
  /** Sends `Retry-After: <seconds>`, as Stripe does on some 429s and 503s. */
  retry_after_s?: number;
}

/**
 * Random faults at a rate (the fault storm): each /v1 request fails with probability `rate`,
 * as a 500 or as a timeout (the answer held back `hang_ms`, longer than the client waits, then
 * sent: Stripe did the work, the client never saw it). Which requests fail is decided by a hash
 * of the seed, the request (method, path and query) and how many times that same request was
 * seen before, so a seed gives the same faults to the same requests in any interleaving.
 */
export interface EmulatorChaos {
  seed: number;
  /** The share of /v1 requests that fail, 0 to 1. */
  rate: number;
  /** The share of those failures that are timeouts rather than 500s, 0 to 1. */
  timeout_share: number;
  /** How long a timed-out request is held before its answer is sent. */
  hang_ms: number;
}

export interface EmulatorChaosCounts {
  requests: number;
  errors: number;
  timeouts: number;
}

/** The fault a chaos setting gives to the `nth` (from 0) sight of a request, or null. */
export function chaosFault(chaos: EmulatorChaos, request: string, nth: number): "error" | "timeout" | null {
  const u = unitHash(`${chaos.seed}|${request}|${nth}`);
  if (u >= chaos.rate) return null;
  return u < chaos.rate * chaos.timeout_share ? "timeout" : "error";
}


export interface EmulatorRequestRecord {
  method: string;
  path: string;
  status: number;
  fault: boolean;
  /** The Stripe-Version the client asked for, or null when it sent none. */
  stripe_version: string | null;
  /** The Idempotency-Key of a POST, or null: which retry of which request it was. */
  idempotency_key: string | null;
}

/** Properties of a Checkout line item that Stripe returns only when expanded (`data.taxes`). */
const ITEM_INCLUDABLES = ["taxes", "discounts"] as const;

function listData(list: unknown): unknown[] | undefined {
  const data = Array.isArray(list) ? list : (list as { data?: unknown } | null)?.data;
  return Array.isArray(data) ? data : undefined;
}

/** In-memory state of one emulator. Pass your own to share it between apps or to seed it. */
export class EmulatorStore {
  readonly objects = new Map<string, StripeObject>();
  /** Line items of checkout sessions (an includable property, not part of the session). */
  readonly checkoutLineItems = new Map<string, StripeObject[]>();
  /** Every line of each invoice (the invoice itself embeds the first 10). */
  readonly invoiceLines = new Map<string, StripeObject[]>();
  /** `taxes` and `discounts` of Checkout line items, served only when expanded. */
  readonly itemIncludables = new Map<string, Partial<Record<(typeof ITEM_INCLUDABLES)[number], unknown>>>();
  faults: EmulatorFault[] = [];
  chaos: EmulatorChaos | null = null;
  chaosCounts: EmulatorChaosCounts = { requests: 0, errors: 0, timeouts: 0 };
  /** How many times each request was seen while chaos was on (the `nth` of chaosFault). */
  private readonly chaosSeen = new Map<string, number>();
  requests: EmulatorRequestRecord[] = [];
  /** What each Idempotency-Key answered, with the request it was first used with. */
  readonly idempotencyKeys = new Map<string, { request: string; status: number; body: string }>();
  maxRequests = 500;

  /**
   * Upsert. A checkout.session may embed `line_items` (a list object or an array), whose items
   * may carry `taxes` and `discounts` (kept apart, served when expanded). An invoice's `lines`
   * are kept whole for /lines, and the invoice embeds the first 10 with `has_more`, as Stripe does.
   * A charge's `refunds` is dropped: the refunds stored with `charge` = its id are its refunds.
   */
  put(input: StripeObject): StripeObject {
    const obj = structuredClone(input);
    if (obj.object === "checkout.session" && "line_items" in obj) {
      const data = listData(obj.line_items);
      if (data) this.checkoutLineItems.set(obj.id, (data as StripeObject[]).map((item) => this.takeIncludables(item)));
      delete obj.line_items;
    }
    // Since API version 2022-11-15 a charge embeds its refunds only when asked (expand[]=refunds):
    // they are served from the refunds stored, never from a copy kept on the charge.
    if (obj.object === "charge") delete obj.refunds;
    if (obj.object === "invoice" && isRecord(obj.lines)) {
      const data = listData(obj.lines) as StripeObject[] | undefined;
      if (data) {
        this.invoiceLines.set(obj.id, data);
        const more = data.length > EMBEDDED_LIST_LIMIT || obj.lines.has_more === true;
        obj.lines = { ...obj.lines, data: data.slice(0, EMBEDDED_LIST_LIMIT), has_more: more };
      }
    }
    this.objects.set(obj.id, obj);
    return obj;
  }

  private takeIncludables(item: StripeObject): StripeObject {
    const kept: Partial<Record<(typeof ITEM_INCLUDABLES)[number], unknown>> = {};
    for (const key of ITEM_INCLUDABLES) {
      if (key in item) {
        kept[key] = item[key];
        delete item[key];
      }
    }
    if (Object.keys(kept).length > 0) this.itemIncludables.set(item.id, kept);
    return item;
  }

  get(id: string): StripeObject | undefined {
    return this.objects.get(id);
  }

  /** Stored objects of a type, in insertion order. */
  ofType(type: string): StripeObject[] {
    return [...this.objects.values()].filter((o) => o.object === type);
  }

  delete(id: string): boolean {
    this.checkoutLineItems.delete(id);
    this.invoiceLines.delete(id);
    return this.objects.delete(id);
  }

  clear(): void {
    this.objects.clear();
    this.checkoutLineItems.clear();
    this.invoiceLines.clear();
    this.itemIncludables.clear();
  }

  reset(): void {
    this.clear();
    this.idempotencyKeys.clear();
    this.faults = [];
    this.setChaos(null);
    this.requests = [];
  }

  /** Turns random faults on (or off with null); the counts and the sightings start again. */
  setChaos(chaos: EmulatorChaos | null): void {
    this.chaos = chaos;
    this.chaosCounts = { requests: 0, errors: 0, timeouts: 0 };
    this.chaosSeen.clear();
  }

  /** The random fault, if any, for this sight of a request (and counts it). */
  takeChaos(request: string): "error" | "timeout" | null {
    if (!this.chaos) return null;
    const nth = this.chaosSeen.get(request) ?? 0;
    this.chaosSeen.set(request, nth + 1);
    const fault = chaosFault(this.chaos, request, nth);
    this.chaosCounts.requests += 1;
    if (fault === "error") this.chaosCounts.errors += 1;
    if (fault === "timeout") this.chaosCounts.timeouts += 1;
    return fault;
  }

  record(entry: EmulatorRequestRecord): void {
    this.requests.push(entry);
    if (this.requests.length > this.maxRequests) this.requests.splice(0, this.requests.length - this.maxRequests);
  }

  /**
   * A POST with an Idempotency-Key, as Stripe treats it: the first request with the key runs;
   * the same request again gets the same answer (`Idempotent-Replayed: true`) without running;
   * another request with the key is Stripe's idempotency_error. Only successes are kept: a
   * request refused (or faulted) may be sent again with its key, as after a validation error at
   * Stripe. Keys never expire here (Stripe keeps them 24 hours).
   */
  async idempotent(key: string, request: string, run: () => Promise<Response>): Promise<Response> {
    const seen = this.idempotencyKeys.get(key);
    if (seen) {
      if (seen.request !== request) {
        throw new StripeHttpError(400, {
          type: "idempotency_error",
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      return new Response(seen.body, { status: seen.status, headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true", "Idempotency-Key": key } });
    }
    const res = await run();
    if (res.ok) this.idempotencyKeys.set(key, { request, status: res.status, body: await res.clone().text() });
    const out = new Response(res.body, res);
    out.headers.set("Idempotency-Key", key);
    return out;
  }

  /** Consumes one use of the first fault matching the request (its method, path and `params`), if any. */
  takeFault(method: string, path: string, params: URLSearchParams = new URLSearchParams()): EmulatorFault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        f.times > 0 &&
        (!f.method || f.method.toUpperCase() === method) &&
        path.startsWith(f.path_prefix ?? "/v1/") &&
        Object.entries(f.match ?? {}).every(([name, value]) => params.get(name) === value),
    );
    if (i < 0) return undefined;
    const fault = this.faults[i]!;
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }
}

export interface StripeEmulatorOptions {
  store?: EmulatorStore;
}

export type StripeEmulator = Hono & { store: EmulatorStore };

// ---------------------------------------------------------------------------------------------
// Errors and responses
// ---------------------------------------------------------------------------------------------

function faultError(fault: EmulatorFault): StripeHttpError {
  const s = fault.status;
  const base: StripeErrorBody =
    s === 429
      ? {
          type: "invalid_request_error",
          code: "rate_limit",
          doc_url: "https://stripe.com/docs/error-codes/rate-limit",
          message: "Request rate limit exceeded. (emulated fault)",
        }
      : s === 409
        ? { type: "invalid_request_error", code: "lock_timeout", message: "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. (emulated fault)" }
        : s === 401
          ? { type: "invalid_request_error", message: "Invalid API Key provided. (emulated fault)" }
          : s >= 500
            ? { type: "api_error", message: "An unknown error occurred. (emulated fault)" }
            : { type: "invalid_request_error", message: `Emulated fault (HTTP ${s}).` };
  const known = fault.error?.code ? KNOWN_ERRORS[fault.error.code] : undefined;
  const headers: Record<string, string> = {};
  if (fault.should_retry !== undefined) headers["Stripe-Should-Retry"] = String(fault.should_retry);
  if (fault.retry_after_s !== undefined) headers["Retry-After"] = String(fault.retry_after_s);
  return new StripeHttpError(s, { ...base, ...known, ...fault.error } as StripeErrorBody, headers);
}

// ---------------------------------------------------------------------------------------------
// Expansion
// ---------------------------------------------------------------------------------------------

const MAX_EXPAND_DEPTH = 4;

/** expand[]=a.b and expand[0]=a.b, as the stripe SDK sends them on GET. */
function expandParams(url: URL): string[] {
  const out: string[] = [];
  for (const [key, value] of url.searchParams) {
    if (/^expand\[\d*\]$/.test(key) || key === "expand") out.push(value);
  }
  for (const path of out) {
    if (!path || path.split(".").some((s) => s === "")) throw invalid(`Invalid expand path: '${path}'`, "expand");
    if (path.split(".").length > MAX_EXPAND_DEPTH) {
      throw invalid(`You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`, "expand");
    }
  }
  return out;
}

/**
 * Expandable properties that Stripe leaves out of an object until they apply (optional in the
 * SDK's types, absent from Stripe's example): a refund's failure_balance_transaction exists
 * only once it failed. Expanding them while absent leaves them absent; Stripe's "cannot be
 * expanded" error is for properties that never are expandable.
 */
const ABSENT_UNTIL_SET: Record<string, readonly string[]> = {
  refund: ["failure_balance_transaction"],
};

class Expander {
  constructor(
    private readonly store: EmulatorStore,
    private readonly includables: Record<string, Record<string, (obj: StripeObject) => unknown>>,
  ) {}

  /** Returns a deep copy of `root` with every path expanded. */
  apply(root: unknown, paths: string[]): unknown {
    let out = structuredClone(root);
    for (const path of paths) out = this.walk(out, path.split("."), path);
    return out;
  }

  private walk(value: unknown, segs: string[], path: string): unknown {
    if (segs.length === 0 || value === null || value === undefined) return value;
    if (Array.isArray(value)) return value.map((v) => this.walk(v, segs, path));
    if (!isRecord(value)) throw invalid(`This property cannot be expanded (${path}).`, "expand");
    const [key, ...rest] = segs as [string, ...string[]];
    let child: unknown;
    if (key in value) {
      child = value[key];
    } else {
      const include = typeof value.object === "string" ? this.includables[value.object]?.[key] : undefined;
      // An expandable property that the object leaves out until it applies is not an error to ask for.
      if (!include && typeof value.object === "string" && ABSENT_UNTIL_SET[value.object]?.includes(key)) return value;
      if (!include) throw invalid(`This property cannot be expanded (${path}).`, "expand");
      child = include(value as StripeObject);
      // An includable may be a plain value (an invoice's amount_paid_off_stripe): it is the answer.
      if (rest.length === 0 && (child === null || typeof child !== "object")) {
        value[key] = child;
        return value;
      }
    }
    if (typeof child === "string") {
      child = this.stored(child, path);
    } else if (Array.isArray(child)) {
      // A list of ids (an invoice's `discounts`): each id is expanded.
      child = child.map((c) => (typeof c === "string" ? this.stored(c, path) : c));
    } else if (child !== null && typeof child !== "object") {
      throw invalid(`This property cannot be expanded (${path}).`, "expand");
    }
    value[key] = this.walk(child, rest, path);
    return value;
  }

  private stored(id: string, path: string): StripeObject {
    const stored = this.store.get(id);
    if (!stored) {
      // Real Stripe always has the object; here it means a test forgot to POST it.
      throw new StripeHttpError(404, {
        type: "invalid_request_error",
        code: "resource_missing",
        message: `No such object: '${id}' (expanding ${path}). The emulator can only expand objects posted to /_emulator/objects.`,
        param: "expand",
      });
    }
    return structuredClone(stored);
  }
}

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

function parseLimit(url: URL): number {
  const raw = url.searchParams.get("limit");
  if (raw === null) return 10;
  if (!/^\d+$/.test(raw)) throw invalid(`Invalid integer: ${raw}`, "limit", "parameter_invalid_integer");
  const n = Number(raw);
  if (n < 1 || n > 100) throw invalid(`This value must be between 1 and 100 (it currently is '${raw}').`, "limit");
  return n;
}

function listObject(all: StripeObject[], listUrl: string, url: URL | null): Record<string, unknown> {
  let items = all;
  let limit = EMBEDDED_LIST_LIMIT;
  if (url) {
    limit = parseLimit(url);
    const after = url.searchParams.get("starting_after");
    const before = url.searchParams.get("ending_before");
    if (after) {
      const i = items.findIndex((o) => o.id === after);
      if (i < 0) throw missing("object", after, "starting_after");
      items = items.slice(i + 1);
    } else if (before) {
      const i = items.findIndex((o) => o.id === before);
      if (i < 0) throw missing("object", before, "ending_before");
      items = items.slice(Math.max(0, i - limit), i);
    }
  }
  return { object: "list", data: items.slice(0, limit), has_more: items.length > limit, url: listUrl };
}

/** Newest first, as Stripe lists (ties: last stored first). */
function newestFirst(objs: StripeObject[]): StripeObject[] {
  return objs
    .map((o, i) => ({ o, i }))
    .sort((a, b) => Number(b.o.created ?? 0) - Number(a.o.created ?? 0) || b.i - a.i)
    .map((x) => x.o);
}

function idOf(v: unknown): unknown {
  return isRecord(v) ? v.id : v;
}

const CREATED_BOUNDS = { gt: (c: number, b: number) => c > b, gte: (c: number, b: number) => c >= b, lt: (c: number, b: number) => c < b, lte: (c: number, b: number) => c <= b } as const;

/** Stripe's `created` filter of lists: created=<ts> or created[gt|gte|lt|lte]=<ts>, Unix seconds. */
function createdFilter(url: URL): (o: StripeObject) => boolean {
  const tests: ((created: number) => boolean)[] = [];
  for (const [key, raw] of url.searchParams) {
    const m = /^created(?:\[(gt|gte|lt|lte)\])?$/.exec(key);
    if (!m) continue;
    if (!/^\d+$/.test(raw)) throw invalid(`Invalid integer: ${raw}`, key, "parameter_invalid_integer");
    const bound = Number(raw);
    const op = m[1] as keyof typeof CREATED_BOUNDS | undefined;
    tests.push(op ? (c) => CREATED_BOUNDS[op](c, bound) : (c) => c === bound);
  }
  return (o) => tests.every((t) => t(Number(o.created ?? 0)));
}

/** A list's equality filters: each query parameter given must equal the object's field (an id, or an expanded object's id). */
function fieldFilter(url: URL, params: Record<string, string>): (o: StripeObject) => boolean {
  const wanted = Object.entries(params).flatMap(([param, field]) => {
    const value = url.searchParams.get(param);
    return value === null ? [] : [[field, value] as const];
  });
  return (o) => wanted.every(([field, value]) => idOf(o[field]) === value);
}

// ---------------------------------------------------------------------------------------------
// The app
// ---------------------------------------------------------------------------------------------

/** Path segment under /v1 → Stripe object type, for plain retrieve endpoints. */
const RETRIEVABLE: Record<string, string> = {
  "checkout/sessions": "checkout.session",
  payment_intents: "payment_intent",
  charges: "charge",
  balance_transactions: "balance_transaction",
  invoices: "invoice",
  invoice_payments: "invoice_payment",
  refunds: "refund",
  disputes: "dispute",
  events: "event",
  prices: "price",
  products: "product",
  tax_rates: "tax_rate",
  coupons: "coupon",
  shipping_rates: "shipping_rate",
  payment_records: "payment_record",
  customers: "customer",
  subscriptions: "subscription",
  transfers: "transfer",
  accounts: "account",
};

function parseObjects(body: unknown): StripeObject[] {
  const items = Array.isArray(body) ? body : [body];
  return items.map((o, i) => {
    const where = Array.isArray(body) ? `[${i}]` : "";
    if (!isRecord(o)) throw invalid(`Body${where} must be a Stripe object (JSON with "id" and "object").`);
    if (typeof o.id !== "string" || o.id === "") throw invalid(`Body${where} has no string "id".`, "id");
    if (typeof o.object !== "string" || o.object === "") throw invalid(`Body${where} has no string "object".`, "object");
    return o as StripeObject;
  });
}

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw invalid("Request body is not valid JSON.");
  }
}

/** A request's parameters in a fixed order: two requests with the same parameters compare equal. */
function canonicalParams(params: URLSearchParams): string {
  return [...params].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

export function createStripeEmulator(opts: StripeEmulatorOptions = {}): StripeEmulator {
  const store = opts.store ?? new EmulatorStore();

  const sessionLineItems = (session: StripeObject, url: URL | null) =>
    listObject(store.checkoutLineItems.get(session.id) ?? [], `/v1/checkout/sessions/${session.id}/line_items`, url);
  const invoicePayments = (filter: (p: StripeObject) => boolean, url: URL | null) =>
    listObject(newestFirst(store.ofType("invoice_payment").filter(filter)), "/v1/invoice_payments", url);

  const chargeRefunds = (charge: StripeObject, url: URL | null) =>
    listObject(newestFirst(store.ofType("refund").filter((r) => idOf(r.charge) === charge.id)), `/v1/charges/${charge.id}/refunds`, url);
  const paidInvoicePayments = (inv: StripeObject) => store.ofType("invoice_payment").filter((p) => idOf(p.invoice) === inv.id && p.status === "paid");
  const expander = new Expander(store, {
    "checkout.session": { line_items: (s) => sessionLineItems(s, null) },
    invoice: {
      payments: (inv) => invoicePayments((p) => idOf(p.invoice) === inv.id, null),
      // Computed by Stripe from the payment records of payments made outside Stripe; includable only.
      amount_paid_off_stripe: (inv) =>
        paidInvoicePayments(inv)
          .filter((p) => isRecord(p.payment) && p.payment.type === "payment_record")
          .reduce((sum, p) => sum + Number(p.amount_paid ?? 0), 0),
    },
    charge: { refunds: (ch) => chargeRefunds(ch, null) },
    item: {
      taxes: (item) => store.itemIncludables.get(item.id)?.taxes ?? [],
      discounts: (item) => store.itemIncludables.get(item.id)?.discounts ?? [],
    },
  });

  const app = new Hono();

  app.onError((err) => {
    if (err instanceof StripeHttpError) return errorResponse(err);
    return errorResponse(new StripeHttpError(500, { type: "api_error", message: `Emulator error: ${err.message}` }));
  });

  app.notFound((c) =>
    errorResponse(
      new StripeHttpError(404, {
        type: "invalid_request_error",
        message: `Unrecognized request URL (${c.req.method}: ${new URL(c.req.url).pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      }),
    ),
  );

  // Stripe's headers, auth, faults and the request log, for every /v1 call.
  app.use("/v1/*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const method = c.req.method;
    let fault = false;
    let res: Response;
    try {
      const auth = c.req.header("Authorization") ?? "";
      const key = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      if (!key) {
        throw new StripeHttpError(401, {
          type: "invalid_request_error",
          message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        });
      }
      if (!/^(sk|rk)_/.test(key)) {
        throw new StripeHttpError(401, {
          type: "invalid_request_error",
          message: `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`,
        });
      }
      const params = method === "GET" ? new URL(c.req.url).searchParams : new URLSearchParams(await c.req.raw.clone().text());
      const f = store.takeFault(method, path, params);
      if (f) {
        fault = true;
        throw faultError(f);
      }
      const chaos = store.takeChaos(`${method} ${path}${new URL(c.req.url).search}`);
      if (chaos === "error") {
        fault = true;
        throw faultError({ status: 500, times: 1 });
      }
      if (chaos === "timeout") {
        // Held past the client's timeout, then answered: the work is done, the client gave up.
        fault = true;
        const hang_ms = store.chaos?.hang_ms ?? 0;
        await new Promise((resolve) => setTimeout(resolve, hang_ms));
      }
      const idempotencyKey = method === "POST" ? c.req.header("Idempotency-Key") : undefined;
      if (idempotencyKey) {
        res = await store.idempotent(idempotencyKey, `${method} ${path} ${canonicalParams(params)}`, async () => {
          await next();
          return c.res;
        });
      } else {
        await next();
        res = c.res;
      }
    } catch (err) {
      if (!(err instanceof StripeHttpError)) throw err;
      res = errorResponse(err);
    }
    res = new Response(res.body, res);
    res.headers.set("Request-Id", stripeId("req_", 14));
    res.headers.set("Stripe-Version", c.req.header("Stripe-Version") ?? STRIPE_API_VERSION);
    store.record({ method, path: path + new URL(c.req.url).search, status: res.status, fault, stripe_version: c.req.header("Stripe-Version") ?? null, idempotency_key: c.req.header("Idempotency-Key") ?? null });
    c.res = res;
  });

  const retrieve = (type: string, id: string): StripeObject => {
    const obj = store.get(id);
    if (!obj || obj.object !== type) throw missing(type, id);
    return obj;
  };

  const respond = (body: unknown, url: URL) => json(expander.apply(body, expandParams(url)));

  // Specific sub-resources and lists first.
  app.get("/v1/checkout/sessions/:id/line_items", (c) => {
    const url = new URL(c.req.url);
    const session = retrieve("checkout.session", c.req.param("id"));
    return respond(sessionLineItems(session, url), url);
  });

  app.get("/v1/invoices/:id/lines", (c) => {
    const url = new URL(c.req.url);
    const invoice = retrieve("invoice", c.req.param("id"));
    const lines = store.invoiceLines.get(invoice.id) ?? (listData(invoice.lines) as StripeObject[] | undefined) ?? [];
    return respond(listObject(lines, `/v1/invoices/${invoice.id}/lines`, url), url);
  });

  app.get("/v1/invoice_payments", (c) => {
    const url = new URL(c.req.url);
    const q = url.searchParams;
    const invoice = q.get("invoice");
    const pi = q.get("payment[payment_intent]");
    const type = q.get("payment[type]");
    const status = q.get("status");
    const list = invoicePayments((p) => {
      const payment = isRecord(p.payment) ? p.payment : {};
      return (
        (!invoice || idOf(p.invoice) === invoice) &&
        (!pi || idOf(payment.payment_intent) === pi) &&
        (!type || payment.type === type) &&
        (!status || p.status === status)
      );
    }, url);
    return respond(list, url);
  });

  app.get("/v1/charges/:id/refunds", (c) => {
    const url = new URL(c.req.url);
    return respond(chargeRefunds(retrieve("charge", c.req.param("id")), url), url);
  });

  /** GET /v1/<segment>: the stored objects of `type` that pass the filters, newest first, paged. */
  const listRoute = (segment: string, type: string, fields: Record<string, string>) =>
    app.get(`/v1/${segment}`, (c) => {
      const url = new URL(c.req.url);
      const byField = fieldFilter(url, fields);
      const byCreated = createdFilter(url);
      const all = newestFirst(store.ofType(type).filter((o) => byField(o) && byCreated(o)));
      return respond(listObject(all, `/v1/${segment}`, url), url);
    });
  listRoute("refunds", "refund", { charge: "charge", payment_intent: "payment_intent" });
  listRoute("disputes", "dispute", { charge: "charge", payment_intent: "payment_intent" });
  listRoute("balance_transactions", "balance_transaction", { type: "type", source: "source", currency: "currency" });

  registerWrites(app, {
    put: (o) => void store.put(o),
    get: (id) => store.get(id),
    remove: (id) => void store.delete(id),
    ofType: (type) => store.ofType(type),
    retrieve,
    respond,
    list: (all, listUrl, url) => listObject(all, listUrl, url),
    newestFirst,
    createdFilter,
  });

  for (const [segment, type] of Object.entries(RETRIEVABLE)) {
    app.get(`/v1/${segment}/:id`, (c) => {
      const url = new URL(c.req.url);
      return respond(retrieve(type, c.req.param("id")), url);
    });
  }

  // ---- test control -------------------------------------------------------------------------

  app.get("/_emulator/health", () => json({ ok: true, objects: store.objects.size }));

  app.post("/_emulator/objects", async (c) => {
    const objs = parseObjects(await readJson(c.req.raw));
    const stored = objs.map((o) => store.put(o));
    return json({ stored: stored.map((o) => ({ id: o.id, object: o.object })) });
  });

  app.get("/_emulator/objects", (c) => {
    const type = c.req.query("object");
    return json({ object: "list", data: type ? store.ofType(type) : [...store.objects.values()], has_more: false, url: "/_emulator/objects" });
  });

  app.get("/_emulator/objects/:id", (c) => {
    const obj = store.get(c.req.param("id"));
    if (!obj) throw missing("object", c.req.param("id"));
    return json(obj);
  });

  app.delete("/_emulator/objects/:id", (c) => {
    const id = c.req.param("id");
    if (!store.delete(id)) throw missing("object", id);
    return json({ id, deleted: true });
  });

  app.delete("/_emulator/objects", () => {
    const count = store.objects.size;
    store.clear();
    return json({ deleted: count });
  });

  app.post("/_emulator/faults", async (c) => {
    const body = await readJson(c.req.raw);
    if (!isRecord(body)) throw invalid("Body must be a JSON object { path_prefix?, method?, status, times }.");
    const status = body.status;
    const times = body.times ?? 1;
    if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 599) {
      throw invalid("status must be an HTTP error status (400-599).", "status");
    }
    if (typeof times !== "number" || !Number.isInteger(times) || times < 1) throw invalid("times must be a positive integer.", "times");
    if (body.path_prefix !== undefined && typeof body.path_prefix !== "string") throw invalid("path_prefix must be a string.", "path_prefix");
    if (body.method !== undefined && typeof body.method !== "string") throw invalid("method must be a string.", "method");
    if (body.match !== undefined && (!isRecord(body.match) || Object.values(body.match).some((v) => typeof v !== "string"))) throw invalid("match must be an object of parameter names to string values.", "match");
    const fault: EmulatorFault = {
      status,
      times,
      ...(typeof body.path_prefix === "string" ? { path_prefix: body.path_prefix } : {}),
      ...(typeof body.method === "string" ? { method: body.method.toUpperCase() } : {}),
      ...(isRecord(body.match) ? { match: body.match as Record<string, string> } : {}),
      ...(isRecord(body.error) ? { error: body.error as EmulatorFault["error"] } : {}),
      ...(typeof body.should_retry === "boolean" ? { should_retry: body.should_retry } : {}),
      ...(typeof body.retry_after_s === "number" && Number.isInteger(body.retry_after_s) && body.retry_after_s >= 0 ? { retry_after_s: body.retry_after_s } : {}),
    };
    store.faults.push(fault);
    return json({ faults: store.faults });
  });

  app.get("/_emulator/faults", () => json({ faults: store.faults }));

  app.delete("/_emulator/faults", () => {
    store.faults = [];
    return json({ faults: [] });
  });

  app.post("/_emulator/chaos", async (c) => {
    const body = await readJson(c.req.raw);
    if (!isRecord(body)) throw invalid("Body must be a JSON object { seed, rate, timeout_share?, hang_ms? }.");
    const unit = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
    if (typeof body.seed !== "number" || !Number.isSafeInteger(body.seed)) throw invalid("seed must be an integer.", "seed");
    if (!unit(body.rate)) throw invalid("rate must be a number from 0 to 1.", "rate");
    const timeout_share = body.timeout_share ?? 0;
    if (!unit(timeout_share)) throw invalid("timeout_share must be a number from 0 to 1.", "timeout_share");
    const hang_ms = body.hang_ms ?? 0;
    if (typeof hang_ms !== "number" || !Number.isInteger(hang_ms) || hang_ms < 0 || hang_ms > 120_000) throw invalid("hang_ms must be an integer from 0 to 120000.", "hang_ms");
    store.setChaos({ seed: body.seed, rate: body.rate as number, timeout_share: timeout_share as number, hang_ms });
    return json({ chaos: store.chaos, counts: store.chaosCounts });
  });

  app.get("/_emulator/chaos", () => json({ chaos: store.chaos, counts: store.chaosCounts }));

  app.delete("/_emulator/chaos", () => {
    const counts = store.chaosCounts;
    store.setChaos(null);
    return json({ chaos: null, counts });
  });

  app.get("/_emulator/requests", () => json({ requests: store.requests }));

  app.delete("/_emulator/requests", () => {
    store.requests = [];
    return json({ requests: [] });
  });

  app.post("/_emulator/reset", () => {
    store.reset();
    return json({ reset: true });
  });

  return Object.assign(app, { store });
}
