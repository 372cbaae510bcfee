// Demo data worth looking at, for `npm start`: a few months of payments (trainings, hosting with
// VAT, a change of plan), a refund and a dispute, each sent through the Stripe emulator and the
// real, signed webhook path, so that the public page at / is not empty on first open. Only on
// an empty ledger: run again, it keeps what is there.
//
// The refund and the dispute are built here from Stripe's own example objects (the emulator's
// refund and dispute builders are being written on another branch; when they reach main, use
// them instead). They carry what the workflow reads: the refund's balance transaction, the
// dispute's withdrawal with its fee.
import Stripe from "stripe";
import refundFx from "./stripe-fixtures/refund.json" with { type: "json" };
import disputeFx from "./stripe-fixtures/dispute.json" with { type: "json" };
import balanceTransactionFx from "./stripe-fixtures/balance_transaction.json" with { type: "json" };
import { buildEvent, buildHostingPayment, buildTrainingPayment, emulatorObjects, stripeId, type HostingPayment, type StripeObject, type TrainingPayment } from "./stripe-emulator/objects";
import { poll } from "./scripts/poll";

export interface DemoTarget {
  api: string;
  adminToken: string;
  emulator: string;
  webhookSecret: string;
  /** The demo's "now": payments are placed in the months before it. */
  nowMs: number;
}

type Built = TrainingPayment | HostingPayment;

interface DemoPayment {
  kind: "training" | "hosting";
  price_id: string;
  /** What the customer pays in all, VAT included. */
  amount_minor: number;
  vat?: boolean;
  /** Months before the current one (0: this month), and the day of that month. */
  months_ago: number;
  day: number;
}

/** A few months of sales: trainings on Checkout, hosting invoices with 20% VAT, the managed plan. */
export const DEMO_PAYMENTS: DemoPayment[] = [
  { kind: "training", price_id: "price_training_intro", amount_minor: 48_000, months_ago: 3, day: 8 },
  { kind: "hosting", price_id: "price_hosting_basic", amount_minor: 12_000, vat: true, months_ago: 3, day: 15 },
  { kind: "training", price_id: "price_training_intro", amount_minor: 36_000, months_ago: 2, day: 6 },
  { kind: "hosting", price_id: "price_hosting_basic", amount_minor: 12_000, vat: true, months_ago: 2, day: 15 },
  { kind: "hosting", price_id: "price_hosting_plus", amount_minor: 30_000, vat: true, months_ago: 2, day: 15 },
  { kind: "training", price_id: "price_training_intro", amount_minor: 96_000, months_ago: 1, day: 12 },
  { kind: "hosting", price_id: "price_hosting_basic", amount_minor: 12_000, vat: true, months_ago: 1, day: 15 },
  { kind: "hosting", price_id: "price_hosting_plus", amount_minor: 30_000, vat: true, months_ago: 1, day: 15 },
  { kind: "training", price_id: "price_training_intro", amount_minor: 24_000, months_ago: 0, day: 1 },
  { kind: "hosting", price_id: "price_hosting_basic", amount_minor: 12_000, vat: true, months_ago: 0, day: 15 },
];

/** When a demo payment was paid: that day at 10:00 UTC, `months_ago` months back; never later than an hour ago. */
export function demoPaidAtS(p: Pick<DemoPayment, "months_ago" | "day">, nowMs: number): number | null {
  const now = new Date(nowMs);
  const at = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - p.months_ago, p.day, 10);
  return at <= nowMs - 60 * 60 * 1000 ? Math.floor(at / 1000) : null;
}

/** The start of the month `months_ago` months before `nowMs` (UTC): when the demo's rules took effect. */
export function monthStartMs(nowMs: number, months_ago: number): number {
  const now = new Date(nowMs);
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months_ago, 1);
}

function balanceTransaction(fields: { amount: number; fee: number; currency: string; created: number; source: string; type: string; description: string }): StripeObject {
  const id = stripeId("txn_");
  return {
    ...structuredClone(balanceTransactionFx),
    id,
    amount: fields.amount,
    fee: fields.fee,
    fee_details: fields.fee === 0 ? [] : [{ amount: fields.fee, application: null, currency: fields.currency, description: "Dispute fee", type: "stripe_fee" }],
    net: fields.amount - fields.fee,
    currency: fields.currency,
    created: fields.created,
    available_on: fields.created,
    source: fields.source,
    type: fields.type,
    reporting_category: fields.type,
    description: fields.description,
  };
}

