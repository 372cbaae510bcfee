// Issue 10: a party's statement over a period (JSON and CSV), and the accountant's export of every
// posting of a period, streamed a page at a time. Amounts worked out by hand in the comments.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { buildEvent, buildTrainingPayment, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import { stripeId } from "../../infra/stripe-emulator/ids";
import { api, deliverAndSettle, insertOffer, putStripeObjects, seedCatalog, setClock } from "./helpers";
import { parseCsv } from "./csv";
import { periodOf } from "../../core";
import { database } from "../../db/client";
import { postPayout } from "../../db/queries/ledger";
import { ledgerExportPage, MAX_STATEMENT_ROWS } from "../../db/queries/statements";
import { EXPORT_PAGE_SIZE, ledgerExportCsv } from "../../workers/api/statements";

const at = (iso: string) => Date.parse(iso);

async function putObjects(objects: object[]): Promise<void> {
  const res = await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
  if (!res.ok) throw new Error(`emulator refused objects: ${res.status} ${await res.text()}`);
}

/** A training paid now (the frozen clock), split through the webhook and the workflow. */
async function paid(opts: Parameters<typeof buildTrainingPayment>[0]): Promise<TrainingPayment> {
  const built = buildTrainingPayment(opts);
  await putStripeObjects(built);
  expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
  return built;
}

/** A refund of `amount_minor` that Stripe has settled now, taken back through the webhook and the workflow. */
async function refunded(payment: TrainingPayment, amount_minor: number): Promise<string> {
  const created = Math.floor(Date.now() / 1000);
  const balance = { id: stripeId("txn_"), object: "balance_transaction", amount: -amount_minor, fee: 0, net: -amount_minor, currency: "eur", created, type: "refund" };
  const refund = { id: stripeId("re_"), object: "refund", amount: amount_minor, currency: "eur", status: "succeeded", charge: payment.charge.id, payment_intent: payment.payment_intent.id, balance_transaction: balance.id, failure_balance_transaction: null, created };
  await putObjects([balance, refund]);
  expect(await deliverAndSettle(buildEvent("refund.created", refund))).toMatchObject({ status: "processed", posted: true });
  return refund.id;
}

/** A dispute whose funds Stripe withdrew now, with its fee, taken back through the webhook and the workflow. */
async function disputed(payment: TrainingPayment, amount_minor: number, fee_minor: number): Promise<string> {
  const created = Math.floor(Date.now() / 1000);
  const withdrawal = { id: stripeId("txn_"), object: "balance_transaction", amount: -amount_minor, fee: fee_minor, net: -amount_minor - fee_minor, currency: "eur", created, type: "adjustment" };
  const dispute = { id: stripeId("dp_"), object: "dispute", amount: amount_minor, currency: "eur", status: "needs_response", reason: "fraudulent", charge: payment.charge.id, payment_intent: payment.payment_intent.id, balance_transactions: [withdrawal], created };
  await putObjects([dispute]);
  expect(await deliverAndSettle(buildEvent("charge.dispute.funds_withdrawn", dispute))).toMatchObject({ status: "processed", posted: true });
  return withdrawal.id;
}

/**
 * A payout as the payouts code writes it (db/queries/ledger.ts, postPayout): a transaction of kind
 * `payout` (a Stripe transfer, tr_…) or `payout_manual` (recorded by an admin, whose reference is
 * the description), debiting the party's account with a posting of role `payout`.
 */
async function paidOut(p: { key: string; kind: "payout" | "payout_manual"; party_id: string; amount_minor: number; transfer: string | null; event_id: string; description: string; at_ms: number }): Promise<void> {
  const { at_ms, transfer, ...payout } = p;
  expect(await postPayout(database(env.DB), { ...payout, currency: "eur", stripe_object: transfer }, at_ms)).toMatchObject({ posted: true });
}

interface StatementJson {
  party_id: string;
  from: string;
  to: string;
  currencies: { currency: string; opening_balance_minor: number; lines: Record<string, unknown>[]; closing_balance_minor: number }[];
}

