// Paying contributors: start a payout run, record a payment made by hand, and read runs.
import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import { getParty } from "../../db/queries/catalog";
import { partyBalances, postPayout } from "../../db/queries/ledger";
import { getPayoutRun, listPayoutRuns, payoutItemStatement, type PayoutItem } from "../../db/queries/payouts";
import { PAYOUT_ITEM_STATUSES, PAYOUT_RUN_STATUSES } from "../../db/schema";
import { payoutKey, startPayoutRun } from "../../workflows/payout-run";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems, Slug } from "./openapi";

const PayoutItemSchema = z
  .object({
    party_id: z.string(),
    currency: z.string(),
    amount_minor: z.number().int(),
    method: z.enum(["transfer", "manual"]),
    status: z.enum(PAYOUT_ITEM_STATUSES).openapi({ description: "`pending` transfer under way, `paid`, `parked` (with `reason`), `manual_due` (no connected account: pay by hand, then record it), `manual_paid`" }),
    stripe_account_id: z.string().nullable(),
    source_transaction: z.string().nullable().openapi({ description: "The charge the money came from, when it all came from one: the transfer waits for its funds" }),
    transfer_id: z.string().nullable(),
    reason: z.string().nullable(),
    updated_at: z.string(),
  })
  .openapi("PayoutItem");

const PayoutRunSchema = z
  .object({ id: z.string(), status: z.enum(PAYOUT_RUN_STATUSES), started_by: z.string(), started_at: z.string(), finished_at: z.string().nullable(), items: z.array(PayoutItemSchema) })
  .openapi("PayoutRun");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function itemView(i: PayoutItem) {
  return {
    party_id: i.partyId,
    currency: i.currency,
    amount_minor: i.amountMinor,
    method: i.method,
    status: i.status,
    stripe_account_id: i.stripeAccountId,
    source_transaction: i.sourceTransaction,
    transfer_id: i.transferId,
    reason: i.reason,
    updated_at: new Date(i.updatedAtMs).toISOString(),
  };
}

export const payouts = newRouter();

payouts.openapi(
  createRoute({
    method: "post",
    path: "/payouts/run",
    operationId: "startPayoutRun",
    summary: "Start a payout run",
    tags: ["payouts"],
    security: bearer,
    description:
      "Pays every contributor whose payable balance in a currency reaches its minimum: by a Stripe transfer to its connected account (one per contributor and currency, `transfer_group` the run, an idempotency key per run, party and currency), or listed for a payment by hand. One run at a time: 409 while one is running.",
    responses: { 202: jsonBody(z.object({ run_id: z.string() }).openapi("PayoutRunStarted"), "Started"), ...problems(401, 403, 409) },
  }),
  async (c) => {
    const started = await startPayoutRun(c.env, c.get("principal").actor);
    if (!started.started) throw new ApiError("conflict", `payout run ${started.running} is running: wait for it (GET /api/v1/payouts/${started.running})`);
    return c.json({ run_id: started.run_id }, 202);
  },
);

