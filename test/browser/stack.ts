// The stack the browser tests run against: a throwaway `npm start` on its own ports and D1
// state (infra/scripts/stack.ts), demo data seeded, stopped at the end. POT_COMMUN_URL points
// the tests at a stack already running instead (its ADMIN_TOKEN from .dev.vars).
import { resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { startStack } from "../../infra/scripts/stack";
import { readDevVars } from "../../infra/scripts/trigger";

declare module "vitest" {
  export interface ProvidedContext {
    base: string;
    emulator: string;
    adminToken: string;
    webhookSecret: string;
  }
}

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.POT_COMMUN_URL;
  if (given) {
    const vars = readDevVars(resolve(import.meta.dirname, "../.."));
    project.provide("base", given.replace(/\/$/, ""));
    project.provide("emulator", process.env.POT_COMMUN_EMULATOR_URL ?? "http://127.0.0.1:12111");
    project.provide("adminToken", vars.ADMIN_TOKEN ?? "local-admin-token");
    project.provide("webhookSecret", vars.STRIPE_WEBHOOK_SECRET ?? "whsec_local");
    return () => {};
  }
  const stack = await startStack({ worker: port("PORT", 8797), emulator: port("STRIPE_EMULATOR_PORT", 12197), inspector: port("INSPECTOR_PORT", 9297) });
  project.provide("base", stack.api);
  project.provide("emulator", stack.emulator);
  project.provide("adminToken", stack.vars.ADMIN_TOKEN ?? "local-admin-token");
  project.provide("webhookSecret", stack.vars.STRIPE_WEBHOOK_SECRET ?? "whsec_local");
  return () => stack.stop();
}
