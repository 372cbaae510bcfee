// Stripe's webhook signature, checked with Web Crypto: the `Stripe-Signature` header carries a
// timestamp `t` and one or more `v1` signatures, each an HMAC-SHA256 of `${t}.${body}` with the
// endpoint's signing secret (several while a secret is rolled). The body is checked as received,
// before it is parsed; a timestamp further than the tolerance from now is refused, so a captured
// request cannot be replayed later.
import { toHex } from "../core";

export class SignatureError extends Error {
  override readonly name = "SignatureError";
}

const encoder = new TextEncoder();

/** `a` and `b` equal, in a time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export async function hmacSha256Hex(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload))));
}

/** Throws a SignatureError saying which check failed; returns the signed timestamp. */
export async function verifyStripeSignature(body: string, header: string, secret: string, toleranceS: number, nowS = Math.floor(Date.now() / 1000)): Promise<number> {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === "v1" && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (timestamp === null) throw new SignatureError("Unable to extract timestamp and signatures from header");
  if (signatures.length === 0) throw new SignatureError("No signatures found with expected scheme");
  const expected = await hmacSha256Hex(secret, `${timestamp}.${body}`);
  if (!signatures.some((s) => sameText(s, expected))) throw new SignatureError("No signatures found matching the expected signature for payload");
  if (Math.abs(nowS - timestamp) > toleranceS) throw new SignatureError("Timestamp outside the tolerance zone");
  return timestamp;
}
