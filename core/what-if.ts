/**
 * Replaying rules over payments already made: each party's total under the version in force
 * now and under a proposal, from the same line amounts and contributors, so that the two
 * columns compare like with like. Nothing here is posted; it answers "who would get what".
 */
import { lineBasis } from "./basis";
import { toSafeNumber } from "./invariant";
import { applyRule } from "./rule-apply";
import type { Contributor } from "./rule-check";
import type { Rule } from "./rule-types";

export interface ReplayLine {
  readonly payment_id: string;
  /** Settlement currency of the payment. */
  readonly currency: string;
  readonly gross_minor: number;
  readonly fee_minor: number;
  readonly contributors: readonly Contributor[];
}

export interface ReplayTotal {
  readonly party_id: string;
  readonly currency: string;
  readonly now_minor: number;
  readonly proposed_minor: number;
  readonly delta_minor: number;
}

export interface Replay {
  /** Distinct payments replayed. */
  readonly payments: number;
  /** Per party and currency, sorted by currency then party. */
  readonly totals: ReplayTotal[];
  /** Lines a rule could not split (a missing currency, no contributors), with why. */
  readonly unsplittable: { readonly payment_id: string; readonly reason: string }[];
}

type Column = "now" | "proposed";

export function replayRules(lines: readonly ReplayLine[], current: Rule | null, proposed: Rule): Replay {
  const totals = new Map<string, { party_id: string; currency: string; now: bigint; proposed: bigint }>();
  const unsplittable: { payment_id: string; reason: string }[] = [];
  const columns: [Column, Rule | null][] = [["now", current], ["proposed", proposed]];
  for (const line of lines) {
    for (const [column, rule] of columns) {
      if (rule === null) continue;
      const applied = applyRule(rule, { amount_minor: lineBasis(rule.basis, line), currency: line.currency, contributors: line.contributors });
      if (!applied.ok) {
        unsplittable.push({ payment_id: line.payment_id, reason: `${column === "now" ? "current version" : "proposal"}: ${applied.error.message}` });
        continue;
      }
      for (const part of applied.parts) {
        const key = `${part.party_id}\u0000${line.currency}`;
        const row = totals.get(key) ?? { party_id: part.party_id, currency: line.currency, now: 0n, proposed: 0n };
        row[column] += BigInt(part.amount_minor);
        totals.set(key, row);
      }
    }
  }
  return {
    payments: new Set(lines.map((l) => l.payment_id)).size,
    totals: [...totals.values()]
      .sort((a, b) => a.currency.localeCompare(b.currency) || a.party_id.localeCompare(b.party_id))
      .map((t) => ({
        party_id: t.party_id,
        currency: t.currency,
        now_minor: toSafeNumber(t.now, "now_minor"),
        proposed_minor: toSafeNumber(t.proposed, "proposed_minor"),
        delta_minor: toSafeNumber(t.proposed - t.now, "delta_minor"),
      })),
    unsplittable,
  };
}
