/**
 * Rules changed by consent: a proposal passes unless someone it affects objects with a reason.
 * What is decided here, from facts the caller reads: where a proposal stands, whether it may
 * become a rule version now and from when, who it affects (from a what-if replay), what each
 * reader may see of that, and who may approve it. Pure: the caller passes the clock.
 */
import type { ReplayTotal } from "./what-if";

/** How a proposal is stored: open until it becomes a version, is amended or is withdrawn. */
export type StoredProposalStatus = "open" | "activated" | "amended" | "withdrawn";

/**
 * Where a proposal stands, as people read it:
 * - `open`: its notice is running and nothing holds it;
 * - `held`: an objection stands (during the notice or after), or its rule no longer applies;
 * - `awaiting_approvals`: the notice is over, nobody objects, the rule's approvals are missing;
 * - `due`: the notice is over and nothing holds it: it is becoming a version;
 * - `activated`, `amended`, `withdrawn`: closed.
 */
export const PROPOSAL_STATUSES = ["open", "held", "awaiting_approvals", "due", "activated", "amended", "withdrawn"] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export interface ProposalFacts {
  readonly stored: StoredProposalStatus;
  readonly notice_ends_ms: number;
  readonly standing_objections: number;
  readonly approvals_given: number;
  readonly approvals_required: number;
  /** Set when the proposal was found not to apply any more (a rule the catalog now refuses). */
  readonly hold_reason: string | null;
}

export function proposalStatus(p: ProposalFacts, now_ms: number): ProposalStatus {
  if (p.stored !== "open") return p.stored;
  if (p.standing_objections > 0 || p.hold_reason !== null) return "held";
  if (now_ms < p.notice_ends_ms) return "open";
  return p.approvals_given < p.approvals_required ? "awaiting_approvals" : "due";
}

export type ActivationDecision =
  | { readonly activate: true }
  | { readonly activate: false; readonly why: "closed" | "notice_running" | "objection_stands" | "approvals_missing" };

/**
 * Whether a proposal becomes a version now. A standing objection holds it; so do missing
 * approvals. A proposal that was held because its rule no longer applied is tried again (the
 * catalog may have been fixed): the caller checks the rule once more before writing.
 */
export function activationDecision(p: ProposalFacts, now_ms: number): ActivationDecision {
  if (p.stored !== "open") return { activate: false, why: "closed" };
  if (now_ms < p.notice_ends_ms) return { activate: false, why: "notice_running" };
  if (p.standing_objections > 0) return { activate: false, why: "objection_stands" };
  if (p.approvals_given < p.approvals_required) return { activate: false, why: "approvals_missing" };
  return { activate: true };
}

/**
 * When a proposal's version takes effect, so that nothing is retroactive: never before the
 * moment it is written (a payment made meanwhile keeps the version it was paid under), never
 * before its notice ends or the date it asked for, never before the previous version; on a
 * whole second, as Stripe stamps payments in seconds.
 */
export function activationEffectiveFrom(a: { now_ms: number; notice_ends_ms: number; requested_ms: number | null; previous_ms: number }): number {
  const at_ms = Math.max(a.now_ms, a.notice_ends_ms, a.requested_ms ?? 0, a.previous_ms);
  return Math.ceil(at_ms / 1000) * 1000;
}

/** A party whose share would change, by how much, in one currency (over the replayed payments). */
export interface AffectedParty {
  readonly party_id: string;
  readonly currency: string;
  readonly now_minor: number;
  readonly proposed_minor: number;
  readonly delta_minor: number;
}

/** The parties a change affects: those whose total moves in some currency, from a what-if replay. */
export function affectedParties(totals: readonly ReplayTotal[]): AffectedParty[] {
  return totals.filter((t) => t.delta_minor !== 0).map((t) => ({ party_id: t.party_id, currency: t.currency, now_minor: t.now_minor, proposed_minor: t.proposed_minor, delta_minor: t.delta_minor }));
}

export function affectedPartyIds(affected: readonly AffectedParty[]): string[] {
  return [...new Set(affected.map((a) => a.party_id))].sort();
}

/**
 * What a reader sees of who is affected. What a contributor earns is theirs: its rows are shown
 * to admins and viewers (`all`), and to that contributor; the commons, the reserve and the pools
 * are the cooperative's own accounts and shown to everyone.
 */
export function visibleAffected(affected: readonly AffectedParty[], kinds: ReadonlyMap<string, string>, reader: { all: true } | { all: false; party_id: string | null }): AffectedParty[] {
  if (reader.all) return [...affected];
  return affected.filter((a) => a.party_id === reader.party_id || (kinds.get(a.party_id) ?? "contributor") !== "contributor");
}

export type ApprovalRefusal = "own_proposal" | null;

/**
 * Nobody approves their own proposal: an actor who wrote any proposal of the thread (the first
 * or an amendment) cannot approve it, so that an approval is always a second pair of eyes.
 */
export function approvalRefusal(actor: string, thread_proposers: readonly string[]): ApprovalRefusal {
  return thread_proposers.includes(actor) ? "own_proposal" : null;
}
