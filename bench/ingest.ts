// The webhook under load, in wrangler dev started with BENCH=1: acknowledgements beside the
// floor route, a burst, payments end to end, and what each payment costs. Every payment sent
// is waited for until it is on the ledger, and the ledger is checked afterwards.
import type { Meter } from "../workflows/bench-meter";
import { deliver, paymentDeliveries, type Delivered, type Delivery } from "./deliveries";
import { treeCpuMs } from "./cpu";
import { maxInWindow, percentile, perSecond, ratio, round, shuffled } from "./stats";

export interface BenchStack {
  api: string;
  emulator: string;
  secret: string;
  adminToken: string;
  /** The stack's root process, whose tree's CPU time is counted. */
  pid: number | undefined;
}

/** The floor's acknowledgements per second, and the stack's CPU per acknowledgement (null without /proc). */
export interface FloorRate {
  rps: number;
  cpu_ms: number | null;
}

export interface AckRow {
  concurrency: number;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  rps: number;
  floor_requests: number;
  floor_p50_ms: number;
  floor_p99_ms: number;
  floor_rps: number;
  /** p99_ms / floor_p99_ms: the target is at most 1.3. */
  p99_ratio: number;
  /** The payments of this level, all posted before the next level began, after this long. */
  posted_after_s: number;
}

export interface BurstResult {
  events: number;
  acked: number;
  posted: number;
  drain_s: number;
  /** The most instances whose creation Workflows answered within any one second: its limit is 100 per workflow. */
  max_created_per_s: number;
  /** The most runs that began within any one second (locally a run may begin a while after its creation). */
  max_runs_started_per_s: number;
  /** The floor's acknowledgements per second in this run (concurrency 16): what drain_s compares with. */
  floor_rps: number;
  /** events / drain_s / floor_rps. */
  ratio: number;
}

export interface EndToEndResult {
  payments: number;
  concurrency: number;
  payments_per_s: number;
  /** The mean of the floor's rate just before and just after the payments. */
  floor_rps: number;
  floor_rps_before: number;
  floor_rps_after: number;
  /** payments_per_s / floor_rps: the target is at least 0.5. */
  ratio: number;
  /** The stack's CPU per payment (webhook to posted) and per floor acknowledgement, and their ratio: steadier than rates on a shared machine. Null without /proc. */
  cpu_ms_per_payment: number | null;
  floor_cpu_ms: number | null;
  cpu_ratio: number | null;
}

export interface CostPerPayment {
  d1_statements: number;
  d1_round_trips: number;
  rows_read: number;
  rows_written: number;
  workflow_steps: number;
  /** What the counts are over: the end-to-end phase's payments, from webhook to posted. */
  payments: number;
}

