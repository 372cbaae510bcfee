import type { D1Migration } from "@cloudflare/vitest-plugin";
import type { Env as WorkerEnv } from "../../workflows/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** The Stripe emulator, bound by vitest.config.ts. */
      STRIPE_API: Fetcher;
      /** The receiver of outgoing webhooks, bound by vitest.config.ts (infra/webhook-sink.ts). */
      WEBHOOK_SINK: Fetcher;
    }
    interface GlobalProps {
      mainModule: typeof import("../../workers/index");
    }
  }
}
