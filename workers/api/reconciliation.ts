// Reconciling the ledger with Stripe, a UTC day at a time: start a run, read a day's result.
import { createRoute, z } from "@hono/zod-openapi";
import { DIFFERENCE_CODES, utcDay } from "../../core";
import { database } from "../../db/client";
import { getReconciliation } from "../../db/queries/reconciliation";
import { RECONCILIATION_STATUSES, TRANSACTION_KINDS } from "../../db/schema";
import { startReconciliation, unreconcilableDay } from "../../workflows/reconcile-run";
import { ApiError } from "../errors";
import { bearer, jsonBody, newRouter, problems } from "./openapi";

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC day as YYYY-MM-DD").openapi({ example: "2026-03-02" });

const DifferenceSchema = z
  .object({
    code: z.enum(DIFFERENCE_CODES).openapi({
      description:
        "`missing_in_ledger` Stripe moved money the ledger does not have; `missing_at_stripe` the ledger has a transaction Stripe does not list that day; `duplicate_in_ledger` two ledger transactions for one Stripe movement; `amount_differs`, `fee_differs`, `currency_differs` a matched pair that disagrees; `not_booked` a movement Pot Commun does not book (a transfer reversed, an adjustment)",
    }),
    stripe_object: z.string().nullable().openapi({ description: "What to look up in the Stripe Dashboard: the balance transaction's source (ch_, re_, dp_, tr_…), else the balance transaction" }),
    balance_transaction: z.string().nullable(),
    stripe_type: z.string().nullable().openapi({ description: "The balance transaction's `type`" }),
    transaction_id: z.string().nullable().openapi({ description: "The ledger's transaction" }),
    kind: z.enum(TRANSACTION_KINDS).nullable(),
    currency: z.string().nullable(),
    stripe_amount_minor: z.number().int().nullable(),
    ledger_amount_minor: z.number().int().nullable(),
    stripe_fee_minor: z.number().int().nullable(),
    ledger_fee_minor: z.number().int().nullable(),
    action: z.string().openapi({ description: "What to do about it, for the accountant" }),
  })
  .openapi("ReconciliationDifference");

