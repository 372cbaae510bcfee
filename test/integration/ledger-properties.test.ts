// The ledger's invariants through the whole path (webhook → workflow → D1), for random
// payments: every transaction sums to zero, every payment's shares sum to its bases, the
// same event delivered again changes nothing.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { buildHostingPayment, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
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

describe("for random carts with tax, discounts and prorations", () => {
  beforeEach(async () => {
    // The plan subscribers leave in an upgrade, with its own contributor.
    expect((await api("/parties", { method: "POST", body: { id: "noa", kind: "contributor", name: "Noa" } })).status).toBe(201);
    expect((await api("/offers", { method: "POST", body: { id: "hosting-plus", kind: "hosting", name: "Hosting plus", stripe_price_ids: ["price_hosting_plus"], contributors: [{ party_id: "noa", weight: 1 }] } })).status).toBe(201);
  });

  const taxed = fc.record({
    lines: fc.array(fc.record({ price_id: fc.constantFrom("price_training_intro", "price_hosting_basic"), unit_amount_minor: fc.integer({ min: 100, max: 500_000 }), discount_bps: fc.constantFrom(0, 0, 1_000, 2_500, 10_000) }), { minLength: 1, maxLength: 3 }),
    tax: fc.constantFrom(null, { rate_bps: 2_000 }, { rate_bps: 550, behavior: "inclusive" as const }),
    discount_bps: fc.constantFrom(0, 0, 1_500),
    upgrade: fc.option(fc.record({ from_unit_amount_minor: fc.integer({ min: 100, max: 50_000 }), numerator: fc.integer({ min: 1, max: 29 }) }), { nil: undefined }),
    feePer1000: fc.integer({ min: 0, max: 30 }),
  });

  it("each transaction sums to zero, the tax account holds exactly the tax, and the parties' postings sum to the bases", async () => {
    let payments = 0;
    await fc.assert(
      fc.asyncProperty(taxed, async (t) => {
        const common = {
          currency: "eur",
          price_id: "price_hosting_basic",
          lines: t.lines.map((l) => ({ price_id: l.price_id, unit_amount_minor: l.unit_amount_minor, ...(l.discount_bps > 0 ? { discount: { percent_bps: l.discount_bps } } : {}) })),
          ...(t.tax ? { tax: t.tax } : {}),
          ...(t.discount_bps > 0 ? { discount: { percent_bps: t.discount_bps } } : {}),
        };
        // An upgrade's prorations are an invoice's; a plain cart alternates between Checkout and an invoice.
        const build = () => t.upgrade
          ? buildHostingPayment({ ...common, upgrade: { from_price_id: "price_hosting_plus", from_unit_amount_minor: t.upgrade.from_unit_amount_minor, unused: { numerator: t.upgrade.numerator, denominator: 30 } }, fee_minor: 0 })
          : payments % 2 === 0
            ? buildTrainingPayment({ ...common, fee_minor: 0 })
            : buildHostingPayment({ ...common, fee_minor: 0 });
        let built: ReturnType<typeof build>;
        try {
          built = build();
        } catch (error) {
          // A credit larger than the charge: Stripe credits the customer's balance and sends no payment.
          // Or two coupons on a Checkout Session, which Stripe refuses.
          fc.pre(!/negative invoice|takes one coupon/.test((error as Error).message));
          throw error;
        }
        // Nothing paid (all discounted, or a credit larger than the charge): Stripe sends no payment to split.
        fc.pre(built.balance_transaction.amount > 0);
        const gross = built.balance_transaction.amount;
        const fee = Math.min(Math.floor((gross * t.feePer1000) / 1000), gross);
        const withFee = { ...built, balance_transaction: { ...built.balance_transaction, fee, net: gross - fee } };
        await putStripeObjects(withFee);
        const output = (await deliverAndSettle(built.event)) as { status: string; reason?: string };
        payments += 1;
        if (output.status === "parked") {
          // The only thing that may stop a valid cart: a fee above what its lines brought in, tax and shipping apart.
          expect(output.reason).toMatch(/the rule cannot split this payment: Stripe's fee \d+ is larger than what the lines brought in/);
          return;
        }
        expect(output.status).toBe("processed");
        const p = (await (await api(`/payments/${built.payment_intent.id}`)).json()) as { tax_minor: number; shares: { amount_minor: number }[]; lines: { basis_minor: number }[] };
        const rows = await env.DB.prepare("SELECT account, amount_minor FROM postings WHERE transaction_id = ?").bind(`txn_pay_${built.payment_intent.id}`).all<{ account: string; amount_minor: number }>();
        const sum = (filter: (account: string) => boolean) => rows.results.filter((r) => filter(r.account)).reduce((a, r) => a + r.amount_minor, 0);
        expect(sum(() => true)).toBe(0);
        expect(sum((a) => a === "tax:collected")).toBe(p.tax_minor);
        expect(p.tax_minor).toBe("invoice" in built ? (built.invoice.total_taxes ?? []).reduce((a, x) => a + x.amount, 0) : (built.session.total_details?.amount_tax ?? 0));
        expect(sum((a) => a.startsWith("party:"))).toBe(p.lines.reduce((a, l) => a + l.basis_minor, 0));
      }),
      { numRuns: 30 },
    );
    expect(payments).toBeGreaterThan(15);
    expect(await (await api("/ledger/check")).json()).toMatchObject({ ok: true, imbalances: [] });
  }, 90_000);
});
