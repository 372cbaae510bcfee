import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { api, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog } from "./helpers";

beforeEach(async () => {
  await seedCatalog();
});

describe("a paid training checkout", () => {
  it("is split onto the ledger: shares sum to the net and every transaction sums to zero", async () => {
    const built = buildTrainingPayment({ amount_minor: 10001, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
    await putStripeObjects(built);

    const output = await deliverAndSettle(built.event);
    expect(output).toMatchObject({ status: "processed", posted: true, payment_intent_id: built.payment_intent.id });
    expect(await eventStatus(built.event.id)).toMatchObject({ status: "processed", reason: null });

    const payment = (await (await api(`/payments/${built.payment_intent.id}`)).json()) as { shares: { party_id: string; amount_minor: number }[]; net_minor: number; rule_version: string };
    expect(payment.rule_version).toBe("default@1");
    expect(Object.fromEntries(payment.shares.map((s) => [s.party_id, s.amount_minor]))).toEqual({ commons: 1000, reserve: 1500, camille: 5001, dominique: 2500 });
    expect(payment.shares.reduce((a, s) => a + s.amount_minor, 0)).toBe(payment.net_minor);

    const check = (await (await api("/ledger/check")).json()) as { ok: boolean; transactions: number };
    expect(check.ok).toBe(true);
    expect(check.transactions).toBeGreaterThan(0);
    const rows = await env.DB.prepare("SELECT sum(amount_minor) AS s FROM postings").first<{ s: number }>();
    expect(rows?.s).toBe(0);
  });
});
