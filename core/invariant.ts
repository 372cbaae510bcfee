/**
 * Invariants of the money logic. A violated invariant is a bug (or a caller that broke the
 * contract), never a user mistake: user mistakes are typed error values, not exceptions.
 */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

/** Throws an InvariantError when `condition` is false. */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** An amount in minor units at a boundary: a safe integer >= 0 (a JS number, never a float). */
export function assertMinor(amount_minor: number, name: string): void {
  invariant(
    Number.isSafeInteger(amount_minor) && amount_minor >= 0,
    `${name} must be a safe integer >= 0 (minor units), got ${String(amount_minor)}`,
  );
}

/** A signed amount in minor units (postings): a safe integer. */
export function assertSignedMinor(amount_minor: number, name: string): void {
  invariant(
    Number.isSafeInteger(amount_minor),
    `${name} must be a safe integer (minor units), got ${String(amount_minor)}`,
  );
}

/** Converts a bigint that must fit in a safe integer back to a number. */
export function toSafeNumber(value: bigint, name: string): number {
  invariant(
    value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER),
    `${name} is outside the safe integer range: ${value}`,
  );
  return Number(value);
}