/** A refund of `amount_minor` of a payment's charge, succeeded at `created`, its balance transaction, and refund.created. */
export function buildDemoRefund(payment: Built, amount_minor: number, created: number): { objects: StripeObject[]; event: Stripe.Event } {
  const id = stripeId("re_");
  const currency = payment.charge.currency;
  const bt = balanceTransaction({ amount: -amount_minor, fee: 0, currency, created, source: id, type: "refund", description: "REFUND FOR CHARGE (demo)" });
  const refund: StripeObject = {
    ...structuredClone(refundFx),
    id,
    amount: amount_minor,
    currency,
    created,
    charge: payment.charge.id,
    payment_intent: payment.payment_intent.id,
    balance_transaction: bt.id,
    // Set only when a refund fails later; the workflow asks for it expanded.
    failure_balance_transaction: null,
    reason: "requested_by_customer",
    status: "succeeded",
  };
  return { objects: [bt, refund], event: buildEvent("refund.created", refund, { created }) };
}

/** A dispute lost on a payment's whole charge, with its withdrawal and `fee_minor` dispute fee, and charge.dispute.funds_withdrawn. */
export function buildDemoDispute(payment: Built, fee_minor: number, created: number): { objects: StripeObject[]; event: Stripe.Event } {
  const id = stripeId("dp_");
  const currency = payment.charge.currency;
  const amount = payment.charge.amount;
  const withdrawal = balanceTransaction({ amount: -amount, fee: fee_minor, currency, created, source: id, type: "adjustment", description: `Chargeback withdrawal for ${payment.charge.id}` });
  const dispute: StripeObject = {
    ...structuredClone(disputeFx),
    id,
    amount,
    currency,
    created,
    charge: payment.charge.id,
    payment_intent: payment.payment_intent.id,
    balance_transactions: [withdrawal],
    reason: "product_not_received",
    status: "lost",
    livemode: false,
  };
  return { objects: [dispute], event: buildEvent("charge.dispute.funds_withdrawn", dispute, { created }) };
}

async function storeAndDeliver(target: DemoTarget, objects: StripeObject[], event: Stripe.Event): Promise<string> {
  const stored = await fetch(`${target.emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
  if (!stored.ok) throw new Error(`the Stripe emulator refused the demo objects: ${stored.status} ${await stored.text()}`);
  const payload = JSON.stringify(event);
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: target.webhookSecret });
  const res = await fetch(`${target.api}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload });
  if (res.status !== 200) throw new Error(`the worker refused the demo event ${event.type}: ${res.status} ${await res.text()}`);
  return event.id;
}

async function settled(target: DemoTarget, eventIds: string[]): Promise<void> {
  const headers = { authorization: `Bearer ${target.adminToken}` };
  for (const id of eventIds) {
    const event = await poll(
      `demo event ${id} to be processed`,
      async () => {
        const e = (await (await fetch(`${target.api}/api/v1/events/${id}`, { headers })).json()) as { status: string; reason: string | null };
        return e.status === "processed" || e.status === "parked" || e.status === "failed" ? e : undefined;
      },
      { timeoutMs: 120_000, everyMs: 250 },
    );
    if (event.status !== "processed") throw new Error(`demo event ${id} is ${event.status}: ${event.reason}`);
  }
}

/** Sends the demo payments, then a refund and a dispute, each through the webhook; waits for each to be on the ledger. */
export async function seedDemoPayments(target: DemoTarget, log: (line: string) => void): Promise<void> {
  const check = (await (await fetch(`${target.api}/api/v1/ledger/check`, { headers: { authorization: `Bearer ${target.adminToken}` } })).json()) as { transactions: number };
  if (check.transactions > 0) {
    log(`demo payments: kept (the ledger holds ${check.transactions} transactions)`);
    return;
  }
  const sent: { demo: DemoPayment; built: Built }[] = [];
  for (const demo of DEMO_PAYMENTS) {
    const created = demoPaidAtS(demo, target.nowMs);
    if (created === null) continue;
    const options = { amount_minor: demo.amount_minor, currency: "eur", price_id: demo.price_id, created, ...(demo.vat ? { tax: { rate_bps: 2000 } } : {}) };
    const built: Built = demo.kind === "training" ? buildTrainingPayment(options) : buildHostingPayment(options);
    await storeAndDeliver(target, emulatorObjects(built), built.event);
    sent.push({ demo, built });
  }
  await settled(target, sent.map((s) => s.built.event.id));
  log(`demo payments: ${sent.length} paid over the last months, split on the ledger`);

  // Money going back, today: half of last month's big training refunded, a hosting invoice of two months ago disputed and lost.
  const now = Math.floor(target.nowMs / 1000);
  const training = sent.find((s) => s.demo.kind === "training" && s.demo.months_ago === 1);
  const hosting = sent.find((s) => s.demo.kind === "hosting" && s.demo.months_ago === 2);
  const back: string[] = [];
  if (training) {
    const refund = buildDemoRefund(training.built, Math.floor(training.built.charge.amount / 2), now);
    back.push(await storeAndDeliver(target, refund.objects, refund.event));
  }
  if (hosting) {
    const dispute = buildDemoDispute(hosting.built, 1500, now);
    back.push(await storeAndDeliver(target, dispute.objects, dispute.event));
  }
  await settled(target, back);
  log(`demo payments: a refund and a dispute taken back (${back.length} events)`);
}
