/**
 * Money going back: refunds and disputes take back, from the accounts a payment credited, the
 * allocation that was posted, in proportion to how much of the charge went back; never by
 * today's rule or today's offer. What goes back is measured in the charge's currency
 * (`taken_charge_minor` of `charge_amount_minor`); the accounts give back their shares of the
 * payment's original settlement amount; the difference with what Stripe moved at the day's
 * rate is the cooperative's exchange gain or loss (`coop:fx`).
 *
 * Exact and order-free by construction: for the fraction taken back so far, the target take-back
 * of every account is computed from scratch (largest remainder over the payment's posted
 * components), and each event posts the target less what earlier events took. So several partial
 * refunds never take more from a party than the payment gave it (each target is within a unit
 * of its exact share, and a share is a whole number), the one that completes the charge takes
 * exactly what is left, and a refund that fails puts back exactly what the targets say.
 *
 * Stripe keeps its fee on a refund, and a dispute has a fee of its own: who bears them is each
 * line's rule's `fee_policy`, and the cost is its own posting (role `fee_kept`, `dispute_fee`).
 */
import { allocateByWeights, allocateSignedByWeights } from "./allocate";
import { assertCurrency } from "./currency";
import { assertMinor, assertSignedMinor, invariant, toSafeNumber } from "./invariant";
import { ACCOUNT_COOP_SHIPPING, ACCOUNT_STRIPE_CUSTOMERS, ACCOUNT_STRIPE_FEES, assertBalanced, partyAccount, type PostingRole, type RolePosting } from "./ledger";
import type { PartyShare } from "./payment";
import type { FeePolicy } from "./rule-types";

export const ACCOUNT_COOP_FEES_KEPT = "coop:fees_kept";
export const ACCOUNT_COOP_FX = "coop:fx";

/** One line of a posted payment, as the ledger holds it. */
export interface PostedLine {
  /** What the payment gave each party on this line (negative on a proration credit). */
  readonly parts: readonly PartyShare[];
  /** The line's gross in the settlement currency (negative on a credit). */
  readonly gross_minor: number;
  /** The part of Stripe's fee this line's parties bore (a net basis); 0 where the cooperative covered it (gross). */
  readonly borne_fee_minor: number;
  readonly fee_policy: FeePolicy;
}

export interface PostedPayment {
  /** Settlement currency, the ledger's. */
  readonly currency: string;
  /** What arrived, tax and shipping included, in the settlement currency. */
  readonly gross_minor: number;
  /** What was charged, in the charge's currency: what refunds and disputes are measured against. */
  readonly charge_amount_minor: number;
  readonly tax_minor: number;
  readonly shipping_minor: number;
  readonly lines: readonly PostedLine[];
  /** The parties that bear fees under the `reserve` and `commons` policies (the one party of that kind), if any. */
  readonly bearers: { readonly reserve: string | null; readonly commons: string | null };
}

/** A money movement Stripe made, as its balance transaction says, seen from the cooperative. */
export interface MoneyMovement {
  /** To the customer (+: a refund, a dispute's withdrawal) or back from them (−: a refund that failed, a reinstatement), settlement currency. */
  readonly paid_out_minor: number;
  /** Stripe's fee on the balance transaction: + charged (a dispute fee), − returned, settlement currency. */
  readonly stripe_fee_minor: number;
}

export type ReversalError = { readonly code: "no_fee_bearer"; readonly message: string } | { readonly code: "over_taken"; readonly message: string };

export type ReversalResult = { readonly ok: true; readonly postings: RolePosting[] } | { readonly ok: false; readonly error: ReversalError };

const key = (account: string, role: PostingRole) => `${account}\u0000${role}`;

function add(into: Map<string, { account: string; role: PostingRole; amount_minor: number }>, account: string, role: PostingRole, amount_minor: number): void {
  if (amount_minor === 0) return;
  const k = key(account, role);
  const row = into.get(k) ?? { account, role, amount_minor: 0 };
  row.amount_minor += amount_minor;
  into.set(k, row);
}

function assertPosted(payment: PostedPayment): void {
  assertCurrency(payment.currency);
  assertMinor(payment.gross_minor, "gross_minor");
  invariant(payment.charge_amount_minor > 0 && Number.isSafeInteger(payment.charge_amount_minor), "charge_amount_minor must be a safe integer > 0");
  assertSignedMinor(payment.tax_minor, "tax_minor");
  assertMinor(payment.shipping_minor, "shipping_minor");
  let components = BigInt(payment.tax_minor) + BigInt(payment.shipping_minor);
  for (const line of payment.lines) {
    assertMinor(line.borne_fee_minor, "borne_fee_minor");
    for (const part of line.parts) components += BigInt(part.amount_minor);
    components += BigInt(line.borne_fee_minor);
  }
  invariant(components === BigInt(payment.gross_minor), "the posted components do not sum to the payment's gross");
}

