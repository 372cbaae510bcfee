// Payout runs (workflows/payout.ts) in workerd against the emulator's transfers: what is paid
// after the hold, refunds inside and after it, a run executed twice, interrupted and resumed, a
// transfer that fails, payments by hand, the minimum. Amounts are exact: 100.00 € paid with a
// fee of 1.75 € gives, under the default rule on net (9,825), commons 982, reserve 1,474,
// camille 4,913 and dominique 2,456 (training-intro's contributors, 2:1).
import { introspectWorkflow, introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildConnectedAccount, buildRefund, buildTrainingPayment, emulatorObjects, stripeId, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import type { BuiltRefund } from "../../infra/stripe-emulator/refund";
import { payoutKey } from "../../workflows/payout-run";
import { advanceClock, api, DEFAULT_RULE, deliver, deliverAndSettle, insertOffer, putStripeObjects, seedCatalog, setClock } from "./helpers";

const DAY_MS = 86_400_000;
/** Monday 2 March 2026, 10:00 UTC: every payment of these tests is paid at T0 or later. */
const T0 = "2026-03-02T10:00:00Z";
const T0_S = Date.parse(T0) / 1000;

type Modifier = Parameters<Parameters<Awaited<ReturnType<typeof introspectWorkflow>>["modifyAll"]>[0]>[0];

interface Transfer {
  id: string;
  amount: number;
  currency: string;
  destination: string;
  transfer_group: string | null;
  source_transaction: string | null;
  metadata: Record<string, string>;
}

interface RunView {
  id: string;
  status: string;
  items: { party_id: string; currency: string; amount_minor: number; method: string; status: string; stripe_account_id: string | null; source_transaction: string | null; transfer_id: string | null; reason: string | null }[];
}

/** Connected accounts of this test (fresh ids: the emulator is shared with other test files). */
let accounts: { camille: string; dominique: string };

async function emulator(path: string, init: RequestInit = {}): Promise<Response> {
  return env.STRIPE_API.fetch(`http://stripe.emulator${path}`, { ...init, headers: { authorization: "Bearer sk_test_local", ...init.headers } });
}

async function connect(party: string, account: string | null, minimum_minor = 0): Promise<void> {
  await env.DB.prepare("UPDATE parties SET stripe_account_id = ?, payout_minimum_minor = ? WHERE id = ?").bind(account, minimum_minor, party).run();
}

/** 100.00 € paid at `at_s` (for training-intro unless another price is named), split and posted. */
async function paid(at_s: number, amount_minor = 10_000, price_id = "price_training_intro"): Promise<TrainingPayment> {
  const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id, created: at_s });
  await putStripeObjects(built);
  expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
  return built;
}

