// Outgoing webhooks: endpoints an admin configures, told what happens to proposals, signed the
// way Stripe signs (checked here with Stripe's own library), retried until a 2xx, each attempt
// logged. Deliveries go to the test sink (infra/webhook-sink.ts), bound as WEBHOOK_SINK; retry
// delays are disabled, so a failing receiver is retried at once.
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import { verifySignature } from "../../core";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import type { SinkRequest } from "../../infra/webhook-sink";
import { allComplete, advanceClock, api, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

const NOW = "2031-03-12T09:00:00.250Z";
const NOW_S = Math.floor(Date.parse(NOW) / 1000);
const RESERVE_20 = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "20%" }, { to: "contributors", share: "remaining" }] };

async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

/** Paths of the sink of this test alone: test files share the sink. */
const unique = () => `/hooks/${crypto.randomUUID()}`;

async function sinkFault(path: string, status: number, times: number): Promise<void> {
  const res = await env.WEBHOOK_SINK.fetch("https://sink.test/_sink/faults", { method: "POST", body: JSON.stringify({ path, status, times }) });
  expect(res.status).toBe(200);
}

async function received(path: string): Promise<SinkRequest[]> {
  return ((await (await env.WEBHOOK_SINK.fetch(`https://sink.test/_sink/requests?path=${encodeURIComponent(path)}`)).json()) as { requests: SinkRequest[] }).requests;
}

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  party_id: string | null;
  secret?: string;
}

async function endpoint(path: string, events: string[], party_id?: string): Promise<Endpoint & { secret: string }> {
  return json(await api("/webhook-endpoints", { method: "POST", body: { url: `https://sink.test${path}`, events, ...(party_id ? { party_id } : {}) } }), 201);
}

interface Delivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: { attempt: number; status_code: number | null; error: string | null }[];
  payload: string;
}

beforeEach(async () => {
  setClock(NOW);
  await seedCatalog();
  const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: NOW_S - 3600 });
  await putStripeObjects(built);
  await deliverAndSettle(built.event);
  await json(await api("/rules/default", { method: "PATCH", body: { governance: { notice: "PT1S" } } }), 200);
});

