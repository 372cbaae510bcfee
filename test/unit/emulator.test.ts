import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";

import { createStripeEmulator, EmulatorStore, type StripeEmulator } from "../../infra/stripe-emulator/app";
import {
  buildAsyncPaymentSucceeded,
  buildEvent,
  buildHostingPayment,
  buildSubscriptionCheckout,
  buildTrainingPayment,
  defaultStripeFee,
  emulatorObjects,
  STRIPE_API_VERSION,
} from "../../infra/stripe-emulator/objects";

const KEY = "sk_test_local";
const BASE = "http://127.0.0.1:12111";

type Json = Record<string, any>;

let app: StripeEmulator;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${KEY}` }) {
  const res = await app.fetch(
    new Request(`${BASE}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}
const get = (path: string) => call("GET", path);
const put = (objs: unknown) => call("POST", "/_emulator/objects", objs, {});

function training() {
  return buildTrainingPayment({ amount_minor: 10001, currency: "eur", price_id: "price_training_intro", offer_id: "training-intro" });
}
function hosting() {
  return buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic", offer_id: "hosting-basic" });
}

beforeEach(() => {
  app = createStripeEmulator();
});

describe("store and retrieve", () => {
  it("stores objects (one or an array), replaces them by id, and serves them as stored", async () => {
    const t = training();
    const r = await put(emulatorObjects(t));
    expect(r.status).toBe(200);
    expect(r.body.stored).toContainEqual({ id: t.charge.id, object: "charge" });

    // A charge's refunds are served only when expanded (API version 2022-11-15 on): not stored on it.
    const { refunds, ...charge } = t.charge;
    expect((await call("GET", `/_emulator/objects/${t.charge.id}`, undefined, {})).body).toEqual(charge);
    expect((await get(`/v1/charges/${t.charge.id}`)).body).toEqual(charge);
    expect((await get(`/v1/charges/${t.charge.id}?expand[]=refunds`)).body).toEqual(t.charge);
    expect(refunds).toEqual({ object: "list", data: [], has_more: false, url: `/v1/charges/${t.charge.id}/refunds` });
    expect((await get(`/v1/payment_intents/${t.payment_intent.id}`)).body).toEqual(t.payment_intent);
    expect((await get(`/v1/balance_transactions/${t.balance_transaction.id}`)).body).toEqual(t.balance_transaction);
    expect((await get(`/v1/events/${t.event.id}`)).body).toEqual(t.event);

    await put({ ...t.charge, amount_refunded: 500 });
    expect((await get(`/v1/charges/${t.charge.id}`)).body.amount_refunded).toBe(500);
  });

  it("serves refunds, disputes and events stored like the others", async () => {
    const refund = { id: "re_test_1", object: "refund", amount: 100, charge: "ch_x", status: "succeeded" };
    const dispute = { id: "dp_test_1", object: "dispute", amount: 100, charge: "ch_x", status: "needs_response" };
    const event = buildEvent("refund.created", refund);
    await put([refund, dispute, event]);
    expect((await get("/v1/refunds/re_test_1")).body).toEqual(refund);
    expect((await get("/v1/disputes/dp_test_1")).body).toEqual(dispute);
    const e = (await get(`/v1/events/${event.id}`)).body;
    expect(e.type).toBe("refund.created");
    expect(e.data.object).toEqual(refund);
    expect(e.api_version).toBe(STRIPE_API_VERSION);
  });

  it("rejects bodies that are not Stripe objects", async () => {
    const r = await put([{ id: "x" }]);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: "invalid_request_error", param: "object" });
  });

  it("DELETE /_emulator/objects empties the store: a charge stored before is then 404", async () => {
    const t = training();
    await put(emulatorObjects(t));
    expect((await call("DELETE", "/_emulator/objects", undefined, {})).status).toBe(200);
    expect((await get(`/v1/charges/${t.charge.id}`)).status).toBe(404);
  });

  it("serves the objects of a store passed in, and exposes that same store", async () => {
    const store = new EmulatorStore();
    store.put({ id: "ch_shared", object: "charge", amount: 1 });
    app = createStripeEmulator({ store });
    expect((await get("/v1/charges/ch_shared")).body.amount).toBe(1);
    expect(app.store).toBe(store);
  });
});

