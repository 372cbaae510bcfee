import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { createStripeEmulator } from "./infra/stripe-emulator/app.ts";
import { createWebhookSink } from "./infra/webhook-sink.ts";

/** Local-only values, the same as .dev.vars.example. */
export const TEST_SECRETS = {
  STRIPE_SECRET_KEY: "sk_test_local",
  STRIPE_WEBHOOK_SECRET: "whsec_local",
  ADMIN_TOKEN: "local-admin-token",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./db/migrations");
  // The Stripe emulator runs in the test host (Node) and is bound into workerd as a
  // service: the worker's Stripe SDK calls it through `env.STRIPE_API`, with no port.
  const stripe = createStripeEmulator();
  // Outgoing webhooks go to a sink in the test host, bound the same way (infra/webhook-sink.ts).
  const sink = createWebhookSink();
  return {
    test: {
      projects: [
        {
          // Pure money logic: no runtime, so plain Node is enough and fastest.
          test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { ...TEST_SECRETS, TEST_MIGRATIONS: migrations },
                serviceBindings: { STRIPE_API: (request: Request) => stripe.fetch(request), WEBHOOK_SINK: (request: Request) => sink.fetch(request) },
                // wrangler.toml's consumer, but without gathering a second of starts (max_batch_timeout
                // 1 there): a test waits for each run it starts, and would wait that second each time.
                queueConsumers: { "pot-commun-split-starts": { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 10 } },
              },
            }),
          ],
          test: {
            name: "integration",
            include: ["test/integration/**/*.test.ts"],
            setupFiles: ["./test/integration/setup.ts"],
          },
        },
      ],
    },
  };
});
