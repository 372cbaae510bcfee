// Rules changed by consent, what the API and the proposal workflow both do: propose and amend a
// rule change (with who it affects, from a what-if over the last 90 days), object and lift an
// objection, approve, withdraw, and settle a proposal whose notice has ended (it becomes a rule
// version unless an objection or missing approvals hold it). Each action is one D1 batch with
// its audit row and its webhook deliveries, guarded by the state it acts on; the core decides.
import {
  activationDecision,
  activationEffectiveFrom,
  affectedParties,
  approvalRefusal,
  contentHash,
  effectiveFrom,
  parseDuration,
  parseRule,
  replayRules,
  type RuleError,
} from "../core";
import { database, isUniqueViolation, type Db } from "../db/client";
import { insertAuditStatement } from "../db/queries/audit";
import { offersByIds } from "../db/queries/catalog";
import {
  activationStatements,
  amendStatements,
  approvalExists,
  dueProposalIds,
  getProposalRecord,
  insertApprovalStatement,
  insertObjectionStatement,
  insertProposalStatement,
  liftObjectionStatement,
  markHeld,
  objectionExists,
  objectionLiftable,
  openProposalOf,
  proposalExists,
  proposalOpen,
  readyToActivate,
  setHoldReason,
  threadRecords,
  withdrawStatement,
  type NewProposal,
  type ObjectionRow,
  type ProposalImpact,
  type ProposalRecord,
  type ProposalRow,
} from "../db/queries/proposals";
import { linesInScopePaidSince } from "../db/queries/replay";
import { getRule, latestRuleVersion, type RuleRow, type RuleVersionRow } from "../db/queries/rules";
import { unstartedDeliveryIds } from "../db/queries/webhooks";
import type { Env } from "./env";
import { deliveryStatements, notify, startDeliveries, type ProposalEvent } from "./outgoing-webhooks";
import { threadEntries } from "./proposal-views";
import { checkRuleBody } from "./rule-validity";

/** How far back `affected` looks: the payments of the last 90 days. */
export const IMPACT_DAYS = 90;
/** Payment lines a proposal's what-if replays at most; beyond, the oldest are left out and `complete` is false. */
export const MAX_IMPACT_LINES = 5_000;

export type ConsentErrorCode = "not_found" | "invalid_request" | "invalid_rule" | "conflict" | "proposal_pending" | "proposal_closed" | "not_affected" | "self_approval" | "forbidden";

/** A refusal the API turns into a problem with the same code (workers/api/proposals.ts). */
export class ConsentError extends Error {
  constructor(
    readonly code: ConsentErrorCode,
    message: string,
    readonly errors: { path: string; message: string; code?: string }[] = [],
  ) {
    super(message);
    this.name = "ConsentError";
  }
}

const randomHex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

function closedError(p: ProposalRow): ConsentError {
  const how = p.status === "activated" ? `became version ${p.activated_version ?? "?"} of rule ${p.rule_id}` : p.status === "amended" ? `was amended (${p.close_reason ?? ""})` : "was withdrawn";
  return new ConsentError("proposal_closed", `proposal ${p.id} ${how}: it takes no more objections, approvals or changes`);
}

async function existingRecord(db: Db, id: string): Promise<ProposalRecord> {
  const record = await getProposalRecord(db, id);
  if (!record) throw new ConsentError("not_found", `no proposal ${id}`);
  return record;
}

async function openRecord(db: Db, id: string): Promise<ProposalRecord> {
  const record = await existingRecord(db, id);
  if (record.proposal.status !== "open") throw closedError(record.proposal);
  return record;
}

function ruleRefused(errors: readonly RuleError[]): ConsentError {
  const first = errors[0];
  return new ConsentError(
    "invalid_rule",
    `the rule cannot be applied: ${first ? `${first.path}: ${first.message}` : "invalid"}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`,
    errors.map((e) => ({ path: e.path, message: e.message, code: e.code })),
  );
}

