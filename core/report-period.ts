/**
 * Reporting periods: a month (`2026-10`), a quarter (`2026-Q4`) or a year (`2026`), each a
 * half-open interval of UTC time [from, to). Money in is dated by when the customer paid, money
 * going back by when Stripe moved it back.
 */
export const PERIOD_KINDS = ["month", "quarter", "year"] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface ReportPeriod {
  /** `2026-10`, `2026-Q4`, `2026`: what the API and the page's address say. */
  readonly id: string;
  readonly kind: PeriodKind;
  readonly year: number;
  /** 1-12 for a month, 1-4 for a quarter, 0 for a year. */
  readonly index: number;
  readonly from_ms: number;
  readonly to_ms: number;
}

export type ParsePeriodResult = { readonly ok: true; readonly period: ReportPeriod } | { readonly ok: false; readonly code: "bad_period"; readonly message: string };

/** Years a period may name: from the Unix epoch to far enough. */
export const PERIOD_YEARS = { min: 1970, max: 9999 } as const;

const pad2 = (n: number) => String(n).padStart(2, "0");

function make(kind: PeriodKind, year: number, index: number): ReportPeriod {
  switch (kind) {
    case "month":
      return { id: `${year}-${pad2(index)}`, kind, year, index, from_ms: Date.UTC(year, index - 1, 1), to_ms: Date.UTC(year, index, 1) };
    case "quarter":
      return { id: `${year}-Q${index}`, kind, year, index, from_ms: Date.UTC(year, (index - 1) * 3, 1), to_ms: Date.UTC(year, index * 3, 1) };
    case "year":
      return { id: String(year), kind, year, index: 0, from_ms: Date.UTC(year, 0, 1), to_ms: Date.UTC(year + 1, 0, 1) };
  }
}

export function parsePeriod(text: string): ParsePeriodResult {
  const m = /^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?$/.exec(text);
  const bad = { ok: false as const, code: "bad_period" as const, message: `period ${JSON.stringify(text.slice(0, 20))} is not a month (2026-10), a quarter (2026-Q4) or a year (2026)` };
  if (!m) return bad;
  const year = Number(m[1]);
  if (year < PERIOD_YEARS.min || year > PERIOD_YEARS.max) return { ...bad, message: `period ${text}: the year must be between ${PERIOD_YEARS.min} and ${PERIOD_YEARS.max}` };
  if (m[2] !== undefined) return { ok: true, period: make("month", year, Number(m[2])) };
  if (m[3] !== undefined) return { ok: true, period: make("quarter", year, Number(m[3])) };
  return { ok: true, period: make("year", year, 0) };
}

/** The period of a kind that contains the instant `ms`. */
export function periodContaining(ms: number, kind: PeriodKind): ReportPeriod {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  return make(kind, year, kind === "month" ? month : kind === "quarter" ? Math.ceil(month / 3) : 0);
}

/** A year, its quarters and its months, newest first: what a period picker offers. */
export interface YearPeriods {
  readonly year: ReportPeriod;
  readonly quarters: ReportPeriod[];
  readonly months: ReportPeriod[];
}

/** Every year from the one containing `from_ms` to the one containing `to_ms`, newest first, at most `maxYears`. */
export function periodsBetween(from_ms: number, to_ms: number, maxYears = 20): YearPeriods[] {
  const first = new Date(Math.min(from_ms, to_ms)).getUTCFullYear();
  const last = new Date(Math.max(from_ms, to_ms)).getUTCFullYear();
  const out: YearPeriods[] = [];
  for (let year = last; year >= first && out.length < maxYears; year--) {
    out.push({
      year: make("year", year, 0),
      quarters: [4, 3, 2, 1].map((q) => make("quarter", year, q)),
      months: [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((m) => make("month", year, m)),
    });
  }
  return out;
}
