// Reading a big ledger: the bench's D1 state (the stack stopped) gets a year of payments written
// straight into its SQLite file until it holds the postings asked for, then the stack starts
// again on it (without BENCH: no meter) and the API is timed: GET /balances, a party's statement
// for the last week of a month (GET /parties/{id}/statement, which refuses more than
// MAX_STATEMENT_ROWS postings and payment lines: a month of this ledger is above), the ledger
// export of the month (GET /ledger/export, CSV, read to its end). The baseline, measured in the same run on the same file, is one full scan
// of the postings (count and sum): each query's time is also given as a fraction of it.
import { DatabaseSync } from "node:sqlite";
import { startStack } from "../infra/scripts/stack";
import { d1File, fillLedger } from "./ledger-fill";
import { percentile, ratio, round } from "./stats";

export interface QueriesResult {
  postings: number;
  payments_written: number;
  fill_s: number;
  balances_ms: number;
  statement_ms: number;
  export_ms: number;
  export_rows: number;
  /** An authenticated API request that reads one small table (GET /api/v1/parties): the API's own overhead. */
  api_baseline_ms: number;
  /** One full scan of the postings (count and sum) in SQLite: the machine's unit. */
  scan_ms: number;
  /** Each time over scan_ms. */
  balances_scans: number;
  statement_scans: number;
  export_scans: number;
  /** The statement's: the last seven days of the export's month. */
  period: { from: string; to: string; party: string };
  export_period: { from: string; to: string };
}

type Ports = { worker: number; emulator: number; inspector: number };

/** The last whole calendar month (UTC) before `nowMs`: from its first day to its last, both included. */
export function lastWholeMonth(nowMs: number): { from: string; to: string; from_ms: number; until_ms: number } {
  const now = new Date(nowMs);
  const until_ms = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const from_ms = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(from_ms), to: day(until_ms - 86_400_000), from_ms, until_ms };
}

/** The median of `repeats` timed calls, after one untimed call (warm caches, as a busy ledger has them). */
async function medianMs(repeats: number, once: () => Promise<unknown> | unknown): Promise<number> {
  await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return percentile(times, 50);
}

async function apiCall(api: string, token: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${api}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
}

export async function benchQueries(state: string, ports: Ports, opts: { postings: number; repeats: number }, progress: (line: string) => void): Promise<QueriesResult> {
  const file = d1File(state);
  progress(`queries: writing payments into the local D1 until it holds ${opts.postings.toLocaleString("en")} more postings`);
  const filled = fillLedger(file, opts.postings, Date.now(), progress);
  progress(`queries: ${filled.postings_total.toLocaleString("en")} postings (${filled.payments.toLocaleString("en")} payments written in ${round(filled.seconds)} s); starting the stack on them`);
  const month = lastWholeMonth(Date.now());
  const week = { from: new Date(Date.parse(month.to) - 6 * 86_400_000).toISOString().slice(0, 10), to: month.to };
  const party = "camille";
  // Without BENCH: the queries are timed as they run in production, without the meter's wrapper.
  const stack = await startStack(ports, {}, { state });
  const token = stack.vars.ADMIN_TOKEN ?? "";
  let balances_ms: number;
  let api_baseline_ms: number;
  let statement_ms: number;
  let export_ms: number;
  let export_rows: number;
  try {
    const ok = async (path: string) => {
      const answer = await apiCall(stack.api, token, path);
      if (answer.status !== 200) throw new Error(`GET /api/v1${path} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      return answer;
    };
    api_baseline_ms = await medianMs(opts.repeats, () => ok("/parties"));
    balances_ms = await medianMs(opts.repeats, () => ok("/balances"));
    statement_ms = await medianMs(opts.repeats, () => ok(`/parties/${party}/statement?from=${week.from}&to=${week.to}`));
    const exportPath = `/ledger/export?from=${month.from}&to=${month.to}`;
    export_rows = (await ok(exportPath)).body.trimEnd().split("\n").length - 1; // CSV records, less the header
    export_ms = await medianMs(Math.max(3, Math.floor(opts.repeats / 3)), () => ok(exportPath));
  } finally {
    stack.stop();
  }
  await stack.stopped();

  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const scan_ms = await medianMs(opts.repeats, () => db.prepare("select count(*) as n, sum(amount_minor) as s from postings").get());
    progress(`queries: balances ${round(balances_ms)} ms, statement ${round(statement_ms)} ms, export ${round(export_ms)} ms (${export_rows.toLocaleString("en")} postings); GET /parties ${round(api_baseline_ms)} ms, one scan of the postings ${round(scan_ms)} ms`);
    return {
      postings: filled.postings_total,
      payments_written: filled.payments,
      fill_s: round(filled.seconds),
      balances_ms: round(balances_ms),
      statement_ms: round(statement_ms),
      export_ms: round(export_ms),
      export_rows,
      api_baseline_ms: round(api_baseline_ms),
      scan_ms: round(scan_ms),
      balances_scans: round(ratio(balances_ms, scan_ms), 3),
      statement_scans: round(ratio(statement_ms, scan_ms), 3),
      export_scans: round(ratio(export_ms, scan_ms), 3),
      period: { from: week.from, to: week.to, party },
      export_period: { from: month.from, to: month.to },
    };
  } finally {
    db.close();
  }
}
