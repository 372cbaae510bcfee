// The emulator's connected accounts, transfers and their reversals, webhook endpoints and Stripe
// fees billed apart (infra/stripe-emulator/connect.ts, writes.ts, webhook-endpoints.ts,
// fees.ts): Stripe's shapes (the keys of its example objects), called through the stripe SDK as
// the project calls them, idempotency keys as Stripe honours them, and failures as Stripe answers.
import { readFileSync } from "node:fs";

import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";

import { createStripeEmulator, type StripeEmulator } from "../../infra/stripe-emulator/app";
import { buildConnectedAccount, buildStripeFee, buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { STRIPE_API_VERSION } from "../../workflows/stripe-version";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../infra/stripe-fixtures/${name}.json`, import.meta.url), "utf8")) as Record<string, unknown>;
const keys = (o: object) => Object.keys(o).sort();
const KEY = "sk_test_local";

let app: StripeEmulator;
let stripe: Stripe;

beforeEach(() => {
  app = createStripeEmulator();
  stripe = new Stripe(KEY, {
    apiVersion: STRIPE_API_VERSION,
    httpClient: Stripe.createFetchHttpClient(async (url, init) => app.fetch(new Request(url, init))),
    host: "127.0.0.1",
    port: 12111,
    protocol: "http",
    maxNetworkRetries: 0,
  });
});

async function put(objects: unknown[]): Promise<void> {
  const res = await app.fetch(new Request("http://127.0.0.1:12111/_emulator/objects", { method: "POST", body: JSON.stringify(objects) }));
  expect(res.status).toBe(200);
}

async function fault(body: unknown): Promise<void> {
  const res = await app.fetch(new Request("http://127.0.0.1:12111/_emulator/faults", { method: "POST", body: JSON.stringify(body) }));
  expect(res.status).toBe(200);
}

/** The form body as the stripe SDK would send it, for raw requests. */
async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const res = await app.fetch(new Request(`http://127.0.0.1:12111${path}`, { method: "POST", body, headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/x-www-form-urlencoded", ...headers } }));
  return { status: res.status, body: (await res.json()) as Record<string, any>, headers: res.headers };
}

async function caught(promise: Promise<unknown>): Promise<{ type: string; statusCode: number; code?: string; param?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { type: string; statusCode: number; code?: string; param?: string; message: string };
  }
  throw new Error("expected Stripe to refuse the request");
}

describe("connected accounts", () => {
  it("are built in the shape of Stripe's example, ready for transfers unless told, and served at /v1/accounts", async () => {
    const ready = buildConnectedAccount({ id: "acct_ready", created: 1_767_225_600 });
    const waiting = buildConnectedAccount({ id: "acct_waiting", transfers: "inactive", created: 1_767_225_700 });
    expect(keys(ready)).toEqual(keys(fixture("account")));
    expect(ready).toMatchObject({ id: "acct_ready", object: "account", capabilities: { transfers: "active" }, country: "FR", default_currency: "eur", payouts_enabled: true, details_submitted: true, type: "express" });
    expect(waiting).toMatchObject({ capabilities: { transfers: "inactive" }, payouts_enabled: false, requirements: { currently_due: ["external_account"] } });
    await put([ready, waiting]);
    expect((await stripe.accounts.retrieve("acct_ready")).id).toBe("acct_ready");
    expect((await stripe.accounts.list({ limit: 10 })).data.map((a) => a.id)).toEqual(["acct_waiting", "acct_ready"]);
  });
});