const ReconciliationSchema = z
  .object({
    date: Day,
    status: z.enum(RECONCILIATION_STATUSES).openapi({ description: "`running` (see `progress`), `completed`, or `failed` (see `reason`); a new run of the day replaces the result" }),
    run_id: z.string(),
    started_by: z.string(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    reason: z.string().nullable(),
    progress: z.object({ stripe_pages: z.number().int(), stripe_balance_transactions: z.number().int() }).openapi({ description: "Pages of Stripe's list read so far (100 a page), and balance transactions" }),
    clean: z.boolean().nullable().openapi({ description: "Completed without a difference; null until completed" }),
    stripe_balance_transactions: z.number().int().nullable(),
    ledger_transactions: z.number().int().nullable().openapi({ description: "The ledger's transactions Stripe dated that day (payments made by hand aside)" }),
    matched: z.number().int().nullable().openapi({ description: "Balance transactions matched to a ledger transaction that agrees" }),
    outside_ledger: z.number().int().nullable().openapi({ description: "Balance transactions between the Stripe balance and the bank (payouts, top-ups): not the ledger's" }),
    totals: z.array(z.object({ currency: z.string(), stripe_net_minor: z.number().int(), ledger_net_minor: z.number().int() })).openapi({ description: "Per currency, Stripe's net and the ledger's over the day: equal when it reconciles" }),
    fees_billed_apart: z
      .array(z.object({ balance_transaction: z.string(), transaction_id: z.string(), description: z.string(), amount_minor: z.number().int(), currency: z.string() }))
      .openapi({ description: "Stripe's fees billed apart from payments that day (Billing, Tax), booked by reconciliation to coop:stripe_billing against stripe:fees; amount as the cooperative bears it (negative)" }),
    differences_total: z.number().int().nullable(),
    differences: z.array(DifferenceSchema).openapi({ description: "In Stripe's order, then the ledger's; the first 1,000 (differences_total counts them all); empty until completed" }),
  })
  .openapi("Reconciliation");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const reconciliation = newRouter();

async function reconciliationView(db: ReturnType<typeof database>, date: string) {
  const day = utcDay(date);
  const found = day ? await getReconciliation(db, date, day) : undefined;
  if (!found) return undefined;
  const { row, differences, fees } = found;
  const completed = row.status === "completed";
  return {
    date: row.date,
    status: row.status,
    run_id: row.runId,
    started_by: row.startedBy,
    started_at: new Date(row.startedAtMs).toISOString(),
    finished_at: iso(row.finishedAtMs),
    reason: row.reason,
    progress: { stripe_pages: row.stripePages, stripe_balance_transactions: row.stripeCount },
    clean: completed ? row.differencesTotal === 0 : null,
    stripe_balance_transactions: completed ? row.stripeCount : null,
    ledger_transactions: row.ledgerCount,
    matched: row.matched,
    outside_ledger: row.outside,
    totals: row.totals === null ? [] : (JSON.parse(row.totals) as { currency: string; stripe_net_minor: number; ledger_net_minor: number }[]),
    fees_billed_apart: fees,
    differences_total: row.differencesTotal,
    differences: completed ? differences : [],
  };
}

reconciliation.openapi(
  createRoute({
    method: "post",
    path: "/reconciliation/run",
    operationId: "startReconciliation",
    summary: "Reconcile a day with Stripe",
    tags: ["reconciliation"],
    security: bearer,
    description:
      "Compares the ledger with Stripe's balance transactions of a UTC day that is over: every charge, refund, dispute and transfer at Stripe has its ledger transaction with the same amount and fee, and the ledger has nothing Stripe does not list. Books the fees Stripe billed apart (Billing, Tax) to the cooperative. Runs as a workflow (a day can be many pages of Stripe's list): answers 202 with the run; `GET /reconciliation/{date}` shows its progress, then its result. A new run of a day replaces its result; 409 while one of that day is running. A daily cron reconciles yesterday at 02:00 UTC.",
    request: { body: { required: true, content: { "application/json": { schema: z.object({ date: Day }).openapi("ReconciliationRequest") } } } },
    responses: { 202: jsonBody(ReconciliationSchema, "Started"), ...problems(400, 401, 403, 409) },
  }),
  async (c) => {
    const { date } = c.req.valid("json");
    const refused = unreconcilableDay(date, Date.now());
    if (refused) throw new ApiError("invalid_request", refused, [{ path: "date", message: refused }]);
    const started = await startReconciliation(c.env, date, c.get("principal").actor);
    if (!started.started) throw new ApiError("conflict", `the reconciliation of ${date} is running (${started.running}): wait for it (GET /api/v1/reconciliation/${date})`);
    const view = await reconciliationView(database(c.env.DB), date);
    if (!view) throw new Error(`the reconciliation of ${date} was opened but cannot be read back`);
    return c.json(view, 202);
  },
);

reconciliation.openapi(
  createRoute({
    method: "get",
    path: "/reconciliation/{date}",
    operationId: "getReconciliation",
    summary: "Get a day's reconciliation with Stripe",
    tags: ["reconciliation"],
    security: bearer,
    description: "The last run of that UTC day: its status and progress, then what matched, the fees billed apart it booked, and each difference with its Stripe object and what to do about it. 404 when that day never ran.",
    request: { params: z.object({ date: Day.openapi({ param: { name: "date", in: "path" } }) }) },
    responses: { 200: jsonBody(ReconciliationSchema, "The day's reconciliation"), ...problems(400, 401, 404) },
  }),
  async (c) => {
    const { date } = c.req.valid("param");
    if (!utcDay(date)) throw new ApiError("invalid_request", `${date} is not a day: give a UTC date as YYYY-MM-DD`, [{ path: "date", message: "not a calendar date" }]);
    const view = await reconciliationView(database(c.env.DB), date);
    if (!view) throw new ApiError("not_found", `${date} was never reconciled: POST /api/v1/reconciliation/run with { "date": "${date}" }`);
    return c.json(view, 200);
  },
);
