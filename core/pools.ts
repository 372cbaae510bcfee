/**
 * Sharing by need: money sent to a pool is distributed at the close of its period to its members
 * in proportion to the needs they declared, never more than a need; what needs leave over goes
 * to the reserve (or a party the pool names). Exact integers throughout.
 *
 * - A member declares a need (an amount) or `auto`: an equal part of what the declared needs
 *   leave. When the income covers every declared need, each is paid in full, the `auto` members
 *   share the rest equally (largest remainder, list order), and without `auto` members the rest
 *   is the leftover. When it does not, each declared need is paid in proportion: every member
 *   gets floor(income × need / needs), then each unit left goes to the member least served
 *   relative to their need (the lowest paid / need; ties in list order), never above a need.
 * - No silent crowding-out: a need may rise from one period to the next by at most the largest
 *   of twice what the member received last period, that plus the pool's leftover, the median of
 *   what members received last period, and the pool's floor; a newcomer starts at the floor. A
 *   need above that cap counts as the cap, and the member is marked `throttled`.
 * - A solidarity floor, where a pool sets one: a member paid less than it is topped up from the
 *   reserve towards it (never above their need), least served first, within a budget per period.
 */
import { allocateByWeights } from "./allocate";
import { formatMinor } from "./currency";
import { assertMinor, assertSignedMinor, invariant } from "./invariant";

export interface DeclaredNeed {
  readonly party_id: string;
  /** A need in minor units of the pool's currency, or `auto`. */
  readonly need: number | "auto";
}

export interface PoolShare {
  readonly party_id: string;
  /** The need the distribution used: declared (after the cap), or the auto member's part. */
  readonly need_minor: number;
  readonly paid_minor: number;
}

export interface PoolDistribution {
  /** What the period brought, carried negatives included. */
  readonly income_minor: number;
  readonly members: PoolShare[];
  /** What needs left over: to the reserve or the party the pool names. */
  readonly leftover_minor: number;
  /** A negative income is not distributed: it is carried into the next period. */
  readonly carried_minor: number;
}

/** paid_a / need_a < paid_b / need_b, exactly (cross-multiplied in bigint). */
function lessServed(a: { paid: number; need: number }, b: { paid: number; need: number }): boolean {
  return BigInt(a.paid) * BigInt(b.need) < BigInt(b.paid) * BigInt(a.need);
}

/** Splits `income_minor` by the declared needs (see the file comment). */
export function distributeByNeed(income_minor: number, needs: readonly DeclaredNeed[]): PoolDistribution {
  assertSignedMinor(income_minor, "income_minor");
  const ids = new Set(needs.map((n) => n.party_id));
  invariant(ids.size === needs.length, "a member is listed twice");
  needs.forEach((n, i) => n.need !== "auto" && assertMinor(n.need, `needs[${i}].need`));
  if (income_minor <= 0) {
    return { income_minor, members: needs.map((n) => ({ party_id: n.party_id, need_minor: n.need === "auto" ? 0 : n.need, paid_minor: 0 })), leftover_minor: 0, carried_minor: income_minor };
  }
  const declared = needs.map((n) => (n.need === "auto" ? 0 : n.need));
  const wanted = declared.reduce((a, b) => a + b, 0);
  const autos = needs.map((n, i) => (n.need === "auto" ? i : -1)).filter((i) => i >= 0);
  let members: PoolShare[];
  let leftover = 0;
  if (income_minor >= wanted) {
    const rest = income_minor - wanted;
    const autoParts = autos.length > 0 ? allocateByWeights(rest, autos.map(() => 1)) : [];
    members = needs.map((n, i) => {
      const k = autos.indexOf(i);
      const paid = k >= 0 ? (autoParts[k] ?? 0) : (declared[i] ?? 0);
      // An auto member's need is its equal part of what the declared needs left.
      return { party_id: n.party_id, need_minor: k >= 0 ? paid : (declared[i] ?? 0), paid_minor: paid };
    });
    leftover = autos.length > 0 ? 0 : rest;
  } else {
    // Every declared need is only partly covered: in proportion, the units left to the least served.
    const paid = declared.map((d) => Math.floor(Number((BigInt(income_minor) * BigInt(d)) / BigInt(wanted))));
    let units = income_minor - paid.reduce((a, b) => a + b, 0);
    invariant(units >= 0 && units < needs.length + 1, "flooring left more units than members");
    while (units > 0) {
      let best = -1;
      for (let i = 0; i < needs.length; i++) {
        const need = declared[i] ?? 0;
        if (need === 0 || (paid[i] ?? 0) >= need) continue;
        if (best < 0 || lessServed({ paid: paid[i] ?? 0, need }, { paid: paid[best] ?? 0, need: declared[best] ?? 0 })) best = i;
      }
      invariant(best >= 0, "a unit is left but every need is met");
      paid[best] = (paid[best] ?? 0) + 1;
      units -= 1;
    }
    members = needs.map((n, i) => ({ party_id: n.party_id, need_minor: declared[i] ?? 0, paid_minor: paid[i] ?? 0 }));
  }
  const distribution: PoolDistribution = { income_minor, members, leftover_minor: leftover, carried_minor: 0 };
  assertDistribution(distribution);
  return distribution;
}

