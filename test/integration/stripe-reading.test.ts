// Issue 7, point 8: Stripe read carefully.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildEvent, buildHostingPayment, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { STRIPE_API_VERSION } from "../../workflows/stripe-version";
import { deliver, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog } from "./helpers";

const emulator = (path: string, init?: RequestInit) => env.STRIPE_API.fetch(`http://stripe.emulator${path}`, init);

async function stripeRequests(): Promise<{ method: string; path: string; stripe_version: string | null }[]> {
  return ((await (await emulator("/_emulator/requests")).json()) as { requests: { method: string; path: string; stripe_version: string | null }[] }).requests;
}

beforeEach(async () => {
  await seedCatalog();
  await emulator("/_emulator/requests", { method: "DELETE" });
});

describe("reading Stripe", () => {
  it("pins the API version on every request, the one the emulator speaks", async () => {
    const built = buildTrainingPayment({ amount_minor: 3_000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const requests = await stripeRequests();
    // The session (with its line items and charge expanded), then nothing else for a one-line cart.
    expect(requests.map((r) => r.path.split("?")[0])).toEqual([`/v1/checkout/sessions/${built.session.id}`]);
    expect(requests.map((r) => r.stripe_version)).toEqual([STRIPE_API_VERSION]);
    expect(built.event.api_version).toBe(STRIPE_API_VERSION);
  });

  it("finds an invoice's payment among its paid invoice payments only, asking Stripe for those", async () => {
    const built = buildHostingPayment({ amount_minor: 2_900, currency: "eur", price_id: "price_hosting_basic" });
    // A failed attempt, newer than the paid one, is listed first by Stripe.
    const failedAttempt = { ...built.invoice_payment, id: `${built.invoice_payment.id}_failed`, status: "canceled", created: built.invoice_payment.created + 10, payment: { type: "payment_intent", payment_intent: "pi_failed_attempt" } };
    await putStripeObjects(built);
    await emulator("/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(failedAttempt) });
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", payment_intent_id: built.payment_intent.id });
    const listed = (await stripeRequests()).filter((r) => r.path.startsWith("/v1/invoice_payments?"));
    expect(listed).toHaveLength(1);
    const query = new URLSearchParams(listed[0]!.path.split("?")[1]);
    expect({ invoice: query.get("invoice"), status: query.get("status"), limit: query.get("limit") }).toEqual({ invoice: built.invoice.id, status: "paid", limit: "100" });
  });

  it("does not split a payment intent that has not succeeded: the event is parked, saying so", async () => {
    const built = buildTrainingPayment({ amount_minor: 3_100, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects({ ...built, payment_intent: { ...built.payment_intent, status: "requires_capture" } });
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "parked", reason: `payment intent ${built.payment_intent.id} is requires_capture, not succeeded: nothing is split until it succeeds` });
  });

  it("ignores an event from a connected account, with the reason", async () => {
    const built = buildTrainingPayment({ amount_minor: 3_200, currency: "eur", price_id: "price_training_intro" });
    const event = { ...built.event, account: "acct_1Connected" };
    const res = await deliver(event);
    expect(await res.json()).toMatchObject({ received: true, status: "ignored" });
    expect(await eventStatus(event.id)).toMatchObject({ status: "ignored", reason: "the event comes from connected account acct_1Connected, not the cooperative's own account: its money is not the cooperative's to split" });
  });

  it("stores a checkout that needed no payment as ignored, saying exactly that", async () => {
    const built = buildTrainingPayment({ amount_minor: 3_300, currency: "eur", price_id: "price_training_intro" });
    const event = buildEvent("checkout.session.completed", { ...built.session, payment_status: "no_payment_required", amount_total: 0 });
    await deliver(event);
    expect(await eventStatus(event.id)).toMatchObject({ status: "ignored", reason: "the checkout needed no payment (payment_status no_payment_required): there is nothing to split" });
  });

  it("stores a checkout that waits for a manual capture as ignored, saying exactly that", async () => {
    const built = buildTrainingPayment({ amount_minor: 3_400, currency: "eur", price_id: "price_training_intro", payment_status: "unpaid" });
    const event = buildEvent("checkout.session.completed", { ...built.session, payment_method_options: { card: { capture_method: "manual" } } });
    await deliver(event);
    expect(await eventStatus(event.id)).toMatchObject({ status: "ignored", reason: "the checkout waits for a manual capture (card): its capture sends no Checkout event, so this payment is not split automatically" });
  });

  it("stores a checkout paid by a delayed method as waiting for async_payment_succeeded", async () => {
    const built = buildTrainingPayment({ amount_minor: 3_500, currency: "eur", price_id: "price_training_intro", payment_status: "unpaid" });
    await deliver(built.event);
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "ignored", reason: "checkout completed with payment_status unpaid: waiting for checkout.session.async_payment_succeeded (a delayed method such as SEPA debit)" });
  });
});
