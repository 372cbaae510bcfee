// GET /api/v1/payments: the payments on the ledger, newest first, paged; each one's details
// are at GET /api/v1/payments/{id} (ledger.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import { listPayments } from "../../db/queries/payment-list";
import { bearer, jsonBody, newRouter, problems } from "./openapi";

const Cursor = z
  .string()
  .regex(/^\d{1,12}_pi_[A-Za-z0-9_]{1,200}$/, "a cursor from next_before")
  .openapi({ description: "Page: payments paid before this one (`next_before` of the previous page)" });

const PaymentSummarySchema = z
  .object({
    id: z.string().openapi({ description: "The Stripe payment intent id" }),
    source: z.enum(["checkout.session", "invoice"]),
    paid_at: z.string(),
    currency: z.string(),
    gross_minor: z.number().int(),
    fee_minor: z.number().int(),
    net_minor: z.number().int(),
    tax_minor: z.number().int(),
    rule_versions: z.array(z.string()).openapi({ description: "`rule_id@version` of its lines" }),
    offer_ids: z.array(z.string()),
    refunded_minor: z.number().int().openapi({ description: "In the charge's currency, net of refunds that failed" }),
    disputed_minor: z.number().int().openapi({ description: "In the charge's currency, net of reinstatements" }),
  })
  .openapi("PaymentSummary");

export const paymentList = newRouter();

paymentList.openapi(
  createRoute({
    method: "get",
    path: "/payments",
    operationId: "listPayments",
    summary: "List the payments on the ledger",
    tags: ["ledger"],
    security: bearer,
    request: { query: z.object({ before: Cursor.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) },
    responses: { 200: jsonBody(z.object({ payments: z.array(PaymentSummarySchema), next_before: z.string().nullable() }), "Newest first, by when they were paid"), ...problems(400, 401) },
  }),
  async (c) => {
    const { before, limit } = c.req.valid("query");
    const cut = before === undefined ? null : { paid_at_s: Number(before.slice(0, before.indexOf("_"))), id: before.slice(before.indexOf("_") + 1) };
    const rows = await listPayments(database(c.env.DB), cut, limit);
    const last = rows.at(-1);
    return c.json(
      {
        payments: rows.map((r) => ({
          id: r.id,
          source: r.source_type,
          paid_at: new Date(r.paid_at_s * 1000).toISOString(),
          currency: r.currency,
          gross_minor: r.gross_minor,
          fee_minor: r.fee_minor,
          net_minor: r.net_minor,
          tax_minor: r.tax_minor,
          rule_versions: r.rule_versions === "" ? [] : r.rule_versions.split(",").sort(),
          offer_ids: r.offer_ids === "" ? [] : r.offer_ids.split(",").sort(),
          refunded_minor: r.refunded_minor,
          disputed_minor: r.disputed_minor,
        })),
        next_before: rows.length === limit && last ? `${last.paid_at_s}_${last.id}` : null,
      },
      200,
    );
  },
);