function assertDistribution(d: PoolDistribution): void {
  const paid = d.members.reduce((a, m) => a + m.paid_minor, 0);
  invariant(paid + d.leftover_minor + d.carried_minor === d.income_minor, "a distribution does not sum to its income");
  invariant(d.leftover_minor >= 0, "a negative leftover");
  invariant(d.members.every((m) => m.paid_minor >= 0 && m.paid_minor <= m.need_minor), "a member paid above their need");
}

/** What the pool saw last period, for the throttle. */
export interface LastPeriod {
  /** What each member received then; a member absent from it is a newcomer. */
  readonly received: ReadonlyMap<string, number>;
  readonly leftover_minor: number;
}

/** The median of what members received last period (the lower middle for an even count; 0 when none). */
export function medianReceived(last: LastPeriod): number {
  const sorted = [...last.received.values()].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/**
 * The most a member's need may be this period: none at a pool's first close (no history to
 * crowd anyone out of), the floor for a newcomer (the median of last period when the pool sets
 * no floor), else the largest of the bounds in the file comment.
 */
export function needCap(party_id: string, last: LastPeriod | null, floor_minor: number | null): number | null {
  if (floor_minor !== null) assertMinor(floor_minor, "floor_minor");
  if (last === null) return null;
  const received = last.received.get(party_id);
  const floor = floor_minor ?? medianReceived(last);
  if (received === undefined) return floor;
  return Math.max(2 * received, received + last.leftover_minor, medianReceived(last), floor);
}

/** Declared needs held to their caps: a need above its cap counts as the cap, `throttled`. */
export function throttleNeeds(needs: readonly DeclaredNeed[], last: LastPeriod | null, floor_minor: number | null): { needs: DeclaredNeed[]; throttled: Set<string> } {
  const throttled = new Set<string>();
  const held = needs.map((n) => {
    if (n.need === "auto") return n;
    const cap = needCap(n.party_id, last, floor_minor);
    if (cap === null || n.need <= cap) return n;
    throttled.add(n.party_id);
    return { party_id: n.party_id, need: cap };
  });
  return { needs: held, throttled };
}

/**
 * Tops members up from the reserve towards `minimum_minor`, never above their need, least served
 * first (ties in list order), within `budget_minor`. Returns what each member is topped up by.
 */
export function solidarityTopUps(members: readonly PoolShare[], minimum_minor: number, budget_minor: number): Map<string, number> {
  assertMinor(minimum_minor, "minimum_minor");
  assertMinor(budget_minor, "budget_minor");
  const ups = new Map<string, number>();
  let budget = budget_minor;
  const order = members
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => m.paid_minor < Math.min(minimum_minor, m.need_minor))
    .sort((a, b) => (lessServed({ paid: a.m.paid_minor, need: a.m.need_minor }, { paid: b.m.paid_minor, need: b.m.need_minor }) ? -1 : lessServed({ paid: b.m.paid_minor, need: b.m.need_minor }, { paid: a.m.paid_minor, need: a.m.need_minor }) ? 1 : a.i - b.i));
  for (const { m } of order) {
    if (budget === 0) break;
    const up = Math.min(Math.min(minimum_minor, m.need_minor) - m.paid_minor, budget);
    ups.set(m.party_id, up);
    budget -= up;
  }
  return ups;
}

/** A member at a close: what they declared for the period's currency (`null`: nothing, a need of 0). */
export interface CloseMember {
  readonly party_id: string;
  readonly declared: number | "auto" | null;
}

export interface ClosePlanInput {
  /** The pool's balance at the close: what the period brought, negatives carried in. */
  readonly income_minor: number;
  readonly members: readonly CloseMember[];
  /** The pool's previous close in this currency; null at its first. */
  readonly last: LastPeriod | null;
  readonly floor_minor: number | null;
  /** Tops members below `minimum_minor` up from the reserve, within `budget_minor` (already cut to what the reserve holds). */
  readonly solidarity?: { readonly minimum_minor: number; readonly budget_minor: number };
}

