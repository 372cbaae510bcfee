// The worker's bindings (wrangler.toml, .dev.vars.example). They live here, below both the
// webhook and the workflows, because both read them.

/** What the split workflow is started with: the stored event to split, and which of its runs this is. */
export interface SplitPaymentParams {
  event_id: string;
  run: number;
}

/** What a payout run's workflow is started with. */
export interface PayoutParams {
  run_id: string;
}

/** What a pool close's workflow is started with: the pool, and the period to close. */
export interface PoolCloseParams {
  pool_id: string;
  period: string;
}

/** What a reconciliation's workflow is started with: the UTC day, and the run (its row's run_id). */
export interface ReconcileParams {
  date: string;
  run_id: string;
}

/** What a proposal's workflow is started with: the proposal, and when its notice ends. */
export interface ProposalParams {
  proposal_id: string;
  notice_ends_ms: number;
}

/** What an outgoing webhook's delivery workflow is started with. */
export interface WebhookDeliveryParams {
  delivery_id: string;
}

/** A message on the start queue: start the next run of this event if it is due. */
export interface StartMessage {
  event_id: string;
}

/** The worker's bindings: see wrangler.toml and .dev.vars.example. */
export interface Env {
  DB: D1Database;
  SPLIT_PAYMENT: Workflow<SplitPaymentParams>;
  /** Payout runs (workflows/payout.ts). */
  PAYOUT: Workflow<PayoutParams>;
  /** Closes of need pools' periods (workflows/pool-close.ts). */
  POOL_CLOSE: Workflow<PoolCloseParams>;
  /** Reconciliations of a day with Stripe (workflows/reconcile.ts). */
  RECONCILE: Workflow<ReconcileParams>;
  /** One instance per proposal: sleeps until its notice ends, then makes it a version unless something holds it (workflows/proposal-workflow.ts). */
  PROPOSAL: Workflow<ProposalParams>;
  /** One instance per outgoing webhook delivery: sends it, retried with exponential backoff (workflows/webhook-delivery-workflow.ts). */
  WEBHOOK_DELIVERY: Workflow<WebhookDeliveryParams>;
  /** Event ids whose runs are to be started, at the rate Workflows accepts (workflows/start.ts). */
  SPLIT_STARTS: Queue<StartMessage>;
  /** The static assets in public/ (wrangler.toml, [assets]), served without the worker; only tests read them through it. */
  ASSETS: Fetcher;
  STRIPE_SECRET_KEY: string;
  STRIPE_WEBHOOK_SECRET: string;
  /** Bootstrap admin token; further tokens live hashed in D1. */
  ADMIN_TOKEN: string;
  /** Days a share is held before it can be paid out, unless its rule says (`hold_days`); 14 when unset. */
  HOLD_DAYS?: string;
  /** Settlement currencies the cooperative receives ("eur,usd"): every fixed amount and cap in a rule must name each. */
  CURRENCIES?: string;
  /** Local only: where the Stripe emulator listens (http://127.0.0.1:12111). Unset in production. */
  STRIPE_API_BASE?: string;
  /** Tests only: the Stripe emulator as a service, so no port is needed. */
  STRIPE_API?: Fetcher;
  /** Tests only: outgoing webhooks go to this service instead of the network (vitest.config.ts). */
  WEBHOOK_SINK?: Fetcher;
  /** `npm run bench` only ("1"): its floor route and its cost meter (workflows/bench-meter.ts). Never set it in production. */
  BENCH?: string;
  /**
   * Tests only (the fault storm): `{ seed, rate, scope }`, workflow steps that fail once
   * (workflows/step-faults.ts). wrangler.toml never defines it; unless the Stripe key is a test
   * key, the worker refuses to serve while it is set.
   */
  TEST_STEP_FAULTS?: unknown;
}

/** Secrets without which the worker refuses to serve. */
export const REQUIRED_SECRETS = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ADMIN_TOKEN"] as const;

export function missingSecrets(env: Partial<Env>): string[] {
  return REQUIRED_SECRETS.filter((name) => typeof env[name] !== "string" || env[name] === "");
}

/** The bootstrap admin token's minimum length when the worker holds a live Stripe key. */
export const MIN_LIVE_ADMIN_TOKEN_LENGTH = 32;

/**
 * What makes the worker refuse to serve, each as a sentence naming the setting: a missing
 * secret, or, with a live Stripe key (real money), a bootstrap admin token short enough to guess.
 */
export function configurationProblems(env: Partial<Env>): string[] {
  const missing = missingSecrets(env);
  if (missing.length > 0) return [`the worker is missing secret(s): ${missing.join(", ")} (wrangler secret put NAME)`];
  if (env.TEST_STEP_FAULTS !== undefined && !/^(sk|rk)_test_/.test(env.STRIPE_SECRET_KEY ?? "")) {
    return ["TEST_STEP_FAULTS makes workflow steps fail on purpose and is for tests with a Stripe test key only: remove it"];
  }
  const live = /^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY ?? "");
  if (live && (env.ADMIN_TOKEN ?? "").length < MIN_LIVE_ADMIN_TOKEN_LENGTH) {
    return [`ADMIN_TOKEN is shorter than ${MIN_LIVE_ADMIN_TOKEN_LENGTH} characters while STRIPE_SECRET_KEY is a live key: set a long random one (wrangler secret put ADMIN_TOKEN)`];
  }
  return [];
}

/** The settlement currencies of `CURRENCIES` ("eur" when unset), lower case. */
export function settlementCurrencies(env: Pick<Env, "CURRENCIES">): string[] {
  return (env.CURRENCIES ?? "eur").split(",").map((c) => c.trim().toLowerCase()).filter(Boolean);
}

/** The deployment's hold, in days: `HOLD_DAYS`, 14 when unset or not a whole number from 0 to 365. */
export function defaultHoldDays(env: Pick<Env, "HOLD_DAYS">): number {
  const days = Number(env.HOLD_DAYS ?? "14");
  return Number.isInteger(days) && days >= 0 && days <= 365 ? days : 14;
}

/** Workflows' error code, in createBatch's errors, for "an instance with this id already exists" (instance.already_exists). */
export const INSTANCE_ALREADY_EXISTS = 10405;
