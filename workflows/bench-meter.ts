// What a payment costs, counted the way Cloudflare bills it: D1 statements, rows read and rows
// written (from the `meta` D1 returns with every statement), and workflow steps. Only for
// `npm run bench`, which starts `wrangler dev --var BENCH:1`; with BENCH unset (production, the
// tests, `npm start`) every function here hands back what it was given, untouched.
//
// The counters live in the isolate's memory. Locally the webhook, the queue consumer and the
// workflows run in one worker, so one set of counters sees them all; the bench reads and resets
// them through GET and POST /__bench/meter (workers/bench.ts).
import type { Env } from "./env";

export interface Meter {
  /** SQL statements D1 executed, alone or in batches. */
  d1_statements: number;
  /** Calls to D1 (a batch of statements is one). */
  d1_round_trips: number;
  /** What D1 reported in each result's meta: what it bills. */
  rows_read: number;
  rows_written: number;
  /** Results whose meta had no row counts: the totals above would be short, and the bench says so. */
  results_without_meta: number;
  /** `step.do` and `step.sleep` calls in workflow runs, and the runs themselves. */
  workflow_steps: number;
  workflow_sleeps: number;
  workflow_runs: number;
  /** How split runs ended (`posted`: processed by writing the payment now), and when the last one did (Unix ms). */
  outcomes: { posted: number; processed: number; parked: number; skipped: number; failed: number };
  last_outcome_at_ms: number | null;
  /** When runs began (Unix ms; the first TIMES_KEPT since the reset): how fast Workflows ran them. */
  run_starts_ms: number[];
  /** When Workflows answered the creation of instances, once per instance (Unix ms; the first TIMES_KEPT): what its rate limit counts. */
  creations_ms: number[];
}

const TIMES_KEPT = 20_000;

const meter: Meter = emptyMeter();

function emptyMeter(): Meter {
  return {
    d1_statements: 0,
    d1_round_trips: 0,
    rows_read: 0,
    rows_written: 0,
    results_without_meta: 0,
    workflow_steps: 0,
    workflow_sleeps: 0,
    workflow_runs: 0,
    outcomes: { posted: 0, processed: 0, parked: 0, skipped: 0, failed: 0 },
    last_outcome_at_ms: null,
    run_starts_ms: [],
    creations_ms: [],
  };
}

export function meterSnapshot(): Meter {
  return structuredClone(meter);
}

export function resetMeter(): void {
  Object.assign(meter, emptyMeter());
}

/**
 * The bench's routes and counters are on only with BENCH=1, and never next to a live Stripe key:
 * a deployment that set BENCH by mistake still serves none of it.
 */
export function benchEnabled(env: Pick<Env, "BENCH" | "STRIPE_SECRET_KEY">): boolean {
  return env.BENCH === "1" && !/^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY ?? "");
}

/** The environment with its D1 binding counted, when the bench is on; otherwise `env` itself. */
export function meteredEnv(env: Env): Env {
  if (!benchEnabled(env)) return env;
  return { ...env, DB: meteredD1(env.DB) };
}

/** The workflow's step with its calls counted, when the bench is on; otherwise `step` itself. */
export function meteredStep<S extends object>(env: Env, step: S): S {
  if (!benchEnabled(env)) return step;
  meter.workflow_runs++;
  if (meter.run_starts_ms.length < TIMES_KEPT) meter.run_starts_ms.push(Date.now());
  // The step may be an RPC stub, on which every property is a method (even `bind`): its methods
  // are called on it, never taken apart.
  const counted = { do: "workflow_steps", sleep: "workflow_sleeps", sleepUntil: "workflow_sleeps" } as const;
  return new Proxy(step, {
    get(target, property) {
      if (!(property in counted)) return Reflect.get(target, property, target);
      return (...args: unknown[]) => {
        meter[counted[property as keyof typeof counted]]++;
        return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[property as string]?.(...args);
      };
    },
  });
}

/** `count` instances whose creation Workflows answered at `atMs`, when the bench is on. */
export function meterCreations(env: Env, count: number, atMs: number): void {
  if (!benchEnabled(env)) return;
  for (let i = 0; i < count && meter.creations_ms.length < TIMES_KEPT; i++) meter.creations_ms.push(atMs);
}

/** How a split run ended, when the bench is on. */
export function meterOutcome(env: Env, outcome: { status: "processed"; posted: boolean } | { status: "parked" | "skipped" | "failed" }): void {
  if (!benchEnabled(env)) return;
  if (outcome.status === "processed") meter.outcomes[outcome.posted ? "posted" : "processed"]++;
  else meter.outcomes[outcome.status]++;
  meter.last_outcome_at_ms = Date.now();
}

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