/** Who a body would affect: replayed over the last 90 days of the rule's payments against the version it changes. */
async function impactOf(db: Db, rule: RuleRow, base: RuleVersionRow, body: unknown, nowMs: number): Promise<ProposalImpact> {
  const proposed = parseRule(body);
  if (!proposed.ok) throw ruleRefused(proposed.errors);
  const current = parseRule(base.body);
  const since_ms = nowMs - IMPACT_DAYS * 86_400_000;
  const { lines, complete } = await linesInScopePaidSince(db, rule.scope, Math.floor(since_ms / 1000), MAX_IMPACT_LINES);
  const offers = await offersByIds(db, [...new Set(lines.map((l) => l.offer_id))]);
  // Both columns with the offers' current contributors, as the what-if does: like with like.
  const replay = replayRules(
    lines.map((l) => ({ ...l, contributors: offers.get(l.offer_id)?.contributors ?? [] })),
    current.ok ? current.rule : null,
    proposed.rule,
  );
  return { since_ms, payments: replay.payments, complete, affected: affectedParties(replay.totals) };
}

export interface ProposalInput {
  body: unknown;
  reason: string;
  effective_from?: string | undefined;
}

/** Creates the proposal's workflow; a failure is logged and the minute sweep settles the proposal when due. */
async function startProposalWorkflow(env: Env, p: { id: string; notice_ends_ms: number }): Promise<void> {
  try {
    await env.PROPOSAL.create({ id: p.id, params: { proposal_id: p.id, notice_ends_ms: p.notice_ends_ms } });
  } catch (error) {
    console.error(JSON.stringify({ msg: "proposal workflow not started; the sweep settles it when due", proposal_id: p.id, error: error instanceof Error ? error.message : String(error) }));
  }
}

/**
 * A proposal (or, with `amends`, an amendment that keeps the thread and closes the one it
 * replaces): checked like a new version, placed in time (its notice from now; a requested
 * `effective_from` never before the notice ends), with who it affects.
 */