describe("Stripe-shaped errors", () => {
  it("answers 404 resource_missing for an unknown id, also when the id is an object of another type", async () => {
    const t = training();
    await put(emulatorObjects(t));
    for (const path of ["/v1/charges/ch_nope", `/v1/charges/${t.payment_intent.id}`]) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({
        error: {
          type: "invalid_request_error",
          code: "resource_missing",
          doc_url: "https://stripe.com/docs/error-codes/resource-missing",
          message: `No such charge: '${path.split("/").pop()}'`,
          param: "id",
        },
      });
    }
    expect(r404((await get("/v1/checkout/sessions/cs_nope")).body)).toBe("No such checkout.session: 'cs_nope'");
  });

  it("answers 401 without an API key and with a publishable key", async () => {
    const none = await call("GET", "/v1/charges/ch_1", undefined, {});
    expect(none.status).toBe(401);
    expect(none.body.error.type).toBe("invalid_request_error");
    expect(none.body.error.message).toMatch(/did not provide an API key/);
    const pk = await call("GET", "/v1/charges/ch_1", undefined, { Authorization: "Bearer pk_test_123456789" });
    expect(pk.status).toBe(401);
    expect(pk.body.error.message).toMatch(/Invalid API Key/);
  });

  it("answers 404 Unrecognized request URL for a path it does not serve", async () => {
    const r = await get("/v1/nothing/here");
    expect(r.status).toBe(404);
    expect(r.body.error.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/nothing\/here\)/);
  });

  it("speaks the API version the stripe SDK pins", () => {
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
  });

  it("sets the Request-Id and Stripe-Version headers, on errors too", async () => {
    const r = await get("/v1/charges/ch_nope");
    expect(r.headers.get("Request-Id")).toMatch(/^req_/);
    expect(r.headers.get("Stripe-Version")).toBe(STRIPE_API_VERSION);
  });
});

function r404(body: Json): string {
  return body.error.message;
}

