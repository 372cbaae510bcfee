/**
 * What a rule splits on one line of a payment: its gross (what the customer paid for it) or
 * its net (the gross less the part of Stripe's fee that the line bears). The payment split,
 * the preview and the what-if all ask this one function.
 */
import { assertMinor, invariant } from "./invariant";
import type { Basis } from "./rule-types";

export interface LineAmounts {
  readonly gross_minor: number;
  readonly fee_minor: number;
}

export function lineBasis(basis: Basis, line: LineAmounts): number {
  assertMinor(line.gross_minor, "gross_minor");
  assertMinor(line.fee_minor, "fee_minor");
  invariant(line.fee_minor <= line.gross_minor, "a line's fee is larger than its gross");
  return basis === "gross" ? line.gross_minor : line.gross_minor - line.fee_minor;
}
