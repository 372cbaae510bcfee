import Stripe from "stripe";
import type { Env } from "./env";
import { STRIPE_API_VERSION } from "./stripe-version";

/** How long the client waits for one Stripe answer before it gives up (a connection error, retried by the step). */
export const STRIPE_TIMEOUT_MS = 20_000;

/**
 * The Stripe client for this environment. In tests the emulator is a service binding
 * (`STRIPE_API`); locally it listens at `STRIPE_API_BASE`; in production neither is set
 * and the SDK talks to Stripe. The SDK does not retry: workflow steps own retries.
 */
export function stripeClient(env: Env): Stripe {
  const config: Stripe.StripeConfig = { apiVersion: STRIPE_API_VERSION, maxNetworkRetries: 0, timeout: STRIPE_TIMEOUT_MS };
  if (env.STRIPE_API) {
    const emulator = env.STRIPE_API;
    config.httpClient = Stripe.createFetchHttpClient((input, init) => emulator.fetch(input as RequestInfo, init as RequestInit));
  } else {
    config.httpClient = Stripe.createFetchHttpClient();
  }
  const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : null;
  if (base) {
    config.host = base.hostname;
    config.port = base.port || (base.protocol === "https:" ? "443" : "80");
    config.protocol = base.protocol === "https:" ? "https" : "http";
  }
  return new Stripe(env.STRIPE_SECRET_KEY, config);
}
