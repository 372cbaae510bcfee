// `npm start`: local secrets, D1 migrations, the Stripe emulator, the worker, demo data.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { seed } from "../seed";
import { serveEmulator } from "../stripe-emulator/main";
import { poll } from "./poll";
import { readDevVars } from "./trigger";

const root = resolve(import.meta.dirname, "../..");
const WORKER_PORT = Number(process.env.PORT ?? 8787);
const EMULATOR_PORT = Number(process.env.STRIPE_EMULATOR_PORT ?? 12111);
/** Where wrangler keeps local D1 state; the smoke test points it at a throwaway folder. */
const STATE_DIR = process.env.POT_COMMUN_STATE_DIR ?? ".wrangler/state";
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const children: ChildProcess[] = [];

function stop(code: number): never {
  for (const child of children) child.kill("SIGTERM");
  process.exit(code);
}

async function main() {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  if (major < 22 || (major === 22 && minor < 12)) {
    console.error(`Node ${process.versions.node} is too old: wrangler needs 22.12 or newer (README, Quick start).`);
    process.exit(1);
  }
  if (!existsSync(resolve(root, ".dev.vars"))) {
    copyFileSync(resolve(root, ".dev.vars.example"), resolve(root, ".dev.vars"));
    console.log("created .dev.vars from .dev.vars.example (local-only values)");
  }
  const vars = readDevVars(root);

  console.log("applying D1 migrations locally…");
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE_DIR], { cwd: root, env: { ...env, CI: "true" }, stdio: "inherit" });
  if (migrate.status !== 0) stop(migrate.status ?? 1);

  await serveEmulator(EMULATOR_PORT);
  console.log(`Stripe emulator on http://127.0.0.1:${EMULATOR_PORT}`);

  const worker = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(WORKER_PORT), "--persist-to", STATE_DIR, "--var", `STRIPE_API_BASE:http://127.0.0.1:${EMULATOR_PORT}`, "--show-interactive-dev-session=false", ...(process.env.INSPECTOR_PORT ? ["--inspector-port", process.env.INSPECTOR_PORT] : [])], { cwd: root, env, stdio: "inherit" });
  children.push(worker);
  worker.on("exit", (code) => stop(code ?? 0));
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));

  const api = `http://127.0.0.1:${WORKER_PORT}`;
  await poll("the worker's /health", async () => ((await fetch(`${api}/health`)).ok ? true : undefined), { timeoutMs: 120_000 });
  console.log("seeding demo data…");
  await seed(api, vars.ADMIN_TOKEN ?? "", (line) => console.log(`  ${line}`));

  console.log(`
Pot Commun is running.
  worker          ${api}   (API docs: ${api}/docs)
  Stripe emulator http://127.0.0.1:${EMULATOR_PORT}

Try next, in another shell:
  npm run stripe:trigger -- training            # a paid Checkout session → split
  npm run stripe:trigger -- hosting             # a paid subscription invoice → split
  curl -H "Authorization: Bearer ${vars.ADMIN_TOKEN}" ${api}/api/v1/balances
  curl -H "Authorization: Bearer ${vars.ADMIN_TOKEN}" ${api}/api/v1/ledger/check
`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  stop(1);
});