describe("transfers", () => {
  beforeEach(async () => {
    await put([buildConnectedAccount({ id: "acct_camille" }), buildConnectedAccount({ id: "acct_sacha" }), buildConnectedAccount({ id: "acct_not_ready", transfers: "inactive" })]);
  });

  it("a transfer takes its amount out of the balance: the transfer in Stripe's shape, its balance transaction of type transfer", async () => {
    const transfer = await stripe.transfers.create({ amount: 7345, currency: "eur", destination: "acct_camille", transfer_group: "po_run1", metadata: { payout_run: "po_run1", party_id: "camille" } }, { idempotencyKey: "payout:po_run1:camille:eur" });
    expect(keys(transfer)).toEqual(keys(fixture("transfer")));
    expect(transfer).toMatchObject({ object: "transfer", amount: 7345, amount_reversed: 0, currency: "eur", destination: "acct_camille", transfer_group: "po_run1", source_transaction: null, reversed: false, metadata: { payout_run: "po_run1", party_id: "camille" } });
    expect(transfer.id).toMatch(/^tr_/);
    expect(transfer.reversals).toEqual({ object: "list", data: [], has_more: false, url: `/v1/transfers/${transfer.id}/reversals` });
    const bt = await stripe.balanceTransactions.retrieve(transfer.balance_transaction as string);
    expect(keys(bt)).toEqual(keys(fixture("balance_transaction")));
    expect(bt).toMatchObject({ amount: -7345, fee: 0, net: -7345, currency: "eur", type: "transfer", reporting_category: "transfer", source: transfer.id, status: "available", created: transfer.created });
    expect((await stripe.transfers.retrieve(transfer.id, { expand: ["balance_transaction"] })).balance_transaction).toMatchObject({ id: bt.id, amount: -7345 });
  });

  it("the same idempotency key and body answer the same transfer; the same key with another body is Stripe's idempotency error", async () => {
    const params = { amount: 1000, currency: "eur", destination: "acct_camille", transfer_group: "po_run2", metadata: { payout_run: "po_run2", party_id: "camille" } };
    const first = await stripe.transfers.create(params, { idempotencyKey: "payout:po_run2:camille:eur" });
    const again = await stripe.transfers.create(params, { idempotencyKey: "payout:po_run2:camille:eur" });
    expect(again.id).toBe(first.id);
    expect((await stripe.transfers.list({ transfer_group: "po_run2" })).data.map((t) => t.id)).toEqual([first.id]);
    // the same body in another order of fields is the same request
    const raw = await post("/v1/transfers", "currency=eur&amount=1000&metadata[party_id]=camille&metadata[payout_run]=po_run2&destination=acct_camille&transfer_group=po_run2", { "Idempotency-Key": "payout:po_run2:camille:eur" });
    expect([raw.status, raw.body.id, raw.headers.get("Idempotent-Replayed")]).toEqual([200, first.id, "true"]);

    const other = await caught(stripe.transfers.create({ ...params, amount: 999 }, { idempotencyKey: "payout:po_run2:camille:eur" }));
    expect(other).toMatchObject({ type: "StripeIdempotencyError", statusCode: 400 });
    expect(other.message).toContain("Keys for idempotent requests can only be used with the same parameters");
    expect((await stripe.transfers.list({ transfer_group: "po_run2" })).data).toHaveLength(1);
  });

  it("an unknown destination, or one that cannot take transfers, is refused as Stripe refuses it, and nothing is made", async () => {
    expect(await caught(stripe.transfers.create({ amount: 100, currency: "eur", destination: "acct_nobody" }))).toMatchObject({ type: "StripeInvalidRequestError", statusCode: 400, code: "resource_missing", param: "destination", message: "No such destination: 'acct_nobody'" });
    expect(await caught(stripe.transfers.create({ amount: 100, currency: "eur", destination: "acct_not_ready" }))).toMatchObject({ statusCode: 400, code: "insufficient_capabilities_for_transfer", param: "destination" });
    expect(await caught(stripe.transfers.create({ amount: 100, currency: "eur", destination: "acct_camille", source_transaction: "ch_nowhere" }))).toMatchObject({ statusCode: 400, code: "resource_missing", param: "source_transaction" });
    expect(await caught(stripe.transfers.create({ amount: 0, currency: "eur", destination: "acct_camille" }))).toMatchObject({ statusCode: 400, param: "amount" });
    expect(await caught(stripe.transfers.create({ currency: "eur", destination: "acct_camille" } as Stripe.TransferCreateParams))).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "amount" });
    expect((await stripe.transfers.list()).data).toEqual([]);
    expect((await stripe.balanceTransactions.list({ type: "transfer" })).data).toEqual([]);
  });

  it("a fault scoped to one destination fails that transfer with Stripe's balance_insufficient, and only that one", async () => {
    await fault({ path_prefix: "/v1/transfers", method: "POST", match: { destination: "acct_sacha" }, status: 400, times: 1, error: { code: "balance_insufficient" } });
    const ok = await stripe.transfers.create({ amount: 500, currency: "eur", destination: "acct_camille" });
    expect(ok.destination).toBe("acct_camille");
    const refused = await caught(stripe.transfers.create({ amount: 500, currency: "eur", destination: "acct_sacha" }));
    expect(refused).toMatchObject({ type: "StripeInvalidRequestError", statusCode: 400, code: "balance_insufficient" });
    expect(refused.message).toMatch(/^You have insufficient available funds in your Stripe account/);
    // the fault is spent: the same transfer goes through now
    expect((await stripe.transfers.create({ amount: 500, currency: "eur", destination: "acct_sacha" })).amount).toBe(500);
  });

  it("a transfer funded by a charge names it, waits for the charge's funds, and takes no more than the charge brought", async () => {
    const paid = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 175 });
    await put(emulatorObjects(paid));
    const transfer = await stripe.transfers.create({ amount: 3000, currency: "eur", destination: "acct_camille", source_transaction: paid.charge.id });
    expect(transfer.source_transaction).toBe(paid.charge.id);
    expect(await stripe.balanceTransactions.retrieve(transfer.balance_transaction as string)).toMatchObject({ status: "pending", amount: -3000 });
    // no more than the charge brought, less what earlier transfers took from it
    expect(await caught(stripe.transfers.create({ amount: 7001, currency: "eur", destination: "acct_sacha", source_transaction: paid.charge.id }))).toMatchObject({ statusCode: 400, param: "amount", message: `The transfer amount (7001) is more than what is left of source_transaction ${paid.charge.id} (7000 eur).` });
    expect((await stripe.transfers.create({ amount: 7000, currency: "eur", destination: "acct_sacha", source_transaction: paid.charge.id })).amount).toBe(7000);
  });

  it("lists transfers by transfer group, destination and creation time, newest first, paged by the SDK", async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await stripe.transfers.create({ amount: 100 + i, currency: "eur", destination: i % 2 === 0 ? "acct_camille" : "acct_sacha", transfer_group: "po_list" })).id);
    await stripe.transfers.create({ amount: 1, currency: "eur", destination: "acct_camille", transfer_group: "po_other" });
    const group = await stripe.transfers.list({ transfer_group: "po_list", limit: 3 }).autoPagingToArray({ limit: 100 });
    expect(group.map((t) => t.id)).toEqual([...made].reverse());
    const camille = await stripe.transfers.list({ transfer_group: "po_list", destination: "acct_camille" }).autoPagingToArray({ limit: 100 });
    expect(camille.map((t) => t.amount)).toEqual([106, 104, 102, 100]);
    const created = group[0]!.created;
    expect((await stripe.transfers.list({ created: { gt: created } })).data).toEqual([]);
    expect((await stripe.transfers.list({ created: { gte: created - 60, lte: created }, limit: 100 })).data).toHaveLength(8);
  });

  it("reversals give money back in parts, each with its balance transaction, until the transfer is reversed; no more than is left", async () => {
    const transfer = await stripe.transfers.create({ amount: 5000, currency: "eur", destination: "acct_camille" });
    const first = await stripe.transfers.createReversal(transfer.id, { amount: 2000 });
    expect(keys(first)).toEqual(keys(fixture("transfer_reversal")));
    expect(first).toMatchObject({ object: "transfer_reversal", amount: 2000, currency: "eur", transfer: transfer.id, source_refund: null });
    expect(await stripe.balanceTransactions.retrieve(first.balance_transaction as string)).toMatchObject({ amount: 2000, fee: 0, net: 2000, type: "transfer_refund", reporting_category: "transfer_reversal", source: first.id });
    expect(await stripe.transfers.retrieve(transfer.id)).toMatchObject({ amount_reversed: 2000, reversed: false });
    expect(await caught(stripe.transfers.createReversal(transfer.id, { amount: 3001 }))).toMatchObject({ statusCode: 400, param: "amount" });
    const rest = await stripe.transfers.createReversal(transfer.id);
    expect(rest.amount).toBe(3000);
    const after = await stripe.transfers.retrieve(transfer.id);
    expect(after).toMatchObject({ amount_reversed: 5000, reversed: true });
    expect(after.reversals.data.map((r) => r.id)).toEqual([rest.id, first.id]);
    expect((await stripe.transfers.listReversals(transfer.id)).data.map((r) => r.amount)).toEqual([3000, 2000]);
    expect((await stripe.transfers.retrieveReversal(transfer.id, first.id)).amount).toBe(2000);
    expect(await caught(stripe.transfers.createReversal(transfer.id, { amount: 1 }))).toMatchObject({ statusCode: 400 });
  });
});

