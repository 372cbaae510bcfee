// What `npm run bench` measures and how much, from environment variables (README, Benchmarks).

export const PARTS = ["engine", "bundle", "ack", "burst", "e2e", "queries"] as const;
export type Part = (typeof PARTS)[number];

export interface BenchConfig {
  quick: boolean;
  parts: Set<Part>;
  /** Where results.json goes: bench/results.json for a full run, bench/results.partial.json otherwise. */
  out: string;
  engine: { parties: number[]; rounds: number; round_ms: number };
  ack: { concurrency: number; requests: number }[];
  floor: { requests: number; concurrency: number };
  burst: { events: number; concurrency: number };
  e2e: { payments: number; concurrency: number };
  queries: { postings: number; repeats: number };
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number above 0, got ${raw}`);
  return value;
}

export function readConfig(root: string): BenchConfig {
  const quick = process.env.BENCH_QUICK === "1";
  const named = (process.env.BENCH_PARTS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  const unknown = named.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_PARTS: unknown part(s) ${unknown.join(", ")}; the parts are ${PARTS.join(", ")}`);
  const parts = new Set<Part>(named.length > 0 ? (named as Part[]) : PARTS);
  const full = !quick && parts.size === PARTS.length;
  /** Requests of each route (webhook, floor) at one concurrency. */
  const ackRequests = (full: number, small: number) => int("BENCH_ACK_REQUESTS", quick ? small : full);
  return {
    quick,
    parts,
    out: process.env.BENCH_OUT ?? `${root}/bench/${full ? "results.json" : "results.partial.json"}`,
    engine: { parties: [3, 10, 100], rounds: quick ? 3 : 7, round_ms: quick ? 100 : 250 },
    ack: [
      // One sender: 1,000 of each, so that p99 is the tenth worst, not the second: on this machine a
      // request in flight when the start consumer creates its batch of instances waits a few hundred
      // ms, whichever route it is; with 200 of each, which route caught two of those stalls decided
      // the ratio (19× one run, 0.65× the run before).
      { concurrency: 1, requests: ackRequests(1000, 50) },
      { concurrency: 16, requests: ackRequests(500, 150) },
      { concurrency: 64, requests: ackRequests(800, 300) },
    ],
    floor: { requests: int("BENCH_FLOOR_REQUESTS", quick ? 300 : 1000), concurrency: int("BENCH_E2E_CONCURRENCY", 16) },
    burst: { events: int("BENCH_BURST_EVENTS", quick ? 500 : 2000), concurrency: int("BENCH_BURST_CONCURRENCY", quick ? 500 : 2000) },
    e2e: { payments: int("BENCH_E2E_PAYMENTS", quick ? 300 : 1000), concurrency: int("BENCH_E2E_CONCURRENCY", 16) },
    queries: { postings: int("BENCH_POSTINGS", quick ? 100_000 : 1_000_000), repeats: quick ? 5 : 15 },
  };
}