payouts.openapi(
  createRoute({
    method: "post",
    path: "/payouts/manual",
    operationId: "recordManualPayout",
    summary: "Record a payment made by hand",
    tags: ["payouts"],
    security: bearer,
    description: "Records that a contributor was paid outside Stripe (a bank transfer): its balance goes down by the amount, which must not exceed what is payable. With `run_id`, it settles that run's `manual_due` item.",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z
              .object({
                party_id: Slug,
                currency: z.string().regex(/^[a-z]{3}$/, "a lower-case currency code like eur"),
                amount_minor: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
                reference: z.string().trim().min(1).max(200).openapi({ description: "The bank transfer's reference, or how it was paid" }),
                run_id: z.string().regex(/^po_[A-Za-z0-9_]{1,64}$/).optional(),
              })
              .openapi("ManualPayout"),
          },
        },
      },
    },
    responses: { 201: jsonBody(z.object({ transaction_id: z.string(), party_id: z.string(), currency: z.string(), amount_minor: z.number().int() }), "Recorded"), ...problems(400, 401, 403, 404, 409, 422) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const input = c.req.valid("json");
    if (!(await getParty(db, input.party_id))) throw new ApiError("not_found", `no party ${input.party_id}`);
    // A run's item first: recorded already is a conflict, whatever is payable now.
    const item = input.run_id ? (await getPayoutRun(db, input.run_id))?.items.find((i) => i.partyId === input.party_id && i.currency === input.currency && i.method === "manual") : undefined;
    if (input.run_id && !item) throw new ApiError("not_found", `run ${input.run_id} has no payment due by hand to ${input.party_id} in ${input.currency}`);
    if (item && item.status !== "manual_due") throw new ApiError("conflict", `the payment due by hand in run ${input.run_id} to ${input.party_id} was recorded already`);
    const [balance] = (await partyBalances(db, Date.now(), input.party_id)).filter((b) => b.currency === input.currency);
    const payable = balance?.payable_minor ?? 0;
    if (input.amount_minor > payable) {
      throw new ApiError("limit_exceeded", `party ${input.party_id} can be paid at most ${payable} ${input.currency} now (its payable balance)`, [{ path: "amount_minor", message: `more than the payable ${payable}` }]);
    }
    const now = Date.now();
    const key = item ? payoutKey(item) : `manual:${crypto.randomUUID()}`;
    const itemKey = item && { runId: item.runId, partyId: item.partyId, currency: item.currency };
    const written = await postPayout(
      db,
      { key, kind: "payout_manual", party_id: input.party_id, currency: input.currency, amount_minor: input.amount_minor, stripe_object: null, event_id: `manual:${c.get("principal").actor}`, description: `paid by hand: ${input.reference}` },
      now,
      itemKey ? [payoutItemStatement(db, itemKey, { status: "manual_paid", reason: input.reference }, now)] : [],
    );
    if (!written.posted) throw new ApiError("conflict", `the payment due by hand in run ${input.run_id} to ${input.party_id} was recorded already`);
    return c.json({ transaction_id: written.transaction_id, party_id: input.party_id, currency: input.currency, amount_minor: input.amount_minor }, 201);
  },
);

payouts.openapi(
  createRoute({
    method: "get",
    path: "/payouts",
    operationId: "listPayoutRuns",
    summary: "List payout runs",
    tags: ["payouts"],
    security: bearer,
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }) },
    responses: {
      200: jsonBody(
        z.object({ runs: z.array(z.object({ id: z.string(), status: z.enum(PAYOUT_RUN_STATUSES), started_by: z.string(), started_at: z.string(), finished_at: z.string().nullable(), items: z.array(z.object({ status: z.enum(PAYOUT_ITEM_STATUSES), count: z.number().int(), amount_minor: z.number().int() })) })) }),
        "Newest first, each with its items counted by status",
      ),
      ...problems(400, 401),
    },
  }),
  async (c) => {
    const runs = await listPayoutRuns(database(c.env.DB), c.req.valid("query").limit);
    return c.json(
      { runs: runs.map(({ run, counts }) => ({ id: run.id, status: run.status, started_by: run.startedBy, started_at: new Date(run.startedAtMs).toISOString(), finished_at: iso(run.finishedAtMs), items: counts.map((k) => ({ status: k.status, count: k.n, amount_minor: k.total })) })) },
      200,
    );
  },
);

payouts.openapi(
  createRoute({
    method: "get",
    path: "/payouts/{run_id}",
    operationId: "getPayoutRun",
    summary: "Get a payout run and each transfer or manual entry",
    tags: ["payouts"],
    security: bearer,
    request: { params: z.object({ run_id: z.string().regex(/^po_[A-Za-z0-9_]{1,64}$/, "a payout run id (po_…)").openapi({ param: { name: "run_id", in: "path" } }) }) },
    responses: { 200: jsonBody(PayoutRunSchema, "The run"), ...problems(400, 401, 404) },
  }),
  async (c) => {
    const found = await getPayoutRun(database(c.env.DB), c.req.valid("param").run_id);
    if (!found) throw new ApiError("not_found", `no payout run ${c.req.valid("param").run_id}`);
    const { run, items } = found;
    return c.json({ id: run.id, status: run.status, started_by: run.startedBy, started_at: new Date(run.startedAtMs).toISOString(), finished_at: iso(run.finishedAtMs), items: items.map(itemView) }, 200);
  },
);