export async function propose(env: Env, ruleId: string, input: ProposalInput, actor: string, nowMs: number, amends?: ProposalRecord): Promise<ProposalRecord> {
  const db = database(env.DB);
  const rule = await getRule(db, ruleId);
  if (!rule) throw new ConsentError("not_found", `no rule ${ruleId}`);
  if (!amends) {
    const pending = await openProposalOf(db, rule.id);
    if (pending) throw new ConsentError("proposal_pending", `proposal ${pending} to change rule ${rule.id} is open: amend it (POST /api/v1/proposals/${pending}/amendments) or withdraw it first`);
  }
  const checked = await checkRuleBody(db, env, input.body, rule.scope);
  if (!checked.ok) throw ruleRefused(checked.errors);
  const base = await latestRuleVersion(db, rule.id);
  if (!base) throw new Error(`rule ${rule.id} has no version`);
  const hash = await contentHash(input.body);
  // Hashed again rather than read: what the two bodies say is what is compared.
  if (hash === (await contentHash(base.body))) throw new ConsentError("conflict", `the body is version ${base.version} of rule ${rule.id} already: nothing to propose`, [{ path: "body", message: "same as the latest version" }]);

  const notice = parseDuration(rule.governance.notice);
  if (!notice.ok) throw new Error(`rule ${rule.id} has a notice that is not a duration: ${notice.message}`);
  const notice_ends_ms = nowMs + notice.ms;
  let requested_ms: number | null = null;
  if (input.effective_from !== undefined) {
    const at = effectiveFrom(input.effective_from, nowMs, base.effective_from_ms);
    if (!at.ok) throw new ConsentError("invalid_request", `effective_from ${at.message}`, [{ path: "effective_from", message: at.message, code: at.code }]);
    if (at.effective_from_ms < notice_ends_ms) {
      const message = `is before the notice ends (${new Date(notice_ends_ms).toISOString()}, ${rule.governance.notice} from now): a change takes effect only once its notice is over`;
      throw new ConsentError("invalid_request", `effective_from ${message}`, [{ path: "effective_from", message, code: "before_notice_ends" }]);
    }
    requested_ms = at.effective_from_ms;
  }

  const next: NewProposal = {
    id: `prop_${randomHex(8)}`,
    rule_id: rule.id,
    thread_id: amends?.proposal.thread_id ?? "",
    amends: amends?.proposal.id ?? null,
    base_version: base.version,
    body: input.body,
    content_hash: hash,
    reason: input.reason,
    proposer: actor,
    notice: rule.governance.notice,
    notice_ends_ms,
    requested_effective_from_ms: requested_ms,
    approvals_required: rule.governance.approvals,
    impact: await impactOf(db, rule, base, input.body, nowMs),
    created_at_ms: nowMs,
  };
  if (next.thread_id === "") next.thread_id = next.id;
  const record: ProposalRecord = { proposal: { ...next, status: "open", hold_reason: null, held_at_ms: null, closed_by: null, close_reason: null, closed_at_ms: null, activated_version: null }, objections: [], approvals: [] };
  const written = proposalExists(next.id);
  const event: ProposalEvent = amends
    ? { type: "proposal.amended", cause: next.id, record, also: [...amends.proposal.impact.affected.map((a) => a.party_id), ...amends.objections.map((o) => o.party_id)] }
    : { type: "proposal.created", cause: next.id, record };
  const deliveries = await deliveryStatements(db, event, nowMs, written);
  const audit = { actor, entity_type: "proposal" as const, before: null, after: { ...next, impact: undefined, affected: next.impact.affected } };
  try {
    if (amends) {
      const [close, insert] = amendStatements(db, amends.proposal.id, next, actor, nowMs);
      await db.batch([
        close,
        insert,
        insertAuditStatement(db, { ...audit, action: "proposal.amend", entity_id: amends.proposal.id, before: { status: "open" }, after: { status: "amended", amended_by: next.id } }, nowMs, written),
        insertAuditStatement(db, { ...audit, action: "proposal.create", entity_id: next.id }, nowMs, written),
        ...deliveries.statements,
      ]);
    } else {
      await db.batch([insertProposalStatement(db, next), insertAuditStatement(db, { ...audit, action: "proposal.create", entity_id: next.id }, nowMs), ...deliveries.statements]);
    }
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    if (amends) throw new ConsentError("proposal_closed", `proposal ${amends.proposal.id} was amended or closed by someone else meanwhile`);
    throw new ConsentError("proposal_pending", `another proposal to change rule ${rule.id} was opened meanwhile`);
  }
  const stored = await getProposalRecord(db, next.id);
  if (!stored) {
    // The amendment's batch found the proposal it amends no longer open, and wrote nothing.
    const old = amends && (await getProposalRecord(db, amends.proposal.id));
    throw old ? closedError(old.proposal) : new ConsentError("proposal_closed", `proposal ${amends?.proposal.id ?? ""} is closed`);
  }
  await startProposalWorkflow(env, next);
  await startDeliveries(env, db, deliveries.ids);
  return stored;
}

export async function amend(env: Env, proposalId: string, input: ProposalInput, actor: string, nowMs: number): Promise<ProposalRecord> {
  const db = database(env.DB);
  const old = await openRecord(db, proposalId);
  return propose(env, old.proposal.rule_id, input, actor, nowMs, old);
}

