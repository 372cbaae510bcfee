import Stripe from "stripe";
import { describe, expect, it } from "vitest";

import {
  KINDS,
  parseCommand,
  parseDotenv,
  parseTriggerArgs,
  trigger,
  triggerDispute,
  TriggerError,
  triggerRefund,
  type DisputeTriggerOptions,
  type RefundTriggerOptions,
  type TriggerOptions,
} from "../../infra/scripts/trigger";
import { createStripeEmulator } from "../../infra/stripe-emulator/app";
import { buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";

const SECRET = "whsec_test_trigger";

const ADMIN = "local-admin-token";

/**
 * Routes the trigger's fetches to an in-process emulator and a fake worker that verifies
 * signatures and answers GET /api/v1/offers/{id} from `offers` (with the admin token).
 */
function world(opts: { workerDown?: boolean; emulatorDown?: boolean; offers?: Record<string, string[]> } = {}) {
  const emulator = createStripeEmulator();
  const received: Stripe.Event[] = [];
  const fetchFn = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url);
    if (u.port === "12111") {
      if (opts.emulatorDown) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      return emulator.fetch(new Request(url, init));
    }
    if (opts.workerDown) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    const offer = /^\/api\/v1\/offers\/([^/]+)$/.exec(u.pathname);
    if (offer) {
      if (new Headers(init?.headers).get("Authorization") !== `Bearer ${ADMIN}`) return Response.json({ code: "unauthorized" }, { status: 401 });
      const prices = opts.offers?.[decodeURIComponent(offer[1]!)];
      if (!prices) return Response.json({ code: "not_found" }, { status: 404 });
      return Response.json({ id: offer[1], kind: "hosting", name: "x", stripe_price_ids: prices, contributors: [] });
    }
    if (u.pathname !== "/webhooks/stripe") return new Response("not found", { status: 404 });
    const body = String(init?.body);
    const sig = new Headers(init?.headers).get("Stripe-Signature") ?? "";
    try {
      received.push(await Stripe.webhooks.constructEventAsync(body, sig, SECRET));
    } catch (e) {
      return Response.json({ error: (e as Error).message }, { status: 400 });
    }
    return Response.json({ received: true });
  };
  return { emulator, received, fetchFn };
}

function options(argv: string[], vars: Record<string, string> = { STRIPE_WEBHOOK_SECRET: SECRET, ADMIN_TOKEN: ADMIN }): TriggerOptions {
  const o = parseTriggerArgs(argv, vars);
  if (o === "help") throw new Error("help");
  return o;
}

const quiet = () => {};

