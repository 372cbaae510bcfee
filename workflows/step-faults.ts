// Tests only: workflow steps that fail once, for the fault storm (test/faults/). Never on in
// production: it is read from TEST_STEP_FAULTS, a binding that wrangler.toml does not define
// (test/unit/step-faults.test.ts holds it to that), it must be an object (a `wrangler secret`
// is a string, so a secret cannot turn it on), and it is ignored, and the worker refuses to
// serve (configurationProblems), unless the Stripe key is a test key.
//
// A chosen step fails on its first attempt only, either before its work or after it (the
// work done and committed, its result lost, as when an isolate dies at the wrong moment):
// the engine's retry then runs the step again, which is what "each step is idempotent" must
// survive. Which steps fail is a hash of the seed, the instance id and the step's name and
// count, so a seed fails the same steps in any interleaving.
import type { WorkflowStep } from "cloudflare:workers";
import { unitHash } from "../core";

export interface StepFaults {
  seed: number;
  /** The share of steps that fail once, 0 to 1. */
  rate: number;
  /** Only instances whose id contains this (the storm's own events, not its fault-free pass); every instance when absent. */
  scope?: string;
}

export type StepFaultWhen = "before" | "after";

/** The faults injected in this isolate so far, for the storm's report. */
export const injectedStepFaults: { instance: string; step: string; when: StepFaultWhen }[] = [];

const TEST_KEY = /^(sk|rk)_test_/;

/** The setting, when the binding is a valid one and the Stripe key a test key; otherwise null. */
export function stepFaultsOf(env: { TEST_STEP_FAULTS?: unknown; STRIPE_SECRET_KEY?: string }): StepFaults | null {
  const raw = env.TEST_STEP_FAULTS;
  if (typeof raw !== "object" || raw === null || !TEST_KEY.test(env.STRIPE_SECRET_KEY ?? "")) return null;
  const { seed, rate, scope } = raw as Record<string, unknown>;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || typeof rate !== "number" || !(rate >= 0 && rate <= 1)) return null;
  if (scope !== undefined && (typeof scope !== "string" || scope === "")) return null;
  return { seed, rate, ...(scope === undefined ? {} : { scope }) };
}

/** Whether, and when, the `count`th step named `name` of `instance` fails on its first attempt. */
export function stepFault(faults: StepFaults, instance: string, name: string, count: number): StepFaultWhen | null {
  if (faults.scope !== undefined && !instance.includes(faults.scope)) return null;
  const u = unitHash(`${faults.seed}|${instance}|${name}|${count}`);
  if (u >= faults.rate) return null;
  return u < faults.rate / 2 ? "before" : "after";
}


export class InjectedStepFault extends Error {
  override readonly name = "InjectedStepFault";
}

type StepCallback = (ctx: { step: { name: string; count: number }; attempt: number }) => Promise<unknown>;

/** `step`, with the chosen steps failing once; `step` itself when faults are off. */
export function withStepFaults(step: WorkflowStep, faults: StepFaults | null, instance: string): WorkflowStep {
  if (faults === null) return step;
  const faultyDo = (name: string, ...rest: unknown[]) => {
    const at = typeof rest[0] === "function" ? 0 : 1;
    const work = rest[at] as StepCallback;
    rest[at] = async (ctx: Parameters<StepCallback>[0]) => {
      const when = ctx.attempt === 1 ? stepFault(faults, instance, name, ctx.step.count) : null;
      if (when === "before") fail(instance, name, when);
      const result = await work(ctx);
      if (when === "after") fail(instance, name, when);
      return result;
    };
    // Called as a method of the stub itself: its `do` is an RPC method, with no `.call` of its own.
    return (step as unknown as { do(name: string, ...rest: unknown[]): Promise<unknown> }).do(name, ...rest);
  };
  // A plain object, not a Proxy: the engine's step is an RPC stub, which answers every property.
  const faulty = {
    do: faultyDo,
    sleep: (...args: Parameters<WorkflowStep["sleep"]>) => step.sleep(...args),
    sleepUntil: (...args: Parameters<WorkflowStep["sleepUntil"]>) => step.sleepUntil(...args),
    waitForEvent: (...args: Parameters<WorkflowStep["waitForEvent"]>) => step.waitForEvent(...args),
  };
  return faulty as unknown as WorkflowStep;
}

function fail(instance: string, step: string, when: StepFaultWhen): never {
  injectedStepFaults.push({ instance, step, when });
  throw new InjectedStepFault(`injected fault ${when} the work of step "${step}" (tests only)`);
}
