// `npm run bench`: numbers and ratios, never claims. Runs the stack locally (wrangler dev and the
// Stripe emulator, no network), measures, writes bench/results.json and prints a markdown table.
// Every figure that depends on the machine stands beside a baseline measured in the same run.
// README, Benchmarks, says what each part measures and which variables scale it down.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startStack, type Stack } from "../infra/scripts/stack";
import { measureBundle, type BundleResult } from "./bundle";
import { readConfig } from "./config";
import { benchAck, benchBurst, benchEndToEnd, checkLedger, floorRate, type AckRow, type BenchStack, type BurstResult, type CostPerPayment, type EndToEndResult } from "./ingest";
import { d1File } from "./ledger-fill";
import { benchQueries, type QueriesResult } from "./queries";
import { markdownReport } from "./report";
import { benchSplitEngine, type SplitEngineRow } from "./split-engine";
import { measureStorage, type StorageResult } from "./storage";
import { round } from "./stats";

const root = resolve(import.meta.dirname, "..");
const config = readConfig(root);
const began = performance.now();

function progress(line: string): void {
  console.log(`[${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);
}

export interface BenchResults {
  generated_at: string;
  machine: { cpus: number; cpu_model: string; load_average_1m_at_start: number; node: string; note: string };
  config: { quick: boolean; parts: string[] };
  ack: AckRow[] | null;
  burst: BurstResult | null;
  end_to_end: EndToEndResult | null;
  cost_per_payment: CostPerPayment | null;
  split_engine: SplitEngineRow[] | null;
  queries: QueriesResult | null;
  bundle_gzip_kib: number | null;
  bundle: BundleResult | null;
  ledger_check: { ok: boolean; transactions: number; postings: number } | null;
  storage: StorageResult | null;
  duration_s: number;
}

const results: BenchResults = {
  generated_at: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    load_average_1m_at_start: round(loadavg()[0] ?? 0, 2),
    node: process.version,
    note: "local workerd (wrangler dev) and the Stripe emulator on this machine, not Cloudflare's network; ratios compare figures taken in the same run",
  },
  config: { quick: config.quick, parts: [...config.parts] },
  ack: null,
  burst: null,
  end_to_end: null,
  cost_per_payment: null,
  split_engine: null,
  queries: null,
  bundle_gzip_kib: null,
  bundle: null,
  ledger_check: null,
  storage: null,
  duration_s: 0,
};

const PORTS = { worker: 8798, emulator: 12198, inspector: 9298 };

function benchStack(stack: Stack): BenchStack {
  return { api: stack.api, emulator: stack.emulator, secret: stack.vars.STRIPE_WEBHOOK_SECRET ?? "whsec_local", adminToken: stack.vars.ADMIN_TOKEN ?? "", pid: stack.pid };
}

async function main(): Promise<void> {
  if (config.parts.has("engine")) {
    progress("split engine: allocateByWeights beside dinero.js allocate, in this process");
    results.split_engine = benchSplitEngine(config.engine, progress);
  }
  if (config.parts.has("bundle")) {
    progress("bundle: wrangler deploy --dry-run");
    results.bundle = measureBundle(root);
    results.bundle_gzip_kib = results.bundle.gzip_kib;
    progress(`bundle: ${results.bundle.gzip_kib} KiB gzipped (${results.bundle.raw_kib} KiB raw)`);
  }
  const ingest = (["ack", "burst", "e2e"] as const).some((p) => config.parts.has(p));
  if (ingest || config.parts.has("queries")) {
    progress("starting the stack: wrangler dev with BENCH=1, the Stripe emulator, demo data");
    // Our own state folder, kept when the stack stops: the queries part fills it and starts again on it.
    const state = mkdtempSync(join(tmpdir(), "pot-commun-bench-"));
    const stack = await startStack(PORTS, { POT_COMMUN_BENCH: "1" }, { state });
    try {
      const s = benchStack(stack);
      if (config.parts.has("ack")) results.ack = await benchAck(s, config.ack, progress);
      if (config.parts.has("burst")) {
        const floor = await floorRate(s, config.floor.requests, config.floor.concurrency);
        progress(`floor: ${round(floor.rps)} acknowledgements/s at concurrency ${config.floor.concurrency}`);
        results.burst = await benchBurst(s, config.burst.events, config.burst.concurrency, floor, progress);
        progress(`burst: ${results.burst.acked} of ${results.burst.events} acknowledged, ${results.burst.posted} posted, drained in ${results.burst.drain_s} s (at most ${results.burst.max_created_per_s} instances created in a second)`);
      }
      if (config.parts.has("e2e")) {
        // The floor before and after: the machine's load drifts, and the payments run between the two.
        const before = await floorRate(s, config.floor.requests, config.e2e.concurrency);
        progress(`floor: ${round(before.rps)} acknowledgements/s at concurrency ${config.e2e.concurrency}`);
        const e2e = await benchEndToEnd(s, config.e2e.payments, config.e2e.concurrency, () => floorRate(s, config.floor.requests, config.e2e.concurrency), before, progress);
        results.end_to_end = e2e.result;
        results.cost_per_payment = e2e.cost;
        progress(`end to end: ${e2e.result.payments_per_s} payments/s, ${e2e.result.ratio}× the floor's ${e2e.result.floor_rps}/s (CPU: ${e2e.result.cpu_ms_per_payment} ms a payment, ${e2e.result.floor_cpu_ms} ms an acknowledgement); per payment ${e2e.cost.d1_statements} D1 statements, ${e2e.cost.rows_read} rows read, ${e2e.cost.rows_written} written, ${e2e.cost.workflow_steps} workflow steps`);
      }
      if (ingest) {
        results.ledger_check = await checkLedger(s);
        progress(`ledger check: ok ${results.ledger_check.ok} over ${results.ledger_check.transactions} transactions`);
        if (!results.ledger_check.ok) throw new Error("the ledger check failed after the load: see GET /api/v1/ledger/check");
      }
    } finally {
      stack.stop();
    }
    try {
      await stack.stopped();
      if (ingest) {
        results.storage = measureStorage(d1File(state));
        progress(`storage: ${results.storage.bytes_per_payment} bytes a payment (${results.storage.payments} payments)`);
      }
      if (config.parts.has("queries")) results.queries = await benchQueries(state, PORTS, config.queries, progress);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }
  results.duration_s = round((performance.now() - began) / 1000);
  writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${markdownReport(results)}`);
  progress(`wrote ${config.out}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
