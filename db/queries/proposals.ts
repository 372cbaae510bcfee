// Proposals to change a rule, their objections and approvals: reads, and the conditional
// statements that change them. Every change is guarded by the state it acts on ("still open",
// "still standing"), checked when its batch runs, so two people acting at once cannot both win;
// the callers put the audit row and the webhook deliveries in the same batch.
import { and, asc, desc, eq, inArray, isNull, lte, sql, type SQL } from "drizzle-orm";
import type { AffectedParty, StoredProposalStatus } from "../../core";
import { byChunks, type Db } from "../client";
import { proposalApprovals, proposalObjections, proposals, ruleVersions } from "../schema";
import { insertIf, type OnlyIf } from "./conditional";
import type { NewRuleVersion } from "./rules";

/** What a proposal's what-if found: over which payments, and who it affects. */
export interface ProposalImpact {
  since_ms: number;
  payments: number;
  /** False when the last 90 days held more payment lines than a replay takes: the oldest were left out. */
  complete: boolean;
  affected: AffectedParty[];
}

export interface ProposalRow {
  id: string;
  rule_id: string;
  thread_id: string;
  amends: string | null;
  base_version: number;
  body: unknown;
  content_hash: string;
  reason: string;
  proposer: string;
  notice: string;
  notice_ends_ms: number;
  requested_effective_from_ms: number | null;
  approvals_required: number;
  impact: ProposalImpact;
  status: StoredProposalStatus;
  hold_reason: string | null;
  held_at_ms: number | null;
  closed_by: string | null;
  close_reason: string | null;
  closed_at_ms: number | null;
  activated_version: number | null;
  created_at_ms: number;
}

export interface ObjectionRow {
  id: string;
  proposal_id: string;
  party_id: string;
  reason: string;
  raised_by: string;
  raised_at_ms: number;
  lifted_at_ms: number | null;
  lifted_by: string | null;
}

export interface ApprovalRow {
  proposal_id: string;
  approver: string;
  at_ms: number;
}

/** A proposal with what stands on it now. */
export interface ProposalRecord {
  proposal: ProposalRow;
  objections: ObjectionRow[];
  approvals: ApprovalRow[];
}

function proposalRow(r: typeof proposals.$inferSelect): ProposalRow {
  return {
    id: r.id,
    rule_id: r.ruleId,
    thread_id: r.threadId,
    amends: r.amends,
    base_version: r.baseVersion,
    body: JSON.parse(r.body) as unknown,
    content_hash: r.contentHash,
    reason: r.reason,
    proposer: r.proposer,
    notice: r.notice,
    notice_ends_ms: r.noticeEndsMs,
    requested_effective_from_ms: r.requestedEffectiveFromMs,
    approvals_required: r.approvalsRequired,
    impact: JSON.parse(r.impact) as ProposalImpact,
    status: r.status,
    hold_reason: r.holdReason,
    held_at_ms: r.heldAtMs,
    closed_by: r.closedBy,
    close_reason: r.closeReason,
    closed_at_ms: r.closedAtMs,
    activated_version: r.activatedVersion,
    created_at_ms: r.createdAtMs,
  };
}

const objectionColumns = {
  id: proposalObjections.id,
  proposal_id: proposalObjections.proposalId,
  party_id: proposalObjections.partyId,
  reason: proposalObjections.reason,
  raised_by: proposalObjections.raisedBy,
  raised_at_ms: proposalObjections.raisedAtMs,
  lifted_at_ms: proposalObjections.liftedAtMs,
  lifted_by: proposalObjections.liftedBy,
};

const approvalColumns = { proposal_id: proposalApprovals.proposalId, approver: proposalApprovals.approver, at_ms: proposalApprovals.atMs };

export async function getProposal(db: Db, id: string): Promise<ProposalRow | undefined> {
  const [row] = await db.select().from(proposals).where(eq(proposals.id, id));
  return row && proposalRow(row);
}

/** The objections and approvals of some proposals, oldest first. */
export async function standingsOf(db: Db, ids: readonly string[]): Promise<{ objections: ObjectionRow[]; approvals: ApprovalRow[] }> {
  const [objections, approvals] = await Promise.all([
    byChunks(ids, (chunk) => db.select(objectionColumns).from(proposalObjections).where(inArray(proposalObjections.proposalId, chunk)).orderBy(asc(proposalObjections.raisedAtMs), asc(proposalObjections.id))),
    byChunks(ids, (chunk) => db.select(approvalColumns).from(proposalApprovals).where(inArray(proposalApprovals.proposalId, chunk)).orderBy(asc(proposalApprovals.atMs), asc(proposalApprovals.approver))),
  ]);
  return { objections, approvals };
}

export async function getProposalRecord(db: Db, id: string): Promise<ProposalRecord | undefined> {
  const proposal = await getProposal(db, id);
  if (!proposal) return undefined;
  return { proposal, ...(await standingsOf(db, [proposal.id])) };
}

