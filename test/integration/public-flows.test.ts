// GET /api/v1/public/flows: a period's sums for anyone, without a token, and nothing about one
// payment. Two payments go through the real path (emulator, signed webhook, workflow); the
// figures are worked out by hand from the demo rule (10% / 15% / the rest, on net).
import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildHostingPayment, buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { buildRefund } from "../../infra/stripe-emulator/refund";
import { call, deliver, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog, setClock } from "./helpers";

const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);

async function flows(query = ""): Promise<{ status: number; body: Record<string, unknown>; text: string; headers: Headers }> {
  const res = await call(`/api/v1/public/flows${query}`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text, headers: res.headers };
}

/** A training paid in October 2031 (100.00 €, fee 1.75 €) and a hosting invoice in November (120.00 € with 20.00 € VAT, fee 2.05 €). */
async function twoPayments() {
  const training = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 175, created: s("2031-10-15T10:00:00Z") });
  const hosting = buildHostingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic", fee_minor: 205, tax: { rate_bps: 2000 }, created: s("2031-11-03T09:00:00Z") });
  for (const built of [training, hosting]) {
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed" });
  }
  return { training, hosting };
}

beforeEach(async () => {
  await seedCatalog();
  // Camille chose to be named; Dominique and Sacha did not.
  await env.DB.prepare("UPDATE parties SET public = 1 WHERE id = 'camille'").run();
});

