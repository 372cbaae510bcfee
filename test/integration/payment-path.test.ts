import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildAsyncPaymentSucceeded, buildEvent, buildHostingPayment, buildSubscriptionCheckout, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { database } from "../../db/client";
import { dueEventIds } from "../../db/queries/events";
import { sweepDueEvents } from "../../workflows/start";
import { api, deliver, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog, stripeFault, stripeRequests } from "./helpers";

interface PaymentView {
  id: string;
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  rule_version: string;
  lines: { offer_id: string; basis_minor: number; gross_minor: number; fee_minor: number }[];
  shares: { party_id: string; kind: string; amount_minor: number }[];
}

async function payment(id: string): Promise<PaymentView> {
  const res = await api(`/payments/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as PaymentView;
}

const byParty = (p: PaymentView) => Object.fromEntries(p.shares.map((s) => [s.party_id, s.amount_minor]));

/** Moves an event's due time to now, as if its backoff had passed: the queue's consumer starts what is due by the real clock. */
async function asIfDueNow(eventId: string): Promise<void> {
  await env.DB.prepare("UPDATE stripe_events SET due_at_ms = ? WHERE id = ?").bind(Date.now() - 1, eventId).run();
}

async function postingCount(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM postings").first<{ n: number }>())?.n ?? 0;
}

beforeEach(async () => {
  await seedCatalog();
});

describe("a paid training checkout", () => {
  it("is split onto the ledger: shares sum to the net and the transaction sums to zero", async () => {
    const built = buildTrainingPayment({ amount_minor: 10001, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
    await putStripeObjects(built);

    const output = await deliverAndSettle(built.event);
    expect(output).toMatchObject({ status: "processed", posted: true, payment_intent_id: built.payment_intent.id });
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed", reason: null });

    const p = await payment(built.payment_intent.id);
    expect(p.rule_version).toBe("default@1");
    // 10% / 15% / remaining of 10001: 1000 / 1500 / 7501, then 7501 split 2:1 → 5001 / 2500.
    expect(byParty(p)).toEqual({ commons: 1000, reserve: 1500, camille: 5001, dominique: 2500 });
    expect(p.shares.find((s) => s.party_id === "commons")?.kind).toBe("commons");

    // One transaction: the customers' -10001 and the four shares (no fee, so no fee posting).
    expect(await (await api("/ledger/check")).json()).toEqual({ ok: true, transactions: 1, postings: 5, imbalances: [] });
    const sum = await env.DB.prepare("SELECT count(*) AS n, sum(amount_minor) AS s FROM postings").first<{ n: number; s: number }>();
    expect(sum).toEqual({ n: 5, s: 0 });
  });

  it("splits the net after Stripe's fee, which is its own posting", async () => {
    const built = buildTrainingPayment({ amount_minor: 20000, currency: "eur", price_id: "price_training_intro", fee_minor: 325 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);

    const p = await payment(built.payment_intent.id);
    expect(p).toMatchObject({ gross_minor: 20000, fee_minor: 325, net_minor: 19675 });
    // 1967.5 / 2951.25 / 14756.25: the leftover unit goes to commons (.5); 14756 by 2:1 is 9837.33 / 4918.67 → 9837 / 4919.
    expect(byParty(p)).toEqual({ commons: 1968, reserve: 2951, camille: 9837, dominique: 4919 });
    const fee = await env.DB.prepare("SELECT amount_minor FROM postings WHERE account = 'stripe:fees' AND transaction_id = ?").bind(`txn_pay_${p.id}`).first<{ amount_minor: number }>();
    expect(fee?.amount_minor).toBe(325);
  });

  it("is recorded in the settlement currency of its balance transaction", async () => {
    const built = buildTrainingPayment({ amount_minor: 10000, currency: "usd", settlement_currency: "eur", settlement_amount_minor: 9200, fee_minor: 300, price_id: "price_training_intro" });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect(p).toMatchObject({ currency: "eur", gross_minor: 9200, fee_minor: 300, net_minor: 8900 });
    expect(byParty(p)).toEqual({ commons: 890, reserve: 1335, camille: 4450, dominique: 2225 });
  });

  it("delivered twice is acknowledged twice and posted once", async () => {
    const built = buildTrainingPayment({ amount_minor: 5000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    // Customers, Stripe's fee (100) and the four shares of the net 4900.
    expect(await postingCount()).toBe(6);

    const again = await deliver(built.event);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(await postingCount()).toBe(6);

    const retry = await api(`/events/${built.event.id}/retry`, { method: "POST" });
    expect(retry.status).toBe(409);
    expect((await api("/events/evt_never_seen/retry", { method: "POST" })).status).toBe(404);
  });

  it("sent again as a different event for the same payment is processed without posting twice", async () => {
    const built = buildTrainingPayment({ amount_minor: 5000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const before = await postingCount();

    const twin = buildEvent("checkout.session.completed", built.session);
    const output = await deliverAndSettle(twin);
    expect(output).toMatchObject({ status: "processed", posted: false });
    expect(await postingCount()).toBe(before);
    expect(before).toBe(6);
    expect((await eventStatus(twin.id)).reason).toBe(`payment ${built.payment_intent.id} was already posted by event ${built.event.id}: not posted twice`);
  });

  it("paid later by a delayed method is split on async_payment_succeeded, not on completion", async () => {
    const pending = buildTrainingPayment({ amount_minor: 4000, currency: "eur", price_id: "price_training_intro", payment_status: "unpaid" });
    await putStripeObjects(pending);
    const first = await deliver(pending.event);
    expect(await first.json()).toMatchObject({ status: "ignored" });
    expect((await eventStatus(pending.event.id)).reason).toMatch(/async_payment_succeeded/);

    const cleared = buildAsyncPaymentSucceeded(pending);
    await putStripeObjects(cleared);
    await deliverAndSettle(cleared.event);
    const p = await payment(cleared.payment_intent.id);
    expect(p).toMatchObject({ gross_minor: 4000, fee_minor: 85, net_minor: 3915 });
    // 391.5 / 587.25 / 2936.25: the leftover unit to commons (.5); 2936 by 2:1 is 1957.33 / 978.67 → 1957 / 979.
    expect(byParty(p)).toEqual({ commons: 392, reserve: 587, camille: 1957, dominique: 979 });
  });

  it("with two offers in the cart splits each line by its own offer's rule, the fee shared pro rata", async () => {
    const built = buildTrainingPayment({
      amount_minor: 30000,
      currency: "eur",
      price_id: "price_training_intro",
      fee_minor: 300,
      lines: [
        { price_id: "price_training_intro", amount_minor: 20000 },
        { price_id: "price_hosting_basic", amount_minor: 10000 },
      ],
    });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);

    const p = await payment(built.payment_intent.id);
    expect(p.lines.map((l) => [l.offer_id, l.gross_minor, l.fee_minor, l.basis_minor])).toEqual([
      ["training-intro", 20000, 200, 19800],
      ["hosting-basic", 10000, 100, 9900],
    ]);
    // training: 1980 / 2970 / 14850 → camille 9900, dominique 4950; hosting: 990 / 1485 / 7425 → sacha.
    expect(byParty(p)).toEqual({ commons: 2970, reserve: 4455, camille: 9900, dominique: 4950, sacha: 7425 });
    expect(p.shares.reduce((a, s) => a + s.amount_minor, 0)).toBe(p.net_minor);
  });
});

describe("a large cart", () => {
  it("with more line items than Stripe embeds (10) is read through the line items endpoint", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => ({ price_id: i % 2 === 0 ? "price_training_intro" : "price_hosting_basic", amount_minor: 1000 + i }));
    const amount = lines.reduce((a, l) => a + l.amount_minor, 0);
    const built = buildTrainingPayment({ amount_minor: amount, currency: "eur", price_id: "price_training_intro", fee_minor: 0, lines });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect(p.lines).toHaveLength(12);
    expect((await stripeRequests(`/v1/checkout/sessions/${built.session.id}/line_items`)).map((r) => r.status)).toEqual([200]);
    expect(p.shares.reduce((a, s) => a + s.amount_minor, 0)).toBe(amount);
  });
});

describe("a hosting subscription", () => {
  it("is split on invoice.paid, found through its invoice payment", async () => {
    const built = buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic", fee_minor: 69 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    // net 2831: 283.1 / 424.65 / 2123.25 → 283 / 425 / 2123 (largest remainder), all of it to sacha.
    expect(byParty(p)).toEqual({ commons: 283, reserve: 425, sacha: 2123 });
  });

  it("started through Checkout is counted once: the subscription-mode checkout is ignored, its invoice split", async () => {
    const built = buildSubscriptionCheckout({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic" });
    await putStripeObjects(built);
    const checkout = await deliver(built.checkout_event);
    expect(await checkout.json()).toMatchObject({ status: "ignored" });
    expect((await eventStatus(built.checkout_event.id)).reason).toMatch(/subscription mode/);

    await deliverAndSettle(built.event);
    const rows = await env.DB.prepare("SELECT id FROM payments").all<{ id: string }>();
    expect(rows.results).toEqual([{ id: built.payment_intent.id }]);
    expect(byParty(await payment(built.payment_intent.id))).toEqual({ commons: 283, reserve: 425, sacha: 2123 });
  });

  it("paid only in part by its payment is parked, not split on the wrong amount", async () => {
    const built = buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic" });
    const partial = { ...built, invoice_payment: { ...built.invoice_payment, amount_paid: 1000 } };
    await putStripeObjects(partial);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect((await eventStatus(built.event.id)).reason).toMatch(/partial or shared/);
  });

  it("whose price no offer lists is found by the subscription's metadata.offer_id", async () => {
    const built = buildHostingPayment({ amount_minor: 1500, currency: "eur", price_id: "price_custom_plan", offer_id: "hosting-basic", fee_minor: 0 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    expect(byParty(await payment(built.payment_intent.id))).toEqual({ commons: 150, reserve: 225, sacha: 1125 });
  });

  it("for a zero invoice is acknowledged and ignored", async () => {
    const built = buildHostingPayment({ amount_minor: 2900, currency: "eur", price_id: "price_hosting_basic" });
    const free = buildEvent("invoice.paid", { ...built.invoice, amount_paid: 0 });
    const res = await deliver(free);
    expect(await res.json()).toMatchObject({ status: "ignored" });
    expect(await eventStatus(free.id)).toEqual({ id: free.id, type: "invoice.paid", status: "ignored", reason: "invoice paid with nothing to split (amount_paid is 0)", due_at: null, runs: 0 });
  });
});

describe("a payment that cannot be split yet", () => {
  it("whose offer is unknown is parked with a reason the API shows, and split once the offer exists", async () => {
    const built = buildTrainingPayment({ amount_minor: 7000, currency: "eur", price_id: "price_unknown_workshop", fee_minor: 130 });
    await putStripeObjects(built);
    const output = await deliverAndSettle(built.event);
    expect(output).toMatchObject({ status: "parked" });
    const status = await eventStatus(built.event.id);
    expect(status.status).toBe("parked");
    expect(status.reason).toMatch(/unknown offer.*price_unknown_workshop/);
    const parked = (await (await api("/events?status=parked")).json()) as { events: { id: string }[] };
    expect(parked.events.map((e) => e.id)).toContain(built.event.id);
    expect((await api(`/payments/${built.payment_intent.id}`)).status).toBe(404);

    const created = await api("/offers", { method: "POST", body: { id: "workshop", kind: "training", name: "Workshop", stripe_price_ids: ["price_unknown_workshop"], contributors: [{ party_id: "camille", weight: 1 }] } });
    expect(created.status).toBe(201);
    await using rerun = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    const retry = await api(`/events/${built.event.id}/retry`, { method: "POST" });
    expect(retry.status).toBe(202);
    await rerun.waitForStatus("complete");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed" });
    // Net 6870: 687 / 1030.5 / 5152.5; the leftover unit goes to the first of the tied halves, reserve; camille alone is the workshop's contributor.
    expect(byParty(await payment(built.payment_intent.id))).toEqual({ commons: 687, reserve: 1031, camille: 5152 });
  });

  it("is found by metadata.offer_id when its price is not listed", async () => {
    const built = buildTrainingPayment({ amount_minor: 3000, currency: "eur", price_id: "price_adhoc", offer_id: "training-intro", fee_minor: 0 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const p = await payment(built.payment_intent.id);
    expect(p.lines.map((l) => l.offer_id)).toEqual(["training-intro"]);
    expect(byParty(p)).toEqual({ commons: 300, reserve: 450, camille: 1500, dominique: 750 });
  });

  it("is retried when Stripe fails, then posted once", async () => {
    const built = buildTrainingPayment({ amount_minor: 8000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    const output = await deliverAndSettle(built.event, async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "take the event in hand, and split a payment" }, new Error("Stripe answered 500"), 2);
    });
    expect(output).toMatchObject({ status: "processed", posted: true });
    expect(await env.DB.prepare("SELECT id FROM ledger_transactions").all()).toMatchObject({ results: [{ id: `txn_pay_${built.payment_intent.id}` }] });
    expect(await postingCount()).toBe(6);
  });

  it("is retried when D1 fails while posting, then posted once", async () => {
    const built = buildTrainingPayment({ amount_minor: 6100, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    const output = await deliverAndSettle(built.event, async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "take the event in hand, and split a payment" }, new Error("D1_ERROR: Network connection lost"), 2);
    });
    expect(output).toMatchObject({ status: "processed", posted: true });
    expect(await env.DB.prepare("SELECT id FROM ledger_transactions").all()).toMatchObject({ results: [{ id: `txn_pay_${built.payment_intent.id}` }] });
    // Customers, Stripe's fee and the four shares, once.
    expect(await postingCount()).toBe(6);
  });

  it("is retried when the emulator itself answers 500, through the real Stripe client", async () => {
    const built = buildTrainingPayment({ amount_minor: 8100, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    await stripeFault(`/v1/checkout/sessions/${built.session.id}`, 500, 2);
    const output = await deliverAndSettle(built.event, async (m) => m.disableRetryDelays());
    expect(output).toMatchObject({ status: "processed", posted: true });
    const sessionReads = await stripeRequests(`/v1/checkout/sessions/${built.session.id}`);
    expect(sessionReads.slice(0, 3).map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("whose Stripe objects are missing is parked, not retried for ever", async () => {
    const built = buildTrainingPayment({ amount_minor: 8000, currency: "eur", price_id: "price_training_intro" });
    const output = await deliverAndSettle(built.event, async (m) => m.disableRetryDelays());
    expect(output).toMatchObject({ status: "parked" });
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "parked", reason: `Stripe answered 404 resource_missing: No such checkout.session: '${built.session.id}'` });
  });

  it("whose fee is above its amount is parked with the reason", async () => {
    const built = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "price_training_intro", fee_minor: 10 });
    const broken = { ...built, balance_transaction: { ...built.balance_transaction, fee: 2000, net: -1000 } };
    await putStripeObjects(broken);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect((await eventStatus(built.event.id)).reason).toMatch(/fee 2000 is larger than the amount 1000/);
  });

  it("paid before any rule was in force is split, after an audited retry, by the version an admin names, where none was", async () => {
    await env.DB.batch([
      env.DB.prepare("UPDATE rule_versions SET effective_from_ms = ? WHERE rule_id = 'default' AND version = 1").bind(Date.now() - 60_000),
      // training-intro's own rule was in force all along: its line keeps it, whatever the admin names.
      env.DB.prepare("INSERT INTO rules (id, scope_kind, scope_value, created_at_ms) VALUES ('intro-old', 'offer', 'training-intro', 0)"),
      env.DB.prepare("INSERT INTO rule_versions (rule_id, version, effective_from_ms, body, content_hash, author, reason, created_at_ms) VALUES ('intro-old', 1, 0, ?, 'sha256:test', 'test', 'test', 0)").bind(
        JSON.stringify({ basis: "net", lines: [{ to: "commons", share: "50%" }, { to: "contributors", share: "remaining" }] }),
      ),
    ]);
    const built = buildTrainingPayment({
      amount_minor: 5000,
      currency: "eur",
      price_id: "price_training_intro",
      fee_minor: 0,
      created: Math.floor(Date.now() / 1000) - 3600,
      lines: [
        { price_id: "price_training_intro", amount_minor: 2000 },
        { price_id: "price_hosting_basic", amount_minor: 3000 },
      ],
    });
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect((await eventStatus(built.event.id)).reason).toMatch(/no split rule was in force/);

    expect((await api(`/events/${built.event.id}/retry`, { method: "POST", body: { rule: { rule_id: "default", version: 1 } } })).status).toBe(400);
    // The retried run fails (Stripe down); the sweep's next run still uses the chosen version.
    await using rerun = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    await rerun.modify(async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "take the event in hand, and split a payment" }, new Error("Stripe is down"));
    });
    const retry = await api(`/events/${built.event.id}/retry`, { method: "POST", body: { rule: { rule_id: "default", version: 1 }, reason: "Sold before the rules were written; the assembly chose version 1" } });
    expect(retry.status).toBe(202);
    await rerun.waitForStatus("errored");
    expect((await eventStatus(built.event.id)).status).toBe("failed");

    await using third = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run3`);
    expect(await dueEventIds(database(env.DB), Date.now() + 60 * 60_000, 10_000)).toEqual([built.event.id]);
    await asIfDueNow(built.event.id);
    expect(await sweepDueEvents(env)).toBe(1);
    await third.waitForStatus("complete");
    const split = await payment(built.payment_intent.id);
    expect(split.rule_version).toBe("intro-old@1,default@1");
    // Training line (2000) by intro-old: 1000 to commons, 1000 by 2:1 → 667 / 333. Hosting line (3000) by default@1: 300 / 450 / 2250.
    expect(byParty(split)).toEqual({ commons: 1000 + 300, reserve: 450, camille: 667, dominique: 333, sacha: 2250 });
    const audit = (await (await api(`/audit?entity_type=event&entity_id=${built.event.id}`)).json()) as { entries: { action: string; after: { rule_override: unknown } }[] };
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ action: "event.retry", after: { rule_override: { rule_id: "default", version: 1 } } });
    const stored = await env.DB.prepare("SELECT rule_override FROM stripe_events WHERE id = ?").bind(built.event.id).first<{ rule_override: string }>();
    expect(JSON.parse(stored?.rule_override ?? "null")).toEqual({ rule_id: "default", version: 1 });
  });

  it("marks the event failed when Stripe stays down past every retry", async () => {
    const built = buildTrainingPayment({ amount_minor: 8000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, built.event.id);
    await instance.modify(async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "take the event in hand, and split a payment" }, new Error("Stripe is down"));
    });
    await deliver(built.event);
    await instance.waitForStatus("errored");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "failed", reason: "retries ran out: Stripe is down" });

    // The sweep starts it again later, with backoff (10 minutes after a first run), as a new instance.
    const row = await env.DB.prepare("SELECT updated_at_ms, due_at_ms FROM stripe_events WHERE id = ?").bind(built.event.id).first<{ updated_at_ms: number; due_at_ms: number }>();
    expect(row?.due_at_ms).toBe((row?.updated_at_ms ?? 0) + 10 * 60_000);
    const db = database(env.DB);
    expect(await dueEventIds(db, (row?.updated_at_ms ?? 0) + 10 * 60_000 - 1, 10_000)).not.toContain(built.event.id);
    expect(await dueEventIds(db, (row?.updated_at_ms ?? 0) + 10 * 60_000, 10_000)).toContain(built.event.id);
    await using again = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    await asIfDueNow(built.event.id);
    expect(await sweepDueEvents(env)).toBe(1);
    await again.waitForStatus("complete");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed" });
  });

  it("whose run died while processing is started again by the sweep", async () => {
    const built = buildTrainingPayment({ amount_minor: 4200, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    // Taken in hand by run 1 long ago: its stall cutoff has passed, so it is due.
    await env.DB.prepare("INSERT INTO stripe_events (id, type, object_id, status, payload, stripe_created_s, received_at_ms, workflow_started_at_ms, workflow_runs, updated_at_ms, due_at_ms) VALUES (?, ?, ?, 'processing', ?, ?, 0, 0, 1, 0, 1)")
      .bind(built.event.id, built.event.type, built.session.id, JSON.stringify(built.event), built.event.created)
      .run();
    await using again = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${built.event.id}-run2`);
    expect(await sweepDueEvents(env)).toBe(1);
    await again.waitForStatus("complete");
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed" });
  });
});
