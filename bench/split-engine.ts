// The split engine's allocation (core/allocate.ts, allocateByWeights) against dinero.js's
// `allocate`, the allocation a TypeScript developer would reach for, on the same amounts and
// the same integer ratios, in this process. Rounds of each alternate and the median round
// counts, so that both see the same machine. Before timing, the two are compared: where the
// split is exact they must give the same parts; otherwise their rounding rules differ (largest
// remainder here, largest ratio first in dinero.js) and both must still sum to the amount with
// every part within one unit of its exact share.
import { allocate as dineroAllocate, dinero, EUR, toSnapshot } from "dinero.js";
import { allocateByWeights } from "../core/allocate";
import { generator, round } from "./stats";

export interface SplitEngineRow {
  parties: number;
  allocations_per_s: number;
  dinero_allocations_per_s: number;
  /** allocations_per_s / dinero_allocations_per_s. */
  ratio: number;
  /** Of the amounts compared, how many splits were exact (and so identical in both). */
  exact_compared: number;
  /** Of the inexact ones, how many both rounded to the same parts. */
  inexact_same: number;
  inexact_compared: number;
}

function weightsFor(parties: number): number[] {
  const next = generator(parties);
  return Array.from({ length: parties }, () => 1 + Math.floor(next() * 1000));
}

/** Amounts from 1.00 to 100,000.00 (minor units), every 16th one an exact multiple of the weights' sum. */
function amountsFor(parties: number, weights: readonly number[], count: number): number[] {
  const next = generator(parties * 7919);
  const whole = weights.reduce((a, b) => a + b, 0);
  return Array.from({ length: count }, (_, i) => (i % 16 === 0 ? whole * (1 + Math.floor(next() * 1000)) : 100 + Math.floor(next() * 10_000_000)));
}

function dineroParts(amount_minor: number, weights: readonly number[]): number[] {
  return dineroAllocate(dinero({ amount: amount_minor, currency: EUR }), weights as number[]).map((d) => toSnapshot(d).amount);
}

function withinOneUnit(parts: readonly number[], amount_minor: number, weights: readonly number[]): boolean {
  const whole = weights.reduce((a, b) => a + b, 0);
  const sum = parts.reduce((a, b) => a + b, 0);
  // |part * whole - amount * w| < whole, in exact integers (both products are far below 2^53 here).
  return sum === amount_minor && parts.every((part, i) => Math.abs(part * whole - amount_minor * (weights[i] as number)) < whole);
}

function compare(parties: number, weights: readonly number[], amounts: readonly number[]) {
  const whole = weights.reduce((a, b) => a + b, 0);
  let exact = 0;
  let inexactSame = 0;
  let inexact = 0;
  for (const amount of amounts) {
    const ours = allocateByWeights(amount, weights);
    const theirs = dineroParts(amount, weights);
    if (!withinOneUnit(ours, amount, weights)) throw new Error(`allocateByWeights(${amount}) over ${parties} parties is not within one unit of the exact shares`);
    if (!withinOneUnit(theirs, amount, weights)) throw new Error(`dinero.js allocate(${amount}) over ${parties} parties is not within one unit of the exact shares`);
    const same = ours.every((part, i) => part === theirs[i]);
    if (weights.every((w) => (amount * w) % whole === 0)) {
      if (!same) throw new Error(`an exact split of ${amount} over ${parties} parties differs: ${ours.join(",")} vs ${theirs.join(",")}`);
      exact++;
    } else {
      inexact++;
      if (same) inexactSame++;
    }
  }
  return { exact, inexact, inexactSame };
}

/** Allocations per second of `allocateOnce` over `amounts`, over a round of about `round_ms`. */
function timeRound(allocateOnce: (amount: number) => number, amounts: readonly number[], round_ms: number): number {
  let done = 0;
  let sink = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < round_ms) {
    for (const amount of amounts) sink += allocateOnce(amount);
    done += amounts.length;
    elapsed = performance.now() - started;
  }
  if (sink === -1) console.log(sink); // keeps the results alive
  return (done * 1000) / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export function benchSplitEngine(opts: { parties: readonly number[]; rounds: number; round_ms: number }, progress: (line: string) => void): SplitEngineRow[] {
  return opts.parties.map((parties) => {
    const weights = weightsFor(parties);
    const amounts = amountsFor(parties, weights, 1024);
    const agreement = compare(parties, weights, amounts);
    const ours = (amount: number) => allocateByWeights(amount, weights)[0] as number;
    const theirs = (amount: number) => toSnapshot(dineroAllocate(dinero({ amount, currency: EUR }), weights)[0]!).amount;
    const oursRounds: number[] = [];
    const theirRounds: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      oursRounds.push(timeRound(ours, amounts, opts.round_ms));
      theirRounds.push(timeRound(theirs, amounts, opts.round_ms));
    }
    const row: SplitEngineRow = {
      parties,
      allocations_per_s: Math.round(median(oursRounds)),
      dinero_allocations_per_s: Math.round(median(theirRounds)),
      ratio: round(median(oursRounds) / median(theirRounds), 1),
      exact_compared: agreement.exact,
      inexact_same: agreement.inexactSame,
      inexact_compared: agreement.inexact,
    };
    progress(`split engine, ${parties} parties: ${row.allocations_per_s.toLocaleString("en")}/s, dinero.js ${row.dinero_allocations_per_s.toLocaleString("en")}/s (${row.ratio}×); ${agreement.exact} exact splits identical`);
    return row;
  });
}
