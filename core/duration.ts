/**
 * Notice periods as ISO 8601 durations: `P7D`, `P2W`, `PT36H`, `PT3S`, `P1DT12H`. Whole numbers
 * of weeks, days, hours, minutes and seconds only: years and months are refused, because how
 * long they last depends on when they start, and a notice must end at a moment everyone can
 * compute. Pure: text in, milliseconds out, or a typed error.
 */

/** The shortest notice: one second (tests use `PT3S`); zero would be no notice at all. */
export const MIN_NOTICE_MS = 1_000;
/** The longest notice: 365 days, the longest a workflow may sleep. */
export const MAX_NOTICE_MS = 365 * 86_400_000;

export type DurationErrorCode = "bad_duration" | "duration_out_of_range";

export type ParsedDuration = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly code: DurationErrorCode; readonly message: string };

// PnW alone, or [nD][T[nH][nM][nS]]; at most 6 digits a component (a year is 8784 hours).
const WEEKS = /^P(\d{1,6})W$/;
const DAY_TIME = /^P(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/;

const HINT = "an ISO 8601 duration in weeks (P2W), days (P7D), or hours, minutes and seconds (PT36H, PT3S, P1DT12H); years and months are refused, as their length varies";

export function parseDuration(text: string): ParsedDuration {
  const bad = (): ParsedDuration => ({ ok: false, code: "bad_duration", message: `${JSON.stringify(text.slice(0, 40))} is not ${HINT}` });
  let ms: number;
  const weeks = WEEKS.exec(text);
  if (weeks) {
    ms = Number(weeks[1]) * 7 * 86_400_000;
  } else {
    const parts = DAY_TIME.exec(text);
    // "P" and "PT" match the pattern with nothing in them; "T" needs something after it.
    if (!parts || text === "P" || text.endsWith("T")) return bad();
    const [, d, h, m, s] = parts;
    if (d === undefined && h === undefined && m === undefined && s === undefined) return bad();
    ms = ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Number(s ?? 0) * 1_000;
  }
  if (ms < MIN_NOTICE_MS || ms > MAX_NOTICE_MS) {
    return { ok: false, code: "duration_out_of_range", message: `${text} is ${ms < MIN_NOTICE_MS ? "shorter than a second" : "longer than 365 days"}: a notice lasts from PT1S to P365D` };
  }
  return { ok: true, ms };
}
