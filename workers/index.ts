// The worker's entry: HTTP (app.ts), the scheduled sweep, and the workflow class.
import type { Env } from "../workflows/env";
import { sweepUnstartedEvents } from "../workflows/start";
import app from "./app";

export { SplitPaymentWorkflow } from "../workflows/split-payment";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepUnstartedEvents(env));
  },
} satisfies ExportedHandler<Env>;
