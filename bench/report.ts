// The markdown table `npm run bench` prints: each figure, the baseline measured beside it in the
// same run, their ratio, the target and whether it is met.
import type { BenchResults } from "./main";

type Row = [measure: string, value: string, baseline: string, ratio: string, target: string, met: string];

const n = (value: number, digits = 1) => value.toLocaleString("en", { maximumFractionDigits: digits });
const yes = (ok: boolean) => (ok ? "yes" : "**no**");

export function markdownReport(r: BenchResults): string {
  const rows: Row[] = [];
  for (const a of r.ack ?? []) {
    rows.push([`ack p99, ${a.concurrency} sender(s)`, `${n(a.p99_ms)} ms`, `floor ${n(a.floor_p99_ms)} ms`, `${n(a.p99_ratio, 2)}×`, "≤ 1.3×", yes(a.p99_ratio <= 1.3)]);
    rows.push([`ack p50, ${a.concurrency} sender(s)`, `${n(a.p50_ms)} ms`, `floor ${n(a.floor_p50_ms)} ms`, `${n(a.p50_ms / a.floor_p50_ms, 2)}×`, "", ""]);
    rows.push([`ack rate, ${a.concurrency} sender(s)`, `${n(a.rps)}/s`, `floor ${n(a.floor_rps)}/s`, `${n(a.rps / a.floor_rps, 2)}×`, "", ""]);
  }
  if (r.burst) {
    const b = r.burst;
    rows.push([`burst of ${n(b.events, 0)}: acknowledged, posted`, `${n(b.acked, 0)}, ${n(b.posted, 0)}`, "", "", "all, all", yes(b.acked === b.events && b.posted === b.events)]);
    rows.push(["burst: drained in", `${n(b.drain_s)} s (${n(b.events / b.drain_s)}/s)`, `floor ${n(b.floor_rps)}/s`, `${n(b.ratio, 2)}×`, "", ""]);
    rows.push(["burst: most instances created in one second", n(b.max_created_per_s, 0), "", "", "≤ 100", yes(b.max_created_per_s <= 100)]);
  }
  if (r.end_to_end) {
    const e = r.end_to_end;
    rows.push([`end to end, ${n(e.payments, 0)} payments`, `${n(e.payments_per_s)} payments/s`, `floor ${n(e.floor_rps)}/s`, `${n(e.ratio, 2)}×`, "≥ 0.5×", yes(e.ratio >= 0.5)]);
    if (e.cpu_ms_per_payment !== null && e.floor_cpu_ms !== null && e.cpu_ratio !== null) {
      rows.push(["end to end: the stack's CPU per payment", `${n(e.cpu_ms_per_payment, 2)} ms`, `floor ${n(e.floor_cpu_ms, 2)} ms an ack`, `${n(e.cpu_ratio, 2)}× (floor / payment)`, "", ""]);
    }
  }
  if (r.cost_per_payment) {
    const c = r.cost_per_payment;
    rows.push(["per payment: D1 statements (round trips)", `${n(c.d1_statements, 2)} (${n(c.d1_round_trips, 2)})`, "", "", "", ""]);
    rows.push(["per payment: D1 rows read, written", `${n(c.rows_read, 2)}, ${n(c.rows_written, 2)}`, "", "", "", ""]);
    rows.push(["per payment: workflow steps", n(c.workflow_steps, 2), "", "", "≤ 3", yes(c.workflow_steps <= 3)]);
  }
  if (r.storage) rows.push(["per payment: bytes in D1 (tables and indexes)", n(r.storage.bytes_per_payment, 0), "", "", "", ""]);
  for (const s of r.split_engine ?? []) {
    const target = s.parties === 10 ? "≥ 1,000,000/s, > dinero.js" : "> dinero.js";
    const met = s.allocations_per_s > s.dinero_allocations_per_s && (s.parties !== 10 || s.allocations_per_s >= 1_000_000);
    rows.push([`split engine, ${s.parties} parties`, `${n(s.allocations_per_s, 0)}/s`, `dinero.js ${n(s.dinero_allocations_per_s, 0)}/s`, `${n(s.ratio)}×`, target, yes(met)]);
  }
  if (r.queries) {
    const q = r.queries;
    rows.push([`balances, ${n(q.postings, 0)} postings`, `${n(q.balances_ms)} ms`, `scan ${n(q.scan_ms)} ms`, `${n(q.balances_scans, 3)} scans`, "< 50 ms", yes(q.balances_ms < 50)]);
    rows.push([`statement, ${q.period.party}, ${q.period.from} – ${q.period.to}`, `${n(q.statement_ms)} ms`, `scan ${n(q.scan_ms)} ms`, `${n(q.statement_scans, 3)} scans`, "", ""]);
    rows.push([`export, ${n(q.export_rows, 0)} postings, ${q.export_period.from} – ${q.export_period.to}`, `${n(q.export_ms)} ms`, `scan ${n(q.scan_ms)} ms`, `${n(q.export_scans, 3)} scans`, "", ""]);
  }
  if (r.bundle_gzip_kib !== null) rows.push(["worker bundle, gzipped", `${n(r.bundle_gzip_kib)} KiB`, "", "", "< 250 KiB", yes(r.bundle_gzip_kib < 250)]);
  const header: Row = ["measure", "value", "baseline, same run", "ratio", "target", "met"];
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
