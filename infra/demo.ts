// Demo data worth looking at, for `npm start`: a few months of payments (trainings, hosting with
// VAT, a change of plan), a refund and a dispute, each sent through the Stripe emulator and the
// real, signed webhook path, so that the public page at / is not empty on first open; the
// facilitators' need pool closing two past months through the API (needs declared, one of them
// raised beyond what a month allows); and proposals to change the reserve's share, one amended,
// with objections, and one withdrawn. Only on an empty ledger (payments and closes) or without
// any proposal (proposals): run again, it keeps what is there.

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

/** The facilitators' need pool: three members, each declaring a need for two past months. */
export const DEMO_POOL = {
  id: "facilitators",
  /** The needs of each close, in euro cents: the first month, then the next (Noa asks far more than a month allows). */
  needs: [
    { months_ago: 2, needs: { camille: 12_000, morgane: 9_000, noa: 4_000 } },
    { months_ago: 1, needs: { camille: 15_000, morgane: 12_000, noa: 20_000 } },
  ],
} as const;

/** A month's label as a pool names it (`2026-10`), `months_ago` months before `nowMs`. */
export function demoMonth(nowMs: number, months_ago: number): string {
  return new Date(monthStartMs(nowMs, months_ago)).toISOString().slice(0, 7);
}

/** An admin API call of the demo; anything but a 2xx stops the seed and says why. */
async function admin(target: DemoTarget, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${target.api}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${target.adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`demo: ${method} ${path} answered ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/** Declares the members' needs of a demo month, then closes that month of the pool through the API. */
async function closeDemoMonth(target: DemoTarget, step: (typeof DEMO_POOL.needs)[number], log: (line: string) => void): Promise<void> {
  for (const [party, amount_minor] of Object.entries(step.needs)) {
    await admin(target, "PUT", `/pools/${DEMO_POOL.id}/needs/${party}`, { currency: "eur", amount_minor });
  }
  const period = demoMonth(target.nowMs, step.months_ago);
  const closed = (await admin(target, "POST", `/pools/${DEMO_POOL.id}/close`, { period })) as { outcome: string; periods: { income_minor: number; leftover_minor: number }[] };
  const [first] = closed.periods;
  log(`pool ${DEMO_POOL.id}: ${period} ${closed.outcome}${first ? ` (${first.income_minor} in, ${first.leftover_minor} left over to the reserve)` : ""}`);
}

/** Sends the demo payments, then a refund and a dispute, each through the webhook; waits for each to be on the ledger. The pool closes each past month once its payments are in. */
export async function seedDemoPayments(target: DemoTarget, log: (line: string) => void): Promise<void> {
  const check = (await (await fetch(`${target.api}/api/v1/ledger/check`, { headers: { authorization: `Bearer ${target.adminToken}` } })).json()) as { transactions: number };
  if (check.transactions > 0) {
    log(`demo payments: kept (the ledger holds ${check.transactions} transactions)`);
    return;
  }
  const sent: { demo: DemoPayment; built: Built }[] = [];
  const send = async (payments: readonly DemoPayment[]) => {
    const batch: Built[] = [];
    for (const demo of payments) {
      const created = demoPaidAtS(demo, target.nowMs);
      if (created === null) continue;
      const options = { amount_minor: demo.amount_minor, currency: "eur", price_id: demo.price_id, created, ...(demo.vat ? { tax: { rate_bps: 2000 } } : {}) };
      const built: Built = demo.kind === "training" ? buildTrainingPayment(options) : buildHostingPayment(options);
      await storeAndDeliver(target, emulatorObjects(built), [built.event]);
      sent.push({ demo, built });
      batch.push(built);
    }
    await settled(target, batch.map((b) => b.event.id));
  };
  // The pool's first month closes on what its payments brought; its second, on everything since
  // (a close distributes what the pool's account holds when it runs).
  const [first, second] = DEMO_POOL.needs;
  await send(DEMO_PAYMENTS.filter((p) => p.months_ago >= first.months_ago));
  await closeDemoMonth(target, first, log);
  await send(DEMO_PAYMENTS.filter((p) => p.months_ago < first.months_ago));
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
  await closeDemoMonth(target, second, log);
}

/** The reserve's share to 20%, with four eyes on it, objected to by a host and amended to 18%; Sacha still objects. A change to trainings, withdrawn. */
export const DEMO_PROPOSALS = {
  reserve: {
    reason: "The reserve must reach six months of costs before the next hard winter: 20% to the reserve instead of 15%.",
    body: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "20%" }, { to: "contributors", share: "remaining" }] },
    objection: "Hosting margins are already thin: five more points to the reserve would leave the hosts below their costs this year.",
    amendment: {
      reason: "A smaller step after the hosts' objection: 18% to the reserve, and a look at the hosts' costs in six months.",
      body: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "18%" }, { to: "contributors", share: "remaining" }] },
    },
    still: "18% is still too much for hosting until the new plan's price is set.",
  },
  trainings: {
    reason: "12% of trainings to the commons, for the new course material.",
    body: { basis: "net", lines: [{ to: "commons", share: "12%" }, { to: "reserve", share: "15%" }, { to: { pool: "facilitators" }, share: "remaining" }] },
    withdrawn: "The course material is funded by a grant after all.",
  },
} as const;

/** Proposals worth reading on the public page, through the consent API; only when there is none yet. */
export async function seedDemoProposals(target: DemoTarget, log: (line: string) => void): Promise<void> {
  const existing = (await admin(target, "GET", "/proposals?limit=1")) as { proposals: unknown[] };
  if (existing.proposals.length > 0) {
    log("demo proposals: kept");
    return;
  }
  const { reserve, trainings } = DEMO_PROPOSALS;
  // Four eyes on the reserve's share: one admin's approval on top of consent (the demo's admin
  // cannot approve its own proposal, so it waits for another).
  await admin(target, "PATCH", "/rules/default", { governance: { notice: "P7D", approvals: 1 } });
  const first = (await admin(target, "POST", "/rules/default/proposals", { reason: reserve.reason, body: reserve.body })) as { id: string };
  await admin(target, "POST", `/proposals/${first.id}/objections`, { party_id: "sacha", reason: reserve.objection });
  const amended = (await admin(target, "POST", `/proposals/${first.id}/amendments`, { reason: reserve.amendment.reason, body: reserve.amendment.body })) as { id: string };
  await admin(target, "POST", `/proposals/${amended.id}/objections`, { party_id: "sacha", reason: reserve.still });
  const alix = (await admin(target, "POST", `/proposals/${amended.id}/objections`, { party_id: "alix", reason: reserve.objection })) as { objection: { id: string } };
  await admin(target, "DELETE", `/proposals/${amended.id}/objections/${alix.objection.id}`);
  log(`demo proposals: the reserve's share to 20%, objected to and amended to 18% (${amended.id}), held by a standing objection`);
  const withdrawn = (await admin(target, "POST", "/rules/trainings/proposals", { reason: trainings.reason, body: trainings.body })) as { id: string };
  await admin(target, "POST", `/proposals/${withdrawn.id}/withdrawal`, { reason: trainings.withdrawn });
  log(`demo proposals: a change to trainings, withdrawn (${withdrawn.id})`);
}
