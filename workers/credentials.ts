// Who a credential is: the bootstrap ADMIN_TOKEN, or an API token stored hashed in D1 (not
// revoked), each with its role. The bearer header and the console's session both come here,
// so a session has exactly its token's role, and loses it when the token is revoked.
import { sameDigest, sha256Hex } from "../core";
import type { Db } from "../db/client";
import { findActiveToken } from "../db/queries/tokens";
import type { TokenRole } from "../db/schema";
import type { Env } from "../workflows/env";

export interface Principal {
  /** Who acts, as written in the audit log: `bootstrap` or `token:<id>`. */
  actor: string;
  role: TokenRole;
  /** The party a `party` token speaks for. */
  party_id?: string;
}


/** The principal behind the SHA-256 of a token, or null for an unknown or revoked one. */
export async function principalOfCredential(env: Pick<Env, "ADMIN_TOKEN">, db: Db, credentialHash: string): Promise<Principal | null> {
  if (sameDigest(credentialHash, await sha256Hex(env.ADMIN_TOKEN))) return { actor: "bootstrap", role: "admin" };
  const token = await findActiveToken(db, credentialHash);
  return token ? { actor: `token:${token.id}`, role: token.role, ...(token.partyId === null ? {} : { party_id: token.partyId }) } : null;
}