describe("expand", () => {
  it("expands nested paths written expand[] or expand[0], and leaves the stored object unexpanded", async () => {
    const t = training();
    await put(emulatorObjects(t));
    for (const q of ["expand[]=payment_intent.latest_charge.balance_transaction", "expand%5B0%5D=payment_intent.latest_charge.balance_transaction"]) {
      const s = (await get(`/v1/checkout/sessions/${t.session.id}?${q}`)).body;
      expect(s.payment_intent.id).toBe(t.payment_intent.id);
      expect(s.payment_intent.latest_charge.id).toBe(t.charge.id);
      expect(s.payment_intent.latest_charge.balance_transaction).toEqual(t.balance_transaction);
    }
    // The stored object is not changed by an expansion.
    expect((await get(`/v1/checkout/sessions/${t.session.id}`)).body.payment_intent).toBe(t.payment_intent.id);
  });

  it("includes a session's line_items only when they are expanded", async () => {
    const t = training();
    await put(emulatorObjects(t));
    const plain = (await get(`/v1/checkout/sessions/${t.session.id}`)).body;
    expect(plain).not.toHaveProperty("line_items");
    expect(plain).toEqual(t.session);
    const s = (await get(`/v1/checkout/sessions/${t.session.id}?expand[]=line_items&expand[]=line_items.data.price.product`)).body;
    expect(s.line_items).toMatchObject({ object: "list", has_more: false, url: `/v1/checkout/sessions/${t.session.id}/line_items` });
    expect(s.line_items.data[0].price.id).toBe("price_training_intro");
    expect(s.line_items.data[0].price.product.object).toBe("product");
  });

  it("expands inside lists (data.x.y) and the invoice's includable payments", async () => {
    const h = hosting();
    await put(emulatorObjects(h));
    const list = (await get(`/v1/invoice_payments?invoice=${h.invoice.id}&expand[]=data.payment.payment_intent.latest_charge`)).body;
    expect(list.data[0].payment.payment_intent.id).toBe(h.payment_intent.id);
    expect(list.data[0].payment.payment_intent.latest_charge.id).toBe(h.charge.id);
    const inv = (await get(`/v1/invoices/${h.invoice.id}?expand[]=payments.data.payment.payment_intent`)).body;
    expect(inv.payments.data[0].payment.payment_intent.latest_charge).toBe(h.charge.id);
  });

  it("refuses to expand more than 4 levels, a property that is not expandable or unknown, and an id it does not hold; null stays null", async () => {
    const t = training();
    await put(emulatorObjects(t));
    const deep = await get(`/v1/checkout/sessions/${t.session.id}?expand[]=payment_intent.latest_charge.balance_transaction.source.x`);
    expect(deep.status).toBe(400);
    expect(deep.body.error).toMatchObject({ type: "invalid_request_error", param: "expand" });
    expect(deep.body.error.message).toMatch(/more than 4 levels/);
    const notExpandable = await get(`/v1/checkout/sessions/${t.session.id}?expand[]=amount_total`);
    expect(notExpandable.status).toBe(400);
    expect(notExpandable.body.error.message).toBe("This property cannot be expanded (amount_total).");
    const nope = await get(`/v1/checkout/sessions/${t.session.id}?expand[]=nope`);
    expect(nope.status).toBe(400);
    await call("DELETE", `/_emulator/objects/${t.charge.id}`, undefined, {});
    const missing = await get(`/v1/payment_intents/${t.payment_intent.id}?expand[]=latest_charge`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/No such object: 'ch_/);
    // null stays null
    const noCustomer = await get(`/v1/checkout/sessions/${t.session.id}?expand[]=customer`);
    expect(noCustomer.body.customer).toBeNull();
  });
});

describe("list endpoints", () => {
  it("pages a session's line_items with limit and starting_after, refuses limit 101 and answers 404 for an unknown session", async () => {
    const t = buildTrainingPayment({
      amount_minor: 9000,
      currency: "eur",
      price_id: "price_a",
      lines: [
        { price_id: "price_a", amount_minor: 1000 },
        { price_id: "price_b", amount_minor: 3000, quantity: 3 },
        { price_id: "price_c", amount_minor: 5000 },
      ],
    });
    await put(emulatorObjects(t));
    // The builder's items carry `taxes` and `discounts`, which Stripe serves only when expanded.
    const all = (await get(`/v1/checkout/sessions/${t.session.id}/line_items?expand[]=data.taxes&expand[]=data.discounts`)).body;
    expect(all).toEqual({ object: "list", data: t.line_items.data, has_more: false, url: `/v1/checkout/sessions/${t.session.id}/line_items` });
    const page1 = (await get(`/v1/checkout/sessions/${t.session.id}/line_items?limit=2`)).body;
    expect(page1.data.map((i: Json) => i.price.id)).toEqual(["price_a", "price_b"]);
    expect(page1.has_more).toBe(true);
    const page2 = (await get(`/v1/checkout/sessions/${t.session.id}/line_items?limit=2&starting_after=${page1.data[1].id}`)).body;
    expect(page2.data.map((i: Json) => i.price.id)).toEqual(["price_c"]);
    expect(page2.has_more).toBe(false);
    expect((await get(`/v1/checkout/sessions/${t.session.id}/line_items?limit=101`)).status).toBe(400);
    expect((await get("/v1/checkout/sessions/cs_nope/line_items")).status).toBe(404);
  });

  it("lists an invoice's lines, and invoice payments by invoice or by payment intent", async () => {
    const h = hosting();
    const other = hosting();
    await put([...emulatorObjects(h), ...emulatorObjects(other)]);
    const lines = (await get(`/v1/invoices/${h.invoice.id}/lines`)).body;
    expect(lines).toEqual({ object: "list", data: h.invoice.lines.data, has_more: false, url: `/v1/invoices/${h.invoice.id}/lines` });
    const pays = (await get(`/v1/invoice_payments?invoice=${h.invoice.id}`)).body;
    expect(pays).toEqual({ object: "list", data: [h.invoice_payment], has_more: false, url: "/v1/invoice_payments" });
    const byPi = (await get(`/v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]=${other.payment_intent.id}`)).body;
    expect(byPi.data.map((p: Json) => p.id)).toEqual([other.invoice_payment.id]);
    expect((await get(`/v1/invoice_payments/${h.invoice_payment.id}`)).body).toEqual(h.invoice_payment);
    expect((await get("/v1/invoice_payments?invoice=in_nope")).body.data).toEqual([]);
  });
});

describe("faults", () => {
  it("fails the next N matching requests with a Stripe error, then answers normally again", async () => {
    const t = training();
    await put(emulatorObjects(t));
    const f = await call("POST", "/_emulator/faults", { path_prefix: "/v1/checkout/sessions", status: 500, times: 2 }, {});
    expect(f.status).toBe(200);

    expect((await get(`/v1/charges/${t.charge.id}`)).status).toBe(200); // other path unaffected
    for (let i = 0; i < 2; i++) {
      const r = await get(`/v1/checkout/sessions/${t.session.id}`);
      expect(r.status).toBe(500);
      expect(r.body.error.type).toBe("api_error");
    }
    expect((await get(`/v1/checkout/sessions/${t.session.id}`)).status).toBe(200);

    await call("POST", "/_emulator/faults", { status: 429, times: 1, should_retry: true }, {});
    const limited = await get(`/v1/payment_intents/${t.payment_intent.id}`);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ type: "invalid_request_error", code: "rate_limit" });
    expect(limited.headers.get("Stripe-Should-Retry")).toBe("true");

    const log = (await call("GET", "/_emulator/requests", undefined, {})).body.requests as Json[];
    expect(log.filter((r) => r.fault).map((r) => r.status)).toEqual([500, 500, 429]);
  });

  it("refuses a fault whose status is not an error status or whose times is not positive", async () => {
    expect((await call("POST", "/_emulator/faults", { status: 200, times: 1 }, {})).status).toBe(400);
    expect((await call("POST", "/_emulator/faults", { status: 500, times: 0 }, {})).status).toBe(400);
  });
});

