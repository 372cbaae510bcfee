import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, seedCatalog, setClock } from "./helpers";

const DAY_MS = 86_400_000;

/** A ledger transaction with its postings, written straight to D1 (held until `available_at_ms`). */
function transaction(id: string, available_at_ms: number | null, postings: { account: string; amount_minor: number; role: string; currency?: string }[]) {
  return [
    env.DB.prepare("INSERT INTO ledger_transactions (id, kind, idempotency_key, event_id, description, available_at_ms, created_at_ms) VALUES (?, 'payment', ?, 'evt_test', 'test', ?, 0)").bind(id, `test:${id}`, available_at_ms),
    ...postings.map((p) => env.DB.prepare("INSERT INTO postings (transaction_id, account, amount_minor, currency, role) VALUES (?, ?, ?, ?, ?)").bind(id, p.account, p.amount_minor, p.currency ?? "eur", p.role)),
  ];
}

/** What account_balances holds, and the same figures summed from the postings. */
async function keptAndSummed() {
  const kept = await env.DB.prepare("SELECT account, currency, balance_minor, paid_minor FROM account_balances WHERE postings > 0 ORDER BY account, currency").all();
  const summed = await env.DB.prepare(
    "SELECT account, currency, sum(amount_minor) AS balance_minor, -sum(CASE WHEN role = 'payout' THEN amount_minor ELSE 0 END) AS paid_minor FROM postings GROUP BY account, currency ORDER BY account, currency",
  ).all();
  return { kept: kept.results, summed: summed.results };
}

interface Balance {
  party_id: string;
  currency: string;
  balance_minor: number;
  pending_minor: number;
  payable_minor: number;
  paid_minor: number;
}

async function balances(): Promise<Record<string, Omit<Balance, "party_id" | "currency">>> {
  const body = (await (await api("/balances")).json()) as { balances: (Balance & { kind: string })[] };
  return Object.fromEntries(body.balances.map(({ party_id, currency, kind: _kind, ...rest }) => [`${party_id} ${currency}`, rest]));
}

describe("balances", () => {
  it("are kept equal to the postings' sums through inserts, a repair that updates a posting and one that deletes a transaction's", async () => {
    await seedCatalog();
    await env.DB.batch([
      ...transaction("txn_a", 0, [
        { account: "stripe:customers", amount_minor: -1_000, role: "customer" },
        { account: "party:commons", amount_minor: 400, role: "share" },
        { account: "party:camille", amount_minor: 600, role: "share" },
      ]),
      ...transaction("txn_b", null, [
        { account: "party:camille", amount_minor: -250, role: "payout" },
        { account: "stripe:transfers", amount_minor: 250, role: "payout" },
      ]),
      ...transaction("txn_c", 0, [
        { account: "stripe:customers", amount_minor: -70, role: "customer", currency: "usd" },
        { account: "party:camille", amount_minor: 70, role: "share", currency: "usd" },
      ]),
    ]);
    const afterInserts = await keptAndSummed();
    expect(afterInserts.kept).toEqual(afterInserts.summed);
    expect(afterInserts.kept).toContainEqual({ account: "party:camille", currency: "eur", balance_minor: 350, paid_minor: 250 });

    await env.DB.prepare("UPDATE postings SET account = 'party:dominique', amount_minor = 500 WHERE transaction_id = 'txn_a' AND account = 'party:camille'").run();
    await env.DB.prepare("UPDATE postings SET role = 'share' WHERE transaction_id = 'txn_b' AND account = 'party:camille'").run();
    await env.DB.prepare("DELETE FROM postings WHERE transaction_id = 'txn_c'").run();
    const afterRepairs = await keptAndSummed();
    expect(afterRepairs.kept).toEqual(afterRepairs.summed);
    expect(afterRepairs.kept.map((r) => `${r.account} ${r.currency}`)).not.toContain("party:camille usd");
  });

  it("split what is held from what is payable by each transaction's hold, and count what was paid out", async () => {
    const now = setClock("2026-06-15T12:00:00Z");
    await seedCatalog();
    await env.DB.batch([
      // Paid 20 days ago: its 14-day hold has passed.
      ...transaction("txn_old", now - 6 * DAY_MS, [
        { account: "stripe:customers", amount_minor: -1_000, role: "customer" },
        { account: "party:commons", amount_minor: 100, role: "share" },
        { account: "party:camille", amount_minor: 900, role: "share" },
      ]),
      // Paid 2 days ago: held for 12 more days.
      ...transaction("txn_new", now + 12 * DAY_MS, [
        { account: "stripe:customers", amount_minor: -500, role: "customer" },
        { account: "party:commons", amount_minor: 50, role: "share" },
        { account: "party:camille", amount_minor: 450, role: "share" },
      ]),
      // A payout: available at once.
      ...transaction("txn_payout", null, [
        { account: "party:camille", amount_minor: -300, role: "payout" },
        { account: "stripe:transfers", amount_minor: 300, role: "payout" },
      ]),
    ]);
    expect(await balances()).toEqual({
      "camille eur": { balance_minor: 1_050, pending_minor: 450, payable_minor: 600, paid_minor: 300 },
      "commons eur": { balance_minor: 150, pending_minor: 50, payable_minor: 100, paid_minor: 0 },
    });
    // Once the hold has passed, nothing is pending.
    setClock(now + 13 * DAY_MS);
    expect((await balances())["camille eur"]).toEqual({ balance_minor: 1_050, pending_minor: 0, payable_minor: 1_050, paid_minor: 300 });
  });
});
