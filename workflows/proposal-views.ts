// How a proposal reads, for the API (admins, viewers, parties), the public page, and the
// outgoing webhooks: where it stands, the rule in plain words before and after, what changes,
// who it affects (as much as the reader may see), and its thread. Built from rows read once.
import {
  diffRules,
  parseRule,
  proposalStatus,
  ruleInSentences,
  visibleAffected,
  type AffectedParty,
  type ProposalStatus,
  type RuleChange,
  type RuleJson,
} from "../core";
import type { Db } from "../db/client";
import { partiesByIds } from "../db/queries/catalog";
import type { ProposalRecord } from "../db/queries/proposals";
import { getRuleVersion } from "../db/queries/rules";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Who reads: everything (admins, viewers, an endpoint of the cooperative's own), one party, or anyone (the public page). */
export type Reader = { all: true } | { all: false; party_id: string | null };

export type ThreadEntryKind = "proposed" | "amended" | "objected" | "objection_lifted" | "approved" | "held" | "withdrawn" | "activated";

export interface ThreadEntry {
  at: string;
  kind: ThreadEntryKind;
  proposal_id: string;
  actor: string;
  party_id?: string;
  objection_id?: string;
  reason?: string;
  version?: number;
}

/** What every view needs besides the proposal: the clock, the rule's version it changes, the parties' kinds. */
export interface ViewContext {
  now_ms: number;
  base_body: unknown;
  kinds: ReadonlyMap<string, string>;
}

function words(body: unknown): string[] {
  const parsed = parseRule(body);
  return parsed.ok ? ruleInSentences(parsed.rule) : ["(this rule can no longer be read)"];
}

export function statusOf(r: ProposalRecord, now_ms: number): ProposalStatus {
  return proposalStatus(
    {
      stored: r.proposal.status,
      notice_ends_ms: r.proposal.notice_ends_ms,
      standing_objections: r.objections.filter((o) => o.lifted_at_ms === null).length,
      approvals_given: r.approvals.length,
      approvals_required: r.proposal.approvals_required,
      hold_reason: r.proposal.hold_reason,
    },
    now_ms,
  );
}

function changesOf(base: unknown, body: unknown): RuleChange[] {
  return base === null ? [] : diffRules(base as RuleJson, body as RuleJson);
}

export interface PublicProposalView {
  id: string;
  rule_id: string;
  thread_id: string;
  amends: string | null;
  status: ProposalStatus;
  reason: string;
  created_at: string;
  notice_ends: string;
  effective_from: string | null;
  activated_version: number | null;
  closed_at: string | null;
  in_words: string[];
  current_in_words: string[];
  changes: RuleChange[];
  approvals: { required: number; given: number };
  objections: { standing: number; lifted: number };
  affected_count: number;
  affected: AffectedParty[];
  /** The thread's steps, without who took them or why (an objector's words are for the members). */
  steps?: { at: string; kind: ThreadEntryKind; proposal_id: string; version?: number }[];
}

/** What anyone may read: where it stands, what it changes in words, counts; amounts only for the cooperative's own accounts. */
export function publicProposalView(r: ProposalRecord, ctx: ViewContext, thread?: readonly ProposalRecord[]): PublicProposalView {
  const p = r.proposal;
  const standing = r.objections.filter((o) => o.lifted_at_ms === null).length;
  return {
    id: p.id,
    rule_id: p.rule_id,
    thread_id: p.thread_id,
    amends: p.amends,
    status: statusOf(r, ctx.now_ms),
    reason: p.reason,
    created_at: iso(p.created_at_ms) as string,
    notice_ends: iso(p.notice_ends_ms) as string,
    effective_from: iso(p.requested_effective_from_ms),
    activated_version: p.activated_version,
    closed_at: iso(p.closed_at_ms),
    in_words: words(p.body),
    current_in_words: ctx.base_body === null ? [] : words(ctx.base_body),
    changes: changesOf(ctx.base_body, p.body),
    approvals: { required: p.approvals_required, given: r.approvals.length },
    objections: { standing, lifted: r.objections.length - standing },
    affected_count: new Set(p.impact.affected.map((a) => a.party_id)).size,
    affected: visibleAffected(p.impact.affected, ctx.kinds, { all: false, party_id: null }),
    ...(thread === undefined ? {} : { steps: threadEntries(thread).map((e) => ({ at: e.at, kind: e.kind, proposal_id: e.proposal_id, ...(e.version === undefined ? {} : { version: e.version }) })) }),
  };
}

export type ProposalView = ReturnType<typeof proposalView>;

/** What an admin, a viewer or a party reads: everything, but a contributor's amounts only to admins, viewers and that contributor. */
export function proposalView(r: ProposalRecord, ctx: ViewContext, reader: Reader, thread: readonly ProposalRecord[] | null) {
  const p = r.proposal;
  const amendedBy = thread?.find((t) => t.proposal.amends === p.id)?.proposal.id ?? (p.status === "amended" ? (p.close_reason?.replace(/^amended by /, "") ?? null) : null);
  return {
    ...publicProposalView(r, ctx),
    amended_by: amendedBy,
    proposer: p.proposer,
    notice: p.notice,
    base_version: p.base_version,
    closed_by: p.closed_by,
    close_reason: p.close_reason,
    hold_reason: p.hold_reason,
    held_at: iso(p.held_at_ms),
    approvals: { required: p.approvals_required, given: r.approvals.map((a) => ({ by: a.approver, at: iso(a.at_ms) as string })) },
    objections: r.objections.map((o) => ({
      id: o.id,
      party_id: o.party_id,
      reason: o.reason,
      raised_by: o.raised_by,
      raised_at: iso(o.raised_at_ms) as string,
      standing: o.lifted_at_ms === null,
      lifted_at: iso(o.lifted_at_ms),
      lifted_by: o.lifted_by,
    })),
    affected: visibleAffected(p.impact.affected, ctx.kinds, reader),
    replayed: { since: iso(p.impact.since_ms) as string, payments: p.impact.payments, complete: p.impact.complete },
    body: p.body as RuleJson,
    ...(thread === null ? {} : { thread: threadEntries(thread) }),
  };
}

const KIND_ORDER: Record<ThreadEntryKind, number> = { proposed: 0, amended: 0, objected: 1, objection_lifted: 2, approved: 3, held: 4, withdrawn: 5, activated: 5 };

/** Everything that happened in a thread, in order: proposals and amendments, objections and their lifting, approvals, a hold, the end. */
export function threadEntries(thread: readonly ProposalRecord[]): ThreadEntry[] {
  const entries: (ThreadEntry & { at_ms: number })[] = [];
  for (const { proposal: p, objections, approvals } of thread) {
    entries.push({ at_ms: p.created_at_ms, at: "", kind: p.amends === null ? "proposed" : "amended", proposal_id: p.id, actor: p.proposer, reason: p.reason });
    for (const o of objections) {
      entries.push({ at_ms: o.raised_at_ms, at: "", kind: "objected", proposal_id: p.id, actor: o.raised_by, party_id: o.party_id, objection_id: o.id, reason: o.reason });
      if (o.lifted_at_ms !== null) entries.push({ at_ms: o.lifted_at_ms, at: "", kind: "objection_lifted", proposal_id: p.id, actor: o.lifted_by ?? "", party_id: o.party_id, objection_id: o.id });
    }
    for (const a of approvals) entries.push({ at_ms: a.at_ms, at: "", kind: "approved", proposal_id: p.id, actor: a.approver });
    if (p.held_at_ms !== null) entries.push({ at_ms: p.held_at_ms, at: "", kind: "held", proposal_id: p.id, actor: "consent" });
    if (p.status === "withdrawn" && p.closed_at_ms !== null) entries.push({ at_ms: p.closed_at_ms, at: "", kind: "withdrawn", proposal_id: p.id, actor: p.closed_by ?? "", ...(p.close_reason === null ? {} : { reason: p.close_reason }) });
    if (p.status === "activated" && p.closed_at_ms !== null && p.activated_version !== null) entries.push({ at_ms: p.closed_at_ms, at: "", kind: "activated", proposal_id: p.id, actor: "consent", version: p.activated_version });
  }
  return entries
    .sort((a, b) => a.at_ms - b.at_ms || KIND_ORDER[a.kind] - KIND_ORDER[b.kind])
    .map(({ at_ms, ...entry }) => ({ ...entry, at: iso(at_ms) as string }));
}

/** The context of several proposals at once: their rules' base versions, and the kinds of the parties they affect. */
export async function viewContexts(db: Db, records: readonly ProposalRecord[], now_ms: number): Promise<Map<string, ViewContext>> {
  const bases = new Map<string, unknown>();
  for (const { proposal: p } of records) {
    const key = `${p.rule_id}@${p.base_version}`;
    if (!bases.has(key)) bases.set(key, (await getRuleVersion(db, p.rule_id, p.base_version))?.body ?? null);
  }
  const partyIds = [...new Set(records.flatMap((r) => r.proposal.impact.affected.map((a) => a.party_id)))];
  const parties = await partiesByIds(db, partyIds);
  const kinds = new Map([...parties].map(([id, party]) => [id, party.kind as string]));
  return new Map(records.map((r) => [r.proposal.id, { now_ms, base_body: bases.get(`${r.proposal.rule_id}@${r.proposal.base_version}`) ?? null, kinds }]));
}
