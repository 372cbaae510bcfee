import type { SplitPaymentParams } from "../workflows/split-payment";

/** The worker's bindings: see wrangler.toml and .dev.vars.example. */
export interface Env {
  DB: D1Database;
  SPLIT_PAYMENT: Workflow<SplitPaymentParams>;
  /** The static assets in public/ (wrangler.toml, [assets]), served without the worker; only tests read them through it. */
  ASSETS: Fetcher;
  STRIPE_SECRET_KEY: string;
  STRIPE_WEBHOOK_SECRET: string;
  /** Bootstrap admin token; further tokens live hashed in D1. */
  ADMIN_TOKEN: string;
  /** Settlement currencies the cooperative receives ("eur,usd"): every fixed amount and cap in a rule must name each. */
  CURRENCIES?: string;
  /** Local only: where the Stripe emulator listens (http://127.0.0.1:12111). Unset in production. */
  STRIPE_API_BASE?: string;
  /** Tests only: the Stripe emulator as a service, so no port is needed. */
  STRIPE_API?: Fetcher;
}

/** Secrets without which the worker refuses to serve. */
export const REQUIRED_SECRETS = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ADMIN_TOKEN"] as const;

export function missingSecrets(env: Partial<Env>): string[] {
  return REQUIRED_SECRETS.filter((name) => typeof env[name] !== "string" || env[name] === "");
}
