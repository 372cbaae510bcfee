import Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { KINDS, parseDotenv, parseTriggerArgs, trigger, TriggerError, type TriggerOptions } from "../../infra/scripts/trigger";
import { createStripeEmulator } from "../../infra/stripe-emulator/app";

const SECRET = "whsec_test_trigger";

/** Routes the trigger's fetches to an in-process emulator and a fake worker that verifies signatures. */
function world(opts: { workerDown?: boolean; emulatorDown?: boolean } = {}) {
  const emulator = createStripeEmulator();
  const received: Stripe.Event[] = [];
  const fetchFn = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url);
    if (u.port === "12111") {
      if (opts.emulatorDown) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      return emulator.fetch(new Request(url, init));
    }
    if (opts.workerDown) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
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

function options(argv: string[], vars: Record<string, string> = { STRIPE_WEBHOOK_SECRET: SECRET }): TriggerOptions {
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
    expect(() => options(["refund"])).toThrow(TriggerError);
    expect(() => options(["refund"])).toThrow(/Unknown kind 'refund': use one of training, hosting/);
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
});