export interface ClosedMember {
  readonly party_id: string;
  readonly declared: number | "auto" | null;
  /** The most their need could count for (null: no cap, the pool's first close). */
  readonly cap_minor: number | null;
  /** The need the distribution used: declared, held to the cap, or the auto member's part. */
  readonly need_minor: number;
  readonly paid_minor: number;
  /** From the reserve, by the solidarity floor. */
  readonly topup_minor: number;
  readonly throttled: boolean;
}

export interface ClosePlan {
  readonly income_minor: number;
  readonly members: ClosedMember[];
  readonly leftover_minor: number;
  /** A negative income stays on the pool's account, for the next close. */
  readonly carried_minor: number;
  readonly topups_minor: number;
}

/** Everything a close decides, from what it read: throttle, distribution by need, top-ups. */
export function planClose(input: ClosePlanInput): ClosePlan {
  const declared: DeclaredNeed[] = input.members.map((m) => ({ party_id: m.party_id, need: m.declared ?? 0 }));
  const { needs, throttled } = throttleNeeds(declared, input.last, input.floor_minor);
  const distribution = distributeByNeed(input.income_minor, needs);
  const ups = input.solidarity === undefined ? new Map<string, number>() : solidarityTopUps(distribution.members, input.solidarity.minimum_minor, input.solidarity.budget_minor);
  const members = distribution.members.map((m, i) => {
    const member = input.members[i] as CloseMember;
    invariant(member.party_id === m.party_id, "members out of order");
    const cap_minor = member.declared === "auto" ? null : needCap(m.party_id, input.last, input.floor_minor);
    return { party_id: m.party_id, declared: member.declared, cap_minor, need_minor: m.need_minor, paid_minor: m.paid_minor, topup_minor: ups.get(m.party_id) ?? 0, throttled: throttled.has(m.party_id) };
  });
  const topups_minor = members.reduce((a, m) => a + m.topup_minor, 0);
  invariant(input.solidarity === undefined || topups_minor <= input.solidarity.budget_minor, "top-ups above their budget");
  invariant(members.every((m) => m.paid_minor + m.topup_minor <= Math.max(m.need_minor, 0)), "a member paid above their need");
  return { income_minor: input.income_minor, members, leftover_minor: distribution.leftover_minor, carried_minor: distribution.carried_minor, topups_minor };
}

/** Amounts as people read them: `1000.50 eur`. */
const money = (minor: number, currency: string) => `${formatMinor(minor, currency)} ${currency.toUpperCase()}`;

/** Why a member got what they got at a close, in one sentence. */
export function explainMember(m: ClosedMember, currency: string): string {
  const parts: string[] = [];
  if (m.declared === null) parts.push("declared no need: nothing from the pool");
  else if (m.declared === "auto") parts.push(`asked for an equal part of what the declared needs left: ${money(m.paid_minor, currency)}`);
  else {
    let said = `declared ${money(m.declared, currency)}`;
    if (m.throttled && m.cap_minor !== null) said += `, counted as ${money(m.cap_minor, currency)}: the most a need could reach this period (twice last period's, that plus the leftover, the median, or the floor)`;
    if (m.need_minor === 0) said += ": nothing to pay";
    else if (m.paid_minor === m.need_minor) said += `: paid in full, ${money(m.paid_minor, currency)}`;
    else said += `: paid ${money(m.paid_minor, currency)}, the same part of their need as everyone's, since the income did not cover all needs`;
    parts.push(said);
  }
  if (m.topup_minor > 0) parts.push(`topped up by ${money(m.topup_minor, currency)} from the reserve (the pool's solidarity floor)`);
  return parts.join("; ");
}

/** What a close did, in one sentence. */
export function explainClose(plan: Pick<ClosePlan, "income_minor" | "members" | "leftover_minor" | "carried_minor" | "topups_minor">, currency: string, leftoverTo: string | null): string {
  if (plan.income_minor <= 0) {
    return plan.income_minor < 0
      ? `The pool owed ${money(-plan.income_minor, currency)} (refunds of money already distributed): nothing was distributed, and the debt is carried into the next period.`
      : "Nothing came into the pool: nothing was distributed.";
  }
  const needs = plan.members.reduce((a, m) => a + m.need_minor, 0);
  const paid = plan.members.reduce((a, m) => a + m.paid_minor, 0);
  let text = `${money(plan.income_minor, currency)} came in against ${money(needs, currency)} of needs counted`;
  text += paid >= needs ? ": every need was met" : `: each need was paid in the same proportion`;
  if (plan.leftover_minor > 0) text += `, and the ${money(plan.leftover_minor, currency)} left over went to ${leftoverTo ?? "the reserve"}`;
  if (plan.topups_minor > 0) text += `; the reserve topped members up by ${money(plan.topups_minor, currency)}`;
  return `${text}.`;
}
