// `npm run smoke`: the README's quick start, checked by a machine. Runs `npm start` on spare
// ports with throwaway state, triggers a training and a hosting payment, and checks that
// each is processed, that its shares sum to its basis, and that the ledger check is ok.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseTriggerArgs, readDevVars, trigger, type Kind } from "./trigger";

const root = resolve(import.meta.dirname, "../..");
const WORKER_PORT = 8799;
const EMULATOR_PORT = 12199;
const api = `http://127.0.0.1:${WORKER_PORT}`;
const state = mkdtempSync(join(tmpdir(), "pot-commun-smoke-"));

const app = spawn("npm", ["start"], {
  cwd: root,
  detached: true,
  env: { ...process.env, PORT: String(WORKER_PORT), STRIPE_EMULATOR_PORT: String(EMULATOR_PORT), POT_COMMUN_STATE_DIR: state, INSPECTOR_PORT: "9299" },
  stdio: ["ignore", "pipe", "pipe"],
});
let output = "";
app.stdout.on("data", (d: Buffer) => (output += d.toString()));
app.stderr.on("data", (d: Buffer) => (output += d.toString()));

function stop(): void {
  try {
    if (app.pid) process.kill(-app.pid, "SIGTERM");
  } catch {
    // already gone
  }
  rmSync(state, { recursive: true, force: true });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
  console.log(`  ok  ${message}`);
}

async function main(): Promise<void> {
  await until("npm start to seed and print what to try next", async () => (output.includes("Pot Commun is running") ? true : undefined), 180_000);
  const vars = readDevVars(root);
  const auth = { authorization: `Bearer ${vars.ADMIN_TOKEN}` };
  const get = async (path: string) => (await fetch(`${api}/api/v1${path}`, { headers: auth })).json() as Promise<Record<string, unknown>>;

  for (const kind of ["training", "hosting"] as Kind[]) {
    const opts = parseTriggerArgs([kind, "--worker", api, "--emulator", `http://127.0.0.1:${EMULATOR_PORT}`], vars);
    if (opts === "help") throw new Error("unexpected help");
    const sent = await trigger(opts, fetch, () => {});
    check(sent.worker_status === 200, `${kind}: the worker acknowledged ${sent.event_id}`);
    const event = await until(`${kind} event processed`, async () => {
      const e = await get(`/events/${sent.event_id}`);
      return e.status === "processed" || e.status === "parked" || e.status === "failed" ? e : undefined;
    }, 60_000);
    check(event.status === "processed", `${kind}: event ${sent.event_id} is ${String(event.status)}${event.reason ? ` (${String(event.reason)})` : ""}`);
    const payment = (await get(`/payments/${sent.payment_intent_id}`)) as { shares: { amount_minor: number }[]; lines: { basis_minor: number }[] };
    const shares = payment.shares.reduce((a, s) => a + s.amount_minor, 0);
    const basis = payment.lines.reduce((a, l) => a + l.basis_minor, 0);
    check(shares === basis && basis > 0, `${kind}: shares sum to the basis (${shares} = ${basis})`);
  }
  const ledger = await get("/ledger/check");
  check(ledger.ok === true && ledger.transactions === 2, `the ledger check is ok over ${String(ledger.transactions)} transactions`);
}

main()
  .then(() => {
    console.log("smoke: the quick start works");
    stop();
    process.exit(0);
  })
  .catch((error) => {
    console.error(`smoke failed: ${error instanceof Error ? error.message : error}\n--- npm start output ---\n${output.slice(-4000)}`);
    stop();
    process.exit(1);
  });
