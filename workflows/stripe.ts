import type { Env } from "./env";
import { StripeApi } from "./stripe-api";
import { STRIPE_API_VERSION } from "./stripe-version";

/** Stripe's API, unless the environment names another place for it. */
const STRIPE_API_ORIGIN = "https://api.stripe.com";
/** How long the client waits for one Stripe answer before it gives up (a connection error, retried by the step). */
export const STRIPE_TIMEOUT_MS = 20_000;

/**
 * The Stripe client for this environment. In tests the emulator is a service binding
 * (`STRIPE_API`); locally it listens at `STRIPE_API_BASE`; in production neither is set and
 * requests go to Stripe. No retries here: workflow steps own retries.
 */
export function stripeClient(env: Env): StripeApi {
  const emulator = env.STRIPE_API;
  return new StripeApi({
    key: env.STRIPE_SECRET_KEY,
    apiVersion: STRIPE_API_VERSION,
    base: env.STRIPE_API_BASE || STRIPE_API_ORIGIN,
    fetch: emulator ? (request) => emulator.fetch(request) : (request) => fetch(request),
    timeoutMs: STRIPE_TIMEOUT_MS,
  });
}
