// Reading a big ledger: the bench's D1 state (the stack stopped) gets a year of payments written
// straight into its SQLite file until it holds the postings asked for, then the stack starts
// again on it and the API is timed: balances, a party's statement for a month, the ledger
// export of a month. The baseline, measured in the same run on the same file, is one full scan
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
  /** Where each was timed: `api` (the route, through wrangler dev), or `sqlite` (the route is not on this branch yet: its queries, on the same file, without D1's overhead). */
  via: { balances: "api"; statement: "api" | "sqlite"; export: "api" | "sqlite" };
  /** An authenticated API request that reads one small table (GET /api/v1/parties): the API's own overhead. */
  api_baseline_ms: number;
  /** One full scan of the postings (count and sum) in SQLite: the machine's unit. */
  scan_ms: number;
  /** Each time over scan_ms. */
  balances_scans: number;
  statement_scans: number;
  export_scans: number;
  period: { from: string; to: string; party: string };
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

/** A route that this branch does not have answers the app's 404 "no such route" (workers/app.ts). */
function isMissingRoute(answer: { status: number; body: string }): boolean {
  return answer.status === 404 && answer.body.includes("no such route");
}

export async function benchQueries(state: string, ports: Ports, opts: { postings: number; repeats: number }, progress: (line: string) => void): Promise<QueriesResult> {
  const file = d1File(state);
  progress(`queries: writing payments into the local D1 until it holds ${opts.postings.toLocaleString("en")} more postings`);
  const filled = fillLedger(file, opts.postings, Date.now(), progress);
  progress(`queries: ${filled.postings_total.toLocaleString("en")} postings (${filled.payments.toLocaleString("en")} payments written in ${round(filled.seconds)} s); starting the stack on them`);
  const month = lastWholeMonth(Date.now());
  const party = "camille";
  const stack = await startStack(ports, { POT_COMMUN_BENCH: "1" }, { state });
  const token = stack.vars.ADMIN_TOKEN ?? "";
  let balances_ms: number;
  let api_baseline_ms: number;
  let statement_ms: number | null = null;
  let export_ms: number | null = null;
  let export_rows = 0;
  try {
    const ok = async (path: string) => {
      const answer = await apiCall(stack.api, token, path);
      if (answer.status !== 200) throw new Error(`GET /api/v1${path} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      return answer;
    };
    api_baseline_ms = await medianMs(opts.repeats, () => ok("/parties"));
    balances_ms = await medianMs(opts.repeats, () => ok("/balances"));
    progress(`queries: GET /balances ${round(balances_ms)} ms (GET /parties ${round(api_baseline_ms)} ms)`);
    const statementPath = `/parties/${party}/statement?from=${month.from}&to=${month.to}`;
    if (!isMissingRoute(await apiCall(stack.api, token, statementPath))) statement_ms = await medianMs(opts.repeats, () => ok(statementPath));
    const exportPath = `/ledger/export?from=${month.from}&to=${month.to}`;
    const exported = await apiCall(stack.api, token, exportPath);
    if (!isMissingRoute(exported)) {
      export_rows = exported.body.trimEnd().split("\n").length - 1; // CSV, less its header
      export_ms = await medianMs(Math.max(3, Math.floor(opts.repeats / 3)), () => ok(exportPath));
    }
  } finally {
    stack.stop();
  }
  await stack.stopped();

  const db = new DatabaseSync(file);
  try {
    const scan_ms = await medianMs(opts.repeats, () => db.prepare("select count(*) as n, sum(amount_minor) as s from postings").get());
    // TODO(i10-statements): once GET /api/v1/parties/{id}/statement and GET /api/v1/ledger/export
    // are on this branch, the API answers above and these copies of their queries go.
    const sql = new StatementQueries(db, party, month);
    if (statement_ms === null) statement_ms = await medianMs(opts.repeats, () => sql.statement());
    if (export_ms === null) {
      export_rows = sql.exportAll();
      export_ms = await medianMs(Math.max(3, Math.floor(opts.repeats / 3)), () => sql.exportAll());
    }
    progress(`queries: statement ${round(statement_ms)} ms, export ${round(export_ms)} ms (${export_rows.toLocaleString("en")} postings), one scan of the postings ${round(scan_ms)} ms`);
    return {
      postings: filled.postings_total,
      payments_written: filled.payments,
      fill_s: round(filled.seconds),
      balances_ms: round(balances_ms),
      statement_ms: round(statement_ms),
      export_ms: round(export_ms),
      export_rows,
      via: { balances: "api", statement: sql.used.statement ? "sqlite" : "api", export: sql.used.export ? "sqlite" : "api" },
      api_baseline_ms: round(api_baseline_ms),
      scan_ms: round(scan_ms),
      balances_scans: round(ratio(balances_ms, scan_ms), 3),
      statement_scans: round(ratio(statement_ms, scan_ms), 3),
      export_scans: round(ratio(export_ms, scan_ms), 3),
      period: { from: month.from, to: month.to, party },
    };
  } finally {
    db.close();
  }
}

/**
 * The SQL that i10-statements' db/queries/statements.ts (commit c7fdd86) sends for a party's
 * statement (four statements in one batch) and for the export (pages of 500 postings, keyset
 * on postings.id), written out for SQLite while those routes are not on this branch.
 */
class StatementQueries {
  readonly used = { statement: false, export: false };
  private readonly account: string;

  constructor(
    private readonly db: DatabaseSync,
    private readonly party: string,
    private readonly month: { from_ms: number; until_ms: number },
  ) {
    this.account = `party:${party}`;
    // i10-statements' migration 9001 adds this index, which both queries lean on; in the bench's
    // throwaway copy of the database it is made here, so that they run as they will after the merge.
    db.exec("create index if not exists payments_transaction on payments (transaction_id)");
  }

  statement(): number {
    this.used.statement = true;
    const { from_ms, until_ms } = this.month;
    this.db.prepare("select id, kind, name from parties where id = ?").all(this.party);
    this.db
      .prepare(
        `select p.currency, coalesce(sum(case when t.created_at_ms < ? then p.amount_minor else 0 end), 0) as opening_minor, coalesce(sum(p.amount_minor), 0) as closing_minor
         from postings p inner join ledger_transactions t on t.id = p.transaction_id
         where p.account = ? and t.created_at_ms < ? group by p.currency order by p.currency`,
      )
      .all(from_ms, this.account, until_ms);
    const lines = this.db
      .prepare(
        `select p.id as posting_id, p.transaction_id, t.kind, p.role, p.amount_minor, p.currency, t.created_at_ms as at_ms,
                coalesce(t.stripe_object, pay.id) as stripe_object, coalesce(t.payment_id, pay.id) as payment_id, t.description
         from postings p inner join ledger_transactions t on t.id = p.transaction_id left join payments pay on pay.transaction_id = t.id
         where p.account = ? and t.created_at_ms >= ? and t.created_at_ms < ? order by t.created_at_ms, p.id limit 10001`,
      )
      .all(this.account, from_ms, until_ms);
    this.db
      .prepare(
        `select pl.payment_id, pl.line_no,
                (select coalesce(sum(json_extract(j.value, '$.amount_minor')), 0) from json_each(pl.parts) j where json_extract(j.value, '$.party_id') = ?) as amount_minor,
                pl.offer_id, ov.name as offer_name, pl.rule_id, pl.rule_version
         from payment_lines pl inner join payments pay on pay.id = pl.payment_id
         left join offer_versions ov on ov.offer_id = pl.offer_id and ov.version = coalesce(
           (select max(x.version) from offer_versions x where x.offer_id = pl.offer_id and x.effective_from_ms <= pay.paid_at_s * 1000),
           (select min(x.version) from offer_versions x where x.offer_id = pl.offer_id))
         where pay.transaction_id in (select p.transaction_id from postings p inner join ledger_transactions t on t.id = p.transaction_id
                                      where p.account = ? and p.role = 'share' and t.created_at_ms >= ? and t.created_at_ms < ?)
           and exists (select 1 from json_each(pl.parts) j where json_extract(j.value, '$.party_id') = ?)
         order by pl.payment_id, pl.line_no limit 10001`,
      )
      .all(this.party, this.account, from_ms, until_ms, this.party);
    return lines.length;
  }

  /** Every page of the month's export; returns the postings read. */
  exportAll(): number {
    this.used.export = true;
    const page = this.db.prepare(
      `select p.id as posting_id, t.id as transaction_id, t.kind, t.created_at_ms, p.account, p.role, p.amount_minor, p.currency,
              coalesce(t.stripe_object, pay.id) as stripe_object, coalesce(t.payment_id, pay.id) as payment_id, t.event_id, t.description
       from postings p inner join ledger_transactions t on t.id = p.transaction_id left join payments pay on pay.transaction_id = t.id
       where p.id > ? and t.created_at_ms >= ? and t.created_at_ms < ? order by p.id limit 500`,
    );
    let after = 0;
    let rows = 0;
    for (;;) {
      const got = page.all(after, this.month.from_ms, this.month.until_ms) as { posting_id: number }[];
      rows += got.length;
      if (got.length < 500) return rows;
      after = Number(got[got.length - 1]?.posting_id);
    }
  }
}
