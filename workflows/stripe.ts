import Stripe from "stripe";
import type { Env } from "./env";
import { STRIPE_API_VERSION } from "./stripe-version";

/** Clients already made, by what makes them differ: the key, the base URL and the emulator binding. */
const clients = new Map<string, { binding: Fetcher | undefined; client: Stripe }>();

/**
 * The Stripe client for this environment. In tests the emulator is a service binding
 * (`STRIPE_API`); locally it listens at `STRIPE_API_BASE`; in production neither is set
 * and the SDK talks to Stripe. The SDK does not retry: workflow steps own retries.
 * Made once and kept: constructing one builds every resource of the SDK, a few milliseconds of
 * CPU that each payment paid until then; the client holds no state of a request.
 */
export function stripeClient(env: Env): Stripe {
  const key = `${env.STRIPE_SECRET_KEY}\n${env.STRIPE_API_BASE ?? ""}`;
  const kept = clients.get(key);
  if (kept && kept.binding === env.STRIPE_API) return kept.client;
  const client = newStripeClient(env);
  clients.set(key, { binding: env.STRIPE_API, client });
  return client;
}

function newStripeClient(env: Env): Stripe {
  const config: Stripe.StripeConfig = { apiVersion: STRIPE_API_VERSION, maxNetworkRetries: 0, timeout: 20_000 };
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
