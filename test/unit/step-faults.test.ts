// The fault storm's workflow steps that fail once (workflows/step-faults.ts): on only with a test
// binding and a test key, never from wrangler.toml; the same steps for the same seed; once each,
// before or after the work.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { WorkflowStep } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configurationProblems } from "../../workflows/env";
import { injectedStepFaults, stepFault, stepFaultsOf, withStepFaults } from "../../workflows/step-faults";

const root = resolve(import.meta.dirname, "../..");
const secrets = { STRIPE_SECRET_KEY: "sk_test_local", STRIPE_WEBHOOK_SECRET: "whsec_local", ADMIN_TOKEN: "local-admin-token" };

describe("turning step faults on", () => {
  it("takes an object binding with a Stripe test key, and nothing else", () => {
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 3, rate: 0.05 }, STRIPE_SECRET_KEY: "sk_test_local" })).toEqual({ seed: 3, rate: 0.05 });
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 3, rate: 0.05 }, STRIPE_SECRET_KEY: "rk_test_x" })).toEqual({ seed: 3, rate: 0.05 });
    // A secret is a string: `wrangler secret put TEST_STEP_FAULTS` cannot turn it on.
    expect(stepFaultsOf({ TEST_STEP_FAULTS: '{"seed":3,"rate":0.05}', STRIPE_SECRET_KEY: "sk_test_local" })).toBeNull();
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 3, rate: 0.05 }, STRIPE_SECRET_KEY: "sk_live_x" })).toBeNull();
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 3, rate: 1.5 }, STRIPE_SECRET_KEY: "sk_test_local" })).toBeNull();
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 0.5, rate: 0.1 }, STRIPE_SECRET_KEY: "sk_test_local" })).toBeNull();
    expect(stepFaultsOf({ STRIPE_SECRET_KEY: "sk_test_local" })).toBeNull();
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 3, rate: 0.05, scope: "_storm" }, STRIPE_SECRET_KEY: "sk_test_local" })).toEqual({ seed: 3, rate: 0.05, scope: "_storm" });
    expect(stepFaultsOf({ TEST_STEP_FAULTS: { seed: 3, rate: 0.05, scope: "" }, STRIPE_SECRET_KEY: "sk_test_local" })).toBeNull();
  });

  it("makes the worker refuse to serve when set next to a key that is not a test key", () => {
    expect(configurationProblems({ ...secrets, TEST_STEP_FAULTS: { seed: 1, rate: 0.05 } })).toEqual([]);
    for (const key of ["sk_live_abc", "rk_live_abc", "sk_abc"]) {
      expect(configurationProblems({ ...secrets, ADMIN_TOKEN: "x".repeat(40), STRIPE_SECRET_KEY: key, TEST_STEP_FAULTS: "anything" })).toEqual([
        "TEST_STEP_FAULTS makes workflow steps fail on purpose and is for tests with a Stripe test key only: remove it",
      ]);
    }
  });

  it("is not defined by wrangler.toml (vars, secrets or any binding), nor by .dev.vars.example", () => {
    expect(readFileSync(resolve(root, "wrangler.toml"), "utf8")).not.toMatch(/TEST_STEP_FAULTS/);
    expect(readFileSync(resolve(root, ".dev.vars.example"), "utf8")).not.toMatch(/TEST_STEP_FAULTS/);
  });
});

describe("which steps fail", () => {
  const names = Array.from({ length: 4_000 }, (_, i) => [`evt_${i}`, i % 2 === 0 ? "take the event in hand" : "split and post the payment"] as const);

  it("about `rate` of them, half before their work and half after, the same for the same seed", () => {
    const chosen = (seed: number) => names.map(([instance, name]) => stepFault({ seed, rate: 0.05 }, instance, name, 1));
    const first = chosen(11);
    const failing = first.filter((w) => w !== null);
    expect(failing.length).toBeGreaterThan(140);
    expect(failing.length).toBeLessThan(260);
    expect(failing.filter((w) => w === "before").length).toBeGreaterThan(failing.length / 3);
    expect(failing.filter((w) => w === "after").length).toBeGreaterThan(failing.length / 3);
    expect(chosen(11)).toEqual(first);
    expect(chosen(12)).not.toEqual(first);
  });

  it("only in the scope's instances, when it has one", () => {
    const scoped = (suffix: string) => names.filter(([instance, name]) => stepFault({ seed: 11, rate: 0.5, scope: "_storm" }, `${instance}${suffix}`, name, 1) !== null).length;
    expect(scoped("_calm")).toBe(0);
    expect(scoped("_storm")).toBeGreaterThan(1_500);
  });
});

describe("a step that fails once", () => {
  /** An engine stand-in: retries a step's callback until it succeeds, counting attempts from 1. */
  function engine(log: string[]): WorkflowStep {
    const fake = {
      async do(name: string, ...rest: unknown[]) {
        const callback = rest[rest.length - 1] as (ctx: { step: { name: string; count: number }; attempt: number }) => Promise<unknown>;
        for (let attempt = 1; attempt <= 3; attempt++) {
          try {
            return await callback({ step: { name, count: 1 }, attempt });
          } catch (error) {
            log.push(`${name}: attempt ${attempt} failed: ${(error as Error).message}`);
          }
        }
        throw new Error("retries ran out");
      },
      sleep: async () => {},
    };
    return fake as unknown as WorkflowStep;
  }

  /** An instance whose step "work" fails with this seed, `when`. */
  function instanceFailing(when: "before" | "after"): string {
    for (let i = 0; ; i++) if (stepFault({ seed: 5, rate: 0.5 }, `evt_${i}`, "work", 1) === when) return `evt_${i}`;
  }

  it("fails before its work on the first attempt, then does the work once", async () => {
    const log: string[] = [];
    const instance = instanceFailing("before");
    const step = withStepFaults(engine(log), { seed: 5, rate: 0.5 }, instance);
    let done = 0;
    expect(await step.do("work", { retries: { limit: 2, delay: 1 } }, async () => ++done)).toBe(1);
    expect(log).toEqual([`work: attempt 1 failed: injected fault before the work of step "work" (tests only)`]);
    expect(injectedStepFaults.at(-1)).toEqual({ instance, step: "work", when: "before" });
  });

  it("fails after its work on the first attempt: the work is done twice, as after a crash, and the second result is kept", async () => {
    const log: string[] = [];
    const step = withStepFaults(engine(log), { seed: 5, rate: 0.5 }, instanceFailing("after"));
    let done = 0;
    expect(await step.do("work", async () => ++done)).toBe(2);
    expect(log).toEqual([`work: attempt 1 failed: injected fault after the work of step "work" (tests only)`]);
  });

  it("is the engine's own step when faults are off, and passes sleeps through", async () => {
    const log: string[] = [];
    const plain = engine(log);
    expect(withStepFaults(plain, null, "evt_1")).toBe(plain);
    const faulty = withStepFaults(plain, { seed: 5, rate: 0 }, "evt_1");
    expect(await faulty.do("work", async () => "ok")).toBe("ok");
    await expect(faulty.sleep("a nap", 1)).resolves.toBeUndefined();
    expect(log).toEqual([]);
  });
});