describe("chaos: random faults at a rate", () => {
  const charges = (n: number) => Array.from({ length: n }, (_, i) => `/v1/charges/ch_chaos_${i}`);

  async function failing(seed: number, paths: string[]): Promise<Set<string>> {
    app = createStripeEmulator();
    await call("POST", "/_emulator/chaos", { seed, rate: 0.05 }, {});
    const failed = new Set<string>();
    for (const path of paths) if ((await get(path)).status === 500) failed.add(path);
    return failed;
  }

  it("fails about `rate` of the requests with a 500, the same requests for the same seed in any order, others for another seed", async () => {
    const paths = charges(2_000);
    const first = await failing(7, paths);
    expect(first.size).toBeGreaterThan(60);
    expect(first.size).toBeLessThan(140);
    expect(await failing(7, [...paths].reverse())).toEqual(first);
    const other = await failing(8, paths);
    expect([...other].filter((p) => first.has(p)).length).toBeLessThan(first.size / 2);
    expect((await call("GET", "/_emulator/chaos", undefined, {})).body.counts).toEqual({ requests: 2_000, errors: other.size, timeouts: 0 });
  });

  it("decides again for each new sight of the same request: a retried request is not doomed", async () => {
    await call("POST", "/_emulator/chaos", { seed: 1, rate: 0.5 }, {});
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push((await get("/v1/charges/ch_same")).status);
    expect(statuses).toContain(500);
    expect(statuses).toContain(404);
  });

  it("holds a timed-out request past the client's timeout, then does the work: the SDK sees a connection error", async () => {
    const t = training();
    await put(emulatorObjects(t));
    await call("POST", "/_emulator/chaos", { seed: 1, rate: 1, timeout_share: 1, hang_ms: 300 }, {});
    // As over a network: the client's abort ends its wait, whatever the server is doing.
    const fetchAbortable = (url: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        Promise.resolve(app.fetch(new Request(url, init))).then(resolve, reject);
      });
    const stripe = new Stripe(KEY, { httpClient: Stripe.createFetchHttpClient(fetchAbortable), host: "127.0.0.1", port: 12111, protocol: "http", maxNetworkRetries: 0, timeout: 100 });
    const began = Date.now();
    const err = await stripe.charges.retrieve(t.charge.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(Date.now() - began).toBeLessThan(300);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const log = (await call("GET", "/_emulator/requests", undefined, {})).body.requests as Json[];
    expect(log.map((r) => [r.path, r.status, r.fault])).toEqual([[`/v1/charges/${t.charge.id}`, 200, true]]);
    expect((await call("DELETE", "/_emulator/chaos", undefined, {})).body).toEqual({ chaos: null, counts: { requests: 1, errors: 0, timeouts: 1 } });
    expect((await get(`/v1/charges/${t.charge.id}`)).status).toBe(200);
  });

  it("refuses a rate or share outside 0 to 1, a seed that is not an integer, a hang above two minutes", async () => {
    for (const body of [{ seed: 1, rate: 1.5 }, { seed: 1, rate: -0.1 }, { seed: 1.5, rate: 0.1 }, { rate: 0.1 }, { seed: 1, rate: 0.1, timeout_share: 2 }, { seed: 1, rate: 0.1, hang_ms: 200_000 }]) {
      expect((await call("POST", "/_emulator/chaos", body, {})).status, JSON.stringify(body)).toBe(400);
    }
    expect((await call("GET", "/_emulator/chaos", undefined, {})).body.chaos).toBeNull();
  });
});

