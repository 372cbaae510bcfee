// GET /api/v1/payments: the ledger's payments newest first by when they were paid, a page at a time.
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { api, deliverAndSettle, putStripeObjects, seedCatalog } from "./helpers";

beforeEach(async () => {
  await seedCatalog();
});

describe("GET /api/v1/payments", () => {
  it("lists payments newest first with their offers and rule versions, and pages with next_before", async () => {
    const paid: string[] = [];
    for (const [i, at] of ["2031-01-05T10:00:00Z", "2031-02-05T10:00:00Z", "2031-03-05T10:00:00Z"].entries()) {
      const built = buildTrainingPayment({ amount_minor: 1000 * (i + 1), currency: "eur", price_id: "price_training_intro", fee_minor: 10, created: Date.parse(at) / 1000 });
      await putStripeObjects(built);
      await deliverAndSettle(built.event);
      paid.push(built.payment_intent.id);
    }
    const first = (await (await api("/payments?limit=2")).json()) as { payments: { id: string; paid_at: string; gross_minor: number; offer_ids: string[]; rule_versions: string[]; refunded_minor: number }[]; next_before: string | null };
    expect(first.payments.map((p) => p.id)).toEqual([paid[2], paid[1]]);
    expect(first.payments[0]).toEqual({ id: paid[2], source: "checkout.session", paid_at: "2031-03-05T10:00:00.000Z", currency: "eur", gross_minor: 3000, fee_minor: 10, net_minor: 2990, tax_minor: 0, rule_versions: ["default@1"], offer_ids: ["training-intro"], refunded_minor: 0, disputed_minor: 0 });
    expect(first.next_before).toBe(`${Date.parse("2031-02-05T10:00:00Z") / 1000}_${paid[1]}`);
    const second = (await (await api(`/payments?limit=2&before=${first.next_before}`)).json()) as { payments: { id: string }[]; next_before: string | null };
    expect(second.payments.map((p) => p.id)).toEqual([paid[0]]);
    expect(second.next_before).toBeNull();
  });

  it("answers 400 for a cursor it did not make and 401 without a token", async () => {
    expect((await api("/payments?before=yesterday")).status).toBe(400);
    expect((await api("/payments?limit=0")).status).toBe(400);
    expect((await api("/payments", { token: "nope" })).status).toBe(401);
  });
});
