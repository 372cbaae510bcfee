// The worker's own Stripe wire code (workflows/stripe-api.ts, workers/stripe-signature.ts)
// checked against the SDK it replaces and the emulator: same signatures accepted and refused,
// same encoding, errors shaped so that failures.ts classifies them as it did the SDK's.
import fc from "fast-check";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { createStripeEmulator } from "../../infra/stripe-emulator/app";
import { buildHostingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { SignatureError, verifyStripeSignature } from "../../workers/stripe-signature";
import { classifyFailure } from "../../workflows/failures";
import { formEncode, StripeApi, StripeApiError } from "../../workflows/stripe-api";
import { STRIPE_API_VERSION } from "../../workflows/stripe-version";

const sdk = new Stripe("sk_test_local");
const secret = "whsec_test_secret";

describe("the webhook signature", () => {
  it("accepts what the SDK signs, and refuses what the SDK refuses", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        // Away from the tolerance's edge by a few seconds: the SDK reads the clock itself.
        fc.integer({ min: -1_000, max: 1_000 }).filter((skew) => Math.abs(Math.abs(skew) - 300) > 5),
        async (text, skew) => {
          const body = JSON.stringify({ text });
          const now = Math.floor(Date.now() / 1000);
          const header = sdk.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: now + skew });
          const ours = await verifyStripeSignature(body, header, secret, 300, now).then(() => true, () => false);
          let theirs = true;
          try {
            sdk.webhooks.constructEvent(body, header, secret, 300);
          } catch {
            theirs = false;
          }
          expect(ours).toBe(Math.abs(skew) <= 300);
          // The SDK only refuses a signature too old; ours refuses one too far ahead as well.
          if (skew <= 0) expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("says which check failed: no timestamp, no v1, a tampered body, another secret, a replay", async () => {
    const now = 1_790_000_000;
    const header = sdk.webhooks.generateTestHeaderString({ payload: "{}", secret, timestamp: now });
    const why = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof SignatureError ? e.message : `not a SignatureError: ${String(e)}`));
    expect(await why(verifyStripeSignature("{}", header, secret, 300, now))).toBe("ok");
    expect(await why(verifyStripeSignature("{}", `v1=${"a".repeat(64)}`, secret, 300, now))).toMatch(/extract timestamp/);
    expect(await why(verifyStripeSignature("{}", `t=${now},v0=abc`, secret, 300, now))).toMatch(/extract timestamp and signatures/);
    expect(await why(verifyStripeSignature("{ }", header, secret, 300, now))).toMatch(/matching/);
    expect(await why(verifyStripeSignature("{}", header, "whsec_other", 300, now))).toMatch(/matching/);
    expect(await why(verifyStripeSignature("{}", header, secret, 300, now + 301))).toMatch(/tolerance/);
    // While a secret rolls, Stripe signs with both: either matching is enough.
    const rolled = `${header},v1=${"0".repeat(64)}`;
    expect(await why(verifyStripeSignature("{}", rolled, secret, 300, now))).toBe("ok");
  });
});

describe("the Stripe client", () => {
  it("encodes parameters as Stripe reads them", () => {
    expect(formEncode({ created: { gte: 1, lt: 2 }, expand: ["a.b", "c"], limit: 100, skip: undefined, metadata: { party_id: "é&=" } })).toBe(
      "created%5Bgte%5D=1&created%5Blt%5D=2&expand%5B0%5D=a.b&expand%5B1%5D=c&limit=100&metadata%5Bparty_id%5D=%C3%A9%26%3D",
    );
  });

  function against(emulator: ReturnType<typeof createStripeEmulator>, timeoutMs = 5_000) {
    return new StripeApi({ key: "sk_test_local", apiVersion: STRIPE_API_VERSION, base: "http://stripe.emulator", fetch: (r) => Promise.resolve(emulator.fetch(r)), timeoutMs });
  }

  it("reads what the emulator holds, pages through lists, and throws Stripe's errors in the SDK's shape", async () => {
    const emulator = createStripeEmulator();
    const built = buildHostingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic" });
    const put = await emulator.fetch(new Request("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) }));
    expect(put.status).toBe(200);
    const api = against(emulator);
    const pi = await api.paymentIntents.retrieve(built.payment_intent.id, { expand: ["latest_charge.balance_transaction"] });
    expect(pi.id).toBe(built.payment_intent.id);
    expect(typeof pi.latest_charge === "object" && typeof pi.latest_charge?.balance_transaction === "object").toBe(true);
    const paid = [];
    for await (const p of api.invoicePayments.list({ invoice: built.invoice.id, status: "paid", limit: 1 })) paid.push(p);
    expect(paid.length).toBeGreaterThan(0);
    const missing = await api.charges.retrieve("ch_missing").then(() => null, (e: unknown) => e);
    expect(missing).toBeInstanceOf(StripeApiError);
    expect(missing).toMatchObject({ type: "StripeInvalidRequestError", statusCode: 404 });
    expect(classifyFailure(missing).transient).toBe(false);
  });

  it("turns a request that never answers into a connection error, which is retried", async () => {
    const api = new StripeApi({ key: "sk", apiVersion: STRIPE_API_VERSION, base: "http://stripe.emulator", fetch: (r) => new Promise((_, reject) => r.signal.addEventListener("abort", () => reject(r.signal.reason))), timeoutMs: 30 });
    const error = await api.disputes.retrieve("dp_1").then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ type: "StripeConnectionError" });
    expect(classifyFailure(error)).toMatchObject({ transient: true });
  });

  it("honours Stripe's 429 with Retry-After as the SDK's error did", async () => {
    const api = new StripeApi({
      key: "sk",
      apiVersion: STRIPE_API_VERSION,
      base: "http://x",
      fetch: () => Promise.resolve(new Response(JSON.stringify({ error: { type: "invalid_request_error", message: "Too many requests" } }), { status: 429, headers: { "retry-after": "7" } })),
      timeoutMs: 1_000,
    });
    const error = await api.refunds.retrieve("re_1").then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ type: "StripeRateLimitError", statusCode: 429 });
    expect(classifyFailure(error)).toEqual({ transient: true, reason: "Stripe answered 429: Too many requests", retry_after_s: 7 });
  });
});
