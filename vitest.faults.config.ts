// `npm run test:faults`: the fault storm (test/faults/), apart from `npm test`, in workerd with
// D1, the start queue and the workflows, as the integration tests run. What is its own: its
// own Stripe emulator (whose random faults the storm turns on and off), and TEST_STEP_FAULTS,
// the test-only binding that makes workflow steps fail once (workflows/step-faults.ts; never in
// wrangler.toml). FAULT_SEED=n replays a storm; FAULT_DELIVERIES=n sizes it (default 2000).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { createStripeEmulator } from "./infra/stripe-emulator/app.ts";
import { TEST_SECRETS } from "./vitest.config.ts";

/** What `npm run test:faults` reads from its environment, checked: a bad value stops it before anything runs. */
function wholeNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./db/migrations");
  const stripe = createStripeEmulator();
  const seed = wholeNumber("FAULT_SEED", Math.floor(Math.random() * 2 ** 31), 0);
  const deliveries = wholeNumber("FAULT_DELIVERIES", 2_000, 20);
  console.log(`fault storm: FAULT_SEED=${seed} FAULT_DELIVERIES=${deliveries} (replay with FAULT_SEED=${seed} npm run test:faults)`);
  return {
    test: {
      // Each run's one-line outcome, thousands of them: the storm prints its own report.
      onConsoleLog: (log: string) => !log.includes('"msg":"split finished"'),
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  ...TEST_SECRETS,
                  TEST_MIGRATIONS: migrations,
                  FAULT_SEED: seed,
                  FAULT_DELIVERIES: deliveries,
                  // 5% of the storm's workflow steps fail once; its fault-free pass ("_calm" events) is out of scope.
                  TEST_STEP_FAULTS: { seed, rate: 0.05, scope: "_storm" },
                },
                serviceBindings: { STRIPE_API: (request: Request) => stripe.fetch(request) },
              },
            }),
          ],
          test: {
            name: "faults",
            include: ["test/faults/**/*.test.ts"],
            setupFiles: ["./test/integration/setup.ts"],
            testTimeout: 20 * 60_000,
            hookTimeout: 60_000,
          },
        },
      ],
    },
  };
});
