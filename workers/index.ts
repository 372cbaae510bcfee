// The worker's entry: HTTP (app.ts), the scheduled sweep, and the workflow class.
import { database } from "../db/client";
import { eventsToStart } from "../db/queries/events";
import app from "./app";
import type { Env } from "./env";
import { splitStart, startSplits } from "./webhooks";

export { SplitPaymentWorkflow } from "../workflows/split-payment";

/** createBatch takes at most 100 instances. */
const SWEEP_BATCH = 100;
/** An event younger than this may still be starting from its own request. */
const SWEEP_GRACE_MS = 60_000;

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepUnstartedEvents(env));
  },
} satisfies ExportedHandler<Env>;

/** Starts the events that were stored but never started (see DOMAIN.md, Cloudflare). */
export async function sweepUnstartedEvents(env: Env, nowMs = Date.now()): Promise<number> {
  const db = database(env.DB);
  const due = await eventsToStart(db, nowMs, SWEEP_GRACE_MS, SWEEP_BATCH);
  await startSplits(env, db, due.map(splitStart));
  return due.length;
}
