// `npm start`: local secrets, D1 migrations, the Stripe emulator, the worker, demo data (a few
// months of payments, a refund and a dispute, through the emulator and the webhook), and the
// worker's cron every minute.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { seed } from "../seed";
import { serveEmulator } from "../stripe-emulator/main";
import { poll } from "./poll";
import { readDevVars } from "./trigger";

const root = resolve(import.meta.dirname, "../..");
const WORKER_PORT = Number(process.env.PORT ?? 8787);
const EMULATOR_PORT = Number(process.env.STRIPE_EMULATOR_PORT ?? 12111);
/** Where wrangler keeps local D1 state; the smoke test points it at a throwaway folder. */
const STATE_DIR = process.env.POT_COMMUN_STATE_DIR ?? ".wrangler/state";
/** wrangler.toml's cron, `* * * * *`: every minute. The smoke test shortens it. */
const CRON_INTERVAL_MS = Number(process.env.POT_COMMUN_CRON_INTERVAL_MS ?? 60_000);
// No usage metrics, and no download of the `Request.cf` placeholder from workers.cloudflare.com:
// nothing here reads `request.cf`, and offline that download prints a network error.
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const children: ChildProcess[] = [];

/**
 * wrangler refuses a Node older than 22.12. `npm start` runs on the Node 22 that `npm install`
 * puts in node_modules/.bin (the `node` devDependency), whatever the system's is; this catches
 * the script run some other way, or before `npm install`.
 */
function checkNode(): void {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  if (major > 22 || (major === 22 && minor >= 12)) return;
  const tooOld = `Node ${process.versions.node} is too old for wrangler (22.12 or newer).`;
  console.error(
    existsSync(resolve(root, "node_modules/.bin/node"))
      ? `${tooOld} Run it as \`npm start\`: npm scripts run on the Node 22 in node_modules/.bin.`
      : `${tooOld} \`npm install\` puts Node 22 in node_modules/.bin (a devDependency); run it first, then \`npm start\`.`,
  );
  process.exit(1);
}

/**
 * The local runtime does not fire cron triggers; on Cloudflare, wrangler.toml's `* * * * *`
 * runs the worker's `scheduled` handler (the sweep) every minute. `wrangler dev` serves
 * /cdn-cgi/local/scheduled, which runs that handler once, waits for it (its `waitUntil` too)
 * and answers its outcome, 200 or 500. Called now, then at every interval boundary (the top of
 * each minute, like Cloudflare). Quiet unless it fails: wrangler prints the handler's error.
 */
function runLocalCron(api: string, intervalMs: number): void {
  const fire = async () => {
    try {
      const res = await fetch(`${api}/cdn-cgi/local/scheduled?format=json`);
      if (!res.ok) console.error(`local cron: the scheduled sweep ended in ${await res.text()} (HTTP ${res.status})`);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      console.error(`local cron: could not reach the worker to run the scheduled sweep (${cause})`);
    }
    setTimeout(fire, intervalMs - (Date.now() % intervalMs));
  };
  void fire();
}

/** Runs SQL on the local D1 (the seed's demo rule history); wrangler's report only on failure. */
async function localSql(statements: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "pot-commun-seed-"));
  const file = join(dir, "seed.sql");
  writeFileSync(file, statements);
  const run = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", STATE_DIR, "--file", file], { cwd: root, env: { ...env, CI: "true" }, encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`writing the demo rules to the local D1 failed:\n${run.stdout ?? ""}${run.stderr ?? ""}`);
}

function stop(code: number): never {
  for (const child of children) child.kill("SIGTERM");
  process.exit(code);
}

async function main() {
  checkNode();
  if (!Number.isInteger(CRON_INTERVAL_MS) || CRON_INTERVAL_MS < 1000) {
    console.error(`POT_COMMUN_CRON_INTERVAL_MS must be a whole number of milliseconds, 1000 or more (got ${process.env.POT_COMMUN_CRON_INTERVAL_MS})`);
    process.exit(1);
  }
  if (!existsSync(resolve(root, ".dev.vars"))) {
    copyFileSync(resolve(root, ".dev.vars.example"), resolve(root, ".dev.vars"));
    console.log("created .dev.vars from .dev.vars.example (local-only values)");
  }
  const vars = readDevVars(root);

  // CI=true: wrangler applies without asking. Its report (tables, a confirmation question
  // answered by itself, hints about --remote) is shown only when something fails.
  console.log("applying D1 migrations locally…");
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE_DIR], { cwd: root, env: { ...env, CI: "true" }, encoding: "utf8" });
  if (migrate.status !== 0) {
    process.stderr.write(`${migrate.stdout ?? ""}${migrate.stderr ?? ""}`);
    console.error(`applying the D1 migrations failed (${migrate.error?.message ?? `exit ${migrate.status}`})`);
    stop(migrate.status ?? 1);
  }
  console.log(`D1 migrations applied (local state in ${STATE_DIR})`);

  await serveEmulator(EMULATOR_PORT);
  console.log(`Stripe emulator on http://127.0.0.1:${EMULATOR_PORT}`);

  // --test-scheduled: this session does run scheduled events (runLocalCron), so wrangler's
  // warning that they are not triggered locally would be wrong; it also serves /__scheduled.
  // POT_COMMUN_BENCH=1 (npm run bench): the worker serves the bench's floor route and counts
  // what payments cost (workers/bench.ts); otherwise those routes are a 404.
  const benchVars = process.env.POT_COMMUN_BENCH === "1" ? ["--var", "BENCH:1"] : [];
  const worker = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(WORKER_PORT), "--persist-to", STATE_DIR, "--var", `STRIPE_API_BASE:http://127.0.0.1:${EMULATOR_PORT}`, ...benchVars, "--show-interactive-dev-session=false", "--test-scheduled", ...(process.env.INSPECTOR_PORT ? ["--inspector-port", process.env.INSPECTOR_PORT] : [])], { cwd: root, env, stdio: "inherit" });
  children.push(worker);
  worker.on("exit", (code) => stop(code ?? 0));
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));

  const api = `http://127.0.0.1:${WORKER_PORT}`;
  await poll("the worker's /health", async () => ((await fetch(`${api}/health`)).ok ? true : undefined), { timeoutMs: 120_000 });
  console.log("seeding demo data…");
  await seed(api, vars.ADMIN_TOKEN ?? "", (line) => console.log(`  ${line}`), {
    sql: localSql,
    demo: { emulator: `http://127.0.0.1:${EMULATOR_PORT}`, webhookSecret: vars.STRIPE_WEBHOOK_SECRET ?? "", nowMs: Date.now() },
  });
  runLocalCron(api, CRON_INTERVAL_MS);

  console.log(`
Pot Commun is running.
  where the money goes  ${api}/
  admin console         ${api}/admin   (sign in with the ADMIN_TOKEN of .dev.vars: ${vars.ADMIN_TOKEN})
  API docs              ${api}/docs
  Stripe emulator       http://127.0.0.1:${EMULATOR_PORT}
  local cron            the scheduled sweep ${CRON_INTERVAL_MS === 60_000 ? "every minute" : `every ${CRON_INTERVAL_MS / 1000} s`}, as wrangler.toml's crons do on Cloudflare

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
