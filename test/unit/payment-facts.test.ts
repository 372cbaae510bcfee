import { describe, expect, it } from "vitest";
import { isTransientStripeError, PermanentPaymentProblem } from "../../workflows/payment-facts";

describe("isTransientStripeError", () => {
  it("retries the network, rate limits and Stripe's own errors", () => {
    for (const type of ["StripeConnectionError", "StripeRateLimitError", "StripeAPIError"]) {
      expect(isTransientStripeError(Object.assign(new Error(type), { type }))).toBe(true);
    }
    expect(isTransientStripeError(Object.assign(new Error("busy"), { statusCode: 503 }))).toBe(true);
    expect(isTransientStripeError(Object.assign(new Error("slow down"), { statusCode: 429 }))).toBe(true);
  });

  it("retries a refused key, which an operator fixes, rather than parking every payment", () => {
    expect(isTransientStripeError(Object.assign(new Error("bad key"), { type: "StripeAuthenticationError", statusCode: 401 }))).toBe(true);
    expect(isTransientStripeError(Object.assign(new Error("no permission"), { type: "StripePermissionError", statusCode: 403 }))).toBe(true);
  });

  it("retries a charge whose balance transaction is not attached yet", () => {
    expect(isTransientStripeError(new Error("charge ch_1 has no balance transaction yet"))).toBe(true);
  });

  it("does not retry what retrying cannot fix", () => {
    expect(isTransientStripeError(Object.assign(new Error("No such checkout session"), { type: "StripeInvalidRequestError", statusCode: 404 }))).toBe(false);
    expect(isTransientStripeError(new PermanentPaymentProblem("no charge"))).toBe(false);
  });
});
