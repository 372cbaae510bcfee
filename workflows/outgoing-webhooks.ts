// Outgoing webhooks: what happens to a proposal is told to the endpoints an admin configured.
// An event becomes one delivery per endpoint that listens to its type (and, for an endpoint
// bound to a party, only when the proposal affects that party or it objected), written in the
// same D1 batch as the change that caused it, once per endpoint and event whatever runs it
// again. Each delivery is then sent by a workflow of its own (webhook-delivery-workflow.ts);
// the minute sweep starts any whose workflow could not be created.
import { sha256Hex, toHex } from "../core";
import type { Db } from "../db/client";
import type { OnlyIf } from "../db/queries/conditional";
import type { ObjectionRow, ProposalRecord } from "../db/queries/proposals";
import { insertDeliveryStatement, listEndpoints, markDeliveriesStarted, unstartedDeliveryIds, type EndpointRow, type NewDelivery } from "../db/queries/webhooks";
import { INSTANCE_ALREADY_EXISTS, type Env } from "./env";
import { proposalView, viewContexts, type Reader } from "./proposal-views";

export const WEBHOOK_EVENT_TYPES = [
  "proposal.created",
  "proposal.amended",
  "proposal.objected",
  "proposal.objection_lifted",
  "proposal.approved",
  "proposal.held",
  "proposal.activated",
  "proposal.withdrawn",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Something that happened to a proposal; `cause` names it uniquely (the proposal, the objection, the approver). */
export interface ProposalEvent {
  type: WebhookEventType;
  cause: string;
  /** The proposal as it is once the change is made. */
  record: ProposalRecord;
  objection?: ObjectionRow;
  /** Parties to tell besides those the proposal affects (the parties an amended proposal affected). */
  also?: readonly string[];
}

/** An event's id, the same whoever or whatever records it again: receivers deduplicate on it. */
export async function eventId(type: WebhookEventType, cause: string): Promise<string> {
  return `evt_${(await sha256Hex(`${type}\n${cause}`)).slice(0, 24)}`;
}

async function deliveryId(endpointId: string, event: string): Promise<string> {
  return `whd_${(await sha256Hex(`${endpointId}\n${event}`)).slice(0, 24)}`;
}

/** The parties an event concerns: those the proposal affects, those who object to it, and any named. */
function recipients(e: ProposalEvent): Set<string> {
  return new Set([...e.record.proposal.impact.affected.map((a) => a.party_id), ...e.record.objections.map((o) => o.party_id), ...(e.also ?? [])]);
}

function listens(endpoint: EndpointRow, type: WebhookEventType, concerned: Set<string>): boolean {
  return endpoint.events.includes(type) && (endpoint.party_id === null || concerned.has(endpoint.party_id));
}

/** The deliveries of an event: one per listening endpoint, each with the body it will be sent. */
export async function deliveriesOf(db: Db, e: ProposalEvent, nowMs: number): Promise<NewDelivery[]> {
  const concerned = recipients(e);
  const endpoints = (await listEndpoints(db, { includeDisabled: false })).filter((endpoint) => listens(endpoint, e.type, concerned));
  if (endpoints.length === 0) return [];
  const id = await eventId(e.type, e.cause);
  const ctx = (await viewContexts(db, [e.record], nowMs)).get(e.record.proposal.id);
  if (!ctx) return [];
  const deliveries: NewDelivery[] = [];
  for (const endpoint of endpoints) {
    const reader: Reader = endpoint.party_id === null ? { all: true } : { all: false, party_id: endpoint.party_id };
    const objection = e.objection && { id: e.objection.id, party_id: e.objection.party_id, reason: e.objection.reason, standing: e.objection.lifted_at_ms === null };
    const payload = JSON.stringify({ id, type: e.type, created: Math.floor(nowMs / 1000), data: { proposal: proposalView(e.record, ctx, reader, null), ...(objection ? { objection } : {}) } });
    deliveries.push({ id: await deliveryId(endpoint.id, id), endpoint_id: endpoint.id, event_id: id, event_type: e.type, proposal_id: e.record.proposal.id, payload });
  }
  return deliveries;
}

/** The statements that record an event's deliveries in the batch of its change (only if `onlyIf` holds then). */
export async function deliveryStatements(db: Db, e: ProposalEvent, nowMs: number, onlyIf?: OnlyIf) {
  const deliveries = await deliveriesOf(db, e, nowMs);
  return { ids: deliveries.map((d) => d.id), statements: deliveries.map((d) => insertDeliveryStatement(db, d, nowMs, onlyIf)) };
}

/** Records an event's deliveries on their own (an activation, a hold: events the workflow may record twice) and starts them. */
export async function notify(env: Env, db: Db, e: ProposalEvent, nowMs: number): Promise<void> {
  const { ids, statements } = await deliveryStatements(db, e, nowMs);
  const [first, ...rest] = statements;
  if (first === undefined) return;
  await db.batch([first, ...rest]);
  await startDeliveries(env, db, ids);
}

/**
 * Starts the workflow of each delivery not started yet (instance id: the delivery id). A
 * failure is logged and left to the minute sweep; a delivery is never lost, only later.
 */
export async function startDeliveries(env: Env, db: Db, ids: readonly string[]): Promise<void> {
  const unstarted = await unstartedDeliveryIds(db, { ids }, 1000);
  if (unstarted.length === 0) return;
  const started: string[] = [];
  for (let i = 0; i < unstarted.length; i += 100) {
    const chunk = unstarted.slice(i, i + 100);
    try {
      const result = await env.WEBHOOK_DELIVERY.createBatch({ instances: chunk.map((id) => ({ id, params: { delivery_id: id } })) });
      const refused = new Set(result.errors.filter((e) => e.code !== INSTANCE_ALREADY_EXISTS).map((e) => chunk[e.index]));
      started.push(...chunk.filter((id) => !refused.has(id)));
      for (const e of result.errors) if (e.code !== INSTANCE_ALREADY_EXISTS) console.error(JSON.stringify({ msg: "webhook delivery not started", delivery_id: chunk[e.index], code: e.code }));
    } catch (error) {
      console.error(JSON.stringify({ msg: "webhook deliveries not started", count: chunk.length, error: error instanceof Error ? error.message : String(error) }));
    }
  }
  await markDeliveriesStarted(db, started, Date.now());
}

/** A webhook endpoint's signing secret: shown once when the endpoint is made, then only used to sign. */
export function newEndpointSecret(): string {
  return `whsec_${toHex(crypto.getRandomValues(new Uint8Array(32)))}`;
}
