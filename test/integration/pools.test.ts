// Issue 13: need pools. Three facilitators share a pool by declared need: a month of training
// payments sends 75% of each net to the pool; the close pays each by need and the leftover to the
// reserve; members declare their own needs with party tokens; a close runs once however often it
// is asked; a refund after a close is carried into the next period; needs rise only so far.
import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildRefund } from "../../infra/stripe-emulator/refund";
import { buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { closePoolPeriod, poolCloseInstanceId, startDuePoolCloses } from "../../workflows/pool-close";
import { api, deliver, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

const POOL_RULE = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: { pool: "facilitators" }, share: "remaining" }] };

interface Period {
  period: string;
  currency: string;
  income_minor: number;
  leftover_minor: number;
  leftover_to: string | null;
  carried_minor: number;
  topups_minor: number;
  members: { party_id: string; declared: number | "auto" | null; cap_minor: number | null; need_minor: number; paid_minor: number; topup_minor: number; throttled: boolean; why: string }[];
  explanation: string;
  closed_by: string;
}

async function balances(): Promise<Record<string, number>> {
  const res = (await (await api("/balances")).json()) as { balances: { party_id: string; balance_minor: number }[] };
  return Object.fromEntries(res.balances.map((b) => [b.party_id, b.balance_minor]));
}

async function ledgerOk(): Promise<void> {
  expect(await (await api("/ledger/check")).json()).toMatchObject({ ok: true, imbalances: [] });
}

/** A training of `amount_minor` paid by card (fee 1.5% + 0.25 €), split by the pool rule. */
async function paid(amount_minor: number) {
  const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro" });
  await putStripeObjects(built);
  expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
  return built;
}