async function statement(party: string, from: string, to: string, token?: string): Promise<StatementJson> {
  const res = await api(`/parties/${party}/statement?from=${from}&to=${to}`, token === undefined ? {} : { token });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return (await res.json()) as StatementJson;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Opening plus the lines is the closing, and each line's balance is the one before plus its amount. */
function expectBalanced(s: StatementJson): void {
  for (const c of s.currencies) {
    expect(c.opening_balance_minor + sum(c.lines.map((l) => l.amount_minor as number))).toBe(c.closing_balance_minor);
    let running = c.opening_balance_minor;
    for (const line of c.lines) {
      running += line.amount_minor as number;
      expect(line.balance_minor).toBe(running);
    }
  }
}

beforeEach(async () => {
  await seedCatalog();
  await insertOffer({ id: "workshop", kind: "training", name: "Atelier", stripe_price_ids: ["price_workshop"], contributors: [{ party_id: "camille", weight: 1 }] });
  // What each contributor does, on the offer versions payments are split with.
  await env.DB.batch([
    env.DB.prepare("UPDATE offer_version_contributors SET role = 'facilitator' WHERE offer_id = 'training-intro' AND party_id = 'camille'"),
    env.DB.prepare("UPDATE offer_version_contributors SET role = 'author' WHERE offer_id = 'training-intro' AND party_id = 'dominique'"),
    env.DB.prepare("UPDATE offer_version_contributors SET role = 'author' WHERE offer_id = 'workshop' AND party_id = 'camille'"),
  ]);
});

/**
 * Camille's history, by the default rule (10% commons, 15% reserve, the rest to the offer's
 * contributors, on net):
 *
 * - 20 Feb: payment A, a training of 100.00 € (fee 1.75): net 98.25 gives 9.82 / 14.74 / 73.69,
 *   and 73.69 by 2:1 gives camille 49.13, dominique 24.56.
 * - 2 Mar: payment B, a cart of training-intro 200.00 € and the workshop 100.00 € (fee 3.00,
 *   2.00 and 1.00 by line): the training's net 198.00 gives 148.50 to its contributors, 99.00 to
 *   camille (facilitator); the workshop's 99.00 gives 74.25 to camille alone (author). Her share
 *   posting is 173.25, on two lines.
 * - 10 Mar: a refund of 25.00 € of payment A: a quarter of its components (the four shares and
 *   the fee 1.75) by largest remainder takes back 12.28 from camille, and the fee's quarter, 0.44,
 *   is borne in proportion: 0.22 by camille (core/README.md, "Money going back").
 * - 20 Mar: a payout of 100.00 € (a Stripe transfer); 25 Mar: a manual payout of 5.00 €.
 * - 2 Apr: payment C, a training of 50.00 € (no fee): 5.00 / 7.50 / 37.50, camille 25.00.
 */
async function camillesHistory() {
  setClock("2026-02-20T10:00:00.000Z");
  const a = await paid({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 175 });
  setClock("2026-03-02T09:30:00.000Z");
  const b = await paid({
    amount_minor: 30_000,
    currency: "eur",
    price_id: "price_training_intro",
    fee_minor: 300,
    lines: [
      { price_id: "price_training_intro", amount_minor: 20_000 },
      { price_id: "price_workshop", amount_minor: 10_000 },
    ],
  });
  setClock("2026-03-10T14:00:00.000Z");
  const refund = await refunded(a, 2_500);
  await paidOut({ key: "payout:tr_1", kind: "payout", party_id: "camille", amount_minor: 10_000, transfer: "tr_1", event_id: "payout_run:run_1", description: "payout tr_1", at_ms: at("2026-03-20T08:00:00.000Z") });
  await paidOut({ key: "payout_manual:1", kind: "payout_manual", party_id: "camille", amount_minor: 500, transfer: null, event_id: "manual:bootstrap", description: 'Virement SEPA, ref. "AV-7"\nsolde de mars', at_ms: at("2026-03-25T16:45:00.000Z") });
  setClock("2026-04-02T11:00:00.000Z");
  const c = await paid({ amount_minor: 5_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
  return { a, b, c, refund };
}

describe("a contributor's statement", () => {
  it("over March: the opening balance, a payment on two offer lines with her roles and the rule version, a partial refund and its fee, two payouts, the closing balance", async () => {
    const { a, b, refund } = await camillesHistory();
    const pay = (p: TrainingPayment) => ({ transaction_id: `txn_pay_${p.payment_intent.id}`, payment_id: p.payment_intent.id, stripe_object: p.payment_intent.id, description: `checkout.session ${p.session.id}` });
    const none = { payment_line_no: null, offer_id: null, offer_name: null, contributor_role: null, rule_id: null, rule_version: null };
    const back = { transaction_id: `txn_refund_${refund}`, payment_id: a.payment_intent.id, stripe_object: refund, description: `refund ${refund}`, ...none };
    const s = await statement("camille", "2026-03-01", "2026-03-31");
    expect(s).toEqual({
      party_id: "camille",
      from: "2026-03-01",
      to: "2026-03-31",
      currencies: [
        {
          currency: "eur",
          opening_balance_minor: 4_913,
          lines: [
            { at: "2026-03-02T09:30:00.000Z", cause: "payment", amount_minor: 9_900, balance_minor: 14_813, ...pay(b), payment_line_no: 0, offer_id: "training-intro", offer_name: "Training", contributor_role: "facilitator", rule_id: "default", rule_version: 1 },
            { at: "2026-03-02T09:30:00.000Z", cause: "payment", amount_minor: 7_425, balance_minor: 22_238, ...pay(b), payment_line_no: 1, offer_id: "workshop", offer_name: "Atelier", contributor_role: "author", rule_id: "default", rule_version: 1 },
            { at: "2026-03-10T14:00:00.000Z", cause: "refund", amount_minor: -1_228, balance_minor: 21_010, ...back },
            { at: "2026-03-10T14:00:00.000Z", cause: "fee_kept", amount_minor: -22, balance_minor: 20_988, ...back },
            { at: "2026-03-20T08:00:00.000Z", cause: "payout", amount_minor: -10_000, balance_minor: 10_988, transaction_id: "txn_payout_tr_1", payment_id: null, stripe_object: "tr_1", description: "payout tr_1", ...none },
            { at: "2026-03-25T16:45:00.000Z", cause: "payout_manual", amount_minor: -500, balance_minor: 10_488, transaction_id: "txn_payout_manual_1", payment_id: null, stripe_object: null, description: 'Virement SEPA, ref. "AV-7"\nsolde de mars', ...none },
          ],
          closing_balance_minor: 10_488,
        },
      ],
    });
    expectBalanced(s);
    // The two lines of payment B are her one share posting of 173.25.
    const posted = await env.DB.prepare("SELECT amount_minor FROM postings WHERE transaction_id = ? AND account = 'party:camille'").bind(`txn_pay_${b.payment_intent.id}`).first<{ amount_minor: number }>();
    expect(posted?.amount_minor).toBe(17_325);
    // And the closing balance is her balance at the end of March: everything but April's payment C (25.00).
    const balances = (await (await api("/balances")).json()) as { balances: { party_id: string; balance_minor: number }[] };
    expect(balances.balances.find((x) => x.party_id === "camille")?.balance_minor).toBe(10_488 + 2_500);
  });

  it("as CSV: a header, the opening balance, a row per line with amounts in minor units and in euros, the closing balance; RFC 4180 quoting", async () => {
    const { a, b, refund } = await camillesHistory();
    const res = await api("/parties/camille/statement?from=2026-03-01&to=2026-03-31", { headers: { accept: "text/csv" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="statement-camille-2026-03-01-2026-03-31.csv"');
    const pi = b.payment_intent.id;
    const rest = `${a.payment_intent.id},${refund}`;
    expect(await res.text()).toBe(
      [
        "party_id,currency,at,cause,amount_minor,amount,balance_minor,balance,transaction_id,payment_id,stripe_object,payment_line_no,offer_id,offer_name,contributor_role,rule_id,rule_version,description",
        "camille,eur,2026-03-01T00:00:00.000Z,opening_balance,,,4913,49.13,,,,,,,,,,",
        `camille,eur,2026-03-02T09:30:00.000Z,payment,9900,99.00,14813,148.13,txn_pay_${pi},${pi},${pi},0,training-intro,Training,facilitator,default,1,checkout.session ${b.session.id}`,
        `camille,eur,2026-03-02T09:30:00.000Z,payment,7425,74.25,22238,222.38,txn_pay_${pi},${pi},${pi},1,workshop,Atelier,author,default,1,checkout.session ${b.session.id}`,
        `camille,eur,2026-03-10T14:00:00.000Z,refund,-1228,-12.28,21010,210.10,txn_refund_${refund},${rest},,,,,,,refund ${refund}`,
        `camille,eur,2026-03-10T14:00:00.000Z,fee_kept,-22,-0.22,20988,209.88,txn_refund_${refund},${rest},,,,,,,refund ${refund}`,
        "camille,eur,2026-03-20T08:00:00.000Z,payout,-10000,-100.00,10988,109.88,txn_payout_tr_1,,tr_1,,,,,,,payout tr_1",
        // The admin's reference holds a comma, quotes and a line break: quoted, its quotes doubled.
        'camille,eur,2026-03-25T16:45:00.000Z,payout_manual,-500,-5.00,10488,104.88,txn_payout_manual_1,,,,,,,,,"Virement SEPA, ref. ""AV-7""\nsolde de mars"',
        "camille,eur,2026-03-31T23:59:59.999Z,closing_balance,,,10488,104.88,,,,,,,,,,",
        "",
      ].join("\r\n"),
    );
  });

  it("starting mid-history opens with the balance of everything booked before it, and consecutive periods chain", async () => {
    await camillesHistory();
    // After the refund: 49.13 + 173.25 − 12.28 − 0.22.
    const late = await statement("camille", "2026-03-11", "2026-03-31");
    expect(late.currencies.map((c) => [c.opening_balance_minor, c.lines.map((l) => l.cause), c.closing_balance_minor])).toEqual([[20_988, ["payout", "payout_manual"], 10_488]]);
    const feb = await statement("camille", "2026-02-01", "2026-02-28");
    expect(feb.currencies.map((c) => [c.opening_balance_minor, c.lines.map((l) => [l.cause, l.amount_minor]), c.closing_balance_minor])).toEqual([[0, [["payment", 4_913]], 4_913]]);
    const april = await statement("camille", "2026-04-01", "2026-04-30");
    expect(april.currencies.map((c) => [c.opening_balance_minor, c.lines.map((l) => [l.cause, l.amount_minor, l.contributor_role]), c.closing_balance_minor])).toEqual([[10_488, [["payment", 2_500, "facilitator"]], 12_988]]);
    // One day: the refund's day alone.
    const tenth = await statement("camille", "2026-03-10", "2026-03-10");
    expect(tenth.currencies.map((c) => [c.opening_balance_minor, c.lines.map((l) => l.amount_minor), c.closing_balance_minor])).toEqual([[22_238, [-1_228, -22], 20_988]]);
    // Before anything: no currency at all. Long after: the balance, and no line.
    expect((await statement("camille", "2025-01-01", "2025-12-31")).currencies).toEqual([]);
    expect((await statement("camille", "2027-01-01", "2027-01-31")).currencies).toEqual([{ currency: "eur", opening_balance_minor: 12_988, lines: [], closing_balance_minor: 12_988 }]);
    for (const s of [late, feb, april, tenth]) expectBalanced(s);
  });

  it("of the commons shows its share of each payment line, without a contributor's role, and its part of the fee kept", async () => {
    const { b } = await camillesHistory();
    const s = await statement("commons", "2026-03-01", "2026-03-31");
    // Payment A gave the commons 9.82; B's lines give 19.80 and 9.90; the refund takes back 2.46 and 0.04 of fee.
    expect(s.currencies.map((c) => [c.opening_balance_minor, c.lines.map((l) => [l.cause, l.amount_minor, l.offer_id, l.contributor_role, l.payment_line_no]), c.closing_balance_minor])).toEqual([
      [982, [["payment", 1_980, "training-intro", null, 0], ["payment", 990, "workshop", null, 1], ["refund", -246, null, null, null], ["fee_kept", -4, null, null, null]], 982 + 1_980 + 990 - 246 - 4],
    ]);
    expect(s.currencies[0]?.lines[0]?.payment_id).toBe(b.payment_intent.id);
  });

  it("in two currencies is one statement per currency, in the order of their codes", async () => {
    setClock("2026-05-04T10:00:00.000Z");
    await paid({ amount_minor: 10_001, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
    await paid({ amount_minor: 900, currency: "jpy", price_id: "price_training_intro", fee_minor: 0 });
    // 10001: 1000 / 1500 / 7501, camille 5001 (eur); 900 jpy: 90 / 135 / 675, camille 450.
    const s = await statement("camille", "2026-05-01", "2026-05-31");
    expect(s.currencies.map((c) => [c.currency, c.opening_balance_minor, c.lines.map((l) => l.amount_minor), c.closing_balance_minor])).toEqual([
      ["eur", 0, [5_001], 5_001],
      ["jpy", 0, [450], 450],
    ]);
    const csv = await (await api("/parties/camille/statement?from=2026-05-01&to=2026-05-31", { headers: { accept: "text/csv" } })).text();
    // Yen have no minor unit: 450 is ¥450.
    expect(parseCsv(csv).map((r) => [r[1], r[3], r[5], r[7]])).toEqual([
      ["currency", "cause", "amount", "balance"],
      ["eur", "opening_balance", "", "0.00"],
      ["eur", "payment", "50.01", "50.01"],
      ["eur", "closing_balance", "", "50.01"],
      ["jpy", "opening_balance", "", "0"],
      ["jpy", "payment", "450", "450"],
      ["jpy", "closing_balance", "", "450"],
    ]);
  });

  it("is read by a viewer", async () => {
    const { token } = (await (await api("/tokens", { method: "POST", body: { name: "treasurer", role: "viewer" } })).json()) as { token: string };
    setClock("2026-05-04T10:00:00.000Z");
    await paid({ amount_minor: 10_001, currency: "eur", price_id: "price_training_intro", fee_minor: 0 });
    expect((await statement("camille", "2026-05-01", "2026-05-31", token)).currencies.map((c) => c.closing_balance_minor)).toEqual([5_001]);
    const csv = await api("/ledger/export?from=2026-05-01&to=2026-05-31", { token });
    expect(csv.status).toBe(200);
    expect(parseCsv(await csv.text())).toHaveLength(1 + 5);
  });

  it("answers 404 for a party that does not exist, and 400 naming the field for bad dates, before looking the party up", async () => {
    const unknown = await api("/parties/nobody/statement?from=2026-03-01&to=2026-03-31");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "not_found", detail: "no party nobody" });
    const cases: [string, string, string][] = [
      ["from=2026-02-30&to=2026-03-31", "from", "bad_date"],
      ["from=2026-03-01&to=31/03/2026", "to", "bad_date"],
      ["from=2026-03-01", "to", "invalid_type"],
      ["from=2026-03-31&to=2026-03-01", "to", "from_after_to"],
      ["from=2026-01-01&to=2027-01-02", "to", "period_too_long"],
    ];
    for (const [query, path, code] of cases) {
      for (const route of [`/parties/nobody/statement?${query}`, `/ledger/export?${query}`]) {
        const res = await api(route);
        expect(res.status, route).toBe(400);
        const problem = (await res.json()) as { code: string; detail: string; errors: { path: string; code?: string }[] };
        expect(problem.code, route).toBe("invalid_request");
        expect(problem.errors.map((e) => e.path), route).toEqual([path]);
        expect(problem.errors[0]?.code, route).toBe(code);
      }
    }
    const tooLong = (await (await api("/parties/camille/statement?from=2026-01-01&to=2027-01-02")).json()) as { detail: string };
    expect(tooLong.detail).toBe("invalid query: to: from 2026-01-01 to 2027-01-02 is 367 days: a period is at most 366 days");
    // A leap year is 366 days: accepted.
    expect((await api("/parties/camille/statement?from=2028-01-01&to=2028-12-31")).status).toBe(200);
  });
});

describe("the accountant's export", () => {
  it("gives every posting of the period once, in order, with its transaction, and sums to zero per transaction and per currency, dispute included", async () => {
    const { a, b, c, refund } = await camillesHistory();
    setClock("2026-03-15T12:00:00.000Z");
    // A dispute on payment B of all of it (300.00 €), with Stripe's fee of 15.00.
    const withdrawal = await disputed(b, 30_000, 1_500);
    const res = await api("/ledger/export?from=2026-03-01&to=2026-03-31");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="ledger-2026-03-01-2026-03-31.csv"');
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual(["posting_id", "transaction_id", "kind", "created_at", "account", "role", "amount_minor", "amount", "currency", "stripe_object", "payment_id", "event_id", "description"]);

    // Exactly March's postings, by id: payment B, the refund of A, the dispute on B, the two payouts; not A (February) nor C (April).
    const march = await env.DB.prepare("SELECT p.id FROM postings p JOIN ledger_transactions t ON t.id = p.transaction_id WHERE t.created_at_ms >= ? AND t.created_at_ms < ? ORDER BY p.id").bind(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")).all<{ id: number }>();
    expect(rows.map((r) => Number(r[0]))).toEqual(march.results.map((r) => r.id));
    const transactions = [...new Set(rows.map((r) => r[1]))];
    expect(transactions.sort()).toEqual([`txn_pay_${b.payment_intent.id}`, `txn_refund_${refund}`, `txn_dispute_withdrawn_${withdrawal}`, "txn_payout_tr_1", "txn_payout_manual_1"].sort());
    expect(transactions).not.toContain(`txn_pay_${a.payment_intent.id}`);
    expect(transactions).not.toContain(`txn_pay_${c.payment_intent.id}`);

    const byTransaction = new Map<string, number>();
    for (const r of rows) byTransaction.set(r[1] as string, (byTransaction.get(r[1] as string) ?? 0) + Number(r[6]));
    expect([...byTransaction.values()].every((s) => s === 0)).toBe(true);
    expect(sum(rows.filter((r) => r[8] === "eur").map((r) => Number(r[6])))).toBe(0);
    // The decimal column says the same as the minor units.
    for (const r of rows) expect(Math.round(Number(r[7]) * 100)).toBe(Number(r[6]));

    const row = (transaction: string, account: string, role: string) => rows.find((r) => r[1] === transaction && r[4] === account && r[5] === role);
    // Payment B's customer posting: the payment intent is its Stripe object and its payment.
    expect(row(`txn_pay_${b.payment_intent.id}`, "stripe:customers", "customer")?.slice(2)).toEqual(["payment", "2026-03-02T09:30:00.000Z", "stripe:customers", "customer", "-30000", "-300.00", "eur", b.payment_intent.id, b.payment_intent.id, b.event.id, `checkout.session ${b.session.id}`]);
    // The dispute's fee: 15.00 shared by the lines pro rata to what they brought in (10.00 and 5.00),
    // each borne by its parties in proportion; camille: 10.00 × 148.50 / 198.00 × 2/3 = 5.00, and 5.00 × 74.25 / 99.00 = 3.75.
    expect(row(`txn_dispute_withdrawn_${withdrawal}`, "stripe:fees", "fee")?.slice(6, 10)).toEqual(["1500", "15.00", "eur", withdrawal]);
    expect(row(`txn_dispute_withdrawn_${withdrawal}`, "party:camille", "dispute_fee")?.slice(6, 8)).toEqual(["-875", "-8.75"]);
    // A dispute of the whole charge takes back all of payment B's shares: camille's 173.25.
    expect(row(`txn_dispute_withdrawn_${withdrawal}`, "party:camille", "reversal")?.slice(6, 8)).toEqual(["-17325", "-173.25"]);
    expect(row("txn_payout_manual_1", "party:camille", "payout")?.slice(2)).toEqual(["payout_manual", "2026-03-25T16:45:00.000Z", "party:camille", "payout", "-500", "-5.00", "eur", "", "", "manual:bootstrap", 'Virement SEPA, ref. "AV-7"\nsolde de mars']);
  });

  it("quotes descriptions with commas, quotes and line breaks as RFC 4180 says, and leaves the rest as it is", async () => {
    const description = 'Avance, "urgente"\r\nréf. 12';
    await paidOut({ key: "manual:q", kind: "payout_manual", party_id: "camille", amount_minor: 1_234, transfer: null, event_id: "manual:bootstrap", description, at_ms: at("2026-06-01T12:00:00.000Z") });
    const text = await (await api("/ledger/export?from=2026-06-01&to=2026-06-01")).text();
    const lines = text.split("\r\n");
    expect(lines[0]).toBe("posting_id,transaction_id,kind,created_at,account,role,amount_minor,amount,currency,stripe_object,payment_id,event_id,description");
    expect(text).toContain(',manual:bootstrap,"Avance, ""urgente""\r\nréf. 12"\r\n');
    expect(text.endsWith("\r\n")).toBe(true);
    const parsed = parseCsv(text);
    expect(parsed.slice(1).map((r) => [r[4], r[6], r[7], r[12]])).toEqual([
      ["party:camille", "-1234", "-12.34", description],
      ["coop:manual_payouts", "1234", "12.34", description],
    ]);
  });

  it("of a period without postings is the header alone", async () => {
    const res = await api("/ledger/export?from=2020-01-01&to=2020-12-31");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("posting_id,transaction_id,kind,created_at,account,role,amount_minor,amount,currency,stripe_object,payment_id,event_id,description\r\n");
  });
});

/** D1 that counts what it answers: the rows of each query, in order. */
function countingD1(d1: D1Database, rowsPerQuery: number[]): D1Database {
  const counted = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => counted(target.bind(...values));
        if (prop === "all" || prop === "raw") {
          return async (...args: unknown[]) => {
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            rowsPerQuery.push(Array.isArray(result) ? result.length : (result as D1Result).results.length);
            return result;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => counted(target.prepare(query));
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** `count` balanced transactions of three postings each, one a minute from `from_ms`, written straight to D1. */
async function bulkTransactions(prefix: string, count: number, from_ms: number): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO ledger_transactions (id, kind, idempotency_key, event_id, description, created_at_ms)
     SELECT ? || i, 'payment', ? || i, 'evt_' || ? || i, 'bulk ' || i, ? + i * 60000 FROM n`,
  )
    .bind(count, prefix, prefix, prefix, from_ms)
    .run();
  await env.DB.prepare(
    `INSERT INTO postings (transaction_id, account, amount_minor, currency, role)
     SELECT id, account, amount_minor, 'eur', role FROM ledger_transactions,
       (SELECT 1 AS k, 'stripe:customers' AS account, -300 AS amount_minor, 'customer' AS role UNION ALL SELECT 2, 'party:commons', 100, 'share' UNION ALL SELECT 3, 'party:camille', 200, 'share')
     WHERE id LIKE ? || '%' ORDER BY created_at_ms, k`,
  )
    .bind(prefix)
    .run();
}

describe("the export, page by page", () => {
  it("reads pages of at most the page size, each only once the one before was taken, and gives every posting of the period once, in order", async () => {
    // Transactions of May (in the period) and of April and June (outside it), written in between:
    // 14 of May's, 3 postings each, are 42 rows, exactly 6 pages of 7.
    await bulkTransactions("txn_april_", 3, at("2026-04-30T23:00:00.000Z"));
    await bulkTransactions("txn_may_a_", 8, at("2026-05-01T00:00:00.000Z") - 60_000);
    await bulkTransactions("txn_june_", 2, at("2026-05-31T23:59:00.000Z"));
    await bulkTransactions("txn_may_b_", 6, at("2026-05-10T00:00:00.000Z"));
    const inMay = await env.DB.prepare("SELECT p.id FROM postings p JOIN ledger_transactions t ON t.id = p.transaction_id WHERE t.created_at_ms >= ? AND t.created_at_ms < ? ORDER BY p.id").bind(at("2026-05-01T00:00:00Z"), at("2026-06-01T00:00:00Z")).all<{ id: number }>();
    expect(inMay.results).toHaveLength(42);

    const rowsPerQuery: number[] = [];
    const db = database(countingD1(env.DB, rowsPerQuery));
    const period = periodOf("2026-05-01", "2026-05-31");
    if (!period.ok) throw new Error("a valid period");
    const reader = ledgerExportCsv((after_id, limit) => ledgerExportPage(db, period.period, after_id, limit), 7).getReader();
    // Nothing is read before someone reads.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(rowsPerQuery).toEqual([]);
    const decoder = new TextDecoder();
    let text = "";
    for (let reads = 1; ; reads++) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
      // One query per chunk taken: the stream holds one page at a time.
      expect(rowsPerQuery).toHaveLength(reads);
    }
    // Six full pages, then one query that finds nothing more.
    expect(rowsPerQuery).toEqual([7, 7, 7, 7, 7, 7, 0]);
    const [header, ...rows] = parseCsv(text);
    expect(header?.[0]).toBe("posting_id");
    expect(rows.map((r) => Number(r[0]))).toEqual(inMay.results.map((r) => r.id));
    expect(new Set(rows.map((r) => r[1])).size).toBe(14);
  });

  it("through the route, a period of more postings than a page of 500 comes whole, each posting once, in order", async () => {
    expect(EXPORT_PAGE_SIZE).toBe(500);
    await bulkTransactions("txn_bulk_", 400, at("2026-07-01T00:00:00.000Z"));
    const res = await api("/ledger/export?from=2026-07-01&to=2026-07-31");
    const [, ...rows] = parseCsv(await res.text());
    expect(rows).toHaveLength(1_200);
    const ids = rows.map((r) => Number(r[0]));
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? Infinity))).toBe(true);
    expect(sum(rows.map((r) => Number(r[6])))).toBe(0);
  });
});

describe("a statement above its limit", () => {
  it("is refused with 422 limit_exceeded, saying to ask for a shorter period, which is answered", async () => {
    expect(MAX_STATEMENT_ROWS).toBe(10_000);
    // 10,001 transactions a minute apart from 1 August: each gives camille 2.00, about a week of them.
    await bulkTransactions("txn_many_", 10_001, at("2026-08-01T00:00:00.000Z") - 60_000);
    const res = await api("/parties/camille/statement?from=2026-08-01&to=2026-08-31");
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "limit_exceeded", detail: "party camille has more than 10000 postings or payment lines from 2026-08-01 to 2026-08-31: ask for a shorter period" });
    // The first day alone: 1,440 minutes, 2.00 each.
    const day = await statement("camille", "2026-08-01", "2026-08-01");
    expect(day.currencies.map((c) => [c.opening_balance_minor, c.lines.length, c.closing_balance_minor])).toEqual([[0, 1_440, 288_000]]);
  }, 30_000);
});

describe("for random ledgers and periods, read from D1", () => {
  const DAY_MS = 86_400_000;
  const START_MS = at("2026-01-01T00:00:00.000Z");
  const day = (n: number) => new Date(START_MS + n * DAY_MS).toISOString().slice(0, 10);
  const entry = fc.record({
    minute: fc.integer({ min: 0, max: 20 * 24 * 60 }),
    currency: fc.constantFrom("eur", "jpy"),
    party: fc.constantFrom("camille", "camille", "dominique"),
    kind_role: fc.constantFrom(["payment", "share"], ["refund", "reversal"], ["refund", "fee_kept"], ["dispute_withdrawn", "dispute_fee"], ["payout", "payout"], ["payout_manual", "payout"]),
    parts: fc.array(fc.integer({ min: -5_000, max: 100_000 }), { minLength: 1, maxLength: 3 }),
  });

  /** Each entry as a transaction with the party's posting and its counterpart; a payment with its lines and each line's part for the party. */
  async function write(entries: { minute: number; currency: string; party: string; kind_role: readonly string[]; parts: number[] }[]): Promise<void> {
    await env.DB.batch([env.DB.prepare("DELETE FROM postings"), env.DB.prepare("DELETE FROM payment_lines"), env.DB.prepare("DELETE FROM payments"), env.DB.prepare("DELETE FROM ledger_transactions")]);
    const statements = entries.flatMap((e, i) => {
      const [kind, role] = e.kind_role as [string, string];
      const id = `txn_${i}`;
      const at_ms = START_MS + e.minute * 60_000;
      const amount = kind === "payment" ? e.parts.reduce((a, b) => a + b, 0) : -Math.abs(e.parts[0] ?? 0) + 0;
      const rows = [
        env.DB.prepare("INSERT INTO ledger_transactions (id, kind, idempotency_key, event_id, description, payment_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(id, kind, `k:${id}`, `evt_${i}`, `entry ${i}`, kind === "payment" || kind.startsWith("payout") ? null : `pi_${i}`, at_ms),
        env.DB.prepare("INSERT INTO postings (transaction_id, account, amount_minor, currency, role) VALUES (?, ?, ?, ?, ?), (?, 'stripe:customers', ?, ?, 'customer')").bind(id, `party:${e.party}`, amount, e.currency, role, id, -amount, e.currency),
      ];
      if (kind !== "payment") return rows;
      return [
        ...rows,
        env.DB.prepare("INSERT INTO payments (id, source_type, source_id, event_id, transaction_id, currency, gross_minor, fee_minor, net_minor, presentment_currency, presentment_amount_minor, paid_at_s, created_at_ms) VALUES (?, 'checkout.session', ?, ?, ?, ?, 0, 0, 0, ?, 0, ?, ?)").bind(`pi_${i}`, `cs_${i}`, `evt_${i}`, id, e.currency, e.currency, Math.floor(at_ms / 1000), at_ms),
        ...e.parts.map((part, line) =>
          env.DB.prepare("INSERT INTO payment_lines (payment_id, line_no, offer_id, rule_id, rule_version, basis, gross_minor, fee_minor, basis_minor, parts) VALUES (?, ?, 'training-intro', 'default', 1, 'net', 0, 0, 0, ?)").bind(`pi_${i}`, line, JSON.stringify([{ party_id: "commons", amount_minor: 1 }, { party_id: e.party, amount_minor: part }])),
        ),
      ];
    });
    if (statements.length > 0) await env.DB.batch(statements);
  }

  it("opening is everything booked before, opening plus the lines is the closing, each payment comes out on its lines, and consecutive periods chain", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 25 }), fc.uniqueArray(fc.integer({ min: 0, max: 21 }), { minLength: 3, maxLength: 3 }), async (entries, cuts) => {
        await write(entries);
        const [a, b, c] = cuts.sort((x, y) => x - y) as [number, number, number];
        const first = await statement("camille", day(a), day(b - 1 < a ? a : b - 1));
        const second = await statement("camille", day(b), day(c));
        const booked = async (until_ms: number, currency: string) =>
          (await env.DB.prepare("SELECT coalesce(sum(p.amount_minor), 0) AS s FROM postings p JOIN ledger_transactions t ON t.id = p.transaction_id WHERE p.account = 'party:camille' AND p.currency = ? AND t.created_at_ms < ?").bind(currency, until_ms).first<{ s: number }>())?.s ?? 0;
        for (const [s, from, to] of [[first, a, b - 1 < a ? a : b - 1], [second, b, c]] as const) {
          expectBalanced(s);
          for (const cur of s.currencies) {
            expect(cur.opening_balance_minor).toBe(await booked(START_MS + from * DAY_MS, cur.currency));
            expect(cur.closing_balance_minor).toBe(await booked(START_MS + (to + 1) * DAY_MS, cur.currency));
            // A payment's share comes out as one line per payment line that gave camille something.
            const payments = cur.lines.filter((l) => l.cause === "payment");
            const expected = entries.flatMap((e, i) => {
              const at_ms = START_MS + e.minute * 60_000;
              const inPeriod = e.party === "camille" && e.currency === cur.currency && e.kind_role[0] === "payment" && at_ms >= START_MS + from * DAY_MS && at_ms < START_MS + (to + 1) * DAY_MS;
              return inPeriod ? e.parts.flatMap((part, line) => (part === 0 ? [] : [[`pi_${i}`, line, part]])) : [];
            });
            expect(payments.map((l) => [l.payment_id, l.payment_line_no, l.amount_minor]).sort()).toEqual(expected.sort());
          }
        }
        if (b - 1 >= a) {
          for (const cur of second.currencies) expect(cur.opening_balance_minor).toBe(first.currencies.find((f) => f.currency === cur.currency)?.closing_balance_minor ?? 0);
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