describe("builders", () => {
  it("builds a training payment whose session, line item, payment intent, charge, balance transaction and event agree", () => {
    const t = buildTrainingPayment({ amount_minor: 10001, currency: "EUR", price_id: "price_training_intro", offer_id: "training-intro", created: 1_800_000_000 });
    expect(t.session).toMatchObject({
      object: "checkout.session",
      mode: "payment",
      payment_status: "paid",
      status: "complete",
      amount_total: 10001,
      currency: "eur",
      created: 1_800_000_000,
      metadata: { offer_id: "training-intro" },
      payment_intent: t.payment_intent.id,
    });
    expect(t.session.id).toMatch(/^cs_test_/);
    expect(t.line_items.data).toHaveLength(1);
    expect(t.line_items.data[0]).toMatchObject({ object: "item", amount_total: 10001, quantity: 1, price: { id: "price_training_intro", unit_amount: 10001 } });
    expect(t.line_items.data[0]!.id).toMatch(/^li_/);
    expect(t.payment_intent).toMatchObject({ status: "succeeded", amount: 10001, amount_received: 10001, latest_charge: t.charge.id });
    expect(t.payment_intent.id).toMatch(/^pi_/);
    expect(t.charge).toMatchObject({ amount: t.session.amount_total, currency: "eur", paid: true, status: "succeeded", payment_intent: t.payment_intent.id, balance_transaction: t.balance_transaction.id });
    expect(t.charge.id).toMatch(/^ch_/);
    const bt = t.balance_transaction;
    expect(bt.id).toMatch(/^txn_/);
    expect(bt).toMatchObject({ amount: 10001, fee: 150 + 25, currency: "eur", exchange_rate: null, source: t.charge.id, type: "charge" });
    expect(bt.net).toBe(bt.amount - bt.fee);
    expect(bt.fee_details).toEqual([{ amount: bt.fee, application: null, currency: "eur", description: "Stripe processing fees", type: "stripe_fee" }]);
    expect(t.event).toMatchObject({ object: "event", type: "checkout.session.completed", api_version: STRIPE_API_VERSION, livemode: false, created: 1_800_000_000 });
    expect(t.event.id).toMatch(/^evt_/);
    expect(t.event.data.object).toEqual(t.session);
  });

  it("charges a default fee of 1.5% rounded up plus 25 minor units (no fixed part in zero-decimal currencies), or the fee given", () => {
    expect(defaultStripeFee(10001, "eur")).toBe(175);
    expect(defaultStripeFee(100, "eur")).toBe(27); // 1.5 rounds up to 2
    expect(defaultStripeFee(0, "eur")).toBe(25);
    expect(defaultStripeFee(10000, "jpy")).toBe(150);
    const t = buildTrainingPayment({ amount_minor: 5000, currency: "eur", price_id: "p", fee_minor: 0 });
    expect(t.balance_transaction).toMatchObject({ fee: 0, net: 5000, fee_details: [] });
  });

  it("settles in another currency at the exchange rate given, the fee in the settlement currency, and needs that rate", () => {
    const t = buildTrainingPayment({ amount_minor: 10000, currency: "usd", price_id: "price_x", settlement_currency: "eur", exchange_rate: 0.9 });
    expect(t.charge).toMatchObject({ amount: 10000, currency: "usd" });
    expect(t.balance_transaction).toMatchObject({ amount: 9000, currency: "eur", exchange_rate: 0.9, fee: 135 + 25, net: 9000 - 160 });
    expect(t.balance_transaction.fee_details[0]!.currency).toBe("eur");
    const jpy = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "p", settlement_currency: "jpy", exchange_rate: 160 });
    expect(jpy.balance_transaction).toMatchObject({ amount: 1600, currency: "jpy", fee: 24 });
    // 100 × 1.005 is 100.5 exactly (a float product says 100.49999999999999): half away from zero, 101.
    const half = buildTrainingPayment({ amount_minor: 100, currency: "usd", price_id: "p", settlement_currency: "eur", exchange_rate: 1.005, fee_minor: 0 });
    expect(half.balance_transaction.amount).toBe(101);
    expect(() => buildTrainingPayment({ amount_minor: 1, currency: "usd", price_id: "p", settlement_currency: "eur" })).toThrow(/exchange_rate/);
  });

  it("builds a cart whose lines add up to the amount, and refuses lines that do not, fractional amounts, uneven quantities and a default fee above the amount", () => {
    const t = buildTrainingPayment({ amount_minor: 3000, currency: "eur", price_id: "ignored", lines: [{ price_id: "price_a", amount_minor: 1000 }, { price_id: "price_b", amount_minor: 2000, quantity: 2 }] });
    expect(t.line_items.data.map((l) => [l.price!.id, l.amount_total, l.quantity, l.price!.unit_amount])).toEqual([["price_a", 1000, 1, 1000], ["price_b", 2000, 2, 1000]]);
    expect(t.prices.map((p) => p.id)).toEqual(["price_a", "price_b"]);
    expect(() => buildTrainingPayment({ amount_minor: 3001, currency: "eur", price_id: "x", lines: [{ price_id: "a", amount_minor: 3000 }] })).toThrow(/add up/);
    expect(() => buildTrainingPayment({ amount_minor: 10.5, currency: "eur", price_id: "x" })).toThrow(/integer/);
    expect(() => buildTrainingPayment({ amount_minor: 101, currency: "eur", price_id: "x", quantity: 2 })).toThrow(/multiple/);
    expect(() => buildTrainingPayment({ amount_minor: 1, currency: "eur", price_id: "x" })).toThrow(/fee_minor/);
  });

  it("builds a delayed-method payment unpaid and processing, then paid by async_payment_succeeded", () => {
    const t = buildTrainingPayment({ amount_minor: 5000, currency: "eur", price_id: "p", payment_status: "unpaid" });
    expect(t.session.payment_status).toBe("unpaid");
    expect(t.payment_intent.status).toBe("processing");
    expect(t.charge.status).toBe("pending");
    const ok = buildAsyncPaymentSucceeded(t);
    expect(ok.event.type).toBe("checkout.session.async_payment_succeeded");
    expect(ok.session).toMatchObject({ id: t.session.id, payment_status: "paid" });
    expect(ok.payment_intent).toMatchObject({ id: t.payment_intent.id, status: "succeeded", amount_received: 5000 });
    expect(ok.charge.status).toBe("succeeded");
  });

  it("builds a paid hosting invoice whose payment intent is found through its invoice payment, not on the invoice", () => {
    const h = hosting();
    expect(h.invoice).toMatchObject({ object: "invoice", status: "paid", amount_paid: 2900, amount_due: 2900, amount_remaining: 0, currency: "eur", metadata: { offer_id: "hosting-basic" } });
    expect(h.invoice.id).toMatch(/^in_/);
    expect(h.invoice).not.toHaveProperty("charge");
    expect(h.invoice).not.toHaveProperty("payment_intent");
    expect(h.invoice.parent).toMatchObject({ type: "subscription_details", subscription_details: { metadata: { offer_id: "hosting-basic" } } });
    const line = h.invoice.lines.data[0]!;
    expect(line.id).toMatch(/^il_/);
    expect(line).toMatchObject({ object: "line_item", amount: 2900, invoice: h.invoice.id, pricing: { type: "price_details", price_details: { price: "price_hosting_basic" } } });
    expect(h.invoice_payment).toMatchObject({
      object: "invoice_payment",
      invoice: h.invoice.id,
      amount_paid: 2900,
      status: "paid",
      payment: { type: "payment_intent", payment_intent: h.payment_intent.id },
    });
    expect(h.invoice_payment.id).toMatch(/^inpay_/);
    expect(h.charge).toMatchObject({ amount: h.invoice.amount_paid, payment_intent: h.payment_intent.id, balance_transaction: h.balance_transaction.id });
    expect(h.balance_transaction.net).toBe(h.balance_transaction.amount - h.balance_transaction.fee);
    expect(h.prices[0]).toMatchObject({ id: "price_hosting_basic", type: "recurring", recurring: { interval: "month" } });
    expect(h.event).toMatchObject({ type: "invoice.paid", data: { object: h.invoice } });
  });

  it("builds a subscription checkout in subscription mode, with no payment intent, pointing at its paid invoice", () => {
    const s = buildSubscriptionCheckout({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic" });
    expect(s.session).toMatchObject({ mode: "subscription", payment_intent: null, invoice: s.invoice.id, payment_status: "paid", customer: s.invoice.customer });
    expect(s.session.subscription).toMatch(/^sub_/);
    expect(s.checkout_event).toMatchObject({ type: "checkout.session.completed", data: { object: { mode: "subscription" } } });
    expect(s.event.type).toBe("invoice.paid");
    expect(s.invoice.billing_reason).toBe("subscription_create");
    expect(() => buildTrainingPayment({ amount_minor: 1, currency: "eur", price_id: "p", mode: "subscription" as "payment" })).toThrow(/buildSubscriptionCheckout/);
  });

  it("gives every object a fresh id unless one is forced", () => {
    const a = training();
    const b = training();
    expect(new Set([a.session.id, b.session.id, a.payment_intent.id, b.payment_intent.id, a.event.id, b.event.id]).size).toBe(6);
    const c = buildTrainingPayment({ amount_minor: 100, currency: "eur", price_id: "p", ids: { session: "cs_test_fixed", event: "evt_fixed" } });
    expect([c.session.id, c.event.id]).toEqual(["cs_test_fixed", "evt_fixed"]);
  });
});

