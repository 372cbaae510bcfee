// A seeded random history of what Stripe does and sends, for the fault storm: payments
// (training checkouts, hosting invoices), partial refunds, refunds that fail, disputes won and
// lost; then the deliveries of its events, late, out of order and duplicated, some under the
// same event id (a redelivery) and some under a new one (another event about the same object);
// and the same history delivered calmly, each event once, as it was made.
// Pure: the same seed gives the same history, ids included, so a storm replays exactly.
import type Stripe from "stripe";
import type { StripeObject } from "../../infra/stripe-emulator/app";
import { buildDispute, loseDispute, winDispute, type BuiltDispute } from "../../infra/stripe-emulator/dispute";
import { buildHostingPayment, buildTrainingPayment, emulatorObjects, type HostingPayment, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import type { PaymentCore } from "../../infra/stripe-emulator/payment-core";
import { buildRefund, failRefund, type BuiltRefund } from "../../infra/stripe-emulator/refund";

/** A small, fast, seeded generator (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** What one transaction on a payment does, as GET /payments/{id}'s history names it. */
export type Cause = "payment" | "refund" | "refund_failed" | "dispute_withdrawn" | "dispute_reinstated";

/** A payment of the history and what must be on the ledger for it once every event is in. */
export interface PlannedPayment {
  payment_intent: string;
  kind: "training" | "hosting";
  amount_minor: number;
  refunds: { id: string; amount_minor: number; fails: boolean }[];
  dispute: { id: string; outcome: "won" | "won_fee_returned" | "lost" } | null;
  /** Every transaction on the payment, `[cause, charge amount]`, sorted: each movement once. */
  transactions: [Cause, number][];
  refunded_minor: number;
  disputed_minor: number;
}

/** A copy of an event as delivered: the first, Stripe sending it again, or another event id for the same object. */
export type Copy = "original" | "resent" | "renamed";

export type TimelineEntry = { kind: "store"; objects: StripeObject[] } | { kind: "deliver"; event: Stripe.Event; copy: Copy };

export interface History {
  payments: PlannedPayment[];
  /** The storm's deliveries, in order: Stripe's objects as each step leaves them, and the deliveries, late, shuffled and duplicated, each after the step that sent its event. */
  timeline: TimelineEntry[];
  /** The same history delivered as it was made: each event once, right after its step, in Stripe's order. */
  calm: TimelineEntry[];
  /** The ids of the events Stripe made (not the duplicates under new ids). */
  originals: Set<string>;
  /** Event ids (as built, before a pass names them) that the worker splits, and those it stores as ignored. */
  handled: Set<string>;
  ignored: Set<string>;
  deliveries: { total: number; original: number; resent: number; renamed: number };
}

/** Events the worker stores as ignored: a refund's money moves through the refund's own events. */
const IGNORED_TYPES = new Set(["charge.refunded"]);
/** The share of deliveries that are duplicates. */
const DUPLICATE_SHARE = 0.3;
/** The Stripe time of the first payment: every object is dated from it, a minute a step. */
const EPOCH_S = 1_790_000_000;

interface Step {
  at: number;
  objects: StripeObject[];
  events: Stripe.Event[];
}

/**
 * A history of at least `deliveries` deliveries. Steps of a payment happen in order, a few
 * slots apart; each event is delivered some slots after its step (late, and so out of order
 * with others), never before it; duplicates come later still. A slot is about one payment.
 */
export function buildHistory(seed: number, deliveries: number): History {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const exponential = (mean: number, cap: number) => Math.min(cap, -Math.log(1 - random()) * mean);
  const originalsWanted = Math.ceil(deliveries * (1 - DUPLICATE_SHARE));

  const payments: PlannedPayment[] = [];
  const steps: Step[] = [];
  let originals = 0;
  let eventNo = 0;
  const id = (prefix: string, ...parts: (string | number)[]) => `${prefix}s${seed}${parts.join("")}`;
  const named = (events: Stripe.Event[]) => events.map((e) => ({ ...e, id: id("evt_", "e", eventNo++) }) as Stripe.Event);

  for (let p = 0; originals < originalsWanted; p++) {
    const kind = random() < 0.6 ? "training" : "hosting";
    const amount_minor = 1_000 + Math.floor(random() * 499_000);
    const created = EPOCH_S + p * 60;
    const ids = { payment_intent: id("pi_", "p", p), charge: id("ch_", "p", p), balance_transaction: id("txn_", "p", p), customer: id("cus_", "p", p) };
    const built: TrainingPayment | HostingPayment =
      kind === "training"
        ? buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro", created, ids: { ...ids, session: id("cs_", "p", p) } })
        : buildHostingPayment({ amount_minor, currency: "eur", price_id: "price_hosting_basic", created, ids: { ...ids, invoice: id("in_", "p", p), invoice_payment: id("inpay_", "p", p), subscription: id("sub_", "p", p) } });
    const plan: PlannedPayment = { payment_intent: built.payment_intent.id, kind, amount_minor, refunds: [], dispute: null, transactions: [["payment", amount_minor]], refunded_minor: 0, disputed_minor: 0 };
    payments.push(plan);

    let at = random() * originalsWanted * 0.3;
    const step = (objects: StripeObject[], events: Stripe.Event[]) => {
      const mine = named(events);
      steps.push({ at, objects, events: mine });
      originals += mine.length;
      at += 1 + exponential(3, 30);
    };
    step(emulatorObjects(built), [built.event]);

    // Refunds, each of a part of what is left, some failing a week later; or a dispute of a payment never refunded.
    let current: PaymentCore = built;
    const refunds = random() < 0.35 ? 1 + Math.floor(random() * 3) : 0;
    for (let r = 0; r < refunds; r++) {
      const left = amount_minor - plan.refunded_minor;
      if (left < 1) break;
      const size = Math.max(1, Math.floor((left * (1 + Math.floor(random() * 4))) / 4));
      const when = created + (r + 1) * 86_400;
      const refund: BuiltRefund = buildRefund(current, { amount_minor: size, created: when, ids: { refund: id("re_", "p", p, "r", r), balance_transaction: id("txn_", "p", p, "r", r) } });
      step(emulatorObjects(refund), refund.events);
      const fails = random() < 0.25;
      plan.refunds.push({ id: refund.refund.id, amount_minor: size, fails });
      plan.transactions.push(["refund", size]);
      if (fails) {
        const failed = failRefund(refund, { id: id("txn_", "p", p, "r", r, "f") });
        step(emulatorObjects(failed), failed.events);
        plan.transactions.push(["refund_failed", -size]);
        current = failed.payment;
      } else {
        plan.refunded_minor += size;
        current = refund.payment;
      }
    }
    if (refunds === 0 && random() < 0.2) {
      const opened: BuiltDispute = buildDispute(current, { created: created + 3 * 86_400, ids: { dispute: id("dp_", "p", p), balance_transaction: id("txn_", "p", p, "dw") } });
      step(emulatorObjects(opened), opened.events);
      const outcome = pick(["won", "won_fee_returned", "lost"] as const);
      const closed = outcome === "lost" ? loseDispute(opened) : winDispute(opened, { fee_returned: outcome === "won_fee_returned", id: id("txn_", "p", p, "dr") });
      step(emulatorObjects(closed), closed.events);
      plan.dispute = { id: opened.dispute.id, outcome };
      plan.transactions.push(["dispute_withdrawn", amount_minor]);
      if (outcome === "lost") plan.disputed_minor = amount_minor;
      else plan.transactions.push(["dispute_reinstated", -amount_minor]);
    }
    plan.transactions.sort(byCause);
  }

  // Deliveries: each event a few slots after its step; duplicates later, half resent under
  // the same id, half under a new id for the same object.
  const timed: { at: number; order: number; entry: TimelineEntry }[] = [];
  let order = 0;
  const handled = new Set<string>();
  const ignored = new Set<string>();
  const all: { at: number; event: Stripe.Event }[] = [];
  const calm = [...steps].sort((a, b) => a.at - b.at).flatMap((s): TimelineEntry[] => [{ kind: "store", objects: s.objects }, ...s.events.map((event) => ({ kind: "deliver" as const, event, copy: "original" as const }))]);
  for (const s of steps) {
    timed.push({ at: s.at, order: order++, entry: { kind: "store", objects: s.objects } });
    for (const event of s.events) {
      (IGNORED_TYPES.has(event.type) ? ignored : handled).add(event.id);
      const at = s.at + exponential(4, 40);
      timed.push({ at, order: order++, entry: { kind: "deliver", event, copy: "original" } });
      all.push({ at, event });
    }
  }
  const duplicates = Math.max(deliveries, Math.ceil(all.length / (1 - DUPLICATE_SHARE))) - all.length;
  let resent = 0;
  let renamed = 0;
  for (let d = 0; d < duplicates; d++) {
    const { at, event } = pick(all);
    const again = at + exponential(15, 100);
    if (random() < 0.5) {
      timed.push({ at: again, order: order++, entry: { kind: "deliver", event, copy: "resent" } });
      resent++;
    } else {
      const other = { ...event, id: `${event.id}_dup${d}` } as Stripe.Event;
      (IGNORED_TYPES.has(event.type) ? ignored : handled).add(other.id);
      timed.push({ at: again, order: order++, entry: { kind: "deliver", event: other, copy: "renamed" } });
      renamed++;
    }
  }
  // A step's objects are stored before any delivery at the same time: an event never comes before Stripe made it.
  timed.sort((a, b) => a.at - b.at || (a.entry.kind === "store" ? 0 : 1) - (b.entry.kind === "store" ? 0 : 1) || a.order - b.order);
  return {
    payments,
    timeline: timed.map((t) => t.entry),
    calm,
    originals: new Set(all.map((a) => a.event.id)),
    handled,
    ignored,
    deliveries: { total: all.length + duplicates, original: all.length, resent, renamed },
  };
}

function byCause(a: [Cause, number], b: [Cause, number]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1];
}

/** Sorts transactions `[cause, amount]` the way PlannedPayment.transactions is sorted. */
export function sortTransactions(list: [Cause, number][]): [Cause, number][] {
  return [...list].sort(byCause);
}
