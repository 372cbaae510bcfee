// Reconciliation in workerd: a day at the emulator (payments, refunds, disputes, transfers, a
// fee billed apart, payouts to the bank) against the ledger the webhooks and workflows wrote,
// through POST /reconciliation/run, the workflow, and GET /reconciliation/{date}; the daily cron.
// The emulator is shared with every test file: each test reconciles a day of 2027 of its own,
// which no other test's objects fall on.
import { createExecutionContext, createScheduledController, introspectWorkflow, introspectWorkflowInstance, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { database } from "../../db/client";
import { postPayout } from "../../db/queries/ledger";
import { buildDispute } from "../../infra/stripe-emulator/dispute";
import { buildRefund, buildStripeFee, buildTrainingPayment, buildTransfer, emulatorObjects, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import type { BuiltRefund } from "../../infra/stripe-emulator/refund";
import type { BuiltDispute } from "../../infra/stripe-emulator/dispute";
import { RECONCILE_CRON } from "../../workflows/reconcile-run";
import worker from "../../workers/index";
import { api, deliver, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

interface Difference {
  code: string;
  stripe_object: string | null;
  balance_transaction: string | null;
  stripe_type: string | null;
  transaction_id: string | null;
  kind: string | null;
  currency: string | null;
  stripe_amount_minor: number | null;
  ledger_amount_minor: number | null;
  stripe_fee_minor: number | null;
  ledger_fee_minor: number | null;
  action: string;
}

interface Reconciliation {
  date: string;
  status: string;
  run_id: string;
  started_by: string;
  reason: string | null;
  progress: { stripe_pages: number; stripe_balance_transactions: number };
  clean: boolean | null;
  stripe_balance_transactions: number | null;
  ledger_transactions: number | null;
  matched: number | null;
  outside_ledger: number | null;
  totals: { currency: string; stripe_net_minor: number; ledger_net_minor: number }[];
  fees_billed_apart: { balance_transaction: string; transaction_id: string; description: string; amount_minor: number; currency: string }[];
  differences_total: number | null;
  differences: Difference[];
}

const at = (date: string, time = "10:00:00") => Date.parse(`${date}T${time}Z`) / 1000;

async function emulator(path: string, init: RequestInit = {}): Promise<Response> {
  return env.STRIPE_API.fetch(`http://stripe.emulator${path}`, { ...init, headers: { authorization: "Bearer sk_test_local", ...init.headers } });
}

async function stripeHas(objects: unknown[]): Promise<void> {
  const res = await emulator("/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
  expect(res.status).toBe(200);
}

/** 100.00 € paid at `created_s` (fee 1.75 €), split and posted. */
async function paid(created_s: number): Promise<TrainingPayment> {
  const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", created: created_s });
  await putStripeObjects(built);
  expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
  return built;
}

/** A refund's or a dispute's objects at Stripe and its events through the webhook, each run to its end. */
async function happened(built: BuiltRefund | BuiltDispute): Promise<void> {
  await stripeHas(emulatorObjects(built));
  for (const event of built.events) {
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, event.id);
    const answer = (await (await deliver(event)).json()) as { status?: string };
    if (answer.status === "received") await instance.waitForStatus("complete");
  }
}

/** POST /reconciliation/run, its workflow to its end, and the day's result. */
async function reconcile(date: string, configure?: Parameters<Awaited<ReturnType<typeof introspectWorkflow>>["modifyAll"]>[0]): Promise<Reconciliation> {
  await using introspector = await introspectWorkflow(env.RECONCILE);
  if (configure) await introspector.modifyAll(configure);
  const res = await api("/reconciliation/run", { method: "POST", body: { date } });
  const started = (await res.json()) as Reconciliation;
  expect([res.status, started.status, started.date]).toEqual([202, "running", date]);
  const [instance] = await introspector.get();
  await instance!.waitForStatus("complete");
  const result = await api(`/reconciliation/${date}`);
  expect(result.status).toBe(200);
  const body = (await result.json()) as Reconciliation;
  expect(body.run_id).toBe(started.run_id);
  return body;
}

async function ledgerOk(): Promise<void> {
  expect(await (await api("/ledger/check")).json()).toMatchObject({ ok: true, imbalances: [] });
}

async function transactionsOfKind(kind: string): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM ledger_transactions WHERE kind = ?").bind(kind).first<{ n: number }>())!.n;
}

beforeEach(async () => {
  await seedCatalog();
});

describe("a day that reconciles", () => {
  it("matches every charge, refund, dispute and transfer with the ledger, books the fee Stripe billed apart once, leaves payouts to the bank aside", async () => {
    const DAY = "2027-04-05";
    setClock(`${DAY}T09:00:00Z`);
    const first = await paid(at(DAY, "10:00:00"));
    await happened(buildRefund(first, { amount_minor: 2_500, created: at(DAY, "11:00:00") }));
    const second = await paid(at(DAY, "12:00:00"));
    await happened(buildDispute(second, { created: at(DAY, "13:00:00") }));
    // a transfer to camille's account, and its payout on the ledger as the payout workflow writes it
    const transfer = buildTransfer({ amount_minor: 3_000, currency: "eur", destination: "acct_recon_camille", created: at(DAY, "14:00:00"), transfer_group: "po_recon" });
    await stripeHas([transfer.transfer, transfer.balance_transaction]);
    await postPayout(database(env.DB), { key: "payout:po_recon:camille:eur", kind: "payout", party_id: "camille", currency: "eur", amount_minor: 3_000, stripe_object: transfer.transfer.id, stripe_created_s: transfer.transfer.created, event_id: "payout_run:po_recon", description: "test" }, Date.now());
    // Billing's fee for last month, and the day's payout to the bank: at Stripe only
    const billing = buildStripeFee({ amount_minor: 1_234, currency: "eur", service: "billing", created: at(DAY, "15:00:00"), period: { from: "2027-03-01", to: "2027-03-31" } });
    const toBank = { ...buildStripeFee({ amount_minor: 50_000, currency: "eur", service: "billing", created: at(DAY, "16:00:00") }), type: "payout", reporting_category: "payout", description: "STRIPE PAYOUT", source: "po_1ToBank" };
    await stripeHas([billing, toBank]);

    setClock(`2027-04-06T12:00:00Z`);
    const result = await reconcile(DAY);
    expect(result).toMatchObject({
      status: "completed",
      clean: true,
      reason: null,
      started_by: "bootstrap",
      progress: { stripe_pages: 1, stripe_balance_transactions: 7 },
      stripe_balance_transactions: 7,
      // payment, refund, payment, dispute withdrawal, payout, fee billed apart
      ledger_transactions: 6,
      matched: 6,
      outside_ledger: 1,
      differences_total: 0,
      differences: [],
    });
    // in: 9,825 + 9,825; out: 2,500, 10,000 + 1,500 (dispute and its fee), 3,000, 1,234
    expect(result.totals).toEqual([{ currency: "eur", stripe_net_minor: 1_416, ledger_net_minor: 1_416 }]);
    expect(result.fees_billed_apart).toEqual([{ balance_transaction: billing.id, transaction_id: `txn_stripe_fee_${billing.id}`, description: "Billing - Usage Fee (2027-03-01 - 2027-03-31)", amount_minor: -1_234, currency: "eur" }]);
    await ledgerOk();

    // Run again: the result is replaced, the fee is not booked twice.
    const again = await reconcile(DAY);
    expect(again.run_id).not.toBe(result.run_id);
    expect(again).toMatchObject({ clean: true, matched: 6 });
    expect(await transactionsOfKind("stripe_fee")).toBe(1);
    const cooperative = await env.DB.prepare("SELECT sum(amount_minor) AS s FROM postings WHERE account = 'coop:stripe_billing'").first<{ s: number }>();
    expect(cooperative!.s).toBe(-1_234);
  });

  it("reads a day of more than one page of Stripe's list, and shows the pages read", async () => {
    const DAY = "2027-04-12";
    const toBank = Array.from({ length: 130 }, (_, i) => ({ ...buildStripeFee({ amount_minor: 100 + i, currency: "eur", service: "billing", created: at(DAY, "08:00:00") + i }), type: "payout", reporting_category: "payout", source: `po_page_${i}` }));
    await stripeHas(toBank);
    setClock("2027-04-13T12:00:00Z");
    expect(await reconcile(DAY)).toMatchObject({ status: "completed", clean: true, progress: { stripe_pages: 2, stripe_balance_transactions: 130 }, outside_ledger: 130, matched: 0, ledger_transactions: 0 });
  });
});

describe("a day that does not reconcile", () => {
  it("finds a charge Stripe made that the ledger is missing, says what to do, and is clean once its event is delivered and the day run again", async () => {
    const DAY = "2027-04-19";
    setClock(`${DAY}T09:00:00Z`);
    await paid(at(DAY, "10:00:00"));
    // Stripe charged this one, and its event never reached the worker
    const lost = buildTrainingPayment({ amount_minor: 25_000, currency: "eur", price_id: "price_training_intro", created: at(DAY, "11:00:00") });
    await putStripeObjects(lost);

    setClock("2027-04-20T12:00:00Z");
    const result = await reconcile(DAY);
    expect(result).toMatchObject({ status: "completed", clean: false, matched: 1, differences_total: 1, stripe_balance_transactions: 2, ledger_transactions: 1 });
    expect(result.differences).toEqual([
      {
        code: "missing_in_ledger",
        stripe_object: lost.charge.id,
        balance_transaction: lost.balance_transaction.id,
        stripe_type: "charge",
        transaction_id: null,
        kind: null,
        currency: "eur",
        stripe_amount_minor: 25_000,
        ledger_amount_minor: null,
        stripe_fee_minor: lost.balance_transaction.fee,
        ledger_fee_minor: null,
        action: `Stripe received 250.00 EUR (balance transaction ${lost.balance_transaction.id}, ${lost.charge.id}) and the ledger has no payment for it. Find the payment's event (GET /api/v1/events?status=parked, or failed) and retry it once its cause is fixed; if Stripe never delivered one, resend checkout.session.completed or invoice.paid from the Stripe Dashboard (Developers, Events).`,
      },
    ]);
    expect(result.totals).toEqual([{ currency: "eur", stripe_net_minor: 9_825 + 25_000 - lost.balance_transaction.fee, ledger_net_minor: 9_825 }]);

    // The event, resent: the payment is posted, and the day reconciles.
    expect(await deliverAndSettle(lost.event)).toMatchObject({ status: "processed", posted: true });
    expect(await reconcile(DAY)).toMatchObject({ clean: true, matched: 2, differences: [], differences_total: 0 });
  });

  it("finds a ledger transaction Stripe does not list that day, and an amount that differs", async () => {
    const DAY = "2027-04-26";
    setClock(`${DAY}T09:00:00Z`);
    const gone = await paid(at(DAY, "10:00:00"));
    const kept = await paid(at(DAY, "11:00:00"));
    // Stripe's record of the first is not there (as if the ledger had posted it in error) …
    expect((await emulator(`/_emulator/objects/${gone.balance_transaction.id}`, { method: "DELETE" })).status).toBe(200);
    // … and the second's says a cent more than the ledger took
    await stripeHas([{ ...kept.balance_transaction, amount: 10_001, net: 10_001 - kept.balance_transaction.fee }]);

    setClock("2027-04-27T12:00:00Z");
    const result = await reconcile(DAY);
    expect(result.differences.map((d) => [d.code, d.transaction_id, d.stripe_object, d.stripe_amount_minor, d.ledger_amount_minor])).toEqual([
      ["amount_differs", `txn_pay_${kept.payment_intent.id}`, kept.charge.id, 10_001, 10_000],
      ["missing_at_stripe", `txn_pay_${gone.payment_intent.id}`, gone.balance_transaction.id, null, 10_000],
    ]);
    expect(result.differences[1]!.action).toBe(
      `The ledger's payment txn_pay_${gone.payment_intent.id} is dated ${DAY} at Stripe, but Stripe lists no balance transaction for it that day. Look it up in the Stripe Dashboard: if Stripe has it on another day, reconcile that day; if Stripe never had it, it was posted in error and needs a correcting transaction.`,
    );
    expect(result).toMatchObject({ clean: false, matched: 0, differences_total: 2 });
  });

  it("fails with Stripe's reason when Stripe refuses the list, and says so on the day", async () => {
    const DAY = "2027-05-03";
    setClock("2027-05-04T12:00:00Z");
    await emulator("/_emulator/faults", { method: "POST", body: JSON.stringify({ path_prefix: "/v1/balance_transactions", method: "GET", match: { "created[gte]": String(at(DAY, "00:00:00")) }, status: 400, times: 1, error: { message: "This API key may not list balance transactions" } }) });
    const result = await reconcile(DAY);
    expect(result).toMatchObject({ status: "failed", clean: null, differences: [], reason: "Stripe answered 400: This API key may not list balance transactions" });
    // a failed day can be run again at once
    expect(await reconcile(DAY)).toMatchObject({ status: "completed", clean: true });
  });
});

describe("the reconciliation API", () => {
  it("refuses a day that is not one, or not over, with a 400 naming the date; a day never run is a 404", async () => {
    setClock("2027-05-10T12:00:00Z");
    for (const [date, detail] of [
      ["2027-02-30", '"2027-02-30" is not a day: give a UTC date as YYYY-MM-DD'],
      ["10/05/2027", "invalid body: date: a UTC day as YYYY-MM-DD"],
      ["2027-05-10", "2027-05-10 is not over yet (UTC): Stripe may still add balance transactions to it"],
      ["2027-06-01", "2027-06-01 is not over yet (UTC): Stripe may still add balance transactions to it"],
    ] as const) {
      const res = await api("/reconciliation/run", { method: "POST", body: { date } });
      const body = (await res.json()) as { code: string; detail: string; errors: { path: string }[] };
      expect([res.status, body.code, body.detail, body.errors[0]?.path], date).toEqual([400, "invalid_request", detail, "date"]);
    }
    const never = await api("/reconciliation/2027-05-01");
    expect([never.status, ((await never.json()) as { code: string }).code]).toEqual([404, "not_found"]);
    expect((await api("/reconciliation/2027-02-30")).status).toBe(400);
  });

  it("refuses a second run of a day while one is running (409), lets a viewer read and not run", async () => {
    setClock("2027-05-10T12:00:00Z");
    await env.DB.prepare("INSERT INTO reconciliations (date, status, run_id, started_by, started_at_ms) VALUES ('2027-05-08', 'running', 'rc_20270508_test', 'bootstrap', ?)").bind(Date.now()).run();
    const again = await api("/reconciliation/run", { method: "POST", body: { date: "2027-05-08" } });
    expect([again.status, ((await again.json()) as { detail: string }).detail]).toEqual([409, "the reconciliation of 2027-05-08 is running (rc_20270508_test): wait for it (GET /api/v1/reconciliation/2027-05-08)"]);

    const token = (await (await api("/tokens", { method: "POST", body: { name: "accountant", role: "viewer" } })).json()) as { token: string };
    const read = await api("/reconciliation/2027-05-08", { token: token.token });
    expect([read.status, ((await read.json()) as Reconciliation).status]).toEqual([200, "running"]);
    expect((await api("/reconciliation/run", { method: "POST", body: { date: "2027-05-07" }, token: token.token })).status).toBe(403);
  });
});

describe("the daily cron", () => {
  it("reconciles yesterday at 02:00 UTC, started by cron", async () => {
    const DAY = "2027-05-16";
    setClock(`${DAY}T09:00:00Z`);
    await paid(at(DAY, "10:00:00"));
    setClock("2027-05-17T02:00:00Z");
    await using introspector = await introspectWorkflow(env.RECONCILE);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: RECONCILE_CRON, scheduledTime: Date.parse("2027-05-17T02:00:00Z") }), env, ctx);
    await waitOnExecutionContext(ctx);
    const [instance] = await introspector.get();
    await instance!.waitForStatus("complete");
    const result = (await (await api(`/reconciliation/${DAY}`)).json()) as Reconciliation;
    expect(result).toMatchObject({ date: DAY, started_by: "cron", status: "completed", clean: true, matched: 1 });
  });
});
