// Outgoing webhooks, configured by admins: endpoints (the signing secret is answered once, at
// creation, and never again), and every delivery with each attempt, for whoever debugs a
// receiver.
import { createRoute, z } from "@hono/zod-openapi";
import { toHex } from "../../core";
import { database } from "../../db/client";
import { insertAuditStatement } from "../../db/queries/audit";
import { getParty } from "../../db/queries/catalog";
import { attemptsOf, disableEndpointStatement, getDelivery, getEndpoint, insertEndpointStatement, listDeliveries, listEndpoints, type AttemptRow, type DeliveryRow, type EndpointRow } from "../../db/queries/webhooks";
import { WEBHOOK_DELIVERY_STATUSES } from "../../db/schema";
import { newEndpointSecret, WEBHOOK_EVENT_TYPES } from "../../workflows/outgoing-webhooks";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems } from "./openapi";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    party_id: z.string().nullable().openapi({ description: "Only events about proposals that affect this party (or that it objected to); null: every event" }),
    description: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
    disabled_at: z.string().nullable(),
  })
  .openapi("WebhookEndpoint", { description: "An endpoint without its secret" });

const AttemptSchema = z
  .object({ attempt: z.number().int(), at: z.string(), status_code: z.number().int().nullable(), error: z.string().nullable(), duration_ms: z.number().int() })
  .openapi("WebhookDeliveryAttempt");

const DeliverySchema = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    proposal_id: z.string().nullable(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    attempts: z.array(AttemptSchema),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
    payload: z.string().openapi({ description: "The body sent at every attempt, as sent" }),
  })
  .openapi("WebhookDelivery");

function endpointView(e: EndpointRow) {
  return { id: e.id, url: e.url, events: e.events as (typeof WEBHOOK_EVENT_TYPES)[number][], party_id: e.party_id, description: e.description, created_by: e.created_by, created_at: iso(e.created_at_ms) as string, disabled_at: iso(e.disabled_at_ms) };
}

function deliveryView(d: DeliveryRow, attempts: readonly AttemptRow[]) {
  return {
    id: d.id,
    endpoint_id: d.endpoint_id,
    event_id: d.event_id,
    event_type: d.event_type,
    proposal_id: d.proposal_id,
    status: d.status,
    attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({ attempt: a.attempt, at: iso(a.at_ms) as string, status_code: a.status_code, error: a.error, duration_ms: a.duration_ms })),
    created_at: iso(d.created_at_ms) as string,
    delivered_at: iso(d.delivered_at_ms),
    payload: d.payload,
  };
}

/** An https URL a receiver listens on (http only for this machine, to try a receiver locally), without credentials. */
const EndpointUrl = z
  .string()
  .max(2048)
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "not a URL" });
      return;
    }
    const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) ctx.addIssue({ code: "custom", message: "an https URL (http only for localhost)" });
    if (url.username !== "" || url.password !== "") ctx.addIssue({ code: "custom", message: "no user or password in the URL: the signature says who sends" });
  })
  .openapi({ format: "uri", description: "Where events are POSTed: https (http only for localhost)", example: "https://chat.example.coop/hooks/pot-commun" });

const EndpointIdParam = z.object({ id: z.string().regex(/^whe_[0-9a-f]{16}$/, "an endpoint id (whe_…)").openapi({ param: { name: "id", in: "path" } }) });

export const webhookEndpointsApi = newRouter();

