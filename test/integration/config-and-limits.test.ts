// The worker refuses a weak bootstrap token next to a live Stripe key, and a what-if bounded in
// the work it does.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "../../workers/app";
import { api, seedCatalog } from "./helpers";

describe("the bootstrap admin token", () => {
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  const health = (overrides: Record<string, string>) => app.request("/health", {}, { ...env, ...overrides }, ctx);

  it("under 32 characters, next to a live Stripe key, makes the worker refuse with 503 misconfigured, naming it", async () => {
    for (const key of ["sk_live_abc", "rk_live_abc"]) {
      const res = await health({ STRIPE_SECRET_KEY: key, ADMIN_TOKEN: "x".repeat(31) });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        code: "misconfigured",
        detail: "ADMIN_TOKEN is shorter than 32 characters while STRIPE_SECRET_KEY is a live key: set a long random one (wrangler secret put ADMIN_TOKEN)",
      });
    }
  });

  it("of 32 characters with a live key, or short with a test key, is accepted", async () => {
    expect((await health({ STRIPE_SECRET_KEY: "sk_live_abc", ADMIN_TOKEN: "x".repeat(32) })).status).toBe(200);
    expect((await health({ STRIPE_SECRET_KEY: "sk_test_abc", ADMIN_TOKEN: "short" })).status).toBe(200);
  });
});

describe("a what-if", () => {
  /** Writes `payments` payments of `lines` lines each on training-intro, split by default@1, straight into D1. */
  async function manyLines(payments: number, lines: number): Promise<void> {
    const statements: D1PreparedStatement[] = [];
    for (let p = 0; p < payments; p++) {
      const id = `pi_many_${p}`;
      statements.push(
        env.DB.prepare(
          "INSERT INTO payments (id, source_type, source_id, event_id, transaction_id, currency, gross_minor, fee_minor, net_minor, presentment_currency, presentment_amount_minor, paid_at_s, created_at_ms) VALUES (?, 'checkout.session', ?, ?, ?, 'eur', ?, 0, ?, 'eur', ?, ?, 0)",
        ).bind(id, `cs_many_${p}`, `evt_many_${p}`, `txn_pay_${id}`, lines * 100, lines * 100, lines * 100, 1_700_000_000 + p),
      );
      for (let l = 0; l < lines; l += 20) {
        const rows = Array.from({ length: Math.min(20, lines - l) }, (_, i) => l + i);
        statements.push(
          env.DB.prepare(`INSERT INTO payment_lines (payment_id, line_no, offer_id, price_id, rule_id, rule_version, basis, gross_minor, fee_minor, basis_minor) VALUES ${rows.map(() => "(?, ?, 'training-intro', NULL, 'default', 1, 'net', 100, 0, 100)").join(", ")}`).bind(
            ...rows.flatMap((n) => [id, n]),
          ),
        );
      }
    }
    await env.DB.batch(statements);
  }

  it("over more than 5,000 payment lines is refused with 422 limit_exceeded, naming `last`", async () => {
    await seedCatalog();
    await manyLines(51, 100);
    const res = await api("/rules/default/what-if", { method: "POST", body: { body: { basis: "net", lines: [{ to: "commons", share: "100%" }] }, last: 51 } });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      code: "limit_exceeded",
      detail: "the last 51 payments of this rule's scope hold more than 5000 payment lines, more than one what-if replays: ask for fewer payments (last)",
      errors: [{ path: "last", message: "too many payment lines (more than 5000)" }],
    });
  });

  it("over exactly 5,000 payment lines is replayed", async () => {
    await seedCatalog();
    await manyLines(50, 100);
    const res = await api("/rules/default/what-if", { method: "POST", body: { body: { basis: "net", lines: [{ to: "commons", share: "100%" }] }, last: 50 } });
    expect(res.status).toBe(200);
    // Each line of 100 now: 10 / 15 / 75, and 75 by 2:1 is 50 / 25; under the proposal, 100 to the commons. Times 5,000 lines.
    expect(await res.json()).toMatchObject({
      payments: 50,
      totals: [
        { party_id: "camille", currency: "eur", now_minor: 250_000, proposed_minor: 0, delta_minor: -250_000 },
        { party_id: "commons", currency: "eur", now_minor: 50_000, proposed_minor: 500_000, delta_minor: 450_000 },
        { party_id: "dominique", currency: "eur", now_minor: 125_000, proposed_minor: 0, delta_minor: -125_000 },
        { party_id: "reserve", currency: "eur", now_minor: 75_000, proposed_minor: 0, delta_minor: -75_000 },
      ],
      unsplittable: [],
    });
  });
});