function count(results: readonly unknown[], round_trips = 1): void {
  meter.d1_round_trips += round_trips;
  for (const result of results) {
    meter.d1_statements++;
    const meta = (result as { meta?: D1Meta } | null)?.meta;
    if (typeof meta?.rows_read === "number" && typeof meta.rows_written === "number") {
      meter.rows_read += meta.rows_read;
      meter.rows_written += meta.rows_written;
    } else {
      meter.results_without_meta++;
    }
  }
}

/** Where `keyword` starts in `sql` outside quotes and parentheses, from `from` on; -1 if nowhere. */
function topLevel(sql: string, keyword: string, from = 0): number {
  let depth = 0;
  let quote: string | null = null;
  const word = new RegExp(`^${keyword}\\b`, "i");
  for (let i = from; i < sql.length; i++) {
    const c = sql[i] as string;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === "`") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && /\s/.test(sql[i - 1] ?? " ") && word.test(sql.slice(i, i + keyword.length + 1))) return i;
  }
  return -1;
}

/** How many columns a statement answers: the items of its top-level select list or returning clause; null when it cannot tell. */
export function resultColumnCount(sql: string): number | null {
  const trimmed = sql.trimStart();
  let begin: number;
  let end: number;
  if (/^select\b/i.test(trimmed)) {
    begin = 6;
    end = topLevel(trimmed, "from", begin);
    if (end < 0) end = trimmed.length;
  } else {
    const returning = topLevel(trimmed, "returning");
    if (returning < 0) return null;
    begin = returning + "returning".length;
    end = trimmed.length;
  }
  let items = 1;
  let depth = 0;
  let quote: string | null = null;
  for (let i = begin; i < end; i++) {
    const c = trimmed[i] as string;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === "`") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) items++;
  }
  return items;
}

/**
 * A statement whose results are counted. D1 gives `meta` (rows read and written) with `all()`,
 * `run()` and `batch()`, but not with `raw()` and `first()`, which drizzle uses for most reads:
 * those are run as `all()` here and their rows given back as `raw()` would, in column order.
 * That is only right when no two columns share a name (D1's row objects would keep one), so the
 * column count of the SQL is checked against every row, and a mismatch stops the bench rather
 * than hand back wrong rows. A statement whose columns cannot be told is run as it was and
 * counted without rows (`results_without_meta`).
 */
class MeteredStatement {
  constructor(
    readonly real: D1PreparedStatement,
    private readonly sql: string,
  ) {}

  bind(...values: unknown[]): MeteredStatement {
    return new MeteredStatement(this.real.bind(...values), this.sql);
  }

  async run() {
    const result = await this.real.run();
    count([result]);
    return result;
  }

  async all() {
    const result = await this.real.all();
    count([result]);
    return result;
  }

  async first(column?: string) {
    const { results } = await this.all();
    const row = (results[0] ?? null) as Record<string, unknown> | null;
    if (column === undefined || row === null) return row;
    if (!(column in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
    return row[column];
  }

  async raw(options?: { columnNames?: boolean }) {
    const columns = resultColumnCount(this.sql);
    if (columns === null || options?.columnNames) {
      count([null]);
      return this.real.raw(options as { columnNames: true });
    }
    const { results } = await this.all();
    return results.map((row) => {
      const keys = Object.keys(row as object);
      if (keys.length !== columns || keys.some((k) => /^\d+$/.test(k))) {
        throw new Error(`bench meter: a row of \`${this.sql.slice(0, 120)}\` has columns ${keys.join(", ")}, not ${columns} distinctly named ones: it cannot be read as raw() rows`);
      }
      return Object.values(row as object);
    });
  }
}

const metered = new WeakMap<D1Database, D1Database>();

function meteredD1(db: D1Database): D1Database {
  const known = metered.get(db);
  if (known) return known;
  const wrapper = {
    prepare: (sql: string) => new MeteredStatement(db.prepare(sql), sql),
    batch: async (statements: readonly unknown[]) => {
      const results = await db.batch(statements.map((s) => (s instanceof MeteredStatement ? s.real : (s as D1PreparedStatement))));
      count(results);
      return results;
    },
    exec: async (sql: string) => {
      const result = await db.exec(sql);
      count(Array.from({ length: result.count }, () => null));
      return result;
    },
    withSession: () => {
      throw new Error("bench meter: D1 sessions are not counted");
    },
    dump: () => db.dump(),
  };
  const counted = wrapper as unknown as D1Database;
  metered.set(db, counted);
  return counted;
}