async function partyToken(party_id: string): Promise<string> {
  const res = await api("/tokens", { method: "POST", body: { name: `${party_id}'s token`, role: "party", party_id } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function declare(party_id: string, body: unknown, token?: string) {
  return api(`/pools/facilitators/needs/${party_id}`, { method: "PUT", body, ...(token === undefined ? {} : { token }) });
}

async function close(body?: unknown) {
  const res = await api("/pools/facilitators/close", { method: "POST", ...(body === undefined ? {} : { body }) });
  return { status: res.status, body: (await res.json()) as { outcome: string; periods: Period[] } };
}

const count = async (sql: string) => ((await env.DB.prepare(sql).first<{ n: number }>()) ?? { n: -1 }).n;

beforeEach(async () => {
  await seedCatalog(POOL_RULE);
  setClock("2026-11-10T12:00:00Z");
  const res = await api("/pools", { method: "POST", body: { id: "facilitators", name: "Facilitators", members: ["camille", "dominique", "sacha"] } });
  expect(res.status).toBe(201);
});

describe("a pool of three facilitators over a month of trainings", () => {
  it("pays each by need at the close, sends the leftover to the reserve, and explains it", async () => {
    // Three trainings of 100.00 €: net 98.25 €, of which 75% goes to the pool: 7368.75 → 7369 each (largest remainder).
    for (let i = 0; i < 3; i++) await paid(10_000);
    const before = await balances();
    expect(before["facilitators"]).toBe(3 * 7_369);
    expect(before["camille"]).toBeUndefined();

    const camille = await partyToken("camille");
    expect((await declare("camille", { currency: "eur", amount_minor: 12_000 }, camille)).status).toBe(200);
    expect((await declare("dominique", { amount_minor: 5_000 })).status).toBe(200); // an admin, on Dominique's behalf
    expect((await declare("sacha", { currency: "eur", amount_minor: 3_000 })).status).toBe(200);

    const closed = await close();
    expect(closed.status).toBe(201);
    const [period] = closed.body.periods;
    expect(period).toMatchObject({ period: "2026-11", currency: "eur", income_minor: 22_107, leftover_minor: 2_107, leftover_to: "reserve", carried_minor: 0 });
    expect(period?.members.map((m) => [m.party_id, m.need_minor, m.paid_minor, m.throttled])).toEqual([
      ["camille", 12_000, 12_000, false],
      ["dominique", 5_000, 5_000, false],
      ["sacha", 3_000, 3_000, false],
    ]);
    expect(period?.members[0]?.why).toContain("paid in full, 120.00 EUR");
    expect(period?.explanation).toContain("221.07 EUR came in against 200.00 EUR of needs counted: every need was met, and the 21.07 EUR left over went to reserve");

    const after = await balances();
    expect(after).toMatchObject({ facilitators: 0, camille: 12_000, dominique: 5_000, sacha: 3_000, reserve: (before["reserve"] ?? 0) + 2_107 });
    await ledgerOk();

    // The same period again: the close answers what it did, and writes nothing.
    const transactions = await count("SELECT count(*) AS n FROM ledger_transactions");
    const again = await close({ period: "2026-11" });
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe("already_closed");
    expect(again.body.periods[0]?.income_minor).toBe(22_107);
    expect(await count("SELECT count(*) AS n FROM ledger_transactions")).toBe(transactions);
    expect((await api("/pools/facilitators/periods/2026-11")).status).toBe(200);
  });

  it("sends the leftover to the party the pool names, not the reserve", async () => {
    const read = await api("/pools/facilitators");
    const changed = await api("/pools/facilitators", { method: "PATCH", body: { leftover_to: "commons" }, headers: { "if-match": read.headers.get("etag") ?? "" } });
    expect(changed.status).toBe(200);
    await paid(10_000); // 7,369 into the pool
    expect((await declare("camille", { currency: "eur", amount_minor: 4_000 })).status).toBe(200);
    const before = await balances();
    const closed = await close();
    expect(closed.status).toBe(201);
    expect(closed.body.periods[0]).toMatchObject({ income_minor: 7_369, leftover_minor: 3_369, leftover_to: "commons" });
    const after = await balances();
    expect(after).toMatchObject({ facilitators: 0, camille: 4_000, commons: (before["commons"] ?? 0) + 3_369, reserve: before["reserve"] });
    await ledgerOk();
  });

  it("pays in proportion to needs when they are not all met, the unit to the least served", async () => {
    await paid(10_000); // 7369 to the pool
    await declare("camille", { amount_minor: 6_000 });
    await declare("dominique", { amount_minor: 3_000 });
    await declare("sacha", { amount_minor: 1 });
    const { body } = await close();
    // 7369 × 6000/9001 = 4912.08, × 3000/9001 = 2456.04, × 1/9001 = 0.82: floors 4912 / 2456 / 0, one unit left, to Sacha (0 of 1 is the least served).
    expect(body.periods[0]?.members.map((m) => m.paid_minor)).toEqual([4_912, 2_456, 1]);
    expect(body.periods[0]?.leftover_minor).toBe(0);
    await ledgerOk();
  });
});

describe("members speak for themselves", () => {
  it("a party token declares its own need, reads its own balances and its pool, and nothing else", async () => {
    const camille = await partyToken("camille");
    expect((await declare("camille", { auto: true }, camille)).status).toBe(200);
    const forOther = await declare("dominique", { amount_minor: 1 }, camille);
    expect(forOther.status).toBe(403);
    expect(((await forOther.json()) as { code: string }).code).toBe("forbidden");
    for (const [method, path] of [["GET", "/rules"], ["POST", "/pools/facilitators/close"], ["GET", "/parties/dominique"], ["GET", "/payouts"], ["PUT", "/pools/facilitators/members/camille"], ["GET", "/ledger/export?from=2026-11-01&to=2026-11-30"], ["GET", "/parties/dominique/statement?from=2026-11-01&to=2026-11-30"]] as const) {
      expect({ method, path, status: (await api(path, { method, token: camille, ...(method === "GET" ? {} : { body: {} }) })).status }).toEqual({ method, path, status: 403 });
    }
    expect((await api("/parties/camille", { token: camille })).status).toBe(200);
    expect((await api("/pools/facilitators", { token: camille })).status).toBe(200);
    const history = (await (await api("/pools/facilitators/needs", { token: camille })).json()) as { history: { party_id: string; from: unknown; to: unknown; by: string }[] };
    expect(history.history[0]).toMatchObject({ party_id: "camille", from: null, to: "auto" });
    expect(history.history[0]?.by).toMatch(/^token:tok_/);

    await paid(10_000);
    const own = (await (await api("/balances", { token: camille })).json()) as { balances: { party_id: string }[] };
    expect(own.balances.every((b) => b.party_id === "camille")).toBe(true);

    // A pool it is not a member of is closed to it.
    expect((await api("/pools", { method: "POST", body: { id: "hosts", name: "Hosts", members: ["sacha"] } })).status).toBe(201);
    expect((await api("/pools/hosts", { token: camille })).status).toBe(403);
    // Its console lists the pools it belongs to, and only those.
    const listed = (await (await api("/pools", { token: camille })).json()) as { pools: { id: string }[] };
    expect(listed.pools.map((p) => p.id)).toEqual(["facilitators"]);
  });

  it("refuses a party token without a party, or bound to a pool, and a party_id on another role", async () => {
    expect((await api("/tokens", { method: "POST", body: { name: "x", role: "party" } })).status).toBe(400);
    expect((await api("/tokens", { method: "POST", body: { name: "x", role: "party", party_id: "facilitators" } })).status).toBe(400);
    expect((await api("/tokens", { method: "POST", body: { name: "x", role: "viewer", party_id: "camille" } })).status).toBe(400);
  });

  it("records every change of a need: who, when, from, to; the same need again records nothing", async () => {
    await declare("sacha", { amount_minor: 1_000 });
    await declare("sacha", { amount_minor: 1_000 });
    await declare("sacha", { auto: true });
    const { history } = (await (await api("/pools/facilitators/needs")).json()) as { history: { from: unknown; to: unknown; by: string }[] };
    expect(history.map((h) => [h.from, h.to, h.by])).toEqual([
      [1_000, "auto", "bootstrap"],
      [null, 1_000, "bootstrap"],
    ]);
  });
});

describe("no silent crowding-out", () => {
  it("holds a need's rise to its cap, and starts a newcomer at the floor", async () => {
    const patched = await api("/pools/facilitators", { method: "PATCH", body: { floor_minor: 1_000 }, headers: { "if-match": (await api("/pools/facilitators")).headers.get("etag") ?? "" } });
    expect(patched.status).toBe(200);
    await paid(10_000);
    await declare("camille", { amount_minor: 2_000 });
    await declare("dominique", { amount_minor: 3_000 });
    await declare("sacha", { amount_minor: 1_500 });
    expect((await close()).status).toBe(201); // 2000 / 3000 / 1500 paid, 869 to the reserve

    setClock("2026-12-10T12:00:00Z");
    expect((await api("/pools/facilitators/members/noa", { method: "PUT" })).status).toBe(400); // no such party yet
    expect((await api("/parties", { method: "POST", body: { id: "noa", kind: "contributor", name: "Noa" } })).status).toBe(201);
    expect((await api("/pools/facilitators/members/noa", { method: "PUT" })).status).toBe(201);
    // Camille asks for 50.00 €: her cap is the largest of 2×20.00, 20.00 + 8.69 leftover, the median 20.00, the floor 10.00.
    const asked = (await (await declare("camille", { amount_minor: 5_000 })).json()) as { cap_minor: number; throttled: boolean };
    expect(asked).toMatchObject({ cap_minor: 4_000, throttled: true });
    await declare("noa", { amount_minor: 9_999 });
    await paid(20_000);
    const { body } = await close();
    const shares = Object.fromEntries((body.periods[0]?.members ?? []).map((m) => [m.party_id, m]));
    expect(shares["camille"]).toMatchObject({ declared: 5_000, cap_minor: 4_000, need_minor: 4_000, throttled: true });
    expect(shares["noa"]).toMatchObject({ declared: 9_999, cap_minor: 1_000, need_minor: 1_000, throttled: true });
    expect(shares["camille"]?.why).toContain("counted as 40.00 EUR");
    for (const m of body.periods[0]?.members ?? []) expect(m.paid_minor).toBeLessThanOrEqual(m.need_minor);
    await ledgerOk();
  });

  it("tops a member below the solidarity floor up from the reserve, within the budget", async () => {
    const etag = (await api("/pools/facilitators")).headers.get("etag") ?? "";
    expect((await api("/pools/facilitators", { method: "PATCH", body: { solidarity: { minimum_minor: 2_000, budget_minor: 500 } }, headers: { "if-match": etag } })).status).toBe(200);
    await paid(10_000); // 7369 to the pool, 1474 to the reserve
    await declare("camille", { amount_minor: 10_000 });
    await declare("dominique", { amount_minor: 10_000 });
    await declare("sacha", { amount_minor: 10_000 });
    const { body } = await close();
    // 7369 over three needs of 10000: 2457 / 2456 / 2456, all above the minimum: no top-up.
    expect(body.periods[0]?.topups_minor).toBe(0);
    setClock("2026-12-10T12:00:00Z");
    await paid(2_000); // net 1945; 1459 to the pool
    const second = (await close()).body.periods[0];
    // 1459 / 3 = 486.33 each; each 1514 below the minimum of 2000; the budget of 500 goes to the first least served.
    expect(second?.topups_minor).toBe(500);
    expect(second?.members.reduce((a, m) => a + m.paid_minor, 0)).toBe(1_459);
    expect(second?.members.filter((m) => m.topup_minor > 0).length).toBe(1);
    await ledgerOk();
  });
});

describe("a close", () => {
  it("runs once when asked twice at the same time", async () => {
    await paid(10_000);
    await declare("camille", { amount_minor: 1_000 });
    const outcomes = await Promise.all([closePoolPeriod(env, "facilitators", "2026-11", "a"), closePoolPeriod(env, "facilitators", "2026-11", "b")]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["already_closed", "closed"]);
    expect(await count("SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'pool_close'")).toBe(1);
    expect((await balances())["facilitators"]).toBe(0);
    await ledgerOk();
  });

  it("is started by the daily schedule once the period has ended, as a workflow, once", async () => {
    await paid(10_000);
    await declare("sacha", { amount_minor: 2_000 });
    const now = setClock("2026-12-01T00:15:00Z");
    await using instance = await introspectWorkflowInstance(env.POOL_CLOSE, poolCloseInstanceId("facilitators", "2026-11"));
    expect(await startDuePoolCloses(env, now)).toBe(1);
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toMatchObject({ outcome: "closed", period: "2026-11", currencies: ["eur"] });
    const period = (await (await api("/pools/facilitators/periods/2026-11")).json()) as Period;
    expect(period).toMatchObject({ closed_by: "schedule", income_minor: 7_369, leftover_minor: 5_369 });
    // The next day's cron finds nothing due.
    expect(await startDuePoolCloses(env, now + 86_400_000)).toBe(0);
  });

  it("takes an instance that exists already as started by an earlier cron, and fails loudly on any other refusal", async () => {
    await paid(10_000);
    const now = setClock("2026-12-01T00:15:00Z");
    const id = poolCloseInstanceId("facilitators", "2026-11");
    const refusing = (code: number, message: string) =>
      ({ ...env, POOL_CLOSE: { createBatch: async () => ({ created: [], errors: [{ index: 0, id, code, message }] }) } }) as unknown as typeof env;
    expect(await startDuePoolCloses(refusing(10405, "workflows.api.error.instance.already_exists"), now)).toBe(0);
    await expect(startDuePoolCloses(refusing(10404, "workflows.api.error.instance.does_not_exist"), now)).rejects.toThrow(`${id} (10404)`);
  });

  it("carries a refund of money already distributed into the next period as a negative", async () => {
    const built = await paid(10_000);
    await declare("camille", { amount_minor: 20_000 });
    expect((await close()).body.periods[0]).toMatchObject({ income_minor: 7_369 });
    expect((await balances())["camille"]).toBe(7_369);

    setClock("2026-12-05T12:00:00Z");
    const refund = buildRefund(built);
    const res = await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(refund)) });
    expect(res.ok).toBe(true);
    for (const event of refund.events) {
      await using run = await introspectWorkflowInstance(env.SPLIT_PAYMENT, event.id);
      const answer = (await (await deliver(event)).json()) as { status?: string };
      if (answer.status === "received") await run.waitForStatus("complete");
    }
    // The refund takes the pool's share back from the pool's own account (its share of the fee Stripe keeps included).
    const owed = (await balances())["facilitators"] ?? 0;
    expect(owed).toBeLessThan(-7_000);
    expect((await balances())["camille"]).toBe(7_369); // what was distributed stays distributed

    const december = (await close()).body.periods[0];
    expect(december).toMatchObject({ income_minor: owed, carried_minor: owed, leftover_minor: 0 });
    expect(december?.members.every((m) => m.paid_minor === 0)).toBe(true);
    expect(december?.explanation).toContain("carried into the next period");
    expect((await balances())["facilitators"]).toBe(owed);

    setClock("2027-01-10T12:00:00Z");
    await paid(20_000); // fee 3.25 €, net 196.75 €, 75%: 14756.25 → 14756 to the pool: the debt is paid back first
    const january = (await close()).body.periods[0];
    expect(january?.income_minor).toBe(owed + 14_756);
    await ledgerOk();
  });

  it("refuses a period not yet started, one a later close covers, and a malformed one", async () => {
    expect((await close({ period: "2027-01" })).status).toBe(400);
    expect((await close({ period: "november" })).status).toBe(400);
    setClock("2026-12-10T12:00:00Z");
    expect((await close()).status).toBe(201); // December, closed early
    const late = await close({ period: "2026-11" });
    expect(late.status).toBe(409);
  });
});

