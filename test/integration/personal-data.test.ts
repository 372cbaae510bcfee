// Customers' names, emails, phones and addresses from Stripe never reach a log line, an event's
// reason or an API answer. Payments here carry a marker in every personal field Stripe sends.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildEvent, buildHostingPayment, buildTrainingPayment, type HostingPayment, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import { api, deliver, deliverAndSettle, putStripeObjects, seedCatalog } from "./helpers";

const MARKER = "zq-personal-7c1e";
const person = {
  email: `${MARKER}@example.com`,
  name: `Jeanne ${MARKER}`,
  phone: `+33 6 ${MARKER}`,
  address: { line1: `1 rue ${MARKER}`, line2: null, city: `Lyon ${MARKER}`, postal_code: "69001", state: null, country: "FR" },
};

function markedTraining(opts: { price_id?: string } = {}): TrainingPayment {
  const built = buildTrainingPayment({ amount_minor: 4_200, currency: "eur", price_id: opts.price_id ?? "price_training_intro" });
  const session = { ...built.session, customer_email: person.email, customer_details: { ...built.session.customer_details, ...person } } as typeof built.session;
  const charge = { ...built.charge, billing_details: { ...built.charge.billing_details, ...person }, receipt_email: person.email } as typeof built.charge;
  return { ...built, session, charge, event: buildEvent("checkout.session.completed", session) };
}

function markedHosting(): HostingPayment {
  const built = buildHostingPayment({ amount_minor: 2_900, currency: "eur", price_id: "price_hosting_basic" });
  const invoice = { ...built.invoice, customer_email: person.email, customer_name: person.name, customer_phone: person.phone, customer_address: person.address } as typeof built.invoice;
  return { ...built, invoice, event: buildEvent("invoice.paid", invoice) };
}

const logged: string[] = [];

beforeEach(async () => {
  await seedCatalog();
  logged.length = 0;
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" ")));
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function everythingAnAdminReads(ids: { events: string[]; payments: string[] }): Promise<string> {
  const paths = [
    "/events?status=processed&limit=500",
    "/events?status=parked&limit=500",
    "/events?status=failed&limit=500",
    "/events?status=ignored&limit=500",
    "/events?due=true&limit=500",
    "/balances",
    "/ledger/check",
    "/audit?limit=500",
    ...ids.events.map((id) => `/events/${id}`),
    ...ids.payments.map((id) => `/payments/${id}`),
  ];
  const bodies = await Promise.all(paths.map(async (path) => `${path}: ${await (await api(path)).text()}`));
  return bodies.join("\n");
}

describe("personal data from Stripe", () => {
  it("appears in no log line and no answer, whether a payment is split, parked, failed or ignored", async () => {
    const split = markedTraining();
    await putStripeObjects(split);
    await deliverAndSettle(split.event);

    const invoice = markedHosting();
    await putStripeObjects(invoice);
    await deliverAndSettle(invoice.event);

    const unknownOffer = markedTraining({ price_id: "price_nobody_sells" });
    await putStripeObjects(unknownOffer);
    expect(await deliverAndSettle(unknownOffer.event)).toMatchObject({ status: "parked" });

    const stripeDown = markedTraining();
    await putStripeObjects(stripeDown);
    await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path_prefix: `/v1/checkout/sessions/${stripeDown.session.id}`, status: 500, times: 100 }) });
    await deliverAndSettle(stripeDown.event, async (m) => m.disableRetryDelays()).catch(() => undefined);
    await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/faults", { method: "DELETE" });

    const connected = { ...markedTraining().event, account: "acct_1Other" };
    expect((await deliver(connected)).status).toBe(200);

    const answers = await everythingAnAdminReads({
      events: [split.event.id, invoice.event.id, unknownOffer.event.id, stripeDown.event.id, connected.id],
      payments: [split.payment_intent.id, invoice.payment_intent.id],
    });
    // The reads did happen: each event and payment is in the answers.
    expect(answers).toContain(split.payment_intent.id);
    expect(answers).toContain(unknownOffer.event.id);
    expect(logged.length).toBeGreaterThan(0);
    expect(answers.includes(MARKER) ? answers.split("\n").filter((l) => l.includes(MARKER)) : []).toEqual([]);
    expect(logged.filter((l) => l.includes(MARKER))).toEqual([]);
  });
});
