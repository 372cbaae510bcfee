// The ledger's invariants through the whole path (webhook → workflow → D1), for random
// payments: every transaction sums to zero, every payment's shares sum to its bases, the
// same event delivered again changes nothing.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { api, deliver, deliverAndSettle, putStripeObjects, seedCatalog } from "./helpers";

beforeEach(async () => {
  await seedCatalog();
});

const line = fc.record({ price_id: fc.constantFrom("price_training_intro", "price_hosting_basic"), amount_minor: fc.integer({ min: 1, max: 5_000_000 }) });

describe("for random carts, amounts and fees", () => {
  it("the ledger stays balanced, shares sum to the bases, and a replay posts nothing", async () => {
    let payments = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 100 }), async (lines, feePercent) => {
        const amount_minor = lines.reduce((a, l) => a + l.amount_minor, 0);
        const fee_minor = Math.floor((amount_minor * feePercent) / 100);
        const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro", fee_minor, lines });
        await putStripeObjects(built);
        await deliverAndSettle(built.event);
        payments += 1;

        const p = (await (await api(`/payments/${built.payment_intent.id}`)).json()) as { net_minor: number; shares: { amount_minor: number }[]; lines: { basis_minor: number }[] };
        const shares = p.shares.reduce((a, s) => a + s.amount_minor, 0);
        expect(shares).toBe(p.lines.reduce((a, l) => a + l.basis_minor, 0));
        expect(shares).toBe(p.net_minor);
        expect(p.shares.every((s) => s.amount_minor >= 0)).toBe(true);

        const before = await env.DB.prepare("SELECT count(*) AS n, sum(amount_minor) AS s FROM postings").first<{ n: number; s: number }>();
        expect((await deliver(built.event)).status).toBe(200);
        expect(await env.DB.prepare("SELECT count(*) AS n, sum(amount_minor) AS s FROM postings").first()).toEqual(before);
        expect(before?.s).toBe(0);
      }),
      { numRuns: 40 },
    );
    // Every run posted its own transaction and nothing else (D1 is emptied before each test, setup.ts).
    expect(payments).toBe(40);
    expect(await (await api("/ledger/check")).json()).toMatchObject({ ok: true, transactions: 40, imbalances: [] });
    // About 0.15 s a payment through webhook, workflow and D1: forty of them need more than the default 5 s.
  }, 60_000);
});
