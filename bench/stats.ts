// Numbers from samples: percentiles, rates and the ratios every machine-dependent figure is
// reported with. Pure; test/unit/bench-stats.test.ts holds them to their definitions.

/**
 * The p-th percentile of `samples` by the nearest-rank method: the smallest sample such that at
 * least p% of the samples are at or below it. NaN for no samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new Error(`a percentile is in (0, 100], got ${p}`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1] as number;
}

/** `count` per second over `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  if (!(ms > 0)) throw new Error(`a rate needs a positive duration, got ${ms} ms`);
  return (count * 1000) / ms;
}

/** `value / baseline`, the way every figure is compared to the baseline measured beside it. */
export function ratio(value: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : value / baseline;
}

/** Rounded to `digits` decimals, for results.json: the noise is larger than the last digit kept. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The largest number of `times_ms` that fall within any window of `window_ms` (a sliding window). */
export function maxInWindow(times_ms: readonly number[], window_ms: number): number {
  const sorted = [...times_ms].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= window_ms) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** A small deterministic generator (mulberry32) of numbers in [0, 1): the same sequence for the same seed. */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `items` in a random order drawn from `seed` (Fisher–Yates): the same order for the same seed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const next = generator(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