/** An affected party objects, with a reason (its own token, or an admin on its behalf). */
export async function object(env: Env, proposalId: string, party_id: string, reason: string, actor: string, nowMs: number): Promise<{ record: ProposalRecord; objection: ObjectionRow }> {
  const db = database(env.DB);
  const record = await openRecord(db, proposalId);
  if (!record.proposal.impact.affected.some((a) => a.party_id === party_id)) {
    throw new ConsentError("not_affected", `party ${party_id} is not affected by proposal ${proposalId} (its share of the last ${IMPACT_DAYS} days' payments would not change): only an affected party may object`);
  }
  const standing = record.objections.find((o) => o.party_id === party_id && o.lifted_at_ms === null);
  if (standing) throw new ConsentError("conflict", `party ${party_id} already objects to proposal ${proposalId} (${standing.id}): lift that objection to raise another`);
  const objection: ObjectionRow = { id: `obj_${randomHex(8)}`, proposal_id: proposalId, party_id, reason, raised_by: actor, raised_at_ms: nowMs, lifted_at_ms: null, lifted_by: null };
  const after: ProposalRecord = { ...record, objections: [...record.objections, objection] };
  const written = objectionExists(objection.id);
  const deliveries = await deliveryStatements(db, { type: "proposal.objected", cause: objection.id, record: after, objection }, nowMs, written);
  try {
    await db.batch([
      insertObjectionStatement(db, objection),
      insertAuditStatement(db, { actor, action: "proposal.object", entity_type: "proposal", entity_id: proposalId, before: null, after: { objection_id: objection.id, party_id, reason } }, nowMs, written),
      ...deliveries.statements,
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConsentError("conflict", `party ${party_id} already objects to proposal ${proposalId}`);
    throw error;
  }
  const stored = await existingRecord(db, proposalId);
  if (!stored.objections.some((o) => o.id === objection.id)) throw closedError(stored.proposal);
  await startDeliveries(env, db, deliveries.ids);
  return { record: stored, objection };
}

/**
 * Lifts an objection (the objector's own token, or an admin: `party_id` null). Once the notice
 * is over, the proposal is settled at once: lifting the last objection makes it a version.
 */
export async function lift(env: Env, proposalId: string, objectionId: string, who: { actor: string; party_id: string | null }, nowMs: number): Promise<ProposalRecord> {
  const db = database(env.DB);
  const record = await existingRecord(db, proposalId);
  const objection = record.objections.find((o) => o.id === objectionId);
  if (!objection) throw new ConsentError("not_found", `proposal ${proposalId} has no objection ${objectionId}`);
  if (who.party_id !== null && who.party_id !== objection.party_id) throw new ConsentError("forbidden", `objection ${objectionId} is party ${objection.party_id}'s: only it, or an admin, may lift it`);
  if (record.proposal.status !== "open") throw closedError(record.proposal);
  if (objection.lifted_at_ms !== null) throw new ConsentError("conflict", `objection ${objectionId} was lifted already`);
  const lifted: ObjectionRow = { ...objection, lifted_at_ms: nowMs, lifted_by: who.actor };
  const after: ProposalRecord = { ...record, objections: record.objections.map((o) => (o.id === objectionId ? lifted : o)) };
  const liftable = objectionLiftable(proposalId, objectionId);
  const deliveries = await deliveryStatements(db, { type: "proposal.objection_lifted", cause: objectionId, record: after, objection: lifted }, nowMs, liftable);
  const results = await db.batch([
    insertAuditStatement(db, { actor: who.actor, action: "proposal.lift", entity_type: "proposal", entity_id: proposalId, before: { objection_id: objectionId, standing: true }, after: { objection_id: objectionId, standing: false } }, nowMs, liftable),
    ...deliveries.statements,
    liftObjectionStatement(db, proposalId, objectionId, who.actor, nowMs),
  ]);
  const updated = results.at(-1) as unknown[];
  if (updated.length === 0) {
    const now = await existingRecord(db, proposalId);
    if (now.proposal.status !== "open") throw closedError(now.proposal);
    throw new ConsentError("conflict", `objection ${objectionId} was lifted already`);
  }
  await startDeliveries(env, db, deliveries.ids);
  if (nowMs >= record.proposal.notice_ends_ms) await settleProposal(env, proposalId, nowMs);
  return existingRecord(db, proposalId);
}

/** An admin's approval; never the author of any proposal of the thread. Once the notice is over, the last approval settles it at once. */
export async function approve(env: Env, proposalId: string, actor: string, nowMs: number): Promise<ProposalRecord> {
  const db = database(env.DB);
  const record = await openRecord(db, proposalId);
  const proposers = (await threadRecords(db, record.proposal.thread_id)).map((r) => r.proposal.proposer);
  if (approvalRefusal(actor, proposers) === "own_proposal") {
    throw new ConsentError("self_approval", `${actor} proposed ${record.proposal.proposer === actor ? "this proposal" : "a proposal of this thread"}: nobody approves their own proposal; another admin must`);
  }
  if (record.approvals.some((a) => a.approver === actor)) throw new ConsentError("conflict", `${actor} has approved proposal ${proposalId} already`);
  const approval = { proposal_id: proposalId, approver: actor, at_ms: nowMs };
  const written = approvalExists(proposalId, actor);
  const deliveries = await deliveryStatements(db, { type: "proposal.approved", cause: `${proposalId}\n${actor}`, record: { ...record, approvals: [...record.approvals, approval] } }, nowMs, written);
  try {
    await db.batch([
      insertApprovalStatement(db, approval),
      insertAuditStatement(db, { actor, action: "proposal.approve", entity_type: "proposal", entity_id: proposalId, before: null, after: { approvals: record.approvals.length + 1, required: record.proposal.approvals_required } }, nowMs, written),
      ...deliveries.statements,
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConsentError("conflict", `${actor} has approved proposal ${proposalId} already`);
    throw error;
  }
  const stored = await existingRecord(db, proposalId);
  if (!stored.approvals.some((a) => a.approver === actor)) throw closedError(stored.proposal);
  await startDeliveries(env, db, deliveries.ids);
  if (nowMs >= record.proposal.notice_ends_ms) await settleProposal(env, proposalId, nowMs);
  return existingRecord(db, proposalId);
}

export async function withdraw(env: Env, proposalId: string, actor: string, reason: string | null, nowMs: number): Promise<ProposalRecord> {
  const db = database(env.DB);
  const record = await openRecord(db, proposalId);
  const after: ProposalRecord = { ...record, proposal: { ...record.proposal, status: "withdrawn", closed_by: actor, close_reason: reason, closed_at_ms: nowMs } };
  const open = proposalOpen(proposalId);
  const deliveries = await deliveryStatements(db, { type: "proposal.withdrawn", cause: proposalId, record: after }, nowMs, open);
  const results = await db.batch([
    insertAuditStatement(db, { actor, action: "proposal.withdraw", entity_type: "proposal", entity_id: proposalId, before: { status: "open" }, after: { status: "withdrawn", reason } }, nowMs, open),
    ...deliveries.statements,
    withdrawStatement(db, proposalId, actor, reason, nowMs),
  ]);
  const updated = results.at(-1) as unknown[];
  const stored = await existingRecord(db, proposalId);
  if (updated.length === 0) throw closedError(stored.proposal);
  await startDeliveries(env, db, deliveries.ids);
  return stored;
}

export type Settlement =
  | { outcome: "activated"; version: number; effective_from_ms: number }
  | { outcome: "already_activated"; version: number }
  | { outcome: "closed"; status: string }
  | { outcome: "notice_running"; notice_ends_ms: number }
  | { outcome: "held"; why: "objection_stands" | "approvals_missing" | "rule_refused"; detail?: string }
  | { outcome: "gone" };

/** Tries this many times when another version took the number meanwhile. */
const MAX_VERSION_RACES = 3;

/**
 * A proposal whose notice may have ended: made a version if nothing holds it, else marked held
 * (once, and told). Idempotent: the version is keyed by the proposal, so settling twice, or at
 * once from the workflow, a lifted objection and the sweep, writes one version.
 */
export async function settleProposal(env: Env, proposalId: string, nowMs: number): Promise<Settlement> {
  const db = database(env.DB);
  for (let race = 1; ; race++) {
    const record = await getProposalRecord(db, proposalId);
    if (!record) return { outcome: "gone" };
    const p = record.proposal;
    if (p.status === "activated") {
      // The activation may have been written by a run that stopped before telling anyone: tell (once per endpoint).
      await notify(env, db, { type: "proposal.activated", cause: p.id, record }, nowMs);
      return { outcome: "already_activated", version: p.activated_version ?? 0 };
    }
    const decision = activationDecision(
      { stored: p.status, notice_ends_ms: p.notice_ends_ms, standing_objections: record.objections.filter((o) => o.lifted_at_ms === null).length, approvals_given: record.approvals.length, approvals_required: p.approvals_required, hold_reason: p.hold_reason },
      nowMs,
    );
    if (!decision.activate) {
      if (decision.why === "closed") return { outcome: "closed", status: p.status };
      if (decision.why === "notice_running") return { outcome: "notice_running", notice_ends_ms: p.notice_ends_ms };
      await heldAtNoticeEnd(env, db, record, nowMs);
      return { outcome: "held", why: decision.why };
    }
    const rule = await getRule(db, p.rule_id);
    if (!rule) return { outcome: "gone" };
    const checked = await checkRuleBody(db, env, p.body, rule.scope);
    if (!checked.ok) {
      const detail = `its rule cannot be applied any more: ${checked.errors[0]?.path ?? ""}: ${checked.errors[0]?.message ?? "invalid"}; amend or withdraw it`;
      if (p.hold_reason !== detail) await setHoldReason(db, p.id, detail);
      await heldAtNoticeEnd(env, db, { ...record, proposal: { ...p, hold_reason: detail } }, nowMs);
      return { outcome: "held", why: "rule_refused", detail };
    }
    const latest = await latestRuleVersion(db, p.rule_id);
    if (!latest) return { outcome: "gone" };
    const version = {
      version: latest.version + 1,
      effective_from_ms: activationEffectiveFrom({ now_ms: nowMs, notice_ends_ms: p.notice_ends_ms, requested_ms: p.requested_effective_from_ms, previous_ms: latest.effective_from_ms }),
      body: p.body,
      content_hash: p.content_hash,
      author: p.proposer,
      reason: p.reason,
    };
    const thread = threadEntries(await threadRecords(db, p.thread_id));
    const ready = readyToActivate(p.id, nowMs);
    const [versionInsert, close] = activationStatements(db, p, version, nowMs);
    try {
      await db.batch([
        insertAuditStatement(db, { actor: "consent", action: "rule.version", entity_type: "rule", entity_id: p.rule_id, before: latest, after: { ...version, proposal_id: p.id, thread } }, nowMs, ready),
        insertAuditStatement(db, { actor: "consent", action: "proposal.activate", entity_type: "proposal", entity_id: p.id, before: { status: "open" }, after: { status: "activated", rule_id: p.rule_id, version: version.version, effective_from_ms: version.effective_from_ms } }, nowMs, ready),
        versionInsert,
        close,
      ]);
    } catch (error) {
      // Another version took the number (written directly, or this proposal activated at the same moment): read again.
      if (isUniqueViolation(error) && race < MAX_VERSION_RACES) continue;
      throw error;
    }
    const after = await getProposalRecord(db, p.id);
    if (after?.proposal.status !== "activated") continue; // something held it between the read and the write: decide again
    await notify(env, db, { type: "proposal.activated", cause: p.id, record: after }, nowMs);
    return { outcome: "activated", version: version.version, effective_from_ms: version.effective_from_ms };
  }
}

/**
 * A proposal found held once its notice is over: the first time is recorded in its thread, and
 * told (once per endpoint: the event is keyed by the proposal, so telling it again, after a
 * step that stopped half-way, sends nothing twice).
 */
async function heldAtNoticeEnd(env: Env, db: Db, record: ProposalRecord, nowMs: number): Promise<void> {
  if (nowMs < record.proposal.notice_ends_ms) return;
  const first = record.proposal.held_at_ms === null && (await markHeld(db, record.proposal.id, nowMs));
  const held_at_ms = first ? nowMs : record.proposal.held_at_ms;
  await notify(env, db, { type: "proposal.held", cause: record.proposal.id, record: { ...record, proposal: { ...record.proposal, held_at_ms } } }, nowMs);
}

/** Proposals settled per minute sweep at most. */
const SWEEP_PROPOSALS = 20;

/**
 * The minute sweep's part: settles due proposals whose workflow never ran (or gave up), and
 * starts deliveries whose workflow could not be created a minute ago.
 */
export async function sweepConsent(env: Env, nowMs = Date.now()): Promise<{ settled: number; deliveries: number }> {
  const db = database(env.DB);
  const due = await dueProposalIds(db, nowMs, SWEEP_PROPOSALS);
  for (const id of due) await settleProposal(env, id, nowMs);
  const unstarted = await unstartedDeliveryIds(db, { created_before_ms: nowMs - 60_000 }, 500);
  await startDeliveries(env, db, unstarted);
  return { settled: due.length, deliveries: unstarted.length };
}