describe("stripe:trigger", () => {
  it("reads .dev.vars: comments, export, quotes and trailing notes, skipping malformed lines", () => {
    expect(parseDotenv('# c\nSTRIPE_WEBHOOK_SECRET=whsec_x\nexport ADMIN_TOKEN="tok en"\nX=1 # note\n\nBAD LINE\nQ=\'a#b\'')).toEqual({
      STRIPE_WEBHOOK_SECRET: "whsec_x",
      ADMIN_TOKEN: "tok en",
      X: "1",
      Q: "a#b",
    });
  });

  it("parses arguments, filling in the kind's defaults", () => {
    expect(options(["training"], {})).toMatchObject({
      kind: "training",
      amount_minor: 10001,
      currency: "eur",
      price_id: KINDS.training.price,
      worker: "http://127.0.0.1:8787",
      emulator: "http://127.0.0.1:12111",
      webhook_secret: process.env.STRIPE_WEBHOOK_SECRET ?? "whsec_local",
    });
    const o = options(["hosting", "--amount", "2900", "--currency", "CHF", "--offer", "x", "--worker", "http://127.0.0.1:9999/"]);
    expect(o).toMatchObject({ kind: "hosting", amount_minor: 2900, currency: "chf", offer_id: "x", price_id: "price_hosting_basic", worker: "http://127.0.0.1:9999" });
    expect(options(["training", "--price", "price_other"]).price_id).toBe("price_other");
    expect(parseTriggerArgs(["--help"], {})).toBe("help");
  });

  it("refuses an unknown kind or option, a missing kind and a fractional amount, saying which", () => {
    expect(() => options(["payout"])).toThrow(TriggerError);
    expect(() => options(["payout"])).toThrow(/Unknown kind 'payout': use one of training, hosting, refund, dispute/);
    expect(() => options([])).toThrow(/Missing event kind/);
    expect(() => options(["training", "--amount", "10.5"])).toThrow(/--amount must be a positive integer/);
    expect(() => options(["training", "--bogus"])).toThrow(/Unknown option/);
  });

  it("for a training, stores the objects in the emulator and sends a signed event the worker verifies", async () => {
    const w = world();
    const r = await trigger(options(["training", "--offer", "training-intro"]), w.fetchFn, quiet);
    expect(r.worker_status).toBe(200);
    expect(w.received).toHaveLength(1);
    const event = w.received[0]!;
    expect(event).toMatchObject({ id: r.event_id, type: "checkout.session.completed" });
    const session = event.data.object as Stripe.Checkout.Session;
    expect(session.metadata).toEqual({ offer_id: "training-intro" });
    expect(session.payment_intent).toBe(r.payment_intent_id);
    // What the worker will fetch is in the emulator.
    const res = await w.emulator.fetch(
      new Request(`http://127.0.0.1:12111/v1/checkout/sessions/${session.id}?expand[]=line_items`, { headers: { Authorization: "Bearer sk_test_local" } }),
    );
    const stored = (await res.json()) as Stripe.Checkout.Session;
    expect(stored.line_items?.data[0]?.price?.id).toBe("price_training_intro");
    expect(w.emulator.store.get(r.payment_intent_id)).toMatchObject({ id: r.payment_intent_id, object: "payment_intent", amount: 10001, currency: "eur", status: "succeeded" });
  });

  it("for a hosting with --offer, puts the offer id on the invoice and on its subscription details", async () => {
    const w = world();
    const r = await trigger(options(["hosting", "--offer", "hosting-basic", "--amount", "2900"]), w.fetchFn, quiet);
    const invoice = w.received[0]!.data.object as Stripe.Invoice;
    expect(w.received[0]!.type).toBe("invoice.paid");
    expect(invoice.metadata).toEqual({ offer_id: "hosting-basic" });
    expect(invoice.parent?.subscription_details?.metadata).toEqual({ offer_id: "hosting-basic" });
    expect(invoice.lines.data[0]?.pricing?.price_details?.price).toBe("price_hosting_basic");
    expect(invoice.amount_paid).toBe(2900);
    expect(w.emulator.store.ofType("invoice_payment")[0]).toMatchObject({ invoice: invoice.id, payment: { payment_intent: r.payment_intent_id } });
  });

  it("reports the worker's refusal (wrong secret) with its status and body", async () => {
    const w = world();
    const r = await trigger(options(["training"], { STRIPE_WEBHOOK_SECRET: "whsec_wrong" }), w.fetchFn, quiet);
    expect(r.worker_status).toBe(400);
    expect(r.worker_body).toMatch(/signature/i);
  });

  it("says what to start when the worker or the emulator is not running", async () => {
    await expect(trigger(options(["training"]), world({ workerDown: true }).fetchFn, quiet)).rejects.toThrow(/is `npm start` running\?/);
    await expect(trigger(options(["training"]), world({ emulatorDown: true }).fetchFn, quiet)).rejects.toThrow(/Stripe emulator.*ECONNREFUSED/s);
  });
  it("reads tax, discount and upgrade options as exact basis points, exclusive tax unless --tax-inclusive", () => {
    expect(options(["hosting", "--tax-percent", "20"]).tax).toEqual({ rate_bps: 2000, behavior: "exclusive" });
    expect(options(["training", "--tax-percent", "5.5", "--tax-inclusive"]).tax).toEqual({ rate_bps: 550, behavior: "inclusive" });
    expect(options(["training", "--discount-percent", "12.5"]).discount_bps).toBe(1250);
    expect(options(["hosting"])).not.toHaveProperty("tax");
    expect(options(["hosting", "--price", "price_hosting_plus", "--upgrade-from", "hosting-basic"]).upgrade).toEqual({ from_offer_id: "hosting-basic", unused_bps: 5000 });
    expect(options(["hosting", "--upgrade-from", "hosting-basic", "--from-amount", "3000", "--unused-percent", "25"]).upgrade).toEqual({ from_offer_id: "hosting-basic", unused_bps: 2500, from_unit_amount_minor: 3000 });
  });

  it("refuses tax, discount and upgrade options that do not make sense, saying which and why", () => {
    expect(() => options(["hosting", "--tax-inclusive"])).toThrow("--tax-inclusive needs --tax-percent");
    expect(() => options(["hosting", "--tax-percent", "20.125"])).toThrow(/--tax-percent must be a percentage with at most two decimals/);
    expect(() => options(["hosting", "--tax-percent", "101"])).toThrow(/--tax-percent must be an integer number of basis points from 0 to 10000/);
    expect(() => options(["hosting", "--discount-percent", "100"])).toThrow(/--discount-percent must be below 100/);
    expect(() => options(["training", "--upgrade-from", "hosting-basic"])).toThrow(/--upgrade-from is for hosting/);
    expect(() => options(["hosting", "--from-amount", "3000"])).toThrow(/give --upgrade-from <offer id> too/);
    expect(() => options(["hosting", "--upgrade-from", "hosting-basic", "--unused-percent", "100"])).toThrow(/--unused-percent must be above 0 and below 100/);
    expect(() => options(["hosting", "--upgrade-from", "hosting-basic", "--from-amount", "12.5"])).toThrow(/--from-amount must be a non-negative integer/);
    expect(() => options(["hosting", "--upgrade-from", "../x"])).toThrow(/--upgrade-from must be an offer id/);
    for (const bad of [["hosting", "--tax-percent", "20.125"], ["training", "--upgrade-from", "x"]]) expect(() => options(bad)).toThrow(TriggerError);
  });

  it("hosting --tax-percent 20 --amount 12000: an invoice the customer pays 120.00 for, of which 20.00 is VAT", async () => {
    const w = world();
    const lines: string[] = [];
    const r = await trigger(options(["hosting", "--tax-percent", "20", "--amount", "12000"]), w.fetchFn, (l) => lines.push(l));
    const invoice = w.received[0]!.data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({ amount_paid: 12_000, total: 12_000, subtotal: 10_000, total_excluding_tax: 10_000 });
    expect(invoice.total_taxes).toEqual([expect.objectContaining({ amount: 2000, tax_behavior: "exclusive", taxable_amount: 10_000 })]);
    expect(invoice.lines.data[0]).toMatchObject({ amount: 10_000, taxes: [{ amount: 2000, tax_behavior: "exclusive" }] });
    expect(w.emulator.store.get(r.payment_intent_id)).toMatchObject({ amount: 12_000 });
    expect(w.emulator.store.get(invoice.total_taxes![0]!.tax_rate_details!.tax_rate)).toMatchObject({ object: "tax_rate", percentage: 20, inclusive: false });
    // What was built is printed: the line, its tax, the total.
    expect(lines).toContain(`Invoice ${invoice.id} (eur, subscription_cycle · tax 20% exclusive)`);
    expect(lines.some((l) => /^ {2}line {3}1 × Hosting basic .* amount 10000 {2}discount 0 {2}tax 2000$/.test(l))).toBe(true);
    expect(lines).toContain("  total  12000 = 120.00 EUR (subtotal 10000, discount 0, tax 2000, excluding tax 10000); paid 12000");
  });

  it("--tax-inclusive: the same 120.00 holds 20.00 of VAT in the price itself", async () => {
    const w = world();
    await trigger(options(["hosting", "--tax-percent", "20", "--tax-inclusive", "--amount", "12000"]), w.fetchFn, quiet);
    const invoice = w.received[0]!.data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({ amount_paid: 12_000, subtotal: 12_000, subtotal_excluding_tax: 10_000, total_excluding_tax: 10_000 });
    expect(invoice.total_taxes).toEqual([expect.objectContaining({ amount: 2000, tax_behavior: "inclusive" })]);
  });

  it("training --discount-percent 10 --amount 9000: a 100.00 price, 10.00 off, and the coupon printed", async () => {
    const w = world();
    const lines: string[] = [];
    await trigger(options(["training", "--discount-percent", "10", "--amount", "9000"]), w.fetchFn, (l) => lines.push(l));
    const session = w.received[0]!.data.object as Stripe.Checkout.Session;
    expect(session).toMatchObject({ amount_subtotal: 10_000, amount_total: 9000, total_details: { amount_discount: 1000, amount_tax: 0 } });
    expect(lines[0]).toMatch(new RegExp(`^Checkout session ${session.id} \\(eur · coupon \\w+ \\(10% off\\)\\)$`));
    expect(lines).toContain("  total  9000 = 90.00 EUR (subtotal 10000, discount 1000, shipping 0, tax 0)");
  });

  it("says which totals can be paid when --amount cannot be reached with that tax", async () => {
    await expect(trigger(options(["hosting", "--tax-percent", "20", "--amount", "3"]), world().fetchFn, quiet)).rejects.toThrow(
      "cannot build that payment: the payment: amount_minor: no price gives a total of exactly 3 (rounding per line skips it); the nearest reachable totals are 2 and 4",
    );
  });

  it("hosting --upgrade-from: finds the old plan's price through the API and bills the prorations", async () => {
    const w = world({ offers: { "hosting-basic": ["price_hosting_basic"] } });
    const lines: string[] = [];
    await trigger(
      options(["hosting", "--price", "price_hosting_plus", "--offer", "hosting-plus", "--upgrade-from", "hosting-basic", "--from-amount", "3000", "--tax-percent", "20", "--amount", "6000"]),
      w.fetchFn,
      (l) => lines.push(l),
    );
    const invoice = w.received[0]!.data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({ billing_reason: "subscription_update", amount_paid: 6000, subtotal: 5000 });
    const [credit, debit] = invoice.lines.data;
    expect(credit).toMatchObject({ amount: -1500, taxes: [{ amount: -300 }], pricing: { price_details: { price: "price_hosting_basic" } }, parent: { subscription_item_details: { proration: true } } });
    expect(debit).toMatchObject({ amount: 6500, taxes: [{ amount: 1300 }], pricing: { price_details: { price: "price_hosting_plus" } }, parent: { subscription_item_details: { proration: true } } });
    // Half of 12999 rounds up to 6500: the smallest price that makes the total is the one chosen.
    expect(w.emulator.store.get("price_hosting_plus")).toMatchObject({ unit_amount: 12_999 });
    expect(lines.filter((l) => l.includes("(proration)"))).toHaveLength(2);
  });

  it("--upgrade-from takes the old plan's price from the emulator when an earlier trigger stored it, else 5000", async () => {
    const w = world({ offers: { "hosting-basic": ["price_hosting_basic"] } });
    const upgrade = ["hosting", "--price", "price_hosting_plus", "--upgrade-from", "hosting-basic", "--amount", "6000"];
    await trigger(options(upgrade), w.fetchFn, quiet);
    expect((w.received[0]!.data.object as Stripe.Invoice).lines.data[0]!.amount).toBe(-2500); // half of the default 5000
    await trigger(options(["hosting", "--amount", "4000"]), w.fetchFn, quiet); // stores price_hosting_basic at 4000
    await trigger(options(upgrade), w.fetchFn, quiet);
    expect((w.received[2]!.data.object as Stripe.Invoice).lines.data[0]!.amount).toBe(-2000);
  });

  it("--upgrade-from fails clearly: an unknown offer, an offer without a price, the same price, a refused token", async () => {
    const w = world({ offers: { "hosting-basic": ["price_hosting_basic"], bare: [] } });
    const run = (argv: string[], vars?: Record<string, string>) => trigger(options(argv, vars), w.fetchFn, quiet);
    await expect(run(["hosting", "--price", "price_hosting_plus", "--upgrade-from", "nope"])).rejects.toThrow(/there is no offer 'nope' \(GET http:\/\/127\.0\.0\.1:8787\/api\/v1\/offers\/nope answered 404\)/);
    await expect(run(["hosting", "--price", "price_hosting_plus", "--upgrade-from", "bare"])).rejects.toThrow(/offer 'bare' has no Stripe price/);
    await expect(run(["hosting", "--upgrade-from", "hosting-basic"])).rejects.toThrow(/its price price_hosting_basic is also the price moved to; give the new plan's price with --price/);
    await expect(run(["hosting", "--price", "price_hosting_plus", "--upgrade-from", "hosting-basic"], { STRIPE_WEBHOOK_SECRET: SECRET, ADMIN_TOKEN: "wrong" })).rejects.toThrow(/refused the admin token \(HTTP 401\)/);
    await expect(trigger(options(["hosting", "--price", "price_hosting_plus", "--upgrade-from", "hosting-basic"]), world({ workerDown: true }).fetchFn, quiet)).rejects.toThrow(/read the offer moved from: is `npm start` running\?/);
    expect(w.received).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// refund and dispute of a payment the emulator holds
// ---------------------------------------------------------------------------------------------

const VARS = { STRIPE_WEBHOOK_SECRET: SECRET, ADMIN_TOKEN: ADMIN };
function refundOptions(argv: string[]): RefundTriggerOptions {
  const o = parseCommand(["refund", ...argv], VARS);
  if (o === "help" || o.kind !== "refund") throw new Error(`not a refund: ${JSON.stringify(o)}`);
  return o;
}
function disputeOptions(argv: string[]): DisputeTriggerOptions {
  const o = parseCommand(["dispute", ...argv], VARS);
  if (o === "help" || o.kind !== "dispute") throw new Error(`not a dispute: ${JSON.stringify(o)}`);
  return o;
}
const PI = "pi_3abcDEF123";

describe("stripe:trigger refund and dispute: the command line", () => {
  it("reads refund --payment [--amount] [--fail] and dispute --payment [--won [--fee-returned] | --lost | --inquiry]", () => {
    const targets = { worker: "http://127.0.0.1:8787", emulator: "http://127.0.0.1:12111", webhook_secret: SECRET, admin_token: ADMIN };
    expect(refundOptions(["--payment", PI])).toEqual({ kind: "refund", payment_intent_id: PI, fail: false, ...targets });
    expect(refundOptions(["--payment", PI, "--amount", "2500", "--fail"])).toEqual({ kind: "refund", payment_intent_id: PI, amount_minor: 2500, fail: true, ...targets });
    expect(disputeOptions(["--payment", PI])).toEqual({ kind: "dispute", payment_intent_id: PI, outcome: null, fee_returned: false, inquiry: false, ...targets });
    expect(disputeOptions(["--payment", PI, "--won"])).toMatchObject({ outcome: "won", fee_returned: false });
    expect(disputeOptions(["--payment", PI, "--won", "--fee-returned"])).toMatchObject({ outcome: "won", fee_returned: true });
    expect(disputeOptions(["--payment", PI, "--lost"])).toMatchObject({ outcome: "lost" });
    expect(disputeOptions(["--payment", PI, "--inquiry"])).toMatchObject({ outcome: null, inquiry: true });
    expect(refundOptions(["--payment", PI, "--emulator", "http://127.0.0.1:9999/"]).emulator).toBe("http://127.0.0.1:9999");
  });

  it("refuses what does not fit, saying which flag and why", () => {
    const refund = (argv: string[]) => () => parseCommand(["refund", ...argv], VARS);
    const dispute = (argv: string[]) => () => parseCommand(["dispute", ...argv], VARS);
    expect(refund([])).toThrow(/refund needs --payment <pi_…>/);
    expect(dispute([])).toThrow(/dispute needs --payment <pi_…>/);
    expect(refund(["--payment", "ch_123"])).toThrow("--payment must be a payment intent id (pi_…), got 'ch_123'");
    expect(refund(["--payment", PI, "--amount", "0"])).toThrow(/--amount must be a positive integer number of minor units of the payment's currency/);
    expect(refund(["--payment", PI, "--amount", "12.5"])).toThrow(/got '12.5'/);
    expect(refund(["--payment", PI, "--currency", "usd"])).toThrow("--currency is for training and hosting: a refund takes its currency and amounts from the payment");
    expect(dispute(["--payment", PI, "--tax-percent", "20"])).toThrow(/--tax-percent is for training and hosting/);
    expect(refund(["--payment", PI, "--won"])).toThrow("--won is for dispute, not refund");
    expect(dispute(["--payment", PI, "--fail"])).toThrow("--fail is for refund, not dispute");
    expect(dispute(["--payment", PI, "--amount", "100"])).toThrow(/--amount is for training, hosting and refund/);
    expect(dispute(["--payment", PI, "--won", "--lost"])).toThrow("give one of --won, --lost and --inquiry, not --won and --lost");
    expect(dispute(["--payment", PI, "--lost", "--inquiry"])).toThrow(/not --lost and --inquiry/);
    expect(dispute(["--payment", PI, "--fee-returned"])).toThrow(/--fee-returned says what a won dispute gives back: give --won too/);
    expect(() => parseCommand(["training", "--payment", PI], VARS)).toThrow("--payment is for refund and dispute, not training");
    expect(() => parseCommand(["hosting", "--fail"], VARS)).toThrow("--fail is for refund, not hosting");
    expect(() => parseTriggerArgs(["refund", "--payment", PI], VARS)).toThrow(/'refund' is not a payment \(training, hosting\)/);
    for (const f of [refund([]), dispute(["--payment", PI, "--won", "--lost"])]) expect(f).toThrow(TriggerError);
  });
});

describe("stripe:trigger refund and dispute: what is sent", () => {
  /** A training paid through the trigger: what the emulator then holds. */
  async function paid(w: ReturnType<typeof world>, amount = "10000"): Promise<string> {
    const r = await trigger(options(["training", "--amount", amount]), w.fetchFn, quiet);
    return r.payment_intent_id;
  }
  const sentTypes = (w: ReturnType<typeof world>) => w.received.map((e) => e.type);

  it("refund --amount 2500: the refund stored, then refund.created and charge.refunded delivered and verified; what was sent printed", async () => {
    const w = world();
    const pi = await paid(w);
    const lines: string[] = [];
    const r = await triggerRefund(refundOptions(["--payment", pi, "--amount", "2500"]), w.fetchFn, (l) => lines.push(l));
    expect(sentTypes(w)).toEqual(["checkout.session.completed", "refund.created", "charge.refunded"]);
    expect(r.sent.map((s) => [s.event_type, s.worker_status])).toEqual([
      ["refund.created", 200],
      ["charge.refunded", 200],
    ]);
    const refund = w.received[1]!.data.object as Stripe.Refund;
    expect(refund).toMatchObject({ id: r.object_id, amount: 2500, currency: "eur", payment_intent: pi, status: "succeeded" });
    expect(w.emulator.store.get(refund.id)).toMatchObject({ object: "refund", status: "succeeded", amount: 2500 });
    const charge = w.emulator.store.get(refund.charge as string)!;
    expect(charge).toMatchObject({ amount_refunded: 2500, refunded: false });
    expect(w.received[2]!.data.object).toEqual(charge);
    expect(r.balance_transactions.map((bt) => [bt.type, bt.amount, bt.net])).toEqual([["refund", -2500, -2500]]);
    expect(w.emulator.store.get(r.balance_transactions[0]!.id)).toEqual(r.balance_transactions[0]);
    expect(lines[0]).toBe(`Refund ${refund.id} of ${pi} (charge ${charge.id}): 2500 eur = 25.00 EUR, succeeded; refunded 2500 of 10000`);
    expect(lines[1]).toBe(`  balance transaction ${r.balance_transactions[0]!.id} refund/refund: amount -25.00 EUR, fee 0.00 EUR, net -25.00 EUR`);
    expect(lines).toContain(`Sent refund.created ${w.received[1]!.id} to http://127.0.0.1:8787/webhooks/stripe → HTTP 200`);
  });

  it("refund with no --amount takes what is left; a payment refunded in full, or an --amount above what is left, is refused", async () => {
    const w = world();
    const pi = await paid(w);
    await triggerRefund(refundOptions(["--payment", pi, "--amount", "4000"]), w.fetchFn, quiet);
    await expect(triggerRefund(refundOptions(["--payment", pi, "--amount", "6001"]), w.fetchFn, quiet)).rejects.toThrow(
      `--amount 6001 is more than the 6000 eur left to refund on ${pi} (paid 10000, refunded 4000)`,
    );
    const rest = await triggerRefund(refundOptions(["--payment", pi]), w.fetchFn, quiet);
    expect(w.emulator.store.get(rest.object_id)).toMatchObject({ object: "refund", amount: 6000 });
    const charge = w.emulator.store.ofType("charge")[0]!;
    expect(charge).toMatchObject({ amount_refunded: 10_000, refunded: true });
    // the charge.refunded Stripe sent last says what was refunded before
    expect(w.received.at(-1)!.data).toMatchObject({ previous_attributes: { amount_refunded: 4000, refunded: false } });
    await expect(triggerRefund(refundOptions(["--payment", pi]), w.fetchFn, quiet)).rejects.toThrow(`payment ${pi} is already refunded in full (10000 eur)`);
  });

  it("refund --fail: refund.created and charge.refunded, then refund.updated to failed and refund.failed; the money back through a refund_failure", async () => {
    const w = world();
    const pi = await paid(w);
    const r = await triggerRefund(refundOptions(["--payment", pi, "--amount", "3000", "--fail"]), w.fetchFn, quiet);
    expect(sentTypes(w).slice(1)).toEqual(["refund.created", "charge.refunded", "refund.updated", "refund.failed"]);
    expect((w.received[1]!.data.object as Stripe.Refund).status).toBe("succeeded");
    expect(w.received[3]!.data).toMatchObject({ object: { status: "failed", failure_reason: "expired_or_canceled_card" }, previous_attributes: { status: "succeeded" } });
    expect(r.status).toBe("failed");
    const [debit, credit] = r.balance_transactions;
    expect([debit!.type, debit!.amount, credit!.type, credit!.amount]).toEqual(["refund", -3000, "refund_failure", 3000]);
    expect(w.emulator.store.get(r.object_id)).toMatchObject({ status: "failed", failure_balance_transaction: credit!.id });
    expect(w.emulator.store.get(credit!.id)).toEqual(credit);
    expect(w.emulator.store.ofType("charge")[0]).toMatchObject({ amount_refunded: 0, refunded: false });
  });

  it("dispute: the withdrawal alone; the same command with --won then closes it and reinstates the money; a third is refused", async () => {
    const w = world();
    const pi = await paid(w, "10001");
    const lines: string[] = [];
    const opened = await triggerDispute(disputeOptions(["--payment", pi]), w.fetchFn, (l) => lines.push(l));
    expect(sentTypes(w).slice(1)).toEqual(["charge.dispute.created", "charge.dispute.funds_withdrawn"]);
    expect(opened.status).toBe("needs_response");
    expect(opened.balance_transactions.map((bt) => [bt.type, bt.reporting_category, bt.amount, bt.fee, bt.net])).toEqual([["adjustment", "dispute", -10_001, 1500, -11_501]]);
    expect(lines).toContain(`  balance transaction ${opened.balance_transactions[0]!.id} adjustment/dispute: amount -100.01 EUR, fee 15.00 EUR, net -115.01 EUR`);
    expect(w.emulator.store.ofType("charge")[0]).toMatchObject({ disputed: true });

    const won = await triggerDispute(disputeOptions(["--payment", pi, "--won", "--fee-returned"]), w.fetchFn, quiet);
    expect(sentTypes(w).slice(3)).toEqual(["charge.dispute.closed", "charge.dispute.funds_reinstated"]);
    expect(won).toMatchObject({ object_id: opened.object_id, status: "won" });
    expect(won.balance_transactions.map((bt) => [bt.reporting_category, bt.amount, bt.fee, bt.net])).toEqual([
      ["dispute", -10_001, 1500, -11_501],
      ["dispute_reversal", 10_001, -1500, 11_501],
    ]);
    expect(w.emulator.store.get(opened.object_id)).toMatchObject({ status: "won" });
    await expect(triggerDispute(disputeOptions(["--payment", pi, "--lost"]), w.fetchFn, quiet)).rejects.toThrow(
      `already has dispute ${opened.object_id} (won): Stripe opens one dispute per charge`,
    );
  });

  it("dispute --lost closes with no money back; --won without --fee-returned gives back the amount only; an open one asks for an outcome", async () => {
    const w = world();
    const lost = await triggerDispute(disputeOptions(["--payment", await paid(w), "--lost"]), w.fetchFn, quiet);
    expect(sentTypes(w).slice(1)).toEqual(["charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed"]);
    expect([lost.status, lost.balance_transactions.length]).toEqual(["lost", 1]);

    const w2 = world();
    const won = await triggerDispute(disputeOptions(["--payment", await paid(w2), "--won"]), w2.fetchFn, quiet);
    expect(won.balance_transactions.map((bt) => [bt.amount, bt.fee])).toEqual([
      [-10_000, 1500],
      [10_000, 0],
    ]);

    const w3 = world();
    const pi = await paid(w3);
    const open = await triggerDispute(disputeOptions(["--payment", pi]), w3.fetchFn, quiet);
    await expect(triggerDispute(disputeOptions(["--payment", pi]), w3.fetchFn, quiet)).rejects.toThrow(`already has dispute ${open.object_id} (needs_response): Stripe opens one dispute per charge; close it with --won or --lost`);
    await expect(triggerRefund(refundOptions(["--payment", pi]), w3.fetchFn, quiet)).rejects.toThrow(/is disputed \(dp_\w+, needs_response\): Stripe does not refund a charge that has been charged back/);
  });

  it("dispute --inquiry: created and closed as warning_closed, no funds events, no balance transaction; the payment can still be refunded", async () => {
    const w = world();
    const pi = await paid(w);
    const q = await triggerDispute(disputeOptions(["--payment", pi, "--inquiry"]), w.fetchFn, quiet);
    expect(sentTypes(w).slice(1)).toEqual(["charge.dispute.created", "charge.dispute.closed"]);
    expect(w.received[1]!.data.object).toMatchObject({ status: "warning_needs_response", is_charge_refundable: true, balance_transactions: [] });
    expect([q.status, q.balance_transactions]).toEqual(["warning_closed", []]);
    expect(w.emulator.store.ofType("balance_transaction")).toHaveLength(1); // the charge's only
    expect((await triggerRefund(refundOptions(["--payment", pi]), w.fetchFn, quiet)).status).toBe("succeeded");
  });

  it("fails clearly when the emulator does not know the payment (it was restarted), holds no charge or balance transaction for it, or is down", async () => {
    const w = world();
    await expect(triggerRefund(refundOptions(["--payment", "pi_forgotten"]), w.fetchFn, quiet)).rejects.toThrow(
      "the Stripe emulator (http://127.0.0.1:12111) does not know payment intent pi_forgotten. It keeps objects in memory only, so a restarted emulator has forgotten earlier payments",
    );
    await expect(triggerDispute(disputeOptions(["--payment", "pi_forgotten"]), w.fetchFn, quiet)).rejects.toThrow(/does not know payment intent pi_forgotten/);

    const late = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "p", balance_transaction_pending: true });
    const unpaid = buildTrainingPayment({ amount_minor: 1000, currency: "eur", price_id: "p", payment_status: "unpaid" });
    w.emulator.store.put({ id: "pi_lonely", object: "payment_intent", latest_charge: "ch_gone", status: "succeeded" });
    for (const o of [...emulatorObjects(late), ...emulatorObjects(unpaid)]) w.emulator.store.put(o);
    await expect(triggerRefund(refundOptions(["--payment", late.payment_intent.id]), w.fetchFn, quiet)).rejects.toThrow(/has no balance transaction yet/);
    await expect(triggerRefund(refundOptions(["--payment", unpaid.payment_intent.id]), w.fetchFn, quiet)).rejects.toThrow(/is pending: only a succeeded charge is refunded or disputed/);
    await expect(triggerRefund(refundOptions(["--payment", "pi_lonely"]), w.fetchFn, quiet)).rejects.toThrow("holds payment intent pi_lonely but not its charge ch_gone");
    await expect(triggerRefund(refundOptions(["--payment", PI]), world({ emulatorDown: true }).fetchFn, quiet)).rejects.toThrow(/Stripe emulator.*ECONNREFUSED/s);
    expect(w.received).toEqual([]);
  });

  it("reports a worker that refuses the events, event by event", async () => {
    const w = world();
    const pi = await paid(w);
    const r = await triggerRefund({ ...refundOptions(["--payment", pi]), webhook_secret: "whsec_wrong" }, w.fetchFn, quiet);
    expect(r.sent.map((s) => s.worker_status)).toEqual([400, 400]);
    expect(r.sent[0]!.worker_body).toMatch(/signature/i);
  });
});