/** Who bears `amount_minor` of a line's fees (as `role`), by the line's policy; `null` when the policy names no one. */
function bearFee(line: PostedLine, amount_minor: number, role: PostingRole, payment: PostedPayment, into: Map<string, { account: string; role: PostingRole; amount_minor: number }>): ReversalError | null {
  if (amount_minor === 0) return null;
  const sign = amount_minor < 0 ? -1 : 1;
  const size = Math.abs(amount_minor);
  switch (line.fee_policy) {
    case "proportional": {
      const givers = line.parts.filter((part) => part.amount_minor > 0);
      if (givers.length === 0) {
        add(into, ACCOUNT_COOP_FEES_KEPT, role, amount_minor);
        return null;
      }
      allocateByWeights(size, givers.map((part) => part.amount_minor)).forEach((share, i) => add(into, partyAccount(givers[i]?.party_id ?? ""), role, sign * share));
      return null;
    }
    case "reserve":
    case "commons": {
      const bearer = payment.bearers[line.fee_policy];
      if (bearer === null) return { code: "no_fee_bearer", message: `the rule's fee_policy is "${line.fee_policy}", but there is not exactly one party of kind ${line.fee_policy} to bear the fees` };
      add(into, partyAccount(bearer), role, amount_minor);
      return null;
    }
    case "cooperative":
      add(into, ACCOUNT_COOP_FEES_KEPT, role, amount_minor);
      return null;
  }
}

type Targets = Map<string, { account: string; role: PostingRole; amount_minor: number }>;

/**
 * What has been taken back from each account, by role, once `taken_charge_minor` of the charge
 * has gone back: the payment's components (each party's part of each line, each line's borne fee,
 * the tax, the shipping) scaled by taken / charged, the total rounded half up and shared by
 * largest remainder. A whole charge gives back every component exactly.
 */
export function takenBack(payment: PostedPayment, taken_charge_minor: number): { ok: true; targets: Targets } | { ok: false; error: ReversalError } {
  assertPosted(payment);
  assertSignedMinor(taken_charge_minor, "taken_charge_minor");
  if (taken_charge_minor < 0 || taken_charge_minor > payment.charge_amount_minor) {
    return { ok: false, error: { code: "over_taken", message: `${taken_charge_minor} taken back of a charge of ${payment.charge_amount_minor}: more than was charged, or less than nothing` } };
  }
  const targets: Targets = new Map();
  const components: { weight: number; place: { line: number; party: string } | { line: number; fee: true } | "tax" | "shipping" }[] = [];
  payment.lines.forEach((line, index) => {
    for (const part of line.parts) components.push({ weight: part.amount_minor, place: { line: index, party: part.party_id } });
    components.push({ weight: line.borne_fee_minor, place: { line: index, fee: true } });
  });
  components.push({ weight: payment.tax_minor, place: "tax" }, { weight: payment.shipping_minor, place: "shipping" });
  if (payment.gross_minor === 0 || taken_charge_minor === 0) return { ok: true, targets };
  // round(taken * gross / charged), halves up: floor((2 taken gross + charged) / (2 charged)).
  const total = toSafeNumber((2n * BigInt(taken_charge_minor) * BigInt(payment.gross_minor) + BigInt(payment.charge_amount_minor)) / (2n * BigInt(payment.charge_amount_minor)), "taken back");
  const amounts = allocateSignedByWeights(total, components.map((c) => c.weight));
  for (const [i, component] of components.entries()) {
    const amount = amounts[i] ?? 0;
    const place = component.place;
    if (place === "tax") add(targets, "tax:collected", "reversal", amount);
    else if (place === "shipping") add(targets, ACCOUNT_COOP_SHIPPING, "reversal", amount);
    else if ("party" in place) add(targets, partyAccount(place.party), "reversal", amount);
    else {
      const line = payment.lines[place.line];
      invariant(line !== undefined, "a component names a line the payment does not have");
      const error = bearFee(line, amount, "fee_kept", payment, targets);
      if (error) return { ok: false, error };
    }
  }
  return { ok: true, targets };
}

/**
 * The postings of one money movement on a payment: every account gives back (or gets back) the
 * difference between its target for `taken_after_minor` and what earlier movements took from it
 * (`earlier`: their postings of role `reversal` and `fee_kept`); Stripe's fee on the movement
 * (a dispute fee) is borne by the lines' policies, pro rata to what each line brought in; what
 * Stripe moved at the day's rate less the accounts' shares of the original amount is `coop:fx`.
 * Balanced (asserted).
 */
