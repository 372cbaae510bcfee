/**
 * Periods of a need pool, in UTC: a month (`2026-11`), an ISO week (`2026-W48`) or a quarter
 * (`2026-Q4`). A period is the half-open interval [start, end) of Unix milliseconds.
 */
import { invariant } from "./invariant";

export const POOL_PERIODS = ["month", "week", "quarter"] as const;
export type PoolPeriod = (typeof POOL_PERIODS)[number];

const DAY_MS = 86_400_000;
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Monday 00:00 UTC of ISO week 1 of `year`: the week holding 4 January. */
function isoWeekOneStart(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday 0
  return jan4 - weekday * DAY_MS;
}

/** The label of the period holding `ms`. */
export function poolPeriodOf(kind: PoolPeriod, ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  switch (kind) {
    case "month":
      return `${year}-${pad(d.getUTCMonth() + 1)}`;
    case "quarter":
      return `${year}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
    case "week": {
      // The ISO year is the one whose week 1 starts on or before this day, latest first.
      const isoYear = [year + 1, year, year - 1].find((y) => isoWeekOneStart(y) <= ms) as number;
      const week = Math.floor((ms - isoWeekOneStart(isoYear)) / (7 * DAY_MS)) + 1;
      return `${isoYear}-W${pad(week)}`;
    }
  }
}

const PATTERNS: Record<PoolPeriod, RegExp> = { month: /^(\d{4})-(0[1-9]|1[0-2])$/, quarter: /^(\d{4})-Q([1-4])$/, week: /^(\d{4})-W(\d{2})$/ };

/** [start, end) of a period label, or null when the label is not a period of this kind. */
export function poolPeriodBounds(kind: PoolPeriod, label: string): { start_ms: number; end_ms: number } | null {
  const match = PATTERNS[kind].exec(label);
  if (!match) return null;
  const year = Number(match[1]);
  const n = Number(match[2]);
  if (year < 1970) return null;
  switch (kind) {
    case "month":
      return { start_ms: Date.UTC(year, n - 1, 1), end_ms: Date.UTC(year, n, 1) };
    case "quarter":
      return { start_ms: Date.UTC(year, (n - 1) * 3, 1), end_ms: Date.UTC(year, n * 3, 1) };
    case "week": {
      const start_ms = isoWeekOneStart(year) + (n - 1) * 7 * DAY_MS;
      // Week 53 exists only in years that have it.
      if (n < 1 || poolPeriodOf("week", start_ms) !== label) return null;
      return { start_ms, end_ms: start_ms + 7 * DAY_MS };
    }
  }
}

/** The period before the one holding `ms`: the last one fully ended. */
export function previousPoolPeriod(kind: PoolPeriod, ms: number): string {
  const bounds = poolPeriodBounds(kind, poolPeriodOf(kind, ms));
  invariant(bounds !== null, "a period's own label does not parse");
  return poolPeriodOf(kind, bounds.start_ms - 1);
}
