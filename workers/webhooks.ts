// POST /webhooks/stripe: verify, store, acknowledge. Nothing here calls Stripe or splits:
// the workflow does that after the acknowledgement.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type Stripe from "stripe";
import { SIGNATURE_TOLERANCE_S } from "../core";
import { database } from "../db/client";
import { storeEvent } from "../db/queries/events";
import type { Env } from "../workflows/env";
import { classifyEvent } from "../workflows/payment-events";
import { queueStarts } from "../workflows/start";
import { ApiError } from "./errors";
import { verifyStripeSignature } from "./stripe-signature";

/** Stripe events are a few KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 512 * 1024;
/**
 * A Stripe event id. It also names the event's workflow instances (`<id>` and `<id>-run<n>`),
 * which Workflows takes only of letters, digits, `-` and `_`, 100 characters at most: an event
 * with another id could never be started, and would hold back the starts queued beside it.
 */
const STRIPE_EVENT_ID = /^evt_[A-Za-z0-9_]{1,80}$/;

export const webhooks = new Hono<{ Bindings: Env }>();

// The limit holds while the body is read, in bytes, chunked bodies included.
export const webhookBodyLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError("payload_too_large", `a Stripe event is at most ${MAX_BODY_BYTES} bytes`);
  },
});

webhooks.post("/stripe", webhookBodyLimit, async (c) => {
  const { event, body } = await signedEvent(c.env, c.req.raw.headers, () => c.req.text());
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
    // Not awaited by the response. The event is stored due now: if the queue refuses the
    // message, the scheduled sweep queues it within a minute.
    c.executionCtx.waitUntil(queueStarts(c.env, [event.id]));
  }
  return c.json({ received: true, id: event.id, status: handling.handled ? "received" : "ignored" }, 200);
});

/** The request's Stripe event and its body as received, if its signature is valid and recent; a 400 with a stable code otherwise. */
export async function signedEvent(env: Env, headers: Headers, readBody: () => Promise<string>): Promise<{ event: Stripe.Event; body: string }> {
  const signature = headers.get("stripe-signature");
  if (!signature) throw new ApiError("invalid_signature", "missing Stripe-Signature header");
  const body = await readBody();
  return { event: await verifiedEvent(env, body, signature), body };
}

async function verifiedEvent(env: Env, body: string, signature: string): Promise<Stripe.Event> {
  try {
    await verifyStripeSignature(body, signature, env.STRIPE_WEBHOOK_SECRET, SIGNATURE_TOLERANCE_S);
  } catch (error) {
    // The message says which check failed (no signature match, timestamp outside tolerance, …).
    const why = error instanceof Error ? error.message : "verification failed";
    throw new ApiError("invalid_signature", `Stripe signature verification failed: ${why}`);
  }
  let event: Stripe.Event;
  try {
    event = JSON.parse(body) as Stripe.Event;
  } catch {
    throw new ApiError("invalid_event", "the body is signed but is not JSON");
  }
  // A valid signature vouches for who sent the body, not for what it holds: `null`, a number or an array parse too.
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new ApiError("invalid_event", "the body is signed but is not a Stripe event (needs object 'event', id, type, created, data.object)");
  }
  const e = event as unknown as Record<string, unknown>;
  const data = e.data as Record<string, unknown> | undefined;
  if (e.object !== "event" || typeof e.id !== "string" || typeof e.type !== "string" || typeof e.created !== "number" || typeof data?.object !== "object" || data.object === null) {
    throw new ApiError("invalid_event", "the body is signed but is not a Stripe event (needs object 'event', id, type, created, data.object)");
  }
  if (!STRIPE_EVENT_ID.test(e.id)) throw new ApiError("invalid_event", "the body is signed but its id is not a Stripe event id (evt_ and up to 80 letters, digits or _)");
  return event;
}