async function call<T>(stack: BenchStack, method: "GET" | "POST", path: string): Promise<T> {
  const res = await fetch(`${stack.api}${path}`, { method, headers: { authorization: `Bearer ${stack.adminToken}` } });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export const readMeter = (stack: BenchStack) => call<Meter>(stack, "GET", "/__bench/meter");
export const resetMeter = (stack: BenchStack) => call<Meter>(stack, "POST", "/__bench/meter/reset");

/**
 * Waits until `count` split runs have posted their payment since the last reset (the worker
 * counts them in memory, so asking costs no D1 read), and fails on a parked or failed run.
 * Returns the meter, whose `last_outcome_at_ms` says when the last one finished.
 */
async function postedAll(stack: BenchStack, count: number, what: string, timeoutMs: number, progress: (line: string) => void): Promise<Meter> {
  const deadline = Date.now() + timeoutMs;
  let lastSaid = Date.now();
  for (;;) {
    const meter = await readMeter(stack);
    const { posted, parked, failed, processed, skipped } = meter.outcomes;
    if (parked + failed + processed + skipped > 0) {
      throw new Error(`${what}: runs ended otherwise than by posting (parked ${parked}, failed ${failed}, processed without posting ${processed}, skipped ${skipped}): see GET /api/v1/events?status=parked`);
    }
    if (posted >= count) return meter;
    if (Date.now() > deadline) throw new Error(`${what}: ${posted} of ${count} payments posted after ${timeoutMs / 1000} s`);
    if (Date.now() - lastSaid > 10_000) {
      progress(`${what}: ${posted} of ${count} posted`);
      lastSaid = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function acknowledged(delivered: readonly Delivered[]): number {
  return delivered.filter((d) => d.status >= 200 && d.status < 300).length;
}

function assertAllAcknowledged(what: string, delivered: readonly Delivered[]): void {
  const refused = delivered.filter((d) => !(d.status >= 200 && d.status < 300));
  if (refused.length > 0) throw new Error(`${what}: ${refused.length} of ${delivered.length} requests were not acknowledged (statuses ${[...new Set(refused.map((d) => d.status))].join(", ")})`);
}

/** Latencies of one route in a run: p50, p99, and its rate by Little's law (senders / mean latency). */
function latencies(delivered: readonly Delivered[], route: Delivery["route"], concurrency: number) {
  const ms = delivered.filter((d) => d.route === route).map((d) => d.latency_ms);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return { count: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), rps: perSecond(concurrency, mean) };
}

/**
 * Acknowledgement at each concurrency: real payment events and floor events mixed in one run, in
 * a random order (seeded: the same on every run), so that both meet the same background work (the
 * splits of the payments already sent). Not a strict alternation: with one sender, each floor
 * request would then always follow a payment's acknowledgement and meet its start, and each payment
 * its predecessor's workflow steps, a bias of the order rather than of the handlers. Each route's
 * rate is the senders over its mean latency (Little's law): in a mixed run both share one wall
 * clock, so counting over it would give both the same rate.
 */
export async function benchAck(stack: BenchStack, levels: readonly { concurrency: number; requests: number }[], progress: (line: string) => void): Promise<AckRow[]> {
  const rows: AckRow[] = [];
  for (const { concurrency, requests } of levels) {
    progress(`ack, concurrency ${concurrency}: signing ${requests} payment events and ${requests} floor events`);
    const real = await paymentDeliveries(stack, "webhook", requests);
    const floor = await paymentDeliveries(stack, "floor", requests);
    await resetMeter(stack);
    const started = Date.now();
    const { delivered } = await deliver(stack.api, shuffled([...real, ...floor], concurrency), concurrency);
    assertAllAcknowledged(`ack at concurrency ${concurrency}`, delivered);
    const r = latencies(delivered, "webhook", concurrency);
    const f = latencies(delivered, "floor", concurrency);
    const meter = await postedAll(stack, requests, `ack at concurrency ${concurrency}`, 600_000, progress);
    const row: AckRow = {
      concurrency,
      requests: r.count,
      p50_ms: round(r.p50),
      p99_ms: round(r.p99),
      rps: round(r.rps),
      floor_requests: f.count,
      floor_p50_ms: round(f.p50),
      floor_p99_ms: round(f.p99),
      floor_rps: round(f.rps),
      p99_ratio: round(ratio(r.p99, f.p99), 2),
      posted_after_s: round(((meter.last_outcome_at_ms ?? Date.now()) - started) / 1000),
    };
    progress(`ack, concurrency ${concurrency}: p50 ${row.p50_ms} ms (floor ${row.floor_p50_ms}), p99 ${row.p99_ms} ms (floor ${row.floor_p99_ms}), ${row.p99_ratio}× the floor's p99; all posted after ${row.posted_after_s} s`);
    rows.push(row);
  }
  return rows;
}

/** The floor's acknowledgements per second: `count` floor events, `concurrency` senders, nothing else running. */
export async function floorRate(stack: BenchStack, count: number, concurrency: number): Promise<FloorRate> {
  const floor = await paymentDeliveries(stack, "floor", count);
  const cpuBefore = treeCpuMs(stack.pid);
  const { delivered, wall_ms } = await deliver(stack.api, floor, concurrency);
  const cpuAfter = treeCpuMs(stack.pid);
  assertAllAcknowledged("floor rate", delivered);
  return { rps: perSecond(count, wall_ms), cpu_ms: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / count };
}

/**
 * A burst: every event sent at once (up to `concurrency` requests in flight), each acknowledged
 * 2xx, then every payment posted. Starts go through the start queue, whose consumer holds them
 * to Workflows' 100 creations a second: the drain time is at least events / 100 s.
 */
export async function benchBurst(stack: BenchStack, events: number, concurrency: number, floor: FloorRate, progress: (line: string) => void): Promise<BurstResult> {
  progress(`burst: signing ${events} payment events`);
  const real = await paymentDeliveries(stack, "webhook", events, 20_000);
  await resetMeter(stack);
  const started = Date.now();
  const { delivered } = await deliver(stack.api, real, concurrency, (done) => progress(`burst: ${done} of ${events} acknowledged`));
  const acked = acknowledged(delivered);
  progress(`burst: ${acked} of ${events} acknowledged after ${round((Date.now() - started) / 1000)} s; waiting for every payment to be posted`);
  const meter = await postedAll(stack, acked, "burst", 900_000, progress);
  const drain_s = ((meter.last_outcome_at_ms ?? Date.now()) - started) / 1000;
  return {
    events,
    acked,
    posted: meter.outcomes.posted,
    drain_s: round(drain_s),
    max_created_per_s: maxInWindow(meter.creations_ms, 1000),
    max_runs_started_per_s: maxInWindow(meter.run_starts_ms, 1000),
    floor_rps: round(floor.rps),
    ratio: round(ratio(events / drain_s, floor.rps), 2),
  };
}

/**
 * Payments end to end: `payments` events sent by `concurrency` senders, timed from the first
 * request to the last payment posted, beside the floor's acknowledgement rate at the same
 * concurrency. The meter, reset before, counts what they cost.
 */
export async function benchEndToEnd(
  stack: BenchStack,
  payments: number,
  concurrency: number,
  floorAfter: () => Promise<FloorRate>,
  before: FloorRate,
  progress: (line: string) => void,
): Promise<{ result: EndToEndResult; cost: CostPerPayment; meter: Meter }> {
  progress(`end to end: signing ${payments} payment events`);
  const real = await paymentDeliveries(stack, "webhook", payments, 40_000);
  await resetMeter(stack);
  const started = Date.now();
  const cpuBefore = treeCpuMs(stack.pid);
  const { delivered } = await deliver(stack.api, real, concurrency);
  assertAllAcknowledged("end to end", delivered);
  const meter = await postedAll(stack, payments, "end to end", 900_000, progress);
  const cpuAfter = treeCpuMs(stack.pid);
  const seconds = ((meter.last_outcome_at_ms ?? Date.now()) - started) / 1000;
  const payments_per_s = payments / seconds;
  if (meter.d1_statements === 0 || meter.results_without_meta > 0) {
    throw new Error(`the D1 meter saw ${meter.d1_statements} statements, ${meter.results_without_meta} without row counts: workerd's D1 shim has changed (workflows/bench-meter.ts)`);
  }
  const per = (n: number) => round(n / payments, 2);
  const after = await floorAfter();
  const floor_rps = (before.rps + after.rps) / 2;
  const cpu_ms_per_payment = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / payments;
  const floor_cpu_ms = before.cpu_ms === null || after.cpu_ms === null ? null : (before.cpu_ms + after.cpu_ms) / 2;
  return {
    result: {
      payments,
      concurrency,
      payments_per_s: round(payments_per_s),
      floor_rps: round(floor_rps),
      floor_rps_before: round(before.rps),
      floor_rps_after: round(after.rps),
      ratio: round(ratio(payments_per_s, floor_rps), 2),
      cpu_ms_per_payment: cpu_ms_per_payment === null ? null : round(cpu_ms_per_payment, 2),
      floor_cpu_ms: floor_cpu_ms === null ? null : round(floor_cpu_ms, 2),
      cpu_ratio: cpu_ms_per_payment === null || floor_cpu_ms === null ? null : round(ratio(floor_cpu_ms, cpu_ms_per_payment), 2),
    },
    cost: {
      d1_statements: per(meter.d1_statements),
      d1_round_trips: per(meter.d1_round_trips),
      rows_read: per(meter.rows_read),
      rows_written: per(meter.rows_written),
      workflow_steps: per(meter.workflow_steps),
      payments,
    },
    meter,
  };
}

/** The ledger check over everything the bench posted: every transaction sums to zero, every split adds up. */
export async function checkLedger(stack: BenchStack): Promise<{ ok: boolean; transactions: number; postings: number }> {
  return call(stack, "GET", "/api/v1/ledger/check");
}
