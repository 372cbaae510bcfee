// What the emulator's server (app.ts) and its object builders (objects.ts) share.

/** The worker's pinned Stripe API version: the emulator answers in it and its events carry it. */
export { STRIPE_API_VERSION } from "../../workflows/stripe-version.ts";

/** Stripe embeds at most this many items of a list in an object (an invoice's lines, an expanded list). */
export const EMBEDDED_LIST_LIMIT = 10;

/** Any Stripe API object: what the emulator stores. */
export type StripeObject = { id: string; object: string } & Record<string, unknown>;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random Stripe-like id: `stripeId("pi_")` → `pi_3xK…` (24 base62 characters). */
export function stripeId(prefix: string, length = 24): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = prefix;
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}
