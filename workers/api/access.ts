// API tokens (admin or viewer, stored only as hashes) and the audit log.
import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import { insertAuditStatement, listAudit } from "../../db/queries/audit";
import { getParty } from "../../db/queries/catalog";
import { getToken, insertTokenStatement, listTokens, revokeTokenStatement } from "../../db/queries/tokens";
import { TOKEN_ROLES } from "../../db/schema";
import { newToken } from "../auth";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems } from "./openapi";

const TokenSchema = z
  .object({ id: z.string(), name: z.string(), role: z.enum(TOKEN_ROLES), party_id: z.string().nullable(), created_by: z.string(), created_at: z.string(), revoked_at: z.string().nullable() })
  .openapi("Token", { description: "A token without its secret" });

const TokenIdParam = z.object({ id: z.string().regex(/^tok_[a-z0-9]{1,64}$/, "a token id (tok_…)").openapi({ param: { name: "id", in: "path" } }) });

function tokenView(t: Awaited<ReturnType<typeof getToken>> & object) {
  return { id: t.id, name: t.name, role: t.role, party_id: t.party_id, created_by: t.created_by, created_at: new Date(t.created_at_ms).toISOString(), revoked_at: t.revoked_at_ms === null ? null : new Date(t.revoked_at_ms).toISOString() };
}

export const access = newRouter();

access.openapi(
  createRoute({
    method: "post",
    path: "/tokens",
    operationId: "createToken",
    summary: "Create an API token",
    tags: ["tokens"],
    security: bearer,
    description:
      "`admin` changes things; `viewer` reads everything; `party` speaks for one party (`party_id`): it reads that party's balances and statement and the pools it belongs to, and declares its own needs, and gets 403 anywhere else.",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z
              .object({
                name: z.string().trim().min(1).max(100),
                role: z.enum(TOKEN_ROLES),
                party_id: z.string().min(1).max(64).optional().openapi({ description: "Required with role `party`, refused with the others" }),
              })
              .strict()
              .openapi("NewToken"),
          },
        },
      },
    },
    responses: {
      201: jsonBody(
        z.object({ id: z.string(), token: z.string().openapi({ description: "The secret: shown this once, stored only as a hash" }), name: z.string(), role: z.enum(TOKEN_ROLES), party_id: z.string().nullable() }),
        "Created",
      ),
      ...problems(400, 401, 403),
    },
  }),
  async (c) => {
    const { name, role, party_id } = c.req.valid("json");
    const db = database(c.env.DB);
    if (role === "party" && party_id === undefined) throw new ApiError("invalid_request", "party_id: a party token speaks for one party: name it", [{ path: "party_id", message: "required with role party" }]);
    if (role !== "party" && party_id !== undefined) throw new ApiError("invalid_request", `party_id: only a party token is bound to a party, not a${role === "admin" ? "n" : ""} ${role} token`, [{ path: "party_id", message: "only with role party" }]);
    if (party_id !== undefined) {
      const party = await getParty(db, party_id);
      if (!party || party.party.kind === "pool") throw new ApiError("invalid_request", `party_id: no party ${party_id}${party ? " (a pool speaks through its members)" : ""}`, [{ path: "party_id", message: "no such party" }]);
    }
    const token = await newToken();
    const actor = c.get("principal").actor;
    const now = Date.now();
    await db.batch([
      insertTokenStatement(db, { id: token.id, name, role, partyId: party_id ?? null, tokenHash: token.hash, createdBy: actor }, now),
      insertAuditStatement(db, { actor, action: "token.create", entity_type: "token", entity_id: token.id, before: null, after: { id: token.id, name, role, party_id: party_id ?? null } }, now),
    ]);
    return c.json({ id: token.id, token: token.secret, name, role, party_id: party_id ?? null }, 201);
  },
);

access.openapi(
  createRoute({ method: "get", path: "/tokens", operationId: "listTokens", summary: "List the API tokens", tags: ["tokens"], security: bearer, responses: { 200: jsonBody(z.object({ tokens: z.array(TokenSchema) }), "Every token, without secrets"), ...problems(401) } }),
  async (c) => c.json({ tokens: (await listTokens(database(c.env.DB))).map(tokenView) }, 200),
);

access.openapi(
  createRoute({ method: "delete", path: "/tokens/{id}", operationId: "revokeToken", summary: "Revoke an API token", tags: ["tokens"], security: bearer, request: { params: TokenIdParam }, responses: { 200: jsonBody(TokenSchema, "Revoked"), ...problems(400, 401, 403, 404, 409) } }),
  async (c) => {
    const db = database(c.env.DB);
    const id = c.req.valid("param").id;
    const before = await getToken(db, id);
    if (!before) throw new ApiError("not_found", `no token ${id}`);
    if (before.revoked_at_ms !== null) throw new ApiError("conflict", `token ${id} is already revoked`);
    const actor = c.get("principal").actor;
    const now = Date.now();
    await db.batch([
      revokeTokenStatement(db, id, now),
      insertAuditStatement(db, { actor, action: "token.revoke", entity_type: "token", entity_id: id, before: tokenView(before), after: { ...tokenView(before), revoked_at: new Date(now).toISOString() } }, now),
    ]);
    const after = await getToken(db, id);
    return c.json(tokenView(after ?? before), 200);
  },
);

const AuditEntrySchema = z
  .object({ id: z.number().int(), at: z.string(), actor: z.string(), action: z.string(), entity_type: z.string(), entity_id: z.string(), before: z.unknown(), after: z.unknown() })
  .openapi("AuditEntry");

access.openapi(
  createRoute({
    method: "get",
    path: "/audit",
    operationId: "listAudit",
    summary: "Read the audit log",
    tags: ["audit"],
    security: bearer,
    request: {
      query: z.object({
        entity_type: z.enum(["rule", "party", "offer", "token", "event", "proposal", "webhook_endpoint"]).optional(),
        entity_id: z.string().max(200).optional(),
        before: z.coerce.number().int().min(1).optional().openapi({ description: "Page: entries older than this id" }),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
    },
    responses: { 200: jsonBody(z.object({ entries: z.array(AuditEntrySchema), next_before: z.number().int().nullable() }), "Newest first"), ...problems(400, 401) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const entries = await listAudit(database(c.env.DB), { entity_type: q.entity_type, entity_id: q.entity_id, before_id: q.before }, q.limit);
    return c.json({ entries, next_before: entries.length === q.limit ? (entries.at(-1)?.id ?? null) : null }, 200);
  },
);
