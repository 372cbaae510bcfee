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
        const key = { runId, partyId: item.partyId, currency: item.currency };
        try {
          const outcome = await step.do(`pay ${item.partyId} ${item.amountMinor} ${item.currency}`, RETRIED, () => this.pay(db(), item));
          if (outcome === "paid") paid += 1;
          else parked += 1;
        } catch (error) {
          // Retries are spent (Stripe down all along): the item is parked with why; the next run pays the party again.
          await step.do(`park the payout to ${item.partyId} ${item.currency}`, RETRIED, () => setPayoutItem(db(), key, { status: "parked", reason: describeExhausted(error) }, Date.now()));
          parked += 1;
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
    let transferId: string;
    try {
      const transfer = await stripeClient(this.env).transfers.create(
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
      transferId = transfer.id;
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.transient) throw new Error(failure.reason);
      await setPayoutItem(db, key, { status: "parked", reason: failure.reason }, now);
      return "parked";
    }
    await postPayout(
      db,
      { key: payoutKey(key), kind: "payout", party_id: item.partyId, currency: item.currency, amount_minor: item.amountMinor, stripe_object: transferId, event_id: `payout_run:${item.runId}`, description: `transfer ${transferId} of payout run ${item.runId}` },
      now,
      [payoutItemStatement(db, key, { status: "paid", transferId }, now)],
    );
    return "paid";
  }
}

