// The worker's entry: HTTP (app.ts), the start queue's consumer, the crons (the sweeps every
// minute, a payout run on Mondays, pool closes daily, the reconciliation of yesterday every
// day), and the workflow classes.
import { meteredEnv } from "../workflows/bench-meter";
import type { Env } from "../workflows/env";
import { PAYOUT_CRON, startPayoutRun } from "../workflows/payout-run";
import { POOL_CLOSE_CRON, startDuePoolCloses } from "../workflows/pool-close";
import { RECONCILE_CRON, startReconciliation, yesterday } from "../workflows/reconcile-run";
import { consumeStarts, sweepDueEvents } from "../workflows/start";
import { sweepConsent } from "../workflows/consent";
import app from "./app";

export { PayoutWorkflow } from "../workflows/payout";
export { PoolCloseWorkflow } from "../workflows/pool-close-workflow";
export { ReconcileWorkflow } from "../workflows/reconcile";
export { ProposalWorkflow } from "../workflows/proposal-workflow";
export { SplitPaymentWorkflow } from "../workflows/split-payment";
export { WebhookDeliveryWorkflow } from "../workflows/webhook-delivery-workflow";

// meteredEnv hands back env itself unless the bench is on (BENCH=1): then D1 is counted.
export default {
  fetch: (request, env, ctx) => app.fetch(request, meteredEnv(env), ctx),
  queue: (batch, env, ctx) => consumeStarts(batch, meteredEnv(env), ctx),
  async scheduled(controller, rawEnv, ctx) {
    const env = meteredEnv(rawEnv);
    if (controller.cron === PAYOUT_CRON) {
      ctx.waitUntil(
        startPayoutRun(env, "cron").then((r) => {
          if (!r.started) console.log(JSON.stringify({ msg: "payout run not started: one is running", running: r.running }));
        }),
      );
      return;
    }
    if (controller.cron === POOL_CLOSE_CRON) {
      ctx.waitUntil(startDuePoolCloses(env).then((started) => console.log(JSON.stringify({ msg: "pool closes started", started }))));
      return;
    }
    if (controller.cron === RECONCILE_CRON) {
      const date = yesterday(controller.scheduledTime);
      ctx.waitUntil(
        startReconciliation(env, date, "cron").then((r) => {
          if (!r.started) console.log(JSON.stringify({ msg: "reconciliation not started: one is running", date, running: r.running }));
        }),
      );
      return;
    }
    ctx.waitUntil(sweepDueEvents(env));
    // Proposals whose notice ended without their workflow settling them, and deliveries never started.
    ctx.waitUntil(sweepConsent(env).catch((error: unknown) => console.error(JSON.stringify({ msg: "consent sweep failed", error: error instanceof Error ? error.message : String(error) }))));
  },
} satisfies ExportedHandler<Env>;
