// The worker's entry: HTTP (app.ts), the start queue's consumer, the scheduled sweep, and the workflow class.
import type { Env } from "../workflows/env";
import { consumeStarts, sweepDueEvents } from "../workflows/start";
import app from "./app";

export { SplitPaymentWorkflow } from "../workflows/split-payment";

export default {
  fetch: app.fetch,
  queue: consumeStarts,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepDueEvents(env));
  },
} satisfies ExportedHandler<Env>;
