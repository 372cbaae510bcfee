/**
 * Webhook endpoints, as `npm run stripe:setup` registers them: a URL, the event types sent to
 * it, the API version its events are rendered in, and a signing secret (`whsec_…`) that Stripe
 * returns only in the answer to the creation. With the keys of Stripe's example
 * (webhook_endpoint.json: the shape tests compare them) and checked by the SDK's type, written out
 * rather than cloned: app.ts, which vitest.config.ts loads in the test host, must import no JSON.
 * Pure and web-standard.
 *
 * Chosen, not confirmed: the checks on a URL (an absolute http(s) URL) and on event types (a
 * dotted lower-case name, or `*`) and their messages.
 */
import type Stripe from "stripe";

import { stripeId } from "./ids.ts";

export interface WebhookEndpointFields {
  url: string;
  enabled_events: string[];
  /** The version its events are rendered in; null: the account's default. */
  api_version?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  created?: number;
  id?: string;
}

/** A new endpoint, with its secret: store it without the secret (`withoutSecret`), answer it with. */
export function buildWebhookEndpoint(f: WebhookEndpointFields): Stripe.WebhookEndpoint & { secret: string } {
  return {
    id: f.id ?? stripeId("we_"),
    object: "webhook_endpoint",
    api_version: f.api_version ?? null,
    application: null,
    created: f.created ?? Math.floor(Date.now() / 1000),
    description: f.description ?? null,
    enabled_events: [...f.enabled_events],
    livemode: false,
    metadata: f.metadata ?? {},
    secret: `whsec_${stripeId("", 32)}`,
    status: "enabled",
    url: f.url,
  };
}

/** As every read shows it: the secret is shown once, at creation. */
export function withoutSecret(endpoint: Stripe.WebhookEndpoint): Stripe.WebhookEndpoint {
  const { secret: _, ...rest } = structuredClone(endpoint);
  return rest;
}

/** Why a URL cannot be a webhook endpoint, or null. */
export function badEndpointUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `Invalid URL: ${url}. URLs must be absolute and begin with http:// or https://`;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `Invalid URL: ${url}. URLs must be absolute and begin with http:// or https://`;
  return null;
}

/** Why an event type cannot be enabled, or null. */
export function badEventType(type: string): string | null {
  return type === "*" || /^[a-z_]+(\.[a-z_]+)+$/.test(type) ? null : `Invalid event type: ${JSON.stringify(type)} is not the name of an event type`;
}
