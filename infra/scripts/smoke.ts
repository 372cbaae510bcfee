// `npm run smoke`: the README's quick start, checked by a machine. Runs `npm start` on spare
// ports with throwaway state, triggers a training and a hosting payment, and checks that
// each is processed, that its shares sum to its basis, that a hosting invoice with 20% VAT
// puts the VAT in the tax account, and that the ledger check is ok. Then
// it leaves an event as a worker that died before starting it would have, and checks that
// npm start's local cron has the scheduled sweep start it; and that npm start printed no
// error or warning.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type Stripe from "stripe";
import { buildTrainingPayment, emulatorObjects } from "../stripe-emulator/objects";
import { poll } from "./poll";
import { startStack, type Stack } from "./stack";
import { KINDS, parseTriggerArgs, trigger, type Kind } from "./trigger";

const root = resolve(import.meta.dirname, "../..");
/** npm start's cron fires every minute; here every 2 s, so that the smoke need not wait. */
const CRON_INTERVAL_MS = 2_000;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
  console.log(`  ok  ${message}`);
}

async function settled(stack: Stack, what: string, eventId: string): Promise<Record<string, unknown>> {
  return poll(`${what}: event ${eventId} to settle`, async () => {
    const e = await stack.get(`/events/${eventId}`);
    return e.status === "processed" || e.status === "parked" || e.status === "failed" ? e : undefined;
  }, { timeoutMs: 60_000 });
}

async function checkShares(stack: Stack, what: string, paymentIntentId: string): Promise<void> {
  const payment = (await stack.get(`/payments/${paymentIntentId}`)) as { shares: { amount_minor: number }[]; lines: { basis_minor: number }[] };
  const shares = payment.shares.reduce((a, s) => a + s.amount_minor, 0);
  const basis = payment.lines.reduce((a, l) => a + l.basis_minor, 0);
  check(shares === basis && basis > 0, `${what}: shares sum to the basis (${shares} = ${basis})`);
}

async function smokeTriggers(stack: Stack): Promise<void> {
  for (const kind of ["training", "hosting"] as Kind[]) {
    const opts = parseTriggerArgs([kind, "--worker", stack.api, "--emulator", stack.emulator], stack.vars);
    if (opts === "help") throw new Error("unexpected help");
    const sent = await trigger(opts, fetch, () => {});
    check(sent.worker_status === 200, `${kind}: the worker acknowledged ${sent.event_id}`);
    const event = await settled(stack, kind, sent.event_id);
    check(event.status === "processed", `${kind}: event ${sent.event_id} is ${String(event.status)}${event.reason ? ` (${String(event.reason)})` : ""}`);
    await checkShares(stack, kind, sent.payment_intent_id);
  }
}

/** The README's example: a 120.00 € hosting invoice with 20% VAT puts 20.00 € in the tax account and splits the rest. */
async function smokeTax(stack: Stack): Promise<void> {
  const opts = parseTriggerArgs(["hosting", "--tax-percent", "20", "--amount", "12000", "--worker", stack.api, "--emulator", stack.emulator], stack.vars);
  if (opts === "help") throw new Error("unexpected help");
  const sent = await trigger(opts, fetch, () => {});
  const event = await settled(stack, "hosting with VAT", sent.event_id);
  check(event.status === "processed", `hosting with 20% VAT: event ${sent.event_id} is ${String(event.status)}${event.reason ? ` (${String(event.reason)})` : ""}`);
  const payment = (await stack.get(`/payments/${sent.payment_intent_id}`)) as { tax_minor: number; fee_minor: number; shares: { amount_minor: number }[] };
  const shares = payment.shares.reduce((a, s) => a + s.amount_minor, 0);
  check(payment.tax_minor === 2_000 && shares === 10_000 - payment.fee_minor, `hosting with 20% VAT: 120.00 € paid, 20.00 € to tax:collected, the parties share 100.00 € less the fee (${shares} = 10000 - ${payment.fee_minor})`);
}

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Writes the event into the stack's D1 the way the webhook stores it, `received`, due, and
 * never started, as a worker that died between storing and queueing its start would leave it
 * (2 minutes ago); the payment itself is from now, after the demo rule took effect.
 */
