// Payout runs, what both the API and the workflow need: keys, planning, starting a run. The
// run's durable steps are in payout.ts.
import { database, type Db } from "../db/client";
import { closePayoutRun, insertPayoutItems, itemsOf, openPayoutRun, payableContributors, singleSourceCharge, type PayoutItem } from "../db/queries/payouts";
import type { Env } from "./env";

export type PayoutItemKey = { runId: string; partyId: string; currency: string };

/** The idempotency key of an item's transfer at Stripe and of its ledger transaction. */
export function payoutKey(item: { runId: string; partyId: string; currency: string }): string {
  return `payout:${item.runId}:${item.partyId}:${item.currency}`;
}

/** Plans a run once: contributors whose payable balance reaches their minimum, by transfer when they have a connected account, else listed for a payment by hand. */
export async function planPayoutRun(db: Db, runId: string, nowMs: number): Promise<PayoutItem[]> {
  const planned = await itemsOf(db, runId);
  if (planned.length > 0) return planned;
  const payable = await payableContributors(db, runId, nowMs);
  const items: Omit<PayoutItem, "updatedAtMs">[] = [];
  for (const p of payable) {
    if (p.payable_minor <= 0 || p.payable_minor < p.payout_minimum_minor) continue;
    const byTransfer = p.stripe_account_id !== null;
    items.push({
      runId,
      partyId: p.party_id,
      currency: p.currency,
      amountMinor: p.payable_minor,
      method: byTransfer ? "transfer" : "manual",
      status: byTransfer ? "pending" : "manual_due",
      stripeAccountId: p.stripe_account_id,
      sourceTransaction: byTransfer ? await singleSourceCharge(db, p.party_id, p.currency, p.payable_minor, nowMs) : null,
      transferId: null,
      reason: null,
    });
  }
  await insertPayoutItems(db, items, nowMs);
  return itemsOf(db, runId);
}

/** The cron that starts a payout run (wrangler.toml): Mondays at 06:00 UTC. */
export const PAYOUT_CRON = "0 6 * * 1";

/** Opens a run and starts its workflow; answers the run already running instead, if one is. */
export async function startPayoutRun(env: Env, startedBy: string, nowMs = Date.now()): Promise<{ started: true; run_id: string } | { started: false; running: string }> {
  const db = database(env.DB);
  const runId = `po_${new Date(nowMs).toISOString().slice(0, 10).replaceAll("-", "")}_${crypto.randomUUID().slice(0, 8)}`;
  const opened = await openPayoutRun(db, runId, startedBy, nowMs);
  if (!opened.opened) return { started: false, running: opened.running };
  try {
    await env.PAYOUT.create({ id: runId, params: { run_id: runId } });
  } catch (error) {
    // Nothing was paid: close the run, so that the next one is not held back, and say why.
    await closePayoutRun(db, runId, Date.now());
    throw error;
  }
  return { started: true, run_id: runId };
}
