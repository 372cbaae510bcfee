// The scheduled close of a pool's period as a workflow: one durable step, retried on failure;
// the close itself (pool-close.ts) writes once whatever happens.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import type { Env, PoolCloseParams } from "./env";
import { closePoolPeriod, PoolCloseError, type CloseOutcome } from "./pool-close";

/** One close as a durable step: retried on failure, written once whatever happens. */
export class PoolCloseWorkflow extends WorkflowEntrypoint<Env, PoolCloseParams> {
  override async run(event: Readonly<WorkflowEvent<PoolCloseParams>>, step: WorkflowStep): Promise<CloseOutcome> {
    const { pool_id, period } = event.payload;
    return step.do(`close ${pool_id} ${period}`, { retries: { limit: 5, delay: 10_000, backoff: "exponential" }, timeout: 120_000 }, async () => {
      try {
        return await closePoolPeriod(this.env, pool_id, period, "schedule");
      } catch (error) {
        // A pool deleted or misconfigured is not retried: it would fail the same way.
        if (error instanceof PoolCloseError) {
          console.error(JSON.stringify({ msg: "pool close refused", pool_id, period, code: error.code, reason: error.message }));
          return { outcome: "refused", period, reason: error.message } as const;
        }
        throw error;
      }
    });
  }
}
