// `npm run bench`: numbers, not claims. Part 1 times the pure split engine in-process; part 2
// sends signed events to `npm start` (wrangler dev, local workerd) and times the
// acknowledgements and the splits. Local numbers: workerd on this machine, not Cloudflare's edge.
import Stripe from "stripe";
import { parseRule, splitPayment, type PaymentLineInput, type Rule } from "../../core";
import { buildEvent, buildTrainingPayment, emulatorObjects } from "../stripe-emulator/objects";
import { poll } from "./poll";
import { startStack } from "./stack";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

function rule(json: unknown): Rule {
  const parsed = parseRule(json);
  if (!parsed.ok) throw new Error(parsed.errors[0]?.message);
  return parsed.rule;
}

const simple = rule({ basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] });
const complex = rule({
  basis: "net",
  lines: [
    { to: "platform", share: { fixed: { eur: 250 } } },
    { to: "commons", share: "12.5%", max: { eur: 50_000 } },
    { to: "reserve", share: "1/7" },
    { to: { group: [{ to: "contributors", share: "2/3" }, { to: "authors", share: "remaining" }] }, share: "remaining" },
  ],
});
const contributors = Array.from({ length: 5 }, (_, i) => ({ party_id: `c${i}`, weight: i + 1 }));

function timeSplits(label: string, lines: PaymentLineInput[], iterations: number): number {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const result = splitPayment({ currency: "eur", gross_minor: 1_000_003 + i, fee_minor: 14_531, lines });
    if (!result.ok) throw new Error(result.error.message);
  }
  const perSecond = iterations / ((performance.now() - started) / 1000);
  console.log(`  ${label.padEnd(44)} ${Math.round(perSecond).toLocaleString("en").padStart(9)} splits/s  ${(1e6 / perSecond).toFixed(1).padStart(7)} µs/split`);
  return perSecond;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function benchEngine(): Promise<void> {
  console.log("1. split engine (core/, in-process, exact rationals)");
  const base = timeSplits("3-line rule, one offer", [{ key: "0", weight_minor: 1, rule: simple, contributors }], 20_000);
  const cart = timeSplits("nested rule with fixed, cap, fraction; 4 lines", [0, 1, 2, 3].map((i) => ({ key: String(i), weight_minor: 1000 + i, rule: complex, contributors })), 5_000);
  console.log(`  ratio: the 4-line nested cart costs ${(base / cart).toFixed(1)}× the simple split`);
}

interface Signed {
  payload: string;
  signature: string;
}

/** Sends the events with CONCURRENCY senders; returns the seconds taken and sorted latencies. */
async function send(api: string, bodies: Signed[]): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let body = bodies[next++]; body; body = bodies[next++]) {
        const t = performance.now();
        const res = await fetch(`${api}/webhooks/stripe`, { method: "POST", headers: { "stripe-signature": body.signature }, body: body.payload });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

function report(label: string, run: { seconds: number; latencies: number[] }): number {
  const rate = EVENTS / run.seconds;
  console.log(`  ${label.padEnd(40)} ${rate.toFixed(0).padStart(5)} events/s   p50 ${percentile(run.latencies, 50).toFixed(0).padStart(4)} ms   p95 ${percentile(run.latencies, 95).toFixed(0).padStart(4)} ms`);
  return rate;
}

async function benchIngest(): Promise<void> {
  console.log(`\n2. POST /webhooks/stripe under wrangler dev (${EVENTS} events per run, ${CONCURRENCY} senders)`);
  const stack = await startStack({ worker: 8798, emulator: 12198, inspector: 9298 });
  try {
    const stripe = new Stripe("sk_test_local");
    const secret = stack.vars.STRIPE_WEBHOOK_SECRET ?? "whsec_local";
    const sign = async (event: unknown): Promise<Signed> => {
      const payload = JSON.stringify(event);
      return { payload, signature: await stripe.webhooks.generateTestHeaderStringAsync({ payload, secret }) };
    };

    // An event type the worker stores and ignores: verify + insert + acknowledge, no workflow.
    const ignored = await Promise.all(Array.from({ length: EVENTS }, (_, i) => sign(buildEvent("customer.created", { id: `cus_bench_${i}`, object: "customer" }))));
    const ingestOnly = report("ignored events (store, acknowledge)", await send(stack.api, ignored));

    const payments = Array.from({ length: EVENTS }, (_, i) => buildTrainingPayment({ amount_minor: 10_000 + i, currency: "eur", price_id: "price_training_intro" }));
    const put = await fetch(`${stack.emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payments.flatMap(emulatorObjects)) });
    if (!put.ok) throw new Error(`emulator: ${put.status}`);
    const handled = await Promise.all(payments.map((p) => sign(p.event)));
    // npm start's demo data is on the ledger already: count from there.
    const demo = Number((await stack.get("/ledger/check")).transactions);
    const started = performance.now();
    const withSplits = report("paid checkouts (+ workflow, same workerd)", await send(stack.api, handled));
    const ledger = await poll("every payment on the ledger", async () => {
      const check = await stack.get("/ledger/check");
      return Number(check.transactions) >= demo + EVENTS ? check : undefined;
    }, { timeoutMs: 600_000, everyMs: 250 });
    const allSeconds = (performance.now() - started) / 1000;
    console.log(`  all ${EVENTS} split and posted after ${allSeconds.toFixed(1)} s: ${(EVENTS / allSeconds).toFixed(0)} payments/s; ledger check ok: ${String(ledger.ok)}`);
    console.log(`  ratio: acknowledging ignored events is ${(ingestOnly / withSplits).toFixed(1)}× the rate of acknowledging paid ones while their splits run in the same local workerd`);
  } finally {
    stack.stop();
  }
}

await benchEngine();
if (!process.argv.includes("--engine-only")) await benchIngest();
process.exit(0);
