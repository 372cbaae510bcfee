// Stripe's webhook signature, checked as core/webhook-signature.ts checks the signatures we send
// ourselves (Stripe's scheme): the `Stripe-Signature` header carries a timestamp `t` and one or
// more `v1` signatures (several while a secret is rolled), each an HMAC-SHA256 of `${t}.${body}`
// with the endpoint's signing secret. The body is checked as received, before it is parsed; a
// timestamp further than the tolerance from now is refused, so a captured request cannot be
// replayed later.
import { verifySignature } from "../core";

export class SignatureError extends Error {
  override readonly name = "SignatureError";
}

const WHY = {
  malformed: "Unable to extract timestamp and signatures from header",
  too_old: "Timestamp outside the tolerance zone",
  mismatch: "No signatures found matching the expected signature for payload",
} as const;

/** Throws a SignatureError saying which check failed; returns the signed timestamp. */
export async function verifyStripeSignature(body: string, header: string, secret: string, toleranceS: number, nowS = Math.floor(Date.now() / 1000)): Promise<number> {
  const check = await verifySignature(header, body, secret, nowS, toleranceS);
  if (!check.ok) throw new SignatureError(WHY[check.reason]);
  return check.timestamp_s;
}
