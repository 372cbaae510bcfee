// POST /webhooks/stripe: verify, store, acknowledge. Nothing here calls Stripe or splits:
// the workflow does that after the acknowledgement.
import { Hono } from "hono";
import Stripe from "stripe";
import { database, type Db } from "../db/client";
import { markWorkflowsStarted, storeEvent } from "../db/queries/events";
import type { Env } from "./env";
import { ApiError } from "./errors";
import { webCrypto } from "./stripe-client";
import { classifyEvent } from "./webhook-events";

/** Stripe's default: a signature older than five minutes is refused (replay protection). */
export const SIGNATURE_TOLERANCE_S = 300;
/** Stripe events are a few KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 512 * 1024;

export const webhooks = new Hono<{ Bindings: Env }>();

webhooks.post("/stripe", async (c) => {
  const signature = c.req.header("stripe-signature");
  if (!signature) throw new ApiError("invalid_signature", "missing Stripe-Signature header");
  const tooLarge = () => new ApiError("payload_too_large", `a Stripe event is at most ${MAX_BODY_BYTES} bytes`);
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const body = await c.req.text();
  if (body.length > MAX_BODY_BYTES) throw tooLarge();

  const event = await verifiedEvent(c.env, body, signature);
  const db = database(c.env.DB);
  const handling = classifyEvent(event as unknown as { type: string; data: { object: Record<string, unknown> } });
  const now = Date.now();
  const stored = await storeEvent(
    db,
    {
      id: event.id,
      type: event.type,
      objectId: handling.objectId,
      status: handling.handled ? "received" : "ignored",
      reason: handling.handled ? null : handling.reason,
      payload: body,
      stripeCreatedS: event.created,
    },
    now,
  );
  if (!stored) return c.json({ received: true, duplicate: true, id: event.id }, 200);
  if (handling.handled) {
    // Not awaited by the response: if creation fails (the per-second limit, say), the
    // event stays `received` and the scheduled sweep starts it.
    c.executionCtx.waitUntil(startSplits(c.env, db, [{ event_id: event.id, instance_id: event.id }]));
  }
  return c.json({ received: true, id: event.id, status: handling.handled ? "received" : "ignored" }, 200);
});

async function verifiedEvent(env: Env, body: string, signature: string): Promise<Stripe.Event> {
  let event: Stripe.Event;
  try {
    event = await Stripe.webhooks.constructEventAsync(body, signature, env.STRIPE_WEBHOOK_SECRET, SIGNATURE_TOLERANCE_S, webCrypto);
  } catch (error) {
    // The SDK's message says which check failed (no signature match, timestamp outside tolerance, …).
    const why = error instanceof Error ? error.message.split("\n")[0] : "verification failed";
    throw new ApiError("invalid_signature", `Stripe signature verification failed: ${why}`);
  }
  const e = event as unknown as Record<string, unknown>;
  const data = e.data as Record<string, unknown> | undefined;
  if (e.object !== "event" || typeof e.id !== "string" || typeof e.type !== "string" || typeof e.created !== "number" || typeof data?.object !== "object" || data.object === null) {
    throw new ApiError("invalid_event", "the body is signed but is not a Stripe event (needs object 'event', id, type, created, data.object)");
  }
  return event;
}

export interface SplitStart {
  event_id: string;
  /** The event id for its first run; a fresh id for a run started again (instance ids are unique). */
  instance_id: string;
}

export function splitStart(event: { id: string; workflowRuns: number }): SplitStart {
  return { event_id: event.id, instance_id: event.workflowRuns === 0 ? event.id : `${event.id}-run${event.workflowRuns + 1}` };
}

/**
 * Creates one workflow instance per event and records that it started. Called outside
 * any step and possibly twice for one event; safe, because the ledger write is keyed by
 * the payment and the workflow's first step skips finished events.
 */
/** Returns whether every instance was created; what was not stays due for the sweep. */
export async function startSplits(env: Env, db: Db, starts: SplitStart[]): Promise<boolean> {
  if (starts.length === 0) return true;
  try {
    const result = await env.SPLIT_PAYMENT.createBatch({ instances: starts.map((s) => ({ id: s.instance_id, params: { event_id: s.event_id } })) });
    // An id that exists already was started before: it counts as started.
    const failed = new Set(result.errors.filter((e) => !/exist/i.test(e.message)).map((e) => starts[e.index]?.event_id));
    await markWorkflowsStarted(db, starts.map((s) => s.event_id).filter((id) => !failed.has(id)), Date.now());
    return failed.size === 0;
  } catch (error) {
    console.warn(`could not start workflows for ${starts.length} event(s); the sweep will retry:`, error instanceof Error ? error.message : String(error));
    return false;
  }
}
