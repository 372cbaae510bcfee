import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import { InvariantError } from "../../core";
import { classifyFailure, NotYetAtStripe, PermanentPaymentProblem } from "../../workflows/failures";

/** An error shaped as the stripe SDK throws them. */
function stripeError(type: string, statusCode: number | undefined, message: string, extra: { code?: string; headers?: Record<string, string> } = {}) {
  return Object.assign(new Error(message), { type, statusCode, ...extra });
}

describe("classifyFailure: retry what passes, park what does not", () => {
  it("retries the network, Stripe's rate limit and Stripe's own errors", () => {
    expect(classifyFailure(stripeError("StripeConnectionError", undefined, "An error occurred with our connection to Stripe."))).toEqual({ transient: true, reason: "Stripe answered without a status: An error occurred with our connection to Stripe.", retry_after_s: null });
    expect(classifyFailure(stripeError("StripeAPIError", 500, "An unknown error occurred"))).toEqual({ transient: true, reason: "Stripe answered 500: An unknown error occurred", retry_after_s: null });
    expect(classifyFailure(stripeError("StripeRateLimitError", 429, "Too many requests", { code: "rate_limit" }))).toEqual({ transient: true, reason: "Stripe answered 429 rate_limit: Too many requests", retry_after_s: null });
  });

  it("honours Retry-After, within a minute", () => {
    expect(classifyFailure(stripeError("StripeRateLimitError", 429, "slow down", { headers: { "retry-after": "7" } }))).toMatchObject({ transient: true, retry_after_s: 7 });
    expect(classifyFailure(stripeError("StripeAPIError", 503, "busy", { headers: { "retry-after": "3600" } }))).toMatchObject({ transient: true, retry_after_s: 60 });
  });

  it("obeys Stripe-Should-Retry either way", () => {
    expect(classifyFailure(stripeError("StripeAPIError", 500, "do not retry this", { headers: { "stripe-should-retry": "false" } }))).toEqual({ transient: false, reason: "Stripe answered 500: do not retry this" });
    expect(classifyFailure(stripeError("StripeInvalidRequestError", 409, "lock timeout", { code: "lock_timeout", headers: { "stripe-should-retry": "true" } }))).toEqual({ transient: true, reason: "Stripe answered 409 lock_timeout: lock timeout", retry_after_s: null });
  });

  it("retries a refused key, which an operator fixes, rather than parking every payment", () => {
    expect(classifyFailure(stripeError("StripeAuthenticationError", 401, "Invalid API Key provided"))).toMatchObject({ transient: true });
    expect(classifyFailure(stripeError("StripePermissionError", 403, "no permission"))).toMatchObject({ transient: true });
  });

  it("parks at once when Stripe answers 400 or 404", () => {
    expect(classifyFailure(stripeError("StripeInvalidRequestError", 404, "No such checkout.session: 'cs_1'", { code: "resource_missing" }))).toEqual({ transient: false, reason: "Stripe answered 404 resource_missing: No such checkout.session: 'cs_1'" });
    expect(classifyFailure(stripeError("StripeInvalidRequestError", 400, "Invalid expand path"))).toEqual({ transient: false, reason: "Stripe answered 400: Invalid expand path" });
  });

  it("retries a balance transaction that Stripe has not attached yet, and a busy database", () => {
    expect(classifyFailure(new NotYetAtStripe("charge ch_1 has no balance transaction yet"))).toEqual({ transient: true, reason: "charge ch_1 has no balance transaction yet", retry_after_s: null });
    expect(classifyFailure(new Error("D1_ERROR: database is locked: SQLITE_BUSY"))).toMatchObject({ transient: true, reason: "the database: D1_ERROR: database is locked: SQLITE_BUSY" });
    expect(classifyFailure(new Error("Network connection lost."))).toMatchObject({ transient: true });
  });

  it("parks a broken invariant, a payment problem and a programming error after one try", () => {
    expect(classifyFailure(new InvariantError("parts do not sum to the amount"))).toEqual({ transient: false, reason: "a broken invariant: parts do not sum to the amount" });
    expect(classifyFailure(new PermanentPaymentProblem("payment intent pi_1 has no charge"))).toEqual({ transient: false, reason: "payment intent pi_1 has no charge" });
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toEqual({ transient: false, reason: "a programming error (TypeError): Cannot read properties of undefined (reading 'id')" });
    expect(classifyFailure("a string")).toEqual({ transient: false, reason: "a programming error: something other than an Error was thrown" });
  });

  it("never repeats SQL, bound parameters or the text a JSON parse choked on", () => {
    // drizzle's own error, as it wraps D1's (its name stays "Error": the message tells it).
    const wrapped = new DrizzleQueryError("insert into postings (account) values (?)", ["jane@example.com"], new Error("D1_ERROR: UNIQUE constraint failed: postings.id: SQLITE_CONSTRAINT"));
    expect(classifyFailure(wrapped)).toEqual({ transient: false, reason: "the database refused the write: D1_ERROR: UNIQUE constraint failed: postings.id: SQLITE_CONSTRAINT" });
    const busy = new DrizzleQueryError("update stripe_events set status = ?", ["processing"], new Error("D1_ERROR: database is locked: SQLITE_BUSY"));
    expect(classifyFailure(busy)).toMatchObject({ transient: true, reason: "the database: D1_ERROR: database is locked: SQLITE_BUSY" });
    const bare = new DrizzleQueryError("select 1", ["jane@example.com"]);
    expect(classifyFailure(bare)).toEqual({ transient: false, reason: "a programming error (Error): a database query failed" });
    let parseError: unknown;
    try {
      JSON.parse('{"email": "jane@example.com"');
    } catch (error) {
      parseError = error;
    }
    expect(classifyFailure(parseError)).toEqual({ transient: false, reason: "a programming error (SyntaxError)" });
  });

  it("keeps a reason to one line of at most 300 characters", () => {
    const long = classifyFailure(new PermanentPaymentProblem(`${"x".repeat(400)}\nsecond line`));
    expect(long.reason).toHaveLength(300);
    expect(long.reason.endsWith("…")).toBe(true);
  });
});
