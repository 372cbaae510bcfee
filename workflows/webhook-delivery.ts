// One attempt at an outgoing webhook delivery: sign the stored body with a fresh timestamp (as
// Stripe does), POST it, log the attempt with what came back. A 2xx delivers it; anything else
// (another status, a timeout, no answer) is a failed attempt, thrown so that the workflow's
// step retries it with exponential backoff. Neither the secret nor the URL (which may carry a
// receiver's own token) is ever written to a log or an attempt.
import { signatureHeader, SIGNATURE_HEADER } from "../core";
import { database } from "../db/client";
import { closeDelivery, deliveryToSend, recordAttempt } from "../db/queries/webhooks";
import type { Env } from "./env";

/** A receiver has this long to answer an attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export type AttemptOutcome = { outcome: "delivered"; attempt: number } | { outcome: "already_delivered" } | { outcome: "canceled" } | { outcome: "gone" };

/** A failed attempt: the workflow's step retries it. */
export class DeliveryAttemptFailed extends Error {
  override readonly name = "DeliveryAttemptFailed";
}

export async function attemptDelivery(env: Env, deliveryId: string): Promise<AttemptOutcome> {
  const db = database(env.DB);
  const found = await deliveryToSend(db, deliveryId);
  if (!found) return { outcome: "gone" };
  const { delivery } = found;
  if (delivery.status === "delivered") return { outcome: "already_delivered" };
  if (delivery.status !== "pending") return { outcome: "canceled" };
  if (!found.endpoint_active) {
    await closeDelivery(db, deliveryId, "canceled", "the endpoint was deleted", Date.now());
    return { outcome: "canceled" };
  }
  const attempt = delivery.attempts + 1;
  const startedMs = Date.now();
  const headers = {
    "content-type": "application/json",
    "user-agent": "Pot-Commun-Webhooks/1",
    [SIGNATURE_HEADER]: await signatureHeader(found.secret, delivery.payload, Math.floor(startedMs / 1000)),
    "Pot-Commun-Event": delivery.event_type,
    "Pot-Commun-Delivery": delivery.id,
  };
  let status: number | null = null;
  let error: string | null = null;
  try {
    const request = new Request(found.url, { method: "POST", headers, body: delivery.payload, redirect: "manual", signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
    const response = await (env.WEBHOOK_SINK ? env.WEBHOOK_SINK.fetch(request) : fetch(request));
    status = response.status;
    await response.body?.cancel();
    if (status < 200 || status > 299) error = `the receiver answered HTTP ${status}`;
  } catch (e) {
    error = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `no answer: ${e instanceof Error ? e.name : "network error"}`;
  }
  await recordAttempt(db, { delivery_id: deliveryId, attempt, at_ms: startedMs, status_code: status, error, duration_ms: Math.max(0, Date.now() - startedMs) }, { delivered: error === null });
  if (error !== null) throw new DeliveryAttemptFailed(`attempt ${attempt}: ${error}`);
  return { outcome: "delivered", attempt };
}

/** After the last attempt failed: the delivery is `failed`, with the last attempt's reason. */
export async function giveUpDelivery(env: Env, deliveryId: string): Promise<void> {
  await closeDelivery(database(env.DB), deliveryId, "failed", null, Date.now());
}
