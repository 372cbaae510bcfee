// Reconciliation runs, what both the API and the cron need: which day, starting a run. The
// run's durable steps are in reconcile.ts (a module that imports cloudflare:workers, which
// workers/app.ts must not reach).
import { utcDay } from "../core";
import { database } from "../db/client";
import { failReconciliation, openReconciliation } from "../db/queries/reconciliation";
import type { Env } from "./env";
import { describeError } from "./failures";

/** The cron that reconciles yesterday (wrangler.toml): every day at 02:00 UTC. */
export const RECONCILE_CRON = "0 2 * * *";

/** The UTC day before `nowMs`, `YYYY-MM-DD`. */
export function yesterday(nowMs: number): string {
  return new Date(nowMs - 86_400_000).toISOString().slice(0, 10);
}

/** Why `date` cannot be reconciled at `nowMs`, or null: a calendar day in UTC, over. */
export function unreconcilableDay(date: string, nowMs: number): string | null {
  const day = utcDay(date);
  if (!day) return `${JSON.stringify(date)} is not a day: give a UTC date as YYYY-MM-DD`;
  if (day.end_s * 1000 > nowMs) return `${date} is not over yet (UTC): Stripe may still add balance transactions to it`;
  return null;
}

/** Opens the day's run (replacing its last result) and starts its workflow; answers the run still going instead, if one is. */
export async function startReconciliation(env: Env, date: string, startedBy: string, nowMs = Date.now()): Promise<{ started: true; run_id: string } | { started: false; running: string }> {
  const db = database(env.DB);
  const runId = `rc_${date.replaceAll("-", "")}_${crypto.randomUUID().slice(0, 8)}`;
  const opened = await openReconciliation(db, date, runId, startedBy, nowMs);
  if (!opened.opened) return { started: false, running: opened.running };
  try {
    await env.RECONCILE.create({ id: runId, params: { date, run_id: runId } });
  } catch (error) {
    // Nothing ran: the day says so, and a new run may start at once.
    await failReconciliation(db, date, runId, `the workflow could not be started: ${describeError(error)}`, Date.now());
    throw error;
  }
  return { started: true, run_id: runId };
}