describe("pools and rules", () => {
  it("a rule may send to a pool that exists, and names it { pool: id }", async () => {
    const ok = await api("/rules/preview", { method: "POST", body: { rule: POOL_RULE, amount_minor: 10_000, currency: "eur", fee_minor: 0 } });
    expect(ok.status).toBe(200);
    const unknown = await api("/rules/preview", { method: "POST", body: { rule: { basis: "net", lines: [{ to: { pool: "nobody" }, share: "remaining" }] }, amount_minor: 10_000, currency: "eur", fee_minor: 0 } });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(await unknown.json())).toContain("unknown_pool");
    const asParty = await api("/rules/preview", { method: "POST", body: { rule: { basis: "net", lines: [{ to: "facilitators", share: "remaining" }] }, amount_minor: 10_000, currency: "eur", fee_minor: 0 } });
    expect(asParty.status).toBe(422);
  });

  it("refuses a pool whose members are unknown or pools, and a pool id taken by a party", async () => {
    const bad = await api("/pools", { method: "POST", body: { id: "x", name: "X", members: ["nobody", "facilitators"] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["members.0", "members.1"]);
    expect((await api("/pools", { method: "POST", body: { id: "camille", name: "C", members: [] } })).status).toBe(409);
    expect((await api("/parties", { method: "POST", body: { id: "p", kind: "pool", name: "P" } })).status).toBe(400);
  });
});
