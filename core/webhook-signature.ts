/**
 * Outgoing webhooks are signed the way Stripe signs its own: a header
 * `Pot-Commun-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the
 * endpoint's secret>`. A receiver recomputes the HMAC over the exact bytes it received, compares
 * in constant time, and refuses a timestamp too far from its clock (replays). Web Crypto is
 * present in workerd and Node alike, as for hash.ts.
 */
import { sameDigest, toHex } from "./hash";

export const SIGNATURE_HEADER = "Pot-Commun-Signature";
/** How far a receiver should let a signature's timestamp be from its own clock, as Stripe's libraries do. */
export const SIGNATURE_TOLERANCE_S = 300;

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message))));
}

/** The header value for a body sent at `timestamp_s`. */
export async function signatureHeader(secret: string, body: string, timestamp_s: number): Promise<string> {
  return `t=${timestamp_s},v1=${await hmacSha256Hex(secret, `${timestamp_s}.${body}`)}`;
}


export type SignatureCheck = { readonly ok: true; readonly timestamp_s: number } | { readonly ok: false; readonly reason: "malformed" | "too_old" | "mismatch" };

/** What a receiver does: any `v1` of the header matches, and its timestamp is within the tolerance. */
export async function verifySignature(header: string, body: string, secret: string, now_s: number, tolerance_s = SIGNATURE_TOLERANCE_S): Promise<SignatureCheck> {
  const pairs = header.split(",").map((part) => part.trim().split("="));
  const t = pairs.find(([k]) => k === "t")?.[1];
  const signatures = pairs.filter(([k, v]) => k === "v1" && v !== undefined).map(([, v]) => v as string);
  if (t === undefined || !/^\d{1,12}$/.test(t) || signatures.length === 0) return { ok: false, reason: "malformed" };
  const timestamp_s = Number(t);
  if (Math.abs(now_s - timestamp_s) > tolerance_s) return { ok: false, reason: "too_old" };
  const expected = await hmacSha256Hex(secret, `${t}.${body}`);
  return signatures.some((s) => sameDigest(s, expected)) ? { ok: true, timestamp_s } : { ok: false, reason: "mismatch" };
}
