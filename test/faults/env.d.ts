// The fault storm's own bindings (vitest.faults.config.ts), beside the integration tests' ones.
import "../integration/env.d.ts";

declare global {
  namespace Cloudflare {
    interface Env {
      /** The storm's seed: FAULT_SEED, or a random one the config prints. */
      FAULT_SEED: number;
      /** How many deliveries the history has at least: FAULT_DELIVERIES, 2000 by default. */
      FAULT_DELIVERIES: number;
    }
  }
}
