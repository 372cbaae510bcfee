/**
 * How rule versions are named and placed in time. A version is immutable: its content hash
 * (SHA-256 of canonical JSON) names what it says, its ETag names the chain's head for
 * If-Match, and it takes effect now or later, never in the past, on a whole second. Pure:
 * the caller passes the clock.
 */
import { sha256Hex } from "./hash";

/** Clocks differ a little between an admin's machine and the edge: "now" allows this much. */
export const PAST_TOLERANCE_MS = 60_000;

/** JSON with sorted keys and no `undefined`, so the same rule always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** `sha256:<64 hex>` of the canonical JSON: equal for rules that say the same thing. */
export async function contentHash(body: unknown): Promise<string> {
  return `sha256:${await sha256Hex(canonicalJson(body))}`;
}

/** A strong ETag naming a version: its number and the start of its content hash. */
export function etagOf(version: { version: number; content_hash: string }): string {
  return `"v${version.version}-${version.content_hash.slice("sha256:".length, "sha256:".length + 16)}"`;
}

/** If-Match (RFC 9110 §13.1.1): a list of strong entity tags, or `*`; a weak tag never matches. */
export function ifMatchAccepts(header: string, etag: string): boolean {
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag;
  });
}

export type EffectiveFrom =
  | { readonly ok: true; readonly effective_from_ms: number }
  | { readonly ok: false; readonly code: "in_the_past" | "before_previous"; readonly message: string };

/**
 * When a version takes effect: `requested` (ISO 8601) or now, never before the previous
 * version (`not_before_ms`), never in the past beyond PAST_TOLERANCE_MS (a rule is never
 * retroactive), rounded up to a whole second: Stripe stamps payments in seconds, so a
 * version must not start inside one ("paid at 12:00:00" would be ambiguous about a version
 * from 12:00:00.500).
 */
export function effectiveFrom(requested: string | undefined, now_ms: number, not_before_ms: number): EffectiveFrom {
  let at_ms = Math.max(now_ms, not_before_ms);
  if (requested !== undefined) {
    const asked_ms = Date.parse(requested);
    if (!(asked_ms >= now_ms - PAST_TOLERANCE_MS)) {
      return { ok: false, code: "in_the_past", message: "is in the past: a rule never applies retroactively" };
    }
    if (asked_ms < not_before_ms) {
      return { ok: false, code: "before_previous", message: `is before the previous version takes effect (${new Date(not_before_ms).toISOString()})` };
    }
    at_ms = Math.max(asked_ms, now_ms);
  }
  return { ok: true, effective_from_ms: Math.ceil(at_ms / 1000) * 1000 };
}

export type VersionStatus = "superseded" | "in_force" | "scheduled";

/** The version in force at `now_ms`: the last one whose time has come (versions in order). */
export function versionInForce<V extends { version: number; effective_from_ms: number }>(versions: readonly V[], now_ms: number): V | undefined {
  return versions.filter((v) => v.effective_from_ms <= now_ms).at(-1);
}

export function versionStatus(version: number, in_force: number | null): VersionStatus {
  if (version === in_force) return "in_force";
  return in_force !== null && version < in_force ? "superseded" : "scheduled";
}