export function moneyBackPostings(payment: PostedPayment, earlier: readonly RolePosting[], taken_after_minor: number, movement: MoneyMovement): ReversalResult {
  assertSignedMinor(movement.paid_out_minor, "paid_out_minor");
  assertSignedMinor(movement.stripe_fee_minor, "stripe_fee_minor");
  const target = takenBack(payment, taken_after_minor);
  if (!target.ok) return target;
  const before: Targets = new Map();
  for (const posting of earlier) {
    invariant(posting.currency === payment.currency, "an earlier posting is in another currency");
    if (posting.role === "reversal" || posting.role === "fee_kept") add(before, posting.account, posting.role, -posting.amount_minor);
  }
  const currency = payment.currency;
  const postings: RolePosting[] = [];
  const push = (account: string, role: PostingRole, amount_minor: number) => {
    if (amount_minor !== 0) postings.push({ account, role, amount_minor, currency });
  };
  push(ACCOUNT_STRIPE_CUSTOMERS, "customer", movement.paid_out_minor);
  for (const k of new Set([...target.targets.keys(), ...before.keys()])) {
    const wanted = target.targets.get(k);
    const taken = before.get(k);
    const row = wanted ?? taken;
    invariant(row !== undefined, "a key with neither a target nor an earlier posting");
    push(row.account, row.role, -((wanted?.amount_minor ?? 0) - (taken?.amount_minor ?? 0)));
  }
  if (movement.stripe_fee_minor !== 0) {
    push(ACCOUNT_STRIPE_FEES, "fee", movement.stripe_fee_minor);
    const fees: Targets = new Map();
    const brought = payment.lines.map((line) => Math.max(line.gross_minor, 0));
    const size = Math.abs(movement.stripe_fee_minor);
    const sign = movement.stripe_fee_minor < 0 ? -1 : 1;
    if (brought.some((b) => b > 0)) {
      const perLine = allocateByWeights(size, brought);
      for (const [i, line] of payment.lines.entries()) {
        const error = bearFee(line, sign * (perLine[i] ?? 0), "dispute_fee", payment, fees);
        if (error) return { ok: false, error };
      }
    } else {
      add(fees, ACCOUNT_COOP_FEES_KEPT, "dispute_fee", movement.stripe_fee_minor);
    }
    for (const row of fees.values()) push(row.account, row.role, -row.amount_minor);
  }
  const rest = postings.reduce((acc, p) => acc + BigInt(p.amount_minor), 0n);
  push(ACCOUNT_COOP_FX, "fx", toSafeNumber(-rest, "fx"));
  assertBalanced(postings);
  return { ok: true, postings };
}

/** A movement of a Stripe object not on the ledger yet, with how much of the charge it takes back (− gives back). */
export interface PendingMovement extends MoneyMovement {
  readonly charge_amount_minor: number;
}

/**
 * The postings of one Stripe object's movements that are not on the ledger yet, in Stripe's
 * order, each from where the one before left the accounts, starting where the ledger stands
 * (`taken_before_minor` of the charge taken back; `earlier`, its postings).
 *
 * Movements that together take nothing back (a refund and its failure, a dispute withdrawn
 * and reinstated) may not fit where the ledger stands: another refund came after them at
 * Stripe but reached the ledger first, and from there they would take back more than was
 * charged. They are then taken from the nearest point where they fit: they cancel out on every
 * share, and leave what they cost (Stripe's fees, the exchange difference). Movements that take
 * something back and do not fit are `over_taken`: one that gives money back (a failure, a
 * reinstatement) is not on the ledger yet.
 */
export function pendingMovementsPostings(
  payment: PostedPayment,
  earlier: readonly RolePosting[],
  taken_before_minor: number,
  movements: readonly PendingMovement[],
): { readonly ok: true; readonly postings: RolePosting[][] } | { readonly ok: false; readonly error: ReversalError } {
  assertSignedMinor(taken_before_minor, "taken_before_minor");
  const charge = payment.charge_amount_minor;
  const steps: number[] = [];
  let net = 0;
  for (const m of movements) {
    assertSignedMinor(m.charge_amount_minor, "charge_amount_minor");
    net += m.charge_amount_minor;
    steps.push(net);
  }
  const fits = (base: number) => base >= 0 && base <= charge && steps.every((s) => base + s >= 0 && base + s <= charge);
  let base = taken_before_minor;
  let from: readonly RolePosting[] = earlier;
  if (!fits(base)) {
    const low = Math.max(0, ...steps.map((s) => -s));
    const high = Math.min(charge, ...steps.map((s) => charge - s));
    if (net !== 0 || low > high) {
      const outside = [taken_before_minor, ...steps.map((s) => taken_before_minor + s)].find((t) => t < 0 || t > charge) ?? taken_before_minor;
      const refused = takenBack(payment, outside);
      invariant(!refused.ok, "a point outside the charge was taken back");
      return { ok: false, error: refused.error };
    }
    base = Math.min(Math.max(taken_before_minor, low), high);
    const at = takenBack(payment, base);
    if (!at.ok) return at;
    from = [...at.targets.values()].map((t) => ({ account: t.account, role: t.role, amount_minor: -t.amount_minor, currency: payment.currency }));
  }
  const out: RolePosting[][] = [];
  let before = [...from];
  for (const [i, movement] of movements.entries()) {
    const result = moneyBackPostings(payment, before, base + (steps[i] ?? 0), movement);
    if (!result.ok) return result;
    out.push(result.postings);
    before = [...before, ...result.postings];
  }
  return { ok: true, postings: out };
}