function storeUnstartedEvent(stack: Stack, event: Stripe.Event): void {
  const receivedAtMs = Date.now() - 2 * 60_000;
  const objectId = (event.data.object as { id: string }).id;
  const dir = mkdtempSync(join(tmpdir(), "pot-commun-smoke-"));
  const file = join(dir, "unstarted-event.sql");
  writeFileSync(
    file,
    `INSERT INTO stripe_events (id, type, object_id, status, payload, stripe_created_s, received_at_ms, updated_at_ms, due_at_ms)
     VALUES (${sqlText(event.id)}, ${sqlText(event.type)}, ${sqlText(objectId)}, 'received', ${sqlText(JSON.stringify(event))}, ${event.created}, ${receivedAtMs}, ${receivedAtMs}, ${receivedAtMs});\n`,
  );
  const run = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", stack.state, "--file", file], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    encoding: "utf8",
  });
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`storing an event in the local D1 failed:\n${run.stdout}${run.stderr}`);
}

async function smokeLocalCron(stack: Stack): Promise<void> {
  const payment = buildTrainingPayment({ amount_minor: 4_200, currency: "eur", price_id: KINDS.training.price });
  const put = await fetch(`${stack.emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(payment)) });
  if (!put.ok) throw new Error(`the emulator refused the payment's objects: ${put.status} ${await put.text()}`);
  storeUnstartedEvent(stack, payment.event);
  // Nothing but the worker's scheduled handler starts an event the webhook did not start, and
  // nothing here calls it: npm start's timer does.
  const event = await settled(stack, "local cron", payment.event.id);
  check(event.status === "processed", `local cron: npm start's timer ran the sweep, which started ${payment.event.id} (stored and never started); it is ${String(event.status)}${event.reason ? ` (${String(event.reason)})` : ""}`);
  await checkShares(stack, "local cron", payment.payment_intent.id);
  const res = await fetch(`${stack.api}/cdn-cgi/local/scheduled?format=json`);
  const outcome = (await res.json()) as { outcome?: string };
  check(res.status === 200 && outcome.outcome === "ok", `GET /cdn-cgi/local/scheduled, what npm start calls, ran the scheduled handler: ${res.status} ${JSON.stringify(outcome)}`);
}

/** What a newcomer would worry about in npm start's output. */
function worrying(output: string): string[] {
  return output.split("\n").filter((line) => /\b(error|warn|warning)\b|✘|▲/i.test(line));
}

const stack = await startStack({ worker: 8799, emulator: 12199, inspector: 9299 }, { POT_COMMUN_CRON_INTERVAL_MS: String(CRON_INTERVAL_MS) }).catch((error: unknown) => {
  console.error(`smoke failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
try {
  // npm start seeded demo payments, a refund and a dispute: the smoke's own come on top.
  const demo = await stack.get("/ledger/check");
  check(demo.ok === true && Number(demo.transactions) > 0, `npm start seeded demo data: ${String(demo.transactions)} transactions, the ledger check ok`);
  await smokeTriggers(stack);
  await smokeTax(stack);
  await smokeLocalCron(stack);
  const ledger = await stack.get("/ledger/check");
  check(ledger.ok === true && ledger.transactions === Number(demo.transactions) + 4, `the ledger check is ok over ${String(ledger.transactions)} transactions (the demo's and the smoke's 4)`);
  const lines = worrying(stack.output());
  check(lines.length === 0, lines.length === 0 ? "npm start printed no error or warning" : `npm start printed errors or warnings:\n${lines.join("\n")}`);
  console.log("smoke: the quick start works");
  stack.stop();
  process.exit(0);
} catch (error) {
  console.error(`smoke failed: ${error instanceof Error ? error.message : error}\n--- npm start output ---\n${stack.output().slice(-4000)}`);
  stack.stop();
  process.exit(1);
}
