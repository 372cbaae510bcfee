// Demo data worth looking at, for `npm start`: a few months of payments (trainings, hosting with
// VAT, a change of plan), a refund and a dispute, each sent through the Stripe emulator and the
// real, signed webhook path, so that the public page at / is not empty on first open. Only on
// an empty ledger: run again, it keeps what is there.

import Stripe from "stripe";
import { buildDispute, buildHostingPayment, buildRefund, buildTrainingPayment, emulatorObjects, loseDispute, type HostingPayment, type StripeObject, type TrainingPayment } from "./stripe-emulator/objects";
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

/** Stores a step's Stripe objects in the emulator, then signs and sends each of its events, in order. */
async function storeAndDeliver(target: DemoTarget, objects: StripeObject[], events: Stripe.Event[]): Promise<string[]> {
  const stored = await fetch(`${target.emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
  if (!stored.ok) throw new Error(`the Stripe emulator refused the demo objects: ${stored.status} ${await stored.text()}`);
  for (const event of events) {
    const payload = JSON.stringify(event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: target.webhookSecret });
    const res = await fetch(`${target.api}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload });
    if (res.status !== 200) throw new Error(`the worker refused the demo event ${event.type}: ${res.status} ${await res.text()}`);
  }
  return events.map((e) => e.id);
}

async function settled(target: DemoTarget, eventIds: string[]): Promise<void> {
  const headers = { authorization: `Bearer ${target.adminToken}` };
  for (const id of eventIds) {
    const event = await poll(
      `demo event ${id} to be processed`,
      async () => {
        const e = (await (await fetch(`${target.api}/api/v1/events/${id}`, { headers })).json()) as { status: string; reason: string | null };
        return e.status === "processed" || e.status === "ignored" || e.status === "parked" || e.status === "failed" ? e : undefined;
      },
      { timeoutMs: 120_000, everyMs: 250 },
    );
    // Ignored: an event that moves no money (charge.refunded, charge.dispute.created, .closed), with its reason.
    if (event.status !== "processed" && event.status !== "ignored") throw new Error(`demo event ${id} is ${event.status}: ${event.reason}`);
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
    await storeAndDeliver(target, emulatorObjects(built), [built.event]);
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
    const refund = buildRefund(training.built, { amount_minor: Math.floor(training.built.charge.amount / 2), reason: "requested_by_customer", created: now });
    back.push(...(await storeAndDeliver(target, emulatorObjects(refund), refund.events)));
  }
  if (hosting) {
    const opened = buildDispute(hosting.built, { reason: "product_not_received", created: now - 60 });
    const lost = loseDispute(opened, { created: now });
    back.push(...(await storeAndDeliver(target, emulatorObjects(lost), [...opened.events, ...lost.events])));
  }
  await settled(target, back);
  log(`demo payments: a refund and a lost dispute taken back (${back.length} events)`);
}