webhookEndpointsApi.openapi(
  createRoute({
    method: "post",
    path: "/webhook-endpoints",
    operationId: "createWebhookEndpoint",
    summary: "Add an outgoing webhook endpoint",
    tags: ["webhooks"],
    security: bearer,
    description:
      "Every event of the listed types is POSTed to `url` as JSON, signed in a `Pot-Commun-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">` header keyed by the endpoint's `secret` (as Stripe signs its webhooks), and retried with exponential backoff until a 2xx (11 attempts over about 17 hours). The secret is in this answer only.",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z
              .object({
                url: EndpointUrl,
                events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).refine((events) => new Set(events).size === events.length, "an event is listed twice"),
                party_id: z.string().min(1).max(64).optional().openapi({ description: "Tell this endpoint only about proposals that affect this party (a member's own receiver)" }),
                description: z.string().trim().min(1).max(200).optional(),
              })
              .strict()
              .openapi("NewWebhookEndpoint"),
          },
        },
      },
    },
    responses: { 201: jsonBody(EndpointSchema.extend({ secret: z.string().openapi({ description: "The signing secret (whsec_…): shown this once" }) }), "Created"), ...problems(400, 401, 403) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const db = database(c.env.DB);
    if (input.party_id !== undefined && !(await getParty(db, input.party_id))) throw new ApiError("invalid_request", `party_id: no party ${input.party_id}`, [{ path: "party_id", message: "no such party" }]);
    const actor = c.get("principal").actor;
    const now = Date.now();
    const endpoint = { id: `whe_${toHex(crypto.getRandomValues(new Uint8Array(8)))}`, url: input.url, events: input.events, party_id: input.party_id ?? null, description: input.description ?? null, created_by: actor, created_at_ms: now };
    const secret = newEndpointSecret();
    await db.batch([
      insertEndpointStatement(db, endpoint, secret),
      // Never the secret: the audit log is read by every viewer.
      insertAuditStatement(db, { actor, action: "webhook_endpoint.create", entity_type: "webhook_endpoint", entity_id: endpoint.id, before: null, after: { ...endpoint, created_at_ms: undefined } }, now),
    ]);
    return c.json({ ...endpointView({ ...endpoint, disabled_at_ms: null }), secret }, 201);
  },
);

webhookEndpointsApi.openapi(
  createRoute({
    method: "get",
    path: "/webhook-endpoints",
    operationId: "listWebhookEndpoints",
    summary: "List the outgoing webhook endpoints",
    tags: ["webhooks"],
    security: bearer,
    request: { query: z.object({ include_deleted: z.enum(["true", "false"]).default("false") }) },
    responses: { 200: jsonBody(z.object({ endpoints: z.array(EndpointSchema) }), "Endpoints, without secrets"), ...problems(400, 401, 403) },
  }),
  async (c) => c.json({ endpoints: (await listEndpoints(database(c.env.DB), { includeDisabled: c.req.valid("query").include_deleted === "true" })).map(endpointView) }, 200),
);

webhookEndpointsApi.openapi(
  createRoute({
    method: "delete",
    path: "/webhook-endpoints/{id}",
    operationId: "deleteWebhookEndpoint",
    summary: "Delete an outgoing webhook endpoint",
    tags: ["webhooks"],
    security: bearer,
    description: "Nothing more is sent to it: its pending deliveries are canceled at their next attempt. Its deliveries and their attempts stay readable.",
    request: { params: EndpointIdParam },
    responses: { 200: jsonBody(EndpointSchema, "Deleted"), ...problems(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const id = c.req.valid("param").id;
    const before = await getEndpoint(db, id);
    if (!before) throw new ApiError("not_found", `no webhook endpoint ${id}`);
    if (before.disabled_at_ms !== null) throw new ApiError("conflict", `webhook endpoint ${id} is deleted already`);
    const now = Date.now();
    await db.batch([
      disableEndpointStatement(db, id, now),
      insertAuditStatement(db, { actor: c.get("principal").actor, action: "webhook_endpoint.delete", entity_type: "webhook_endpoint", entity_id: id, before: endpointView(before), after: { ...endpointView(before), disabled_at: iso(now) } }, now),
    ]);
    return c.json(endpointView({ ...before, disabled_at_ms: now }), 200);
  },
);

webhookEndpointsApi.openapi(
  createRoute({
    method: "get",
    path: "/webhook-deliveries",
    operationId: "listWebhookDeliveries",
    summary: "List outgoing webhook deliveries",
    tags: ["webhooks"],
    security: bearer,
    description: "Newest first, each with every attempt: when, what the receiver answered (or why nothing came back), how long it took.",
    request: {
      query: z.object({
        endpoint_id: z.string().max(40).optional(),
        proposal_id: z.string().max(40).optional(),
        status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    responses: { 200: jsonBody(z.object({ deliveries: z.array(DeliverySchema) }), "Deliveries with their attempts"), ...problems(400, 401, 403) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const q = c.req.valid("query");
    const deliveries = await listDeliveries(db, { ...(q.endpoint_id ? { endpoint_id: q.endpoint_id } : {}), ...(q.proposal_id ? { proposal_id: q.proposal_id } : {}), ...(q.status ? { status: q.status } : {}) }, q.limit);
    const attempts = await attemptsOf(db, deliveries.map((d) => d.id));
    return c.json({ deliveries: deliveries.map((d) => deliveryView(d, attempts)) }, 200);
  },
);

webhookEndpointsApi.openapi(
  createRoute({
    method: "get",
    path: "/webhook-deliveries/{id}",
    operationId: "getWebhookDelivery",
    summary: "Get an outgoing webhook delivery",
    tags: ["webhooks"],
    security: bearer,
    request: { params: z.object({ id: z.string().regex(/^whd_[0-9a-f]{24}$/, "a delivery id (whd_…)").openapi({ param: { name: "id", in: "path" } }) }) },
    responses: { 200: jsonBody(DeliverySchema, "The delivery with its attempts"), ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const id = c.req.valid("param").id;
    const delivery = await getDelivery(db, id);
    if (!delivery) throw new ApiError("not_found", `no webhook delivery ${id}`);
    return c.json(deliveryView(delivery, await attemptsOf(db, [id])), 200);
  },
);