/** Every proposal of a thread (the first and its amendments), oldest first, with their objections and approvals. */
export async function threadRecords(db: Db, threadId: string): Promise<ProposalRecord[]> {
  const rows = (await db.select().from(proposals).where(eq(proposals.threadId, threadId)).orderBy(asc(proposals.createdAtMs), asc(proposals.id)).limit(200)).map(proposalRow);
  const { objections, approvals } = await standingsOf(db, rows.map((r) => r.id));
  return rows.map((proposal) => ({ proposal, objections: objections.filter((o) => o.proposal_id === proposal.id), approvals: approvals.filter((a) => a.proposal_id === proposal.id) }));
}

export async function listProposalRecords(db: Db, filter: { status?: StoredProposalStatus; rule_id?: string }, limit: number): Promise<ProposalRecord[]> {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(proposals.status, filter.status));
  if (filter.rule_id) where.push(eq(proposals.ruleId, filter.rule_id));
  const rows = (await db.select().from(proposals).where(and(...where)).orderBy(desc(proposals.createdAtMs), desc(proposals.id)).limit(limit)).map(proposalRow);
  const { objections, approvals } = await standingsOf(db, rows.map((r) => r.id));
  return rows.map((proposal) => ({ proposal, objections: objections.filter((o) => o.proposal_id === proposal.id), approvals: approvals.filter((a) => a.proposal_id === proposal.id) }));
}

export async function openProposalOf(db: Db, ruleId: string): Promise<string | undefined> {
  const [row] = await db.select({ id: proposals.id }).from(proposals).where(and(eq(proposals.ruleId, ruleId), eq(proposals.status, "open")));
  return row?.id;
}

/**
 * Open proposals whose notice has ended and that nothing visibly holds (no standing objection):
 * what the minute sweep tries to activate, in case a proposal's workflow never ran.
 */
export async function dueProposalIds(db: Db, nowMs: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: proposals.id })
    .from(proposals)
    .where(and(eq(proposals.status, "open"), lte(proposals.noticeEndsMs, nowMs), sql`not exists (select 1 from ${proposalObjections} where ${proposalObjections.proposalId} = ${proposals.id} and ${proposalObjections.liftedAtMs} is null)`, sql`(select count(*) from ${proposalApprovals} where ${proposalApprovals.proposalId} = ${proposals.id}) >= ${proposals.approvalsRequired}`))
    .orderBy(asc(proposals.noticeEndsMs))
    .limit(limit);
  return rows.map((r) => r.id);
}

// ---- writing ------------------------------------------------------------------------------

export type NewProposal = Omit<ProposalRow, "status" | "hold_reason" | "held_at_ms" | "closed_by" | "close_reason" | "closed_at_ms" | "activated_version">;

function proposalValues(p: NewProposal): typeof proposals.$inferSelect {
  return {
    id: p.id,
    ruleId: p.rule_id,
    threadId: p.thread_id,
    amends: p.amends,
    baseVersion: p.base_version,
    body: JSON.stringify(p.body),
    contentHash: p.content_hash,
    reason: p.reason,
    proposer: p.proposer,
    notice: p.notice,
    noticeEndsMs: p.notice_ends_ms,
    requestedEffectiveFromMs: p.requested_effective_from_ms,
    approvalsRequired: p.approvals_required,
    impact: JSON.stringify(p.impact),
    status: "open",
    holdReason: null,
    heldAtMs: null,
    closedBy: null,
    closeReason: null,
    closedAtMs: null,
    activatedVersion: null,
    createdAtMs: p.created_at_ms,
  };
}

/** A new proposal, open. A second open proposal on the same rule violates `proposals_one_open_per_rule`. */
export function insertProposalStatement(db: Db, p: NewProposal) {
  return db.insert(proposals).values(proposalValues(p));
}

/** This proposal exists: the condition under which what records it (audit, deliveries) is written. */
export const proposalExists = (id: string): OnlyIf => ({ table: proposals, where: eq(proposals.id, id) });

/** The proposal is still open: what every action on it checks when its batch runs. */
export const proposalOpen = (id: string): OnlyIf => ({ table: proposals, where: and(eq(proposals.id, id), eq(proposals.status, "open")) });

/**
 * An amendment: the old proposal is closed as amended, then the new one is written only if this
 * batch is what closed it (its close carries this time and actor, and nothing amends it yet);
 * otherwise the batch writes nothing of it.
 */
export function amendStatements(db: Db, oldId: string, next: NewProposal, actor: string, nowMs: number) {
  const closedHere = and(
    eq(proposals.id, oldId),
    eq(proposals.status, "amended"),
    eq(proposals.closedAtMs, nowMs),
    eq(proposals.closedBy, actor),
    sql`not exists (select 1 from ${proposals} as later where later.amends = ${oldId})`,
  );
  return [
    db
      .update(proposals)
      .set({ status: "amended", closedBy: actor, closedAtMs: nowMs, closeReason: `amended by ${next.id}` })
      .where(and(eq(proposals.id, oldId), eq(proposals.status, "open"))),
    insertIf(db, proposals, proposalValues(next), { table: proposals, where: closedHere }),
  ] as const;
}