/**
 * Stripe's example objects as the repository holds them (infra/stripe-fixtures, see its README),
 * with the SHA-256 of each one's JSON.stringify: the copies were checked equal to Stripe's
 * openapi/fixtures3.json when these were recorded. After re-extracting the fixtures from a newer
 * fixtures3.json (and only then), record the new digests printed by this test's failure.
 */
const FIXTURE_DIGESTS: Record<string, string> = {
  balance_transaction: "06327dcb678851a764da6da2ed78e28e6d380b9bdfe0abe53a4e4fd3b999886a",
  charge: "adfd8fece62b97f35676bce7cc22ba53946026a495d2b4fc2d9b8797d9c7d084",
  "checkout.session": "d9cf4343819215a3a4c9c9b9acc88850071e775db8370a8ff832204135b1f0f7",
  dispute: "edc7b403e7e56d539c5a06404438dc7f83a41147a2a74be4a66c91522ab4e220",
  event: "636489ec9ecfa6d12a202b346f161b35bd4b97161dd7a2ac07775827a88c09b6",
  invoice: "b933087ff9abb067d89ef89b0d8ba20e2c2b19d82f0a2a618cb0da044357355b",
  invoice_payment: "68604ac66081242446e90018136cf2920fb9109025508712dcbd7ed5a8195f2d",
  item: "75988935b9ba537ecb3018a1dd3be54a3489abc1848d22870f6a3b987cba98f0",
  line_item: "c56ba527615c748a120479a486c15094f1b7f70f4747f6f888097ce42cb63918",
  payment_intent: "25ecdccd94114df31abd6114959f20f6f442f9fec25ea82025711850f95a8289",
  price: "d59c986a9c68b54b5b432693d22091df6425bb6dc274a403cf59e7912637ad42",
  product: "f891345c815659c980cbda70c0fe33f9cb59f58dcb3ffe40816da6cd754dfe04",
  refund: "71a9edeb287d4defb9b64446592cd9bdc9291d6fd88dd68dba57469a0d07625e",
  coupon: "b6e188f6593aed9835d9d9ec7b675752a5c542f9836949bff548be5cc69df346",
  discount: "c2be1f5fbdb667a1e3d7c91bb1bbb1d4898a50a81e365bbbea037c9f20a3ee73",
  payment_record: "72ac4b831ba817337866e114273d22ad4ccd2e99e7b3c8a90171eec17576589d",
  shipping_rate: "856f6de02b43f1606920dbc299c7261df542e7eb1fcdc1389b8347eb668e4b54",
  tax_rate: "c2eb503797fde85a362a198e83c615aa9339da058e814916416fa90379bb80f1",
  account: "e3a930a122a95c5d850780271a6608f18cece092dd0d14b318e4d08eb665bcab",
  transfer: "1f8c5f05c9c9707c1d253809dfa4981b44298c6527405cd91df9f1921d5e25a5",
  transfer_reversal: "c688253d82483209841e0d4d89401389c909823329a3179605597dac47c66985",
  webhook_endpoint: "f06d156bf3ba88905ce840d3b94d46c527474e9c22e38ef08174603210390da8",
};

