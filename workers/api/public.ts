// GET /api/v1/public/flows: where the money went in a month, a quarter or a year, for anyone,
// without a token. Sums only: no customer, no payment id, no amount of one payment; a
// contributor appears by name only if they chose to be public. The same figures as the page at /.
import { createRoute, z } from "@hono/zod-openapi";
import { BACK_KINDS, PERIOD_KINDS } from "../../core";
import { database } from "../../db/client";
import { PARTY_KINDS } from "../../db/schema";
import { publicFlows } from "../public-data";
import { jsonBody, newRouter, problems } from "./openapi";

const Minor = z.number().int();
const BackTotals = z.object({
  to_customers_minor: Minor.openapi({ description: "Paid to customers, net of refunds that failed and disputes won" }),
  stripe_fees_minor: Minor.openapi({ description: "Stripe's fees on them (dispute fees), net of fees returned" }),
  taken_minor: Minor.openapi({ description: "Taken from the ledger's accounts: both of the above" }),
});

const NODE_KINDS = ["income", "vat", "shipping", "coop_funds", "taken_back", "revenue", "returned", "stripe_fees", "tax_office", "cooperative", "commons", "reserve", "pool", "contributor", "contributors", "back", "credits"] as const;

export const PublicFlowsSchema = z
  .object({
    period: z.object({
      id: z.string().openapi({ example: "2026-10" }),
      kind: z.enum(PERIOD_KINDS),
      from: z.string().openapi({ description: "Start, included (UTC)" }),
      to: z.string().openapi({ description: "End, excluded (UTC)" }),
    }),
    currency: z.string().openapi({ description: "The settlement currency every amount is in, in minor units", example: "eur" }),
    available: z.object({
      currencies: z.array(z.string()),
      first_period: z.string().nullable().openapi({ description: "The month of the ledger's first movement (null: nothing yet)" }),
      last_period: z.string().nullable().openapi({ description: "The month of its latest movement" }),
    }),
    totals: z.object({
      came_in_minor: Minor.openapi({ description: "What customers paid, VAT and shipping included" }),
      revenue_minor: Minor.openapi({ description: "What the rules split: what customers paid for offers, VAT excluded" }),
      revenue_by_kind: z.array(z.object({ kind: z.string(), amount_minor: Minor })),
      vat_minor: Minor,
      shipping_minor: Minor,
      stripe_fees_minor: Minor,
      fee_covered_minor: Minor.openapi({ description: "Of Stripe's fees, what the cooperative paid from its own funds (rules on a gross basis)" }),
      to_commons_minor: Minor,
      to_reserve_minor: Minor,
      to_contributors_minor: Minor,
      to_pools_minor: Minor.openapi({ description: "What rules sent to need pools (each pool's close later shares it among its members)" }),
      refunds: BackTotals,
      disputes: BackTotals,
    }),
    nodes: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(NODE_KINDS),
        column: z.number().int().min(0).max(3),
        offer_kind: z.string().optional(),
        back: z.enum(BACK_KINDS).optional(),
        party_id: z.string().optional(),
        name: z.string().optional(),
        in_minor: Minor,
        out_minor: Minor,
      }),
    ),
    links: z.array(z.object({ source: z.string(), target: z.string(), amount_minor: Minor.min(1) })),
    recipients: z
      .array(
        z.object({
          party_id: z.string().nullable().openapi({ description: "null: the contributors who chose not to be named, together" }),
          kind: z.enum(PARTY_KINDS),
          name: z.string().nullable(),
          received_minor: Minor,
          given_back_minor: Minor,
          net_minor: Minor,
        }),
      )
      .openapi({ description: "The commons, the reserve, need pools and each contributor who chose to be named; then the others, together" }),
  })
  .openapi("PublicFlows", {
    description:
      "Where the money went in a period, as a flow graph (columns: 0 what came in, 1 the revenue the rules split, 2 where it went, 3 what went back) with exact totals. " +
      "Money in is dated by when the customer paid, money going back by when Stripe moved it back. Sums only: nothing about one payment.",
  });

export const publicApi = newRouter();

publicApi.openapi(
  createRoute({
    method: "get",
    path: "/public/flows",
    operationId: "getPublicFlows",
    summary: "See where the money went in a period",
    tags: ["public"],
    security: [],
    description: "No token needed. The figures of the public page at `/`.",
    request: {
      query: z.object({
        period: z.string().max(20).optional().openapi({ description: "A month `2026-10`, a quarter `2026-Q4` or a year `2026` (UTC); the year of the latest movement if omitted", example: "2026-10" }),
        currency: z.string().max(10).optional().openapi({ description: "A settlement currency; the first of CURRENCIES if omitted", example: "eur" }),
      }),
    },
    responses: { 200: jsonBody(PublicFlowsSchema, "The period's flows and totals"), ...problems(400) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { period, currency, available, flows } = await publicFlows(database(c.env.DB), c.env, q, Date.now());
    return c.json(
      {
        period: { id: period.id, kind: period.kind, from: new Date(period.from_ms).toISOString(), to: new Date(period.to_ms).toISOString() },
        currency,
        available,
        totals: flows.totals,
        nodes: flows.nodes,
        links: flows.links,
        recipients: flows.recipients,
      },
      200,
      // Public sums change only when money moves: a minute's staleness is fine for anyone.
      { "cache-control": "public, max-age=60" },
    );
  },
);