export function withdrawStatement(db: Db, id: string, actor: string, reason: string | null, nowMs: number) {
  return db
    .update(proposals)
    .set({ status: "withdrawn", closedBy: actor, closeReason: reason, closedAtMs: nowMs })
    .where(and(eq(proposals.id, id), eq(proposals.status, "open")))
    .returning({ id: proposals.id });
}

/** An objection, written only while its proposal is open; a party's second standing objection violates `proposal_objections_standing`. */
export function insertObjectionStatement(db: Db, o: Omit<ObjectionRow, "lifted_at_ms" | "lifted_by">) {
  return insertIf(
    db,
    proposalObjections,
    { id: o.id, proposalId: o.proposal_id, partyId: o.party_id, reason: o.reason, raisedBy: o.raised_by, raisedAtMs: o.raised_at_ms, liftedAtMs: null, liftedBy: null },
    proposalOpen(o.proposal_id),
  );
}

export const objectionExists = (id: string): OnlyIf => ({ table: proposalObjections, where: eq(proposalObjections.id, id) });

/** The objection still stands and its proposal is still open: what lifting it checks. */
export const objectionLiftable = (proposalId: string, objectionId: string): OnlyIf => ({
  table: proposalObjections,
  where: and(eq(proposalObjections.id, objectionId), eq(proposalObjections.proposalId, proposalId), isNull(proposalObjections.liftedAtMs), sql`exists (select 1 from ${proposals} where ${proposals.id} = ${proposalId} and ${proposals.status} = 'open')`),
});

export function liftObjectionStatement(db: Db, proposalId: string, objectionId: string, actor: string, nowMs: number) {
  return db.update(proposalObjections).set({ liftedAtMs: nowMs, liftedBy: actor }).where(objectionLiftable(proposalId, objectionId).where).returning({ id: proposalObjections.id });
}

/** An approval, written only while its proposal is open; a second by the same admin violates the primary key. */
export function insertApprovalStatement(db: Db, a: ApprovalRow) {
  return insertIf(db, proposalApprovals, { proposalId: a.proposal_id, approver: a.approver, atMs: a.at_ms }, proposalOpen(a.proposal_id));
}

export const approvalExists = (proposalId: string, approver: string): OnlyIf => ({ table: proposalApprovals, where: and(eq(proposalApprovals.proposalId, proposalId), eq(proposalApprovals.approver, approver)) });

/** Marks that the notice ended with something holding the proposal: true only the first time. */
export async function markHeld(db: Db, id: string, nowMs: number): Promise<boolean> {
  const rows = await db.update(proposals).set({ heldAtMs: nowMs }).where(and(eq(proposals.id, id), eq(proposals.status, "open"), isNull(proposals.heldAtMs))).returning({ id: proposals.id });
  return rows.length === 1;
}

/** Records why a due proposal could not become a version (its rule no longer applies), or clears it. */
export async function setHoldReason(db: Db, id: string, reason: string | null): Promise<void> {
  await db.update(proposals).set({ holdReason: reason }).where(and(eq(proposals.id, id), eq(proposals.status, "open")));
}

/**
 * What makes a proposal become a version when its batch runs: still open, its notice over, no
 * objection standing, and enough approvals. Read in SQL at write time, so an objection raised a
 * moment before is never passed over.
 */
export function readyToActivate(id: string, nowMs: number): OnlyIf {
  return {
    table: proposals,
    where: and(
      eq(proposals.id, id),
      eq(proposals.status, "open"),
      lte(proposals.noticeEndsMs, nowMs),
      sql`not exists (select 1 from ${proposalObjections} where ${proposalObjections.proposalId} = ${id} and ${proposalObjections.liftedAtMs} is null)`,
      sql`(select count(*) from ${proposalApprovals} where ${proposalApprovals.proposalId} = ${id}) >= ${proposals.approvalsRequired}`,
    ),
  };
}

/**
 * The version a proposal becomes, written only if it is ready (above), keyed by the proposal
 * (`rule_versions_proposal` is unique: activated twice, one version), and the proposal closed
 * as activated only if that version exists.
 */
export function activationStatements(db: Db, p: { id: string; rule_id: string }, version: NewRuleVersion, nowMs: number) {
  return [
    insertIf(
      db,
      ruleVersions,
      {
        ruleId: p.rule_id,
        version: version.version,
        effectiveFromMs: version.effective_from_ms,
        body: JSON.stringify(version.body),
        contentHash: version.content_hash,
        author: version.author,
        reason: version.reason,
        proposalId: p.id,
        createdAtMs: nowMs,
      },
      readyToActivate(p.id, nowMs),
    ),
    db
      .update(proposals)
      .set({ status: "activated", activatedVersion: version.version, closedBy: "consent", closedAtMs: nowMs, holdReason: null })
      .where(and(eq(proposals.id, p.id), eq(proposals.status, "open"), sql`exists (select 1 from ${ruleVersions} where ${ruleVersions.proposalId} = ${p.id})`))
      .returning({ id: proposals.id }),
  ] as const;
}
