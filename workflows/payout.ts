// A payout run, as durable steps: plan (what each contributor can be paid now, written once as
// the run's items), one step per transfer (a Stripe transfer with an idempotency key per run,
// party and currency, posted on the ledger with its item marked paid in one batch), then the
// run is closed. A run repeated, interrupted or resumed never pays anyone twice: Stripe answers
// the same transfer to the same idempotency key, the ledger write is keyed by the item, and a
// resumed run reads its items rather than planning again.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import { database, type Db } from "../db/client";
import { postPayout } from "../db/queries/ledger";
import { closePayoutRun, payoutItemStatement, setPayoutItem, type PayoutItem } from "../db/queries/payouts";
import type { Env, PayoutParams } from "./env";
import { classifyFailure, describeExhausted } from "./failures";
import { payoutKey, planPayoutRun } from "./payout-run";
import { stripeClient } from "./stripe";

const RETRIED: WorkflowStepConfig = { retries: { limit: 5, delay: 10_000, backoff: "exponential" }, timeout: 60_000 };

export class PayoutWorkflow extends WorkflowEntrypoint<Env, PayoutParams> {
  override async run(event: Readonly<WorkflowEvent<PayoutParams>>, step: WorkflowStep): Promise<{ run_id: string; paid: number; parked: number; manual: number }> {
    const runId = event.payload.run_id;
    const db = () => database(this.env.DB);
    try {
      const items = await step.do("plan the run", RETRIED, () => planPayoutRun(db(), runId, Date.now()));
      let paid = 0;
      let parked = 0;
      for (const item of items.filter((i) => i.method === "transfer" && i.status === "pending")) {
        try {
          const outcome = await step.do(`pay ${item.partyId} ${item.amountMinor} ${item.currency}`, RETRIED, () => this.pay(db(), item));
          if (outcome === "paid") paid += 1;
          else parked += 1;
        } catch (error) {
          // Retries are spent. A try may have made the transfer at Stripe and died before its
          // write: parked as unpaid, the party would be paid again by the next run. So Stripe is
          // asked first; only a transfer it does not have is parked (the next run pays it).
          const outcome = await step.do(`settle the payout to ${item.partyId} ${item.currency} after its retries`, RETRIED, () => this.settleExhausted(db(), item, describeExhausted(error)));
          if (outcome === "paid") paid += 1;
          else parked += 1;
        }
      }
      await step.do("close the run", RETRIED, () => closePayoutRun(db(), runId, Date.now()));
      const summary = { run_id: runId, paid, parked, manual: items.filter((i) => i.method === "manual").length };
      console.log(JSON.stringify({ msg: "payout run finished", ...summary }));
      return summary;
    } catch (error) {
      // Never leave a run open: it would hold every later run back.
      await step.do("close the run after a failure", RETRIED, () => closePayoutRun(db(), runId, Date.now()));
      throw new Error(describeExhausted(error));
    }
  }

  /** One transfer: asked of Stripe with the item's key, then posted with its item marked paid. */
  private async pay(db: Db, item: PayoutItem): Promise<"paid" | "parked"> {
    const key = { runId: item.runId, partyId: item.partyId, currency: item.currency };
    const now = Date.now();
    if (item.stripeAccountId === null) return "parked";
    let transfer: { id: string; created: number };
    try {
      transfer = await stripeClient(this.env).transfers.create(
        {
          amount: item.amountMinor,
          currency: item.currency,
          destination: item.stripeAccountId,
          transfer_group: item.runId,
          ...(item.sourceTransaction ? { source_transaction: item.sourceTransaction } : {}),
          metadata: { payout_run: item.runId, party_id: item.partyId },
        },
        { idempotencyKey: payoutKey(key) },
      );
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.transient) throw new Error(failure.reason);
      await setPayoutItem(db, key, { status: "parked", reason: failure.reason }, now);
      return "parked";
    }
    await this.post(db, item, transfer, now);
    return "paid";
  }

  /** A transfer Stripe made, on the ledger with its item marked paid, in one batch keyed by the item. */
  private async post(db: Db, item: PayoutItem, transfer: { id: string; created: number }, now: number): Promise<void> {
    const key = { runId: item.runId, partyId: item.partyId, currency: item.currency };
    await postPayout(
      db,
      {
        key: payoutKey(key),
        kind: "payout",
        party_id: item.partyId,
        currency: item.currency,
        amount_minor: item.amountMinor,
        stripe_object: transfer.id,
        stripe_created_s: transfer.created,
        event_id: `payout_run:${item.runId}`,
        description: `transfer ${transfer.id} of payout run ${item.runId}`,
      },
      now,
      [payoutItemStatement(db, key, { status: "paid", transferId: transfer.id }, now)],
    );
  }

  /**
   * After the retries of an item's transfer ran out: the transfer Stripe holds for it (this
   * run's transfer group, its account, its party and currency in the metadata) is posted;
   * without one the item is parked with `reason`. If Stripe cannot be asked either, this step
   * fails and the item stays `pending`: later runs count it as in flight and do not pay it
   * again, and reconciliation shows the transfer if Stripe made it.
   */
  private async settleExhausted(db: Db, item: PayoutItem, reason: string): Promise<"paid" | "parked"> {
    const key = { runId: item.runId, partyId: item.partyId, currency: item.currency };
    if (item.stripeAccountId !== null) {
      const made = await stripeClient(this.env)
        .transfers.list({ transfer_group: item.runId, destination: item.stripeAccountId, limit: 100 })
        .autoPagingToArray({ limit: 1000 });
      const transfer = made.find((t) => t.metadata?.party_id === item.partyId && t.currency === item.currency);
      if (transfer) {
        if (transfer.amount !== item.amountMinor) throw new Error(`transfer ${transfer.id} at Stripe is of ${transfer.amount}, the item of ${item.amountMinor}: not posted, look at it`);
        await this.post(db, item, transfer, Date.now());
        return "paid";
      }
    }
    await setPayoutItem(db, key, { status: "parked", reason }, Date.now());
    return "parked";
  }
}

