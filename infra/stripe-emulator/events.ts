/** Stripe events around snapshots of objects. Pure and web-standard. */
import type Stripe from "stripe";

import { STRIPE_API_VERSION, stripeId } from "./ids.ts";

import eventFx from "../stripe-fixtures/event.json" with { type: "json" };

/** A Stripe event around a snapshot of `object` (e.g. refund.created, charge.dispute.closed). */
export function buildEvent(
  type: string,
  object: object,
  opts: { id?: string; created?: number; previous_attributes?: Record<string, unknown> } = {},
): Stripe.Event {
  return {
    ...structuredClone(eventFx),
    id: opts.id ?? stripeId("evt_"),
    api_version: STRIPE_API_VERSION,
    created: opts.created ?? Math.floor(Date.now() / 1000),
    data: { object: structuredClone(object), ...(opts.previous_attributes ? { previous_attributes: opts.previous_attributes } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as unknown as Stripe.Event; // any object, any type: the caller says what it builds
}