async function refunded(refund: BuiltRefund): Promise<void> {
  const res = await emulator("/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(refund)) });
  expect(res.status).toBe(200);
  for (const event of refund.events) {
    await using instance = await introspectWorkflowInstance(env.SPLIT_PAYMENT, event.id);
    const answer = (await (await deliver(event)).json()) as { status?: string };
    if (answer.status === "received") await instance.waitForStatus("complete");
  }
}

/** POST /payouts/run, and the run's workflow to its end. */
async function runPayouts(configure?: (m: Modifier) => Promise<void>): Promise<{ run: RunView; output: unknown }> {
  await using introspector = await introspectWorkflow(env.PAYOUT);
  if (configure) await introspector.modifyAll(configure);
  const res = await api("/payouts/run", { method: "POST" });
  expect(res.status).toBe(202);
  const { run_id } = (await res.json()) as { run_id: string };
  const [instance] = await introspector.get();
  await instance!.waitForStatus("complete");
  return { run: await payoutRun(run_id), output: await instance!.getOutput() };
}

/** A run started by hand with a known id, as startPayoutRun starts one: what a test needs to act at Stripe before the run does. */
async function runPayoutsAs(runId: string, configure?: (m: Modifier) => Promise<void>): Promise<{ run: RunView; output: unknown }> {
  await env.DB.prepare("INSERT INTO payout_runs (id, status, started_by, started_at_ms) VALUES (?, 'running', 'test', ?)").bind(runId, Date.now()).run();
  await using instance = await introspectWorkflowInstance(env.PAYOUT, runId);
  if (configure) await instance.modify(configure);
  await env.PAYOUT.create({ id: runId, params: { run_id: runId } });
  await instance.waitForStatus("complete");
  return { run: await payoutRun(runId), output: await instance.getOutput() };
}

async function payoutRun(runId: string): Promise<RunView> {
  const res = await api(`/payouts/${runId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as RunView;
}

async function transfersOf(runId: string): Promise<Transfer[]> {
  const res = await emulator(`/v1/transfers?transfer_group=${runId}&limit=100`);
  expect(res.status).toBe(200);
  // In the order of the run's items (by party), whatever order Stripe made them in.
  return ((await res.json()) as { data: Transfer[] }).data.sort((a, b) => (a.metadata.party_id ?? "").localeCompare(b.metadata.party_id ?? ""));
}

async function balances(): Promise<Record<string, { balance: number; pending: number; payable: number; paid: number }>> {
  const res = (await (await api("/balances")).json()) as { balances: { party_id: string; balance_minor: number; pending_minor: number; payable_minor: number; paid_minor: number }[] };
  return Object.fromEntries(res.balances.filter((b) => b.party_id === "camille" || b.party_id === "dominique").map((b) => [b.party_id, { balance: b.balance_minor, pending: b.pending_minor, payable: b.payable_minor, paid: b.paid_minor }]));
}

/** The ledger's payouts: [party, amount, transfer]. */
async function payoutsOnLedger(): Promise<[string, number, string | null][]> {
  const rows = await env.DB.prepare(
    "SELECT p.account AS account, -p.amount_minor AS amount, t.stripe_object AS transfer FROM ledger_transactions t JOIN postings p ON p.transaction_id = t.id WHERE t.kind IN ('payout', 'payout_manual') AND p.role = 'payout' ORDER BY t.created_at_ms, p.account",
  ).all<{ account: string; amount: number; transfer: string | null }>();
  return rows.results.map((r) => [r.account.replace("party:", ""), r.amount, r.transfer]);
}

async function ledgerOk(): Promise<void> {
  expect(await (await api("/ledger/check")).json()).toMatchObject({ ok: true, imbalances: [] });
}

beforeEach(async () => {
  await seedCatalog();
  accounts = { camille: stripeId("acct_", 16), dominique: stripeId("acct_", 16) };
  const res = await emulator("/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([buildConnectedAccount({ id: accounts.camille }), buildConnectedAccount({ id: accounts.dominique })]) });
  expect(res.status).toBe(200);
  await connect("camille", accounts.camille);
  await connect("dominique", accounts.dominique);
  setClock(T0);
});

describe("a payout run", () => {
  it("pays each contributor its shares whose hold has passed, by a transfer to its connected account from the charge they came from; a share still held waits", async () => {
    const first = await paid(T0_S);
    advanceClock(10 * DAY_MS);
    await paid(T0_S + 10 * 86400);
    advanceClock(5 * DAY_MS); // day 15: the first payment's hold (14 days) has passed, not the second's
    expect(await balances()).toEqual({ camille: { balance: 9_826, pending: 4_913, payable: 4_913, paid: 0 }, dominique: { balance: 4_912, pending: 2_456, payable: 2_456, paid: 0 } });

    const { run, output } = await runPayouts();
    expect(output).toEqual({ run_id: run.id, paid: 2, parked: 0, manual: 0 });
    const transfers = await transfersOf(run.id);
    expect(transfers.map((t) => [t.destination, t.amount, t.currency, t.source_transaction, t.metadata])).toEqual([
      [accounts.camille, 4_913, "eur", first.charge.id, { payout_run: run.id, party_id: "camille" }],
      [accounts.dominique, 2_456, "eur", first.charge.id, { payout_run: run.id, party_id: "dominique" }],
    ]);
    expect(run.status).toBe("completed");
    expect(run.items.map((i) => [i.party_id, i.amount_minor, i.method, i.status, i.transfer_id])).toEqual([
      ["camille", 4_913, "transfer", "paid", transfers[0]!.id],
      ["dominique", 2_456, "transfer", "paid", transfers[1]!.id],
    ]);
    expect(await payoutsOnLedger()).toEqual([
      ["camille", 4_913, transfers[0]!.id],
      ["dominique", 2_456, transfers[1]!.id],
    ]);
    expect(await balances()).toEqual({ camille: { balance: 4_913, pending: 4_913, payable: 0, paid: 4_913 }, dominique: { balance: 2_456, pending: 2_456, payable: 0, paid: 2_456 } });
    await ledgerOk();
  });

  it("pays less after a refund inside the hold: the refund took back from what was pending", async () => {
    const payment = await paid(T0_S);
    advanceClock(3 * DAY_MS);
    await refunded(buildRefund(payment, { amount_minor: 2_500, created: T0_S + 3 * 86400 }));
    // A quarter back: camille 1,228 and 22 of the fee kept, dominique 614 and 11 (money-back.test.ts).
    expect(await balances()).toEqual({ camille: { balance: 3_663, pending: 3_663, payable: 0, paid: 0 }, dominique: { balance: 1_831, pending: 1_831, payable: 0, paid: 0 } });
    expect((await runPayouts()).run.items).toEqual([]); // nothing is payable yet

    advanceClock(12 * DAY_MS);
    const { run } = await runPayouts();
    expect((await transfersOf(run.id)).map((t) => [t.destination, t.amount])).toEqual([
      [accounts.camille, 3_663],
      [accounts.dominique, 1_831],
    ]);
    expect(await balances()).toEqual({ camille: { balance: 0, pending: 0, payable: 0, paid: 3_663 }, dominique: { balance: 0, pending: 0, payable: 0, paid: 1_831 } });
    await ledgerOk();
  });

  it("deducts a refund made after the payout from the next run: the payable went negative, the next payment covers it", async () => {
    const first = await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const one = await runPayouts();
    expect((await transfersOf(one.run.id)).map((t) => t.amount)).toEqual([4_913, 2_456]);

    advanceClock(DAY_MS);
    await refunded(buildRefund(first, { amount_minor: 2_500, created: T0_S + 16 * 86400 }));
    await paid(T0_S + 16 * 86400);
    // The refund shares its payment's hold, long passed: it is taken from what is payable now.
    expect(await balances()).toEqual({ camille: { balance: 3_663, pending: 4_913, payable: -1_250, paid: 4_913 }, dominique: { balance: 1_831, pending: 2_456, payable: -625, paid: 2_456 } });
    expect((await runPayouts()).run.items).toEqual([]); // a negative payable pays nothing

    advanceClock(15 * DAY_MS);
    const two = await runPayouts();
    expect((await transfersOf(two.run.id)).map((t) => [t.destination, t.amount])).toEqual([
      [accounts.camille, 4_913 - 1_250],
      [accounts.dominique, 2_456 - 625],
    ]);
    expect(await balances()).toEqual({ camille: { balance: 0, pending: 0, payable: 0, paid: 8_576 }, dominique: { balance: 0, pending: 0, payable: 0, paid: 4_287 } });
    await ledgerOk();
  });

  it("executed twice pays nothing the second time, whether the same run is replayed or a new run follows", async () => {
    await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const { run } = await runPayouts();
    const paidOnce = await payoutsOnLedger();
    expect(paidOnce.map(([party, amount]) => [party, amount])).toEqual([
      ["camille", 4_913],
      ["dominique", 2_456],
    ]);

    // The same run's workflow again (a replay under another instance id): it reads its items, all paid.
    await using replay = await introspectWorkflowInstance(env.PAYOUT, `${run.id}-again`);
    await env.PAYOUT.create({ id: `${run.id}-again`, params: { run_id: run.id } });
    await replay.waitForStatus("complete");
    expect(await replay.getOutput()).toEqual({ run_id: run.id, paid: 0, parked: 0, manual: 0 });

    advanceClock(60_000); // a minute later: the list below orders runs by when they began
    const next = await runPayouts();
    expect(next.run.items).toEqual([]);
    expect(await transfersOf(next.run.id)).toEqual([]);
    expect((await transfersOf(run.id)).length).toBe(2);
    expect(await payoutsOnLedger()).toEqual(paidOnce);
    await ledgerOk();

    // GET /payouts: the runs, newest first, each with its status and its items counted by status.
    const listed = (await (await api("/payouts")).json()) as { runs: { id: string; status: string; started_by: string; finished_at: string | null; items: { status: string; count: number; amount_minor: number }[] }[] };
    expect(listed.runs.map((r) => [r.id, r.status])).toEqual([
      [next.run.id, "completed"],
      [run.id, "completed"],
    ]);
    expect(listed.runs[1]?.items).toEqual([{ status: "paid", count: 2, amount_minor: 4_913 + 2_456 }]);
    expect(listed.runs[0]?.items).toEqual([]);
    expect(listed.runs[1]?.finished_at).not.toBeNull();
  });

  it("interrupted after Stripe made a transfer and before the ledger knew, and resumed: the transfer is the same one, posted once", async () => {
    const payment = await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const runId = `po_test_${crypto.randomUUID().slice(0, 8)}`;
    // An earlier try of dominique's step reached Stripe, then died before its write: Stripe has
    // the transfer under the step's idempotency key, the ledger does not.
    const body = new URLSearchParams({ amount: "2456", currency: "eur", destination: accounts.dominique, transfer_group: runId, source_transaction: payment.charge.id, "metadata[payout_run]": runId, "metadata[party_id]": "dominique" });
    const made = await emulator("/v1/transfers", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "idempotency-key": payoutKey({ runId, partyId: "dominique", currency: "eur" }) }, body });
    expect(made.status).toBe(200);
    const earlier = ((await made.json()) as Transfer).id;

    const { run } = await runPayoutsAs(runId, async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "pay dominique 2456 eur" }, new Error("the isolate went away"), 2);
    });
    const transfers = await transfersOf(runId);
    expect(transfers.map((t) => [t.destination, t.amount])).toEqual([
      [accounts.camille, 4_913],
      [accounts.dominique, 2_456],
    ]);
    expect(transfers[1]!.id).toBe(earlier);
    expect(run.items.map((i) => [i.party_id, i.status, i.transfer_id])).toEqual([
      ["camille", "paid", transfers[0]!.id],
      ["dominique", "paid", earlier],
    ]);
    expect(await payoutsOnLedger()).toEqual([
      ["camille", 4_913, transfers[0]!.id],
      ["dominique", 2_456, earlier],
    ]);
    await ledgerOk();
  });

  it("interrupted until its step's retries ran out, after Stripe made the transfer: the transfer found at Stripe is posted, not paid again by the next run", async () => {
    const payment = await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const runId = `po_test_${crypto.randomUUID().slice(0, 8)}`;
    const body = new URLSearchParams({ amount: "2456", currency: "eur", destination: accounts.dominique, transfer_group: runId, source_transaction: payment.charge.id, "metadata[payout_run]": runId, "metadata[party_id]": "dominique" });
    const made = await emulator("/v1/transfers", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "idempotency-key": payoutKey({ runId, partyId: "dominique", currency: "eur" }) }, body });
    const earlier = ((await made.json()) as Transfer).id;

    const { run, output } = await runPayoutsAs(runId, async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "pay dominique 2456 eur" }, new Error("the isolate went away"));
    });
    expect(output).toEqual({ run_id: runId, paid: 2, parked: 0, manual: 0 });
    expect(run.items.find((i) => i.party_id === "dominique")).toMatchObject({ status: "paid", transfer_id: earlier });
    expect(await payoutsOnLedger()).toEqual([
      ["camille", 4_913, (await transfersOf(runId))[0]!.id],
      ["dominique", 2_456, earlier],
    ]);

    const next = await runPayouts();
    expect(next.run.items).toEqual([]);
    expect(await transfersOf(next.run.id)).toEqual([]);
    await ledgerOk();
  });
});

describe("a transfer that fails", () => {
  it("for want of funds (Stripe's 400 balance_insufficient) is parked at once with Stripe's reason; the others are paid, and the next run pays it", async () => {
    await paid(T0_S);
    advanceClock(15 * DAY_MS);
    await emulator("/_emulator/faults", { method: "POST", body: JSON.stringify({ path_prefix: "/v1/transfers", method: "POST", match: { destination: accounts.dominique }, status: 400, times: 1, error: { code: "balance_insufficient" } }) });
    const { run, output } = await runPayouts();
    expect(output).toEqual({ run_id: run.id, paid: 1, parked: 1, manual: 0 });
    const dominique = run.items.find((i) => i.party_id === "dominique")!;
    expect(dominique).toMatchObject({ status: "parked", transfer_id: null, amount_minor: 2_456 });
    expect(dominique.reason).toMatch(/^Stripe answered 400 balance_insufficient: You have insufficient available funds in your Stripe account/);
    expect((await transfersOf(run.id)).map((t) => t.destination)).toEqual([accounts.camille]);
    expect((await balances()).dominique).toEqual({ balance: 2_456, pending: 0, payable: 2_456, paid: 0 });

    const next = await runPayouts();
    expect((await transfersOf(next.run.id)).map((t) => [t.destination, t.amount])).toEqual([[accounts.dominique, 2_456]]);
    expect((await payoutsOnLedger()).map(([party, amount]) => [party, amount])).toEqual([
      ["camille", 4_913],
      ["dominique", 2_456],
    ]);
    await ledgerOk();
  });

  it("while Stripe answers 500 is retried with the same idempotency key and paid once it answers", async () => {
    await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const runId = `po_test_${crypto.randomUUID().slice(0, 8)}`;
    await emulator("/_emulator/faults", { method: "POST", body: JSON.stringify({ path_prefix: "/v1/transfers", method: "POST", match: { destination: accounts.dominique }, status: 500, times: 3 }) });
    const { run } = await runPayoutsAs(runId, (m) => m.disableRetryDelays());
    expect(run.items.map((i) => [i.party_id, i.status])).toEqual([
      ["camille", "paid"],
      ["dominique", "paid"],
    ]);
    const tries = await emulatorRequests(payoutKey({ runId, partyId: "dominique", currency: "eur" }));
    expect(tries).toEqual([500, 500, 500, 200]);
    expect((await transfersOf(runId)).map((t) => t.amount)).toEqual([4_913, 2_456]);
  });

  it("while Stripe answers 500 every time is tried six times, then parked with why; nothing was paid to it, so the next run pays it", async () => {
    await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const runId = `po_test_${crypto.randomUUID().slice(0, 8)}`;
    await emulator("/_emulator/faults", { method: "POST", body: JSON.stringify({ path_prefix: "/v1/transfers", method: "POST", match: { destination: accounts.dominique }, status: 500, times: 6 }) });
    const { run, output } = await runPayoutsAs(runId, (m) => m.disableRetryDelays());
    expect(output).toEqual({ run_id: runId, paid: 1, parked: 1, manual: 0 });
    expect(await emulatorRequests(payoutKey({ runId, partyId: "dominique", currency: "eur" }))).toEqual([500, 500, 500, 500, 500, 500]);
    const dominique = run.items.find((i) => i.party_id === "dominique")!;
    expect(dominique.status).toBe("parked");
    expect(dominique.reason).toMatch(/^retries ran out: Stripe answered 500: An unknown error occurred/);

    const next = await runPayouts();
    expect((await transfersOf(next.run.id)).map((t) => [t.destination, t.amount])).toEqual([[accounts.dominique, 2_456]]);
    await ledgerOk();
  });
});

describe("a transfer's source charge", () => {
  it("is named only when all the money paid came from it: a share held since before the last payout, paid with a new one, leaves the transfer without a source", async () => {
    // training-quick: camille alone, under a rule of its own that holds nothing (hold_days 0)
    await insertOffer({ id: "training-quick", kind: "training", name: "Quick", stripe_price_ids: ["price_training_quick"], contributors: [{ party_id: "camille", weight: 1 }] });
    await env.DB.batch([
      env.DB.prepare("INSERT INTO rules (id, scope_kind, scope_value, created_at_ms) VALUES ('quick', 'offer', 'training-quick', 0)"),
      env.DB.prepare("INSERT INTO rule_versions (rule_id, version, effective_from_ms, body, content_hash, author, reason, created_at_ms) VALUES ('quick', 1, 0, ?, 'sha256:test', 'test', 'test', 0)").bind(JSON.stringify({ ...DEFAULT_RULE, hold_days: 0 })),
    ]);
    await paid(T0_S);
    advanceClock(10 * DAY_MS);
    await paid(T0_S + 10 * 86400); // held until day 24
    advanceClock(5 * DAY_MS);
    const one = await runPayouts(); // day 15: the first payment only
    expect((await transfersOf(one.run.id)).map((t) => t.amount)).toEqual([4_913, 2_456]);
    advanceClock(DAY_MS);
    await paid(T0_S + 16 * 86400, 10_000, "price_training_quick"); // camille 7,369, payable at once
    advanceClock(9 * DAY_MS);

    const two = await runPayouts(); // day 25: the second payment's 4,913 and the quick one's 7,369
    expect(two.output).toEqual({ run_id: two.run.id, paid: 2, parked: 0, manual: 0 });
    expect((await transfersOf(two.run.id)).map((t) => [t.destination, t.amount, t.source_transaction])).toEqual([
      [accounts.camille, 4_913 + 7_369, null],
      [accounts.dominique, 2_456, null],
    ]);
    await ledgerOk();
  });
});

describe("contributors paid otherwise", () => {
  it("without a connected account are listed for a payment by hand, recorded once against the run", async () => {
    await connect("dominique", null);
    await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const { run, output } = await runPayouts();
    expect(output).toEqual({ run_id: run.id, paid: 1, parked: 0, manual: 1 });
    expect(run.items.map((i) => [i.party_id, i.method, i.status, i.amount_minor])).toEqual([
      ["camille", "transfer", "paid", 4_913],
      ["dominique", "manual", "manual_due", 2_456],
    ]);
    expect((await transfersOf(run.id)).map((t) => t.destination)).toEqual([accounts.camille]);

    const tooMuch = await api("/payouts/manual", { method: "POST", body: { party_id: "dominique", currency: "eur", amount_minor: 2_457, reference: "virement 2026-03-17", run_id: run.id } });
    expect(tooMuch.status).toBe(422);
    const recorded = await api("/payouts/manual", { method: "POST", body: { party_id: "dominique", currency: "eur", amount_minor: 2_456, reference: "virement 2026-03-17", run_id: run.id } });
    expect(recorded.status).toBe(201);
    expect((await payoutRun(run.id)).items.find((i) => i.party_id === "dominique")).toMatchObject({ status: "manual_paid", reason: "virement 2026-03-17" });
    expect((await balances()).dominique).toEqual({ balance: 0, pending: 0, payable: 0, paid: 2_456 });
    const again = await api("/payouts/manual", { method: "POST", body: { party_id: "dominique", currency: "eur", amount_minor: 2_456, reference: "virement 2026-03-17", run_id: run.id } });
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([409, "conflict"]); // recorded already
    const unrelated = await api("/payouts/manual", { method: "POST", body: { party_id: "dominique", currency: "eur", amount_minor: 1, reference: "again" } });
    expect([unrelated.status, ((await unrelated.json()) as { code: string }).code]).toEqual([422, "limit_exceeded"]); // nothing is payable any more
    expect(await payoutsOnLedger()).toEqual([
      ["camille", 4_913, (await transfersOf(run.id))[0]!.id],
      ["dominique", 2_456, null],
    ]);
    await ledgerOk();
  });

  it("below their minimum wait for the next run that reaches it", async () => {
    await connect("camille", accounts.camille, 5_000);
    await paid(T0_S);
    advanceClock(15 * DAY_MS);
    const one = await runPayouts();
    expect(one.run.items.map((i) => [i.party_id, i.amount_minor])).toEqual([["dominique", 2_456]]);

    advanceClock(DAY_MS);
    const second = await paid(T0_S + 16 * 86400);
    advanceClock(15 * DAY_MS);
    const two = await runPayouts();
    expect((await transfersOf(two.run.id)).map((t) => [t.destination, t.amount, t.source_transaction])).toEqual([
      [accounts.camille, 9_826, null], // from two charges: no single source
      [accounts.dominique, 2_456, second.charge.id], // all from the second payment's charge
    ]);
    await ledgerOk();
  });
});

/** The statuses the emulator answered to the POSTs made with an idempotency key, in order. */
async function emulatorRequests(key: string): Promise<number[]> {
  const log = (await (await emulator("/_emulator/requests")).json()) as { requests: { method: string; status: number; idempotency_key: string | null }[] };
  return log.requests.filter((r) => r.method === "POST" && r.idempotency_key === key).map((r) => r.status);
}