const FIXTURES_DIR = new URL("../../infra/stripe-fixtures/", import.meta.url);
const resources: Record<string, Json> = Object.fromEntries(
  readdirSync(FIXTURES_DIR)
    .filter((file) => file.endsWith(".json"))
    .map((file) => [file.slice(0, -".json".length), JSON.parse(readFileSync(new URL(file, FIXTURES_DIR), "utf8")) as Json]),
);

describe("builders keep Stripe's shapes (the top-level keys of infra/stripe-fixtures)", () => {
  const keys = (o: object) => Object.keys(o).sort();

  it("the repository holds the twenty-two fixtures, each the Stripe object its file names, unchanged since they were copied", () => {
    expect(Object.keys(resources).sort()).toEqual(Object.keys(FIXTURE_DIGESTS).sort());
    const digests = Object.fromEntries(Object.entries(resources).map(([name, object]) => [name, createHash("sha256").update(JSON.stringify(object)).digest("hex")]));
    expect(digests).toEqual(FIXTURE_DIGESTS);
    for (const [name, object] of Object.entries(resources)) expect(object.object, name).toBe(name);
  });

  it("training objects have exactly the keys of Stripe's session, item, price, product, payment intent, charge, balance transaction and event", () => {
    const t = training();
    expect(keys(t.session)).toEqual(keys(resources["checkout.session"]!));
    // plus the two includables the builder fills in (served only when expanded)
    expect(keys(t.line_items.data[0]!)).toEqual([...keys(resources.item!), "discounts", "taxes"].sort());
    expect(keys(t.line_items.data[0]!.price!)).toEqual(keys(resources.price!));
    expect(keys(t.payment_intent)).toEqual(keys(resources.payment_intent!));
    expect(keys(t.charge)).toEqual(keys(resources.charge!));
    expect(keys(t.balance_transaction)).toEqual(keys(resources.balance_transaction!));
    expect(keys(t.event)).toEqual(keys(resources.event!));
    expect(keys(t.prices[0]!)).toEqual(keys(resources.price!));
    expect(keys(t.products[0]!)).toEqual(keys(resources.product!));
  });

  it("hosting objects have exactly the keys of Stripe's invoice, invoice line item, invoice payment, event and subscription-mode session", () => {
    const h = hosting();
    expect(keys(h.invoice)).toEqual(keys(resources.invoice!));
    expect(keys(h.invoice.lines.data[0]!)).toEqual(keys(resources.line_item!));
    expect(keys(h.invoice_payment)).toEqual(keys(resources.invoice_payment!));
    expect(keys(h.event)).toEqual(keys(resources.event!));
    const s = buildSubscriptionCheckout({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic" });
    expect(keys(s.session)).toEqual(keys(resources["checkout.session"]!));
  });
});

describe("builders keep Stripe's shapes with every option (tsc checks the fields against the SDK's types)", () => {
  const keys = (o: object) => Object.keys(o).sort();
  const plus = (fixture: string, ...extra: string[]) => [...keys(resources[fixture]!), ...extra].sort();

  it("a training with tax, a coupon, shipping and Adaptive Pricing: session, items, rates, coupon, discount", () => {
    const t = buildTrainingPayment({
      amount_minor: 10_001,
      currency: "eur",
      price_id: "price_training_intro",
      tax: { rate_bps: 2000, behavior: "inclusive" },
      discount: { percent_bps: 1000 },
      shipping: { amount_minor: 500 },
      presentment: { currency: "usd", amount_minor: 10_900 },
    });
    // presentment_details is present only with Adaptive Pricing (optional in the SDK's types, absent from the example)
    expect(keys(t.session)).toEqual(plus("checkout.session", "presentment_details"));
    expect(keys(t.payment_intent)).toEqual(plus("payment_intent", "presentment_details"));
    expect(keys(t.charge)).toEqual(plus("charge", "presentment_details"));
    const item = t.line_items.data[0]!;
    expect(keys(item)).toEqual(plus("item", "discounts", "taxes"));
    expect(keys(item.price!)).toEqual(keys(resources.price!));
    expect(keys(item.taxes![0]!.rate)).toEqual(keys(resources.tax_rate!));
    expect(keys(item.discounts![0]!.discount)).toEqual(keys(resources.discount!));
    expect(keys(t.tax_rates[0]!)).toEqual(keys(resources.tax_rate!));
    expect(keys(t.coupons[0]!)).toEqual(keys(resources.coupon!));
    expect(keys(t.discounts[0]!)).toEqual(keys(resources.discount!));
    expect(keys(t.shipping_rates[0]!)).toEqual(keys(resources.shipping_rate!));
    expect(keys(t.session.shipping_cost!)).toEqual(keys(resources["checkout.session"]!.shipping_cost));
    expect(keys(t.session.total_details!)).toEqual(keys(resources["checkout.session"]!.total_details));
  });

  it("an upgrade invoice with tax, a coupon, a credit grant and a part paid outside Stripe: invoice, lines, payments, payment record", () => {
    const h = buildHostingPayment({
      currency: "eur",
      price_id: "price_hosting_plus",
      unit_amount_minor: 6000,
      tax: { rate_bps: 2000 },
      discount: { percent_bps: 1000 },
      pretax_credit_minor: 100,
      paid_off_stripe_minor: 1000,
      upgrade: { from_price_id: "price_hosting_basic", from_unit_amount_minor: 3000, unused: { numerator: 1, denominator: 2 }, with_next_period: true },
    });
    expect(keys(h.invoice)).toEqual(keys(resources.invoice!));
    expect(h.invoice_lines.data).toHaveLength(3);
    for (const line of h.invoice_lines.data) {
      expect(keys(line)).toEqual(keys(resources.line_item!));
      expect(keys(line.parent!)).toEqual(keys(resources.line_item!.parent));
      expect(keys(line.parent!.subscription_item_details!)).toEqual(keys(resources.line_item!.parent.subscription_item_details));
    }
    expect(keys(h.invoice_lines.data[0]!.parent!.subscription_item_details!.proration_details!.credited_items!)).toEqual(keys(resources.line_item!.parent.subscription_item_details.proration_details.credited_items));
    for (const p of h.invoice_payments) expect(keys(p)).toEqual(keys(resources.invoice_payment!));
    expect(keys(h.payment_records[0]!)).toEqual(keys(resources.payment_record!));
    expect(keys(h.payment_records[0]!.amount)).toEqual(keys(resources.payment_record!.amount));
    expect(keys(h.discounts[0]!)).toEqual(keys(resources.discount!));
    expect(keys(h.invoice.automatic_tax)).toEqual(keys(resources.invoice!.automatic_tax));
  });
});

describe("the real stripe SDK against the emulator", () => {
  function client(opts: { maxNetworkRetries?: number } = {}) {
    return new Stripe(KEY, {
      httpClient: Stripe.createFetchHttpClient(async (url, init) => app.fetch(new Request(url, init))),
      host: "127.0.0.1",
      port: 12111,
      protocol: "http",
      maxNetworkRetries: opts.maxNetworkRetries ?? 0,
    });
  }

  it("retrieves a session with expansions and lists invoice payments", async () => {
    const t = training();
    const h = hosting();
    await put([...emulatorObjects(t), ...emulatorObjects(h)]);
    const stripe = client();

    const session = await stripe.checkout.sessions.retrieve(t.session.id, { expand: ["line_items", "payment_intent.latest_charge.balance_transaction"] });
    expect(session.id).toBe(t.session.id);
    expect(session.metadata).toEqual({ offer_id: "training-intro" });
    expect(session.line_items?.data.map((i) => i.price?.id)).toEqual(["price_training_intro"]);
    const pi = session.payment_intent as Stripe.PaymentIntent;
    const charge = pi.latest_charge as Stripe.Charge;
    const bt = charge.balance_transaction as Stripe.BalanceTransaction;
    expect([pi.id, charge.id, bt.id]).toEqual([t.payment_intent.id, t.charge.id, t.balance_transaction.id]);
    expect(bt.fee).toBe(t.balance_transaction.fee);

    const payments = await stripe.invoicePayments.list({ invoice: h.invoice.id });
    expect(payments.data.map((p) => p.id)).toEqual([h.invoice_payment.id]);
    expect(payments.data[0]!.payment.payment_intent).toBe(h.payment_intent.id);

    const lines = await stripe.checkout.sessions.listLineItems(t.session.id);
    expect(lines.data[0]!.amount_total).toBe(10001);
    const invoice = await stripe.invoices.retrieve(h.invoice.id);
    expect(invoice.lines.data[0]!.pricing?.price_details?.price).toBe("price_hosting_basic");
  });

  it("maps errors to the SDK's error classes", async () => {
    const stripe = client();
    const err = await stripe.charges.retrieve("ch_nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ code: "resource_missing", statusCode: 404, param: "id" });
  });

  it("lets the SDK retry an emulated 500 and get the object on the second request", async () => {
    const t = training();
    await put(emulatorObjects(t));
    await call("POST", "/_emulator/faults", { path_prefix: `/v1/payment_intents/${t.payment_intent.id}`, status: 500, times: 1 }, {});
    const pi = await client({ maxNetworkRetries: 1 }).paymentIntents.retrieve(t.payment_intent.id);
    expect(pi.id).toBe(t.payment_intent.id);
    const log = (await call("GET", "/_emulator/requests", undefined, {})).body.requests as Json[];
    expect(log.filter((r) => r.path.startsWith("/v1/payment_intents/")).map((r) => r.status)).toEqual([500, 200]);
  });
});
