// The worker's entry: HTTP (app.ts), the start queue's consumer, the crons (the sweep every
// minute, a payout run on Mondays), and the workflow classes.
import { meteredEnv } from "../workflows/bench-meter";
import type { Env } from "../workflows/env";
import { PAYOUT_CRON, startPayoutRun } from "../workflows/payout-run";
import { consumeStarts, sweepDueEvents } from "../workflows/start";
import app from "./app";

export { PayoutWorkflow } from "../workflows/payout";
export { SplitPaymentWorkflow } from "../workflows/split-payment";

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
    ctx.waitUntil(sweepDueEvents(env));
  },
} satisfies ExportedHandler<Env>;