describe("outgoing webhooks", () => {
  it("a delivery that fails is retried with backoff, each attempt logged, until it is delivered, signed as Stripe signs", async () => {
    await using deliveries = await introspectWorkflow(env.WEBHOOK_DELIVERY);
    await deliveries.modifyAll(async (m) => m.disableRetryDelays());
    await using proposals = await introspectWorkflow(env.PROPOSAL);
    const everything = unique();
    const camillePath = unique();
    const sachaPath = unique();
    const all = await endpoint(everything, ["proposal.created", "proposal.withdrawn"]);
    expect(all.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    const camille = await endpoint(camillePath, ["proposal.created"], "camille");
    // Sacha hosts, and the proposal is replayed over a training: it does not affect them.
    const sacha = await endpoint(sachaPath, ["proposal.created"], "sacha");
    await sinkFault(everything, 500, 2);

    const proposal = await json<{ id: string }>(await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_20, reason: "More for the reserve" } }), 201);
    await allComplete(deliveries);

    const [delivery, ...others] = (await json<{ deliveries: Delivery[] }>(await api(`/webhook-deliveries?endpoint_id=${all.id}`), 200)).deliveries;
    expect(others).toEqual([]);
    expect(delivery).toMatchObject({ endpoint_id: all.id, event_type: "proposal.created", status: "delivered" });
    expect(delivery?.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, "the receiver answered HTTP 500"],
      [2, 500, "the receiver answered HTTP 500"],
      [3, 200, null],
    ]);
    const sent = await received(everything);
    expect(sent.map((r) => r.status)).toEqual([500, 500, 200]);
    // Every attempt sends the same body; Stripe's own library accepts its signature with the endpoint's secret.
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    const last = sent.at(-1) as SinkRequest;
    expect(last.headers["pot-commun-event"]).toBe("proposal.created");
    expect(last.headers["pot-commun-delivery"]).toBe(delivery?.id);
    const event = await new Stripe("sk_test_local").webhooks.constructEventAsync(last.body, last.headers["pot-commun-signature"] ?? "", all.secret);
    expect(event).toMatchObject({ id: delivery?.event_id, type: "proposal.created", created: NOW_S, data: { proposal: { id: proposal.id, status: "open" } } });
    expect(await verifySignature(last.headers["pot-commun-signature"] ?? "", last.body, all.secret, NOW_S)).toEqual({ ok: true, timestamp_s: NOW_S });
    expect(await verifySignature(last.headers["pot-commun-signature"] ?? "", last.body, "whsec_another", NOW_S)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifySignature(last.headers["pot-commun-signature"] ?? "", `${last.body} `, all.secret, NOW_S)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifySignature(last.headers["pot-commun-signature"] ?? "", last.body, all.secret, NOW_S + 301)).toEqual({ ok: false, reason: "too_old" });

    // Camille's endpoint hears of it, with her own amounts and the reserve's, not Dominique's; Sacha's hears nothing.
    const [toCamille] = await received(camillePath);
    const told = JSON.parse(toCamille?.body ?? "{}") as { data: { proposal: { affected: { party_id: string; delta_minor: number }[]; affected_count: number } } };
    expect(told.data.proposal.affected.map((a) => [a.party_id, a.delta_minor])).toEqual([["camille", -333], ["reserve", 500]]);
    expect(told.data.proposal.affected_count).toBe(3);
    expect(await received(sachaPath)).toEqual([]);
    expect((await json<{ deliveries: Delivery[] }>(await api(`/webhook-deliveries?endpoint_id=${sacha.id}`), 200)).deliveries).toEqual([]);
    expect((await json<{ deliveries: Delivery[] }>(await api(`/webhook-deliveries?endpoint_id=${camille.id}`), 200)).deliveries.map((d) => d.status)).toEqual(["delivered"]);

    // The secret was in the creation's answer only: not listed, not in a delivery, not in the audit log.
    const everywhere = [await (await api("/webhook-endpoints")).text(), await (await api("/webhook-deliveries")).text(), await (await api("/audit?limit=100")).text()].join("\n");
    for (const secret of [all.secret, camille.secret, sacha.secret]) expect(everywhere).not.toContain(secret);

    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    advanceClock(2_000);
    await allComplete(proposals);
    await allComplete(deliveries);
    expect((await received(everything)).map((r) => JSON.parse(r.body) as { type: string }).map((e) => e.type)).toEqual(["proposal.created", "proposal.created", "proposal.created", "proposal.withdrawn"]);
  });

  it("a delivery whose every attempt fails is marked failed after 11 attempts", async () => {
    await using deliveries = await introspectWorkflow(env.WEBHOOK_DELIVERY);
    await deliveries.modifyAll(async (m) => m.disableRetryDelays());
    await using proposals = await introspectWorkflow(env.PROPOSAL);
    const path = unique();
    const down = await endpoint(path, ["proposal.created"]);
    await sinkFault(path, 503, 100);
    const proposal = await json<{ id: string }>(await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_20, reason: "x" } }), 201);
    expect(await allComplete(deliveries)).toEqual([{ outcome: "failed" }]);
    const [delivery] = (await json<{ deliveries: Delivery[] }>(await api(`/webhook-deliveries?endpoint_id=${down.id}`), 200)).deliveries;
    expect(delivery?.status).toBe("failed");
    expect(delivery?.attempts.map((a) => a.status_code)).toEqual(Array.from({ length: 11 }, () => 503));
    expect((await json<Delivery>(await api(`/webhook-deliveries/${delivery?.id ?? ""}`), 200)).status).toBe("failed");
    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    advanceClock(2_000);
    await allComplete(proposals);
  });

  it("an activation is told once, however often the proposal is settled", async () => {
    await using deliveries = await introspectWorkflow(env.WEBHOOK_DELIVERY);
    await using proposals = await introspectWorkflow(env.PROPOSAL);
    const path = unique();
    const listener = await endpoint(path, ["proposal.activated"]);
    const proposal = await json<{ id: string }>(await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_20, reason: "x" } }), 201);
    advanceClock(2_000);
    await allComplete(proposals);
    const { settleProposal } = await import("../../workflows/consent");
    expect(await settleProposal(env, proposal.id, Date.now())).toEqual({ outcome: "already_activated", version: 2 });
    await allComplete(deliveries);
    const listed = (await json<{ deliveries: Delivery[] }>(await api(`/webhook-deliveries?endpoint_id=${listener.id}`), 200)).deliveries;
    expect(listed.map((d) => [d.event_type, d.status])).toEqual([["proposal.activated", "delivered"]]);
    expect((await received(path)).length).toBe(1);
  });

  it("a pending delivery to an endpoint deleted since is canceled at its next attempt, not sent", async () => {
    await using deliveries = await introspectWorkflow(env.WEBHOOK_DELIVERY);
    // The first attempt never runs: the delivery stays pending, as one waiting for its retry.
    await deliveries.modifyAll(async (m) => m.mockStepResult({ name: "send the delivery" }, { outcome: "mocked" }));
    await using proposals = await introspectWorkflow(env.PROPOSAL);
    const path = unique();
    const soonGone = await endpoint(path, ["proposal.created"]);
    const proposal = await json<{ id: string }>(await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_20, reason: "x" } }), 201);
    await allComplete(deliveries);
    const [pending] = (await json<{ deliveries: Delivery[] }>(await api(`/webhook-deliveries?endpoint_id=${soonGone.id}`), 200)).deliveries;
    expect(pending?.status).toBe("pending");
    await json(await api(`/webhook-endpoints/${soonGone.id}`, { method: "DELETE" }), 200);
    const { attemptDelivery } = await import("../../workflows/webhook-delivery");
    expect(await attemptDelivery(env, pending?.id ?? "")).toEqual({ outcome: "canceled" });
    expect(await json<Delivery>(await api(`/webhook-deliveries/${pending?.id ?? ""}`), 200)).toMatchObject({ status: "canceled", attempts: [] });
    expect(await received(path)).toEqual([]);
    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    advanceClock(2_000);
    await allComplete(proposals);
  });

  it("refuses an endpoint that is not https, an unknown event or party, and a deleted endpoint gets nothing more", async () => {
    for (const body of [
      { url: "http://example.com/hook", events: ["proposal.created"] },
      { url: "https://user:pw@example.com/hook", events: ["proposal.created"] },
      { url: "not a url", events: ["proposal.created"] },
      { url: "https://example.com/hook", events: [] },
      { url: "https://example.com/hook", events: ["payment.created"] },
      { url: "https://example.com/hook", events: ["proposal.created", "proposal.created"] },
      { url: "https://example.com/hook", events: ["proposal.created"], party_id: "nobody" },
    ]) {
      const res = await api("/webhook-endpoints", { method: "POST", body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("invalid_request");
    }
    const viewer = (await json<{ token: string }>(await api("/tokens", { method: "POST", body: { name: "observer", role: "viewer" } }), 201)).token;
    expect((await api("/webhook-endpoints", { method: "POST", token: viewer, body: { url: "https://example.com/hook", events: ["proposal.created"] } })).status).toBe(403);

    const path = unique();
    const gone = await endpoint(path, ["proposal.created"]);
    const deleted = await json<{ disabled_at: string | null }>(await api(`/webhook-endpoints/${gone.id}`, { method: "DELETE" }), 200);
    expect(deleted.disabled_at).toBe(NOW);
    expect((await api(`/webhook-endpoints/${gone.id}`, { method: "DELETE" })).status).toBe(409);
    expect((await json<{ endpoints: Endpoint[] }>(await api("/webhook-endpoints"), 200)).endpoints).toEqual([]);
    expect((await json<{ endpoints: Endpoint[] }>(await api("/webhook-endpoints?include_deleted=true"), 200)).endpoints.map((e) => e.id)).toEqual([gone.id]);
    await using proposals = await introspectWorkflow(env.PROPOSAL);
    const proposal = await json<{ id: string }>(await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_20, reason: "x" } }), 201);
    expect((await json<{ deliveries: Delivery[] }>(await api("/webhook-deliveries"), 200)).deliveries).toEqual([]);
    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    advanceClock(2_000);
    await allComplete(proposals);
  });
});