describe("GET /api/v1/public/flows", () => {
  it("sums a month: what came in, where it went, each named recipient, the others together", async () => {
    setClock("2031-12-01T00:00:00Z");
    await twoPayments();
    const { status, body, headers } = await flows("?period=2031-10");
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("public, max-age=60");
    expect(body.period).toEqual({ id: "2031-10", kind: "month", from: "2031-10-01T00:00:00.000Z", to: "2031-11-01T00:00:00.000Z" });
    expect(body.currency).toBe("eur");
    expect(body.available).toEqual({ currencies: ["eur"], first_period: "2031-10", last_period: "2031-11" });
    // 100.00 − 1.75 = 98.25 on net: 9.82 / 14.74 / 73.69 (largest remainder), 73.69 shared 2:1 → 49.13 / 24.56.
    expect(body.totals).toEqual({
      came_in_minor: 10_000,
      revenue_minor: 10_000,
      revenue_by_kind: [{ kind: "training", amount_minor: 10_000 }],
      vat_minor: 0,
      shipping_minor: 0,
      stripe_fees_minor: 175,
      fee_covered_minor: 0,
      to_commons_minor: 982,
      to_reserve_minor: 1474,
      to_contributors_minor: 7369,
      to_pools_minor: 0,
      refunds: { to_customers_minor: 0, stripe_fees_minor: 0, taken_minor: 0 },
      disputes: { to_customers_minor: 0, stripe_fees_minor: 0, taken_minor: 0 },
    });
    expect(body.recipients).toEqual([
      { party_id: "commons", kind: "commons", name: "Commons", received_minor: 982, given_back_minor: 0, net_minor: 982 },
      { party_id: "reserve", kind: "reserve", name: "Reserve", received_minor: 1474, given_back_minor: 0, net_minor: 1474 },
      { party_id: "camille", kind: "contributor", name: "Camille", received_minor: 4913, given_back_minor: 0, net_minor: 4913 },
      { party_id: null, kind: "contributor", name: null, received_minor: 2456, given_back_minor: 0, net_minor: 2456 },
    ]);
    expect(body.links).toEqual([
      { source: "income:training", target: "revenue", amount_minor: 10_000 },
      { source: "revenue", target: "stripe_fees", amount_minor: 175 },
      { source: "revenue", target: "party:camille", amount_minor: 4913 },
      { source: "revenue", target: "party:commons", amount_minor: 982 },
      { source: "revenue", target: "contributors", amount_minor: 2456 },
      { source: "revenue", target: "party:reserve", amount_minor: 1474 },
    ]);
  });

  it("sums a quarter and a year alike, VAT apart, and picks the year of the latest movement when no period is given", async () => {
    setClock("2031-12-01T00:00:00Z");
    await twoPayments();
    const quarter = await flows("?period=2031-Q4&currency=eur");
    // November: 120.00 with 20.00 VAT, fee 2.05: 97.95 on net → 9.80 / 14.69 / 73.46, all to Sacha.
    expect(quarter.body.totals).toMatchObject({
      came_in_minor: 22_000,
      revenue_minor: 20_000,
      revenue_by_kind: [{ kind: "training", amount_minor: 10_000 }, { kind: "hosting", amount_minor: 10_000 }],
      vat_minor: 2000,
      stripe_fees_minor: 380,
      to_commons_minor: 982 + 980,
      to_reserve_minor: 1474 + 1469,
      to_contributors_minor: 7369 + 7346,
    });
    expect(quarter.body.links).toContainEqual({ source: "vat", target: "tax_office", amount_minor: 2000 });
    const year = await flows("?period=2031");
    expect(year.body.totals).toEqual(quarter.body.totals);
    const byDefault = await flows();
    expect(byDefault.body.period).toMatchObject({ id: "2031", kind: "year" });
    expect(byDefault.body.totals).toEqual(quarter.body.totals);
  });

  it("tells nothing about one payment: no Stripe id, no customer, no contributor who chose not to be named", async () => {
    setClock("2031-12-01T00:00:00Z");
    const { training, hosting } = await twoPayments();
    for (const query of ["?period=2031-10", "?period=2031-11", "?period=2031"]) {
      const { text } = await flows(query);
      for (const secret of [training.payment_intent.id, hosting.payment_intent.id, training.event.id, hosting.event.id, training.charge.id, hosting.charge.id, "Dominique", "dominique", "Sacha", "sacha", "cus_", "evt_", "pi_", "ch_", "txn_"]) {
        expect(text, `${query} shows ${secret}`).not.toContain(secret);
      }
    }
  });

  it("dates money going back by when Stripe moved it: a refund in November of an October payment goes back in November", async () => {
    setClock("2031-12-01T00:00:00Z");
    const { training } = await twoPayments();
    const refund = buildRefund(training, { amount_minor: 2_500, created: s("2031-11-20T08:00:00Z") });
    const stored = await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(refund)) });
    expect(stored.status).toBe(200);
    for (const event of refund.events) {
      await using run = await introspectWorkflowInstance(env.SPLIT_PAYMENT, event.id);
      const answer = (await (await deliver(event)).json()) as { status?: string };
      if (answer.status === "received") await run.waitForStatus("complete");
    }
    expect(await eventStatus(refund.events.find((e) => e.type === "refund.created")?.id ?? "")).toMatchObject({ status: "processed" });
    // October keeps what came in; the refund is November's.
    expect(((await flows("?period=2031-10")).body.totals as { refunds: unknown }).refunds).toEqual({ to_customers_minor: 0, stripe_fees_minor: 0, taken_minor: 0 });
    const november = (await flows("?period=2031-11&lang=en")).body as { totals: Record<string, unknown>; links: unknown[]; recipients: unknown[] };
    expect(november.totals.refunds).toEqual({ to_customers_minor: 2_500, stripe_fees_minor: 0, taken_minor: 2_500 });
    // A quarter of 98.25 € of shares and of the 1.75 € fee (core/README.md, "Money going back"): 2.46 + 0.04, 3.68 + 0.07, 12.28 + 0.22, 6.14 + 0.11.
    expect(november.links.filter((l) => (l as { target: string }).target === "back:refunds")).toEqual([
      { source: "contributors", target: "back:refunds", amount_minor: 625 },
      { source: "party:camille", target: "back:refunds", amount_minor: 1_250 },
      { source: "party:commons", target: "back:refunds", amount_minor: 250 },
      { source: "party:reserve", target: "back:refunds", amount_minor: 375 },
    ]);
    expect(november.recipients).toContainEqual({ party_id: "camille", kind: "contributor", name: "Camille", received_minor: 0, given_back_minor: 1_250, net_minor: -1_250 });
    expect(november.recipients).toContainEqual({ party_id: null, kind: "contributor", name: null, received_minor: 7_346, given_back_minor: 625, net_minor: 6_721 });
    const page = await (await call("/?period=2031-11&lang=en")).text();
    expect(page).toContain("€25.00 went back to customers in refunds.");
  });

  it("answers zeros for a period without movement", async () => {
    const { status, body } = await flows("?period=1999-01");
    expect(status).toBe(200);
    expect(body.nodes).toEqual([]);
    expect(body.links).toEqual([]);
    expect(body.recipients).toEqual([]);
    expect(body.available).toEqual({ currencies: ["eur"], first_period: null, last_period: null });
    expect(body.totals).toMatchObject({ came_in_minor: 0, to_commons_minor: 0 });
  });

  it.each([
    ["?period=2031-13", "period"],
    ["?period=2031-Q5", "period"],
    ["?period=31-10", "period"],
    ["?period=" + "9".repeat(30), "period"],
    ["?currency=EUR", "currency"],
    ["?currency=euro", "currency"],
  ])("answers 400 invalid_request naming the field for %s", async (query, field) => {
    const res = await call(`/api/v1/public/flows${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors.map((e) => e.path)).toEqual([field]);
  });
});
