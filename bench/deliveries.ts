// Signed Stripe events, delivered as Stripe would: unique paid Checkout sessions built by the
// emulator's builders (their objects stored in the emulator first, so that the workflow finds
// them), each signed with the webhook secret, POSTed by a number of concurrent senders.
import Stripe from "stripe";
import { buildTrainingPayment, emulatorObjects } from "../infra/stripe-emulator/objects";

/** The demo seed's training price (infra/seed.ts): its payments split by the default rule. */
const TRAINING_PRICE = "price_training_intro";

export type Route = "webhook" | "floor";

export interface Delivery {
  route: Route;
  payload: string;
  signature: string;
  /** The payment intent a webhook delivery pays (null for the floor, whose objects are never fetched). */
  payment_intent_id: string | null;
}

export interface Delivered {
  route: Route;
  status: number;
  latency_ms: number;
}

const stripe = new Stripe("sk_test_local");

/**
 * `count` paid trainings, amounts 100.00 € upwards, their objects stored in the emulator when
 * they go to the webhook (the floor never reads them), their events signed now (a signature is
 * good for 300 s).
 */
export async function paymentDeliveries(stack: { emulator: string; secret: string }, route: Route, count: number, firstAmountMinor = 10_000): Promise<Delivery[]> {
  const payments = Array.from({ length: count }, (_, i) => buildTrainingPayment({ amount_minor: firstAmountMinor + i, currency: "eur", price_id: TRAINING_PRICE }));
  if (route === "webhook") {
    for (let i = 0; i < payments.length; i += 200) {
      const objects = payments.slice(i, i + 200).flatMap(emulatorObjects);
      const res = await fetch(`${stack.emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
      if (!res.ok) throw new Error(`the emulator refused the payments' objects: ${res.status} ${await res.text()}`);
    }
  }
  return Promise.all(
    payments.map(async (p) => {
      const payload = JSON.stringify(p.event);
      const signature = await stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: stack.secret });
      return { route, payload, signature, payment_intent_id: route === "webhook" ? p.payment_intent.id : null };
    }),
  );
}

const PATHS: Record<Route, string> = { webhook: "/webhooks/stripe", floor: "/__bench/floor" };

/**
 * Sends every delivery with `concurrency` senders, each taking the next one as soon as its
 * previous answer is read. Returns each answer's status and latency, and the wall time.
 */
export async function deliver(api: string, deliveries: readonly Delivery[], concurrency: number, progress?: (done: number) => void): Promise<{ delivered: Delivered[]; wall_ms: number }> {
  const delivered: Delivered[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, deliveries.length) }, async () => {
      for (let d = deliveries[next++]; d; d = deliveries[next++]) {
        const t = performance.now();
        let status: number;
        try {
          const res = await fetch(`${api}${PATHS[d.route]}`, { method: "POST", headers: { "stripe-signature": d.signature, "content-type": "application/json" }, body: d.payload });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 0; // no answer at all: counted as not acknowledged
        }
        delivered.push({ route: d.route, status, latency_ms: performance.now() - t });
        if (progress && delivered.length % 250 === 0) progress(delivered.length);
      }
    }),
  );
  return { delivered, wall_ms: performance.now() - started };
}
