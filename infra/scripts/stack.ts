// A throwaway `npm start` on spare ports with its own D1 state, for the smoke test and the
// benchmark: started, waited for, stopped, and its state removed.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { poll } from "./poll";
import { readDevVars } from "./trigger";

const root = resolve(import.meta.dirname, "../..");

export interface Stack {
  api: string;
  emulator: string;
  /** The stack's own D1 state folder (wrangler's --persist-to). */
  state: string;
  /** `npm start`'s process: the emulator, wrangler dev and its workerd are below it. */
  pid: number | undefined;
  vars: Record<string, string>;
  output(): string;
  get(path: string): Promise<Record<string, unknown>>;
  stop(): void;
  /** Resolves once the stack has stopped and its worker no longer answers (its D1 files are closed). */
  stopped(): Promise<void>;
}

/**
 * `env`: more variables for `npm start`, e.g. POT_COMMUN_CRON_INTERVAL_MS. `state`: a D1 state
 * folder to start on (and keep when stopping), e.g. one an earlier stack left and the bench filled.
 */
export async function startStack(ports: { worker: number; emulator: number; inspector: number }, env: Record<string, string> = {}, options: { state?: string } = {}): Promise<Stack> {
  const state = options.state ?? mkdtempSync(join(tmpdir(), "pot-commun-stack-"));
  const app = spawn("npm", ["start"], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: String(ports.worker), STRIPE_EMULATOR_PORT: String(ports.emulator), POT_COMMUN_STATE_DIR: state, INSPECTOR_PORT: String(ports.inspector), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => app.on("exit", () => resolve()));
  let output = "";
  app.stdout.on("data", (d: Buffer) => (output += d.toString()));
  app.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const stop = () => {
    try {
      if (app.pid) process.kill(-app.pid, "SIGTERM");
    } catch {
      // already gone
    }
    if (!options.state) rmSync(state, { recursive: true, force: true });
  };
  const api = `http://127.0.0.1:${ports.worker}`;
  try {
    await poll("npm start to seed and print what to try next", async () => (output.includes("Pot Commun is running") ? true : undefined), { timeoutMs: 180_000 });
  } catch (error) {
    stop();
    throw new Error(`${error instanceof Error ? error.message : error}\n--- npm start output ---\n${output.slice(-4000)}`);
  }
  // Read only now: on a fresh clone, `npm start` is what creates .dev.vars.
  const vars = readDevVars(root);
  return {
    api,
    emulator: `http://127.0.0.1:${ports.emulator}`,
    state,
    pid: app.pid,
    vars,
    output: () => output,
    get: async (path) => (await fetch(`${api}/api/v1${path}`, { headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}` } })).json() as Promise<Record<string, unknown>>,
    stop,
    stopped: async () => {
      await exited;
      // npm start was the leader of its own process group (detached): wrangler's workerd is in it
      // too, and may outlive npm by a moment, its D1 files still open.
      const groupGone = () => {
        try {
          if (app.pid) process.kill(-app.pid, 0);
          return undefined;
        } catch {
          return true;
        }
      };
      await poll("every process of the stack to end", async () => groupGone(), { timeoutMs: 30_000, everyMs: 200 });
      await poll("the worker to stop answering", async () => (await fetch(api).then(() => false, () => true)) || undefined, { timeoutMs: 30_000, everyMs: 200 });
    },
  };
}