describe("webhook endpoints", () => {
  it("are created with their signing secret, shown once; read, listed, updated and deleted without it", async () => {
    const created = await stripe.webhookEndpoints.create({ url: "https://pot-commun.example/webhooks/stripe", enabled_events: ["invoice.paid", "refund.created"], api_version: STRIPE_API_VERSION, description: "Pot Commun" });
    expect(keys(created)).toEqual([...keys(fixture("webhook_endpoint")), "secret"].sort());
    expect(created).toMatchObject({ object: "webhook_endpoint", url: "https://pot-commun.example/webhooks/stripe", enabled_events: ["invoice.paid", "refund.created"], api_version: STRIPE_API_VERSION, status: "enabled", description: "Pot Commun" });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    const read = await stripe.webhookEndpoints.retrieve(created.id);
    expect(read.secret).toBeUndefined();
    expect(keys(read)).toEqual(keys(fixture("webhook_endpoint")));
    expect((await stripe.webhookEndpoints.list()).data.map((e) => [e.id, e.secret])).toEqual([[created.id, undefined]]);

    const updated = await stripe.webhookEndpoints.update(created.id, { enabled_events: ["checkout.session.completed"], url: "https://pot-commun.example/hooks", disabled: true });
    expect(updated).toMatchObject({ enabled_events: ["checkout.session.completed"], url: "https://pot-commun.example/hooks", status: "disabled", api_version: STRIPE_API_VERSION });
    expect(updated.secret).toBeUndefined();

    expect(await stripe.webhookEndpoints.del(created.id)).toEqual({ id: created.id, object: "webhook_endpoint", deleted: true });
    expect(await caught(stripe.webhookEndpoints.retrieve(created.id))).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("refuses a URL that is not absolute http(s), an unknown event name, and no event at all", async () => {
    expect(await caught(stripe.webhookEndpoints.create({ url: "pot-commun.example/hook", enabled_events: ["invoice.paid"] }))).toMatchObject({ statusCode: 400, param: "url" });
    expect(await caught(stripe.webhookEndpoints.create({ url: "ftp://pot-commun.example/hook", enabled_events: ["invoice.paid"] }))).toMatchObject({ statusCode: 400, param: "url" });
    expect(await caught(stripe.webhookEndpoints.create({ url: "https://pot-commun.example/hook", enabled_events: ["Invoice Paid" as "invoice.paid"] }))).toMatchObject({ statusCode: 400, param: "enabled_events[0]" });
    expect(await caught(stripe.webhookEndpoints.create({ url: "https://pot-commun.example/hook" } as Stripe.WebhookEndpointCreateParams))).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "enabled_events" });
    expect((await stripe.webhookEndpoints.list()).data).toEqual([]);
  });
});

describe("Stripe fees billed apart", () => {
  it("are balance transactions of type stripe_fee that take the fee out of the balance, named by service and period, listed by day and type", async () => {
    const created = 1_767_830_400; // 2026-01-08
    const billing = buildStripeFee({ amount_minor: 1234, currency: "eur", service: "billing", created, id: "txn_fee_billing" });
    const tax = buildStripeFee({ amount_minor: 50, currency: "eur", service: "tax", created: created + 60, period: { from: "2026-01-01", to: "2026-01-07" } });
    expect(keys(billing)).toEqual(keys(fixture("balance_transaction")));
    expect(billing).toMatchObject({ id: "txn_fee_billing", amount: -1234, fee: 0, fee_details: [], net: -1234, type: "stripe_fee", reporting_category: "fee", source: null, description: "Billing - Usage Fee (2026-01-01 - 2026-01-31)", created });
    expect(tax.description).toBe("Automatic Taxes (2026-01-01 - 2026-01-07)");
    await put([billing, tax]);
    const listed = await stripe.balanceTransactions.list({ created: { gte: created, lt: created + 86400 }, type: "stripe_fee" });
    expect(listed.data.map((bt) => bt.amount)).toEqual([-50, -1234]);
  });
});
