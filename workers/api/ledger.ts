// Reading what happened: events, payments and their shares, balances, the ledger check.
import { createRoute, z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import { partiesByIds } from "../../db/queries/catalog";
import { partyOfAccount } from "../../core";
import { getEvent, listEvents, requeueEvent, ruleOverrideOf } from "../../db/queries/events";
import { getRuleVersion } from "../../db/queries/rules";
import { checkLedger, getPayment, partyBalances } from "../../db/queries/ledger";
import { EVENT_STATUSES, PARTY_KINDS, TRANSACTION_KINDS } from "../../db/schema";
import { ApiError } from "../errors";
import { queueStarts, startDueEvents } from "../../workflows/start";
import { bearer, jsonBody, newRouter, problems, Slug } from "./openapi";

const EventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(EVENT_STATUSES),
    reason: z.string().nullable(),
    due_at: z.string().nullable().openapi({ description: "When the event is (re)started if nothing moves it first; null when nothing is due (finished, ignored, or waiting for an admin)" }),
    runs: z.number().int().openapi({ description: "Workflow runs really started for it" }),
  })
  .openapi("Event", { description: "A Stripe event as received; `reason` says why it was ignored, parked or failed." });

function eventView(e: { id: string; type: string; status: (typeof EVENT_STATUSES)[number]; reason: string | null; dueAtMs: number | null; workflowRuns: number }) {
  return { id: e.id, type: e.type, status: e.status, reason: e.reason, due_at: e.dueAtMs === null ? null : new Date(e.dueAtMs).toISOString(), runs: e.workflowRuns };
}

/** The scheduled sweep runs at every minute's start (wrangler.toml, crons). */
function nextSweepAt(nowMs: number): string {
  return new Date(Math.floor(nowMs / 60_000) * 60_000 + 60_000).toISOString();
}

const ShareSchema = z.object({ party_id: z.string(), kind: z.enum(PARTY_KINDS), amount_minor: z.number().int() });

const PaymentSchema = z
  .object({
    id: z.string().openapi({ description: "The Stripe payment intent id" }),
    source: z.object({ type: z.enum(["checkout.session", "invoice"]), id: z.string() }),
    currency: z.string().openapi({ description: "Settlement currency: the fee, the net and the shares are in it" }),
    gross_minor: z.number().int(),
    fee_minor: z.number().int(),
    net_minor: z.number().int(),
    tax_minor: z.number().int().openapi({ description: "Tax collected, in the settlement currency: posted to `tax:collected`, never split" }),
    shipping_minor: z.number().int().openapi({ description: "Shipping charged, in the settlement currency: the cooperative's (`coop:shipping`), never split" }),
    presentment: z.object({ currency: z.string(), amount_minor: z.number().int() }).openapi({ description: "What the customer saw: Stripe's presentment_details when it sends them (Adaptive Pricing)" }),
    charge_id: z.string().nullable(),
    balance_transaction_id: z.string().nullable(),
    exchange_rate: z.string().nullable().openapi({ description: "Stripe's rate from the charged currency to the settlement one, as Stripe wrote it; null in one currency" }),
    paid_at: z.string(),
    rule_version: z.string().openapi({ description: "`rule_id@version` used to split; several, comma-separated, when a cart's lines used different rules", example: "default@1" }),
    transaction_id: z.string(),
    lines: z.array(
      z.object({
        offer_id: z.string(),
        price_id: z.string().nullable(),
        rule_id: z.string(),
        rule_version: z.number().int(),
        basis: z.enum(["gross", "net"]),
        weight_minor: z.number().int().nullable().openapi({ description: "What was charged for the line after discounts, without tax, as the customer saw it; negative for a proration credit" }),
        gross_minor: z.number().int().openapi({ description: "Negative for a proration credit, whose shares are taken back" }),
        fee_minor: z.number().int(),
        basis_minor: z.number().int(),
      }),
    ),
    shares: z.array(ShareSchema).openapi({ description: "What the payment gave each party (its own transaction)" }),
    refunded_minor: z.number().int().openapi({ description: "Refunded so far, net of refunds that failed, in the charge's currency" }),
    disputed_minor: z.number().int().openapi({ description: "Withdrawn by disputes so far, net of reinstatements, in the charge's currency" }),
    fees_kept_minor: z.number().int().openapi({ description: "What Stripe kept of its fee on the money that went back, and disputes' fees, as borne by the rules' fee policies (settlement currency)" }),
    fx_minor: z.number().int().openapi({ description: "The cooperative's exchange difference on money going back at the day's rate (coop:fx, settlement currency)" }),
    history: z
      .array(
        z.object({
          transaction_id: z.string(),
          cause: z.enum(TRANSACTION_KINDS),
          stripe_object: z.string().nullable().openapi({ description: "The payment intent, the refund, or the balance transaction that moved the money" }),
          at: z.string(),
          charge_amount_minor: z.number().int().nullable().openapi({ description: "What it took back (+) or returned (−), in the charge's currency; the payment's own charge for the payment" }),
          event_id: z.string(),
          postings: z.array(z.object({ account: z.string(), role: z.string().nullable(), amount_minor: z.number().int(), currency: z.string() })),
        }),
      )
      .openapi({ description: "Every transaction on the payment, in order, with its cause" }),
    disputes: z.array(z.object({ id: z.string(), status: z.string(), reason: z.string().nullable(), amount_minor: z.number().int(), currency: z.string() })),
  })
  .openapi("Payment");

const BalancesSchema = z
  .object({
    balances: z.array(
      z.object({
        party_id: z.string(),
        kind: z.enum(PARTY_KINDS),
        currency: z.string(),
        balance_minor: z.number().int().openapi({ description: "What the cooperative holds for the party: pending + payable" }),
        pending_minor: z.number().int().openapi({ description: "Shares still in their hold (HOLD_DAYS or the rule's hold_days), less what refunds took back meanwhile" }),
        payable_minor: z.number().int().openapi({ description: "What a payout can pay now; negative when money went back after a payout (the next run deducts it)" }),
        paid_minor: z.number().int().openapi({ description: "Paid out so far, by transfer or by hand" }),
      }),
    ),
  })
  .openapi("Balances");

const LedgerCheckSchema = z
  .object({
    ok: z.boolean(),
    transactions: z.number().int(),
    postings: z.number().int(),
    imbalances: z.array(
      z.object({
        transaction_id: z.string(),
        currency: z.string(),
        invariant: z.enum(["sums_to_zero", "shares_equal_basis", "tax_held"]),
        sum_minor: z.number().int(),
        expected_minor: z.number().int(),
      }),
    ),
  })
  .openapi("LedgerCheck");

const EventIdParam = z.object({ id: z.string().regex(/^evt_[A-Za-z0-9_]{1,200}$/, "a Stripe event id (evt_…)").openapi({ param: { name: "id", in: "path" } }) });

export const ledger = newRouter();

ledger.openapi(
  createRoute({ method: "get", path: "/events/{id}", operationId: "getEvent", summary: "Get a Stripe event's status", tags: ["events"], security: bearer, request: { params: EventIdParam }, responses: { 200: jsonBody(EventSchema, "The event's processing status"), ...problems(400, 401, 404) } }),
  async (c) => {
    const event = await getEvent(database(c.env.DB), c.req.valid("param").id);
    if (!event) throw new ApiError("not_found", `no event ${c.req.valid("param").id} was received`);
    return c.json(eventView(event), 200);
  },
);

ledger.openapi(
  createRoute({
    method: "get",
    path: "/events",
    operationId: "listEvents",
    summary: "List the events in one status",
    tags: ["events"],
    security: bearer,
    request: {
      query: z.object({
        status: z.enum(EVENT_STATUSES).default("parked"),
        due: z.enum(["true"]).optional().openapi({ description: "`true`: every event that is due sometime, whatever its status, soonest first (`status` is then ignored)" }),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
    },
    responses: { 200: jsonBody(z.object({ events: z.array(EventSchema) }), "Events in one status, oldest first (parked by default), or the due ones, soonest first"), ...problems(400, 401) },
  }),
  async (c) => {
    const { status, due, limit } = c.req.valid("query");
    const rows = await listEvents(database(c.env.DB), due === "true" ? { due: true } : { status }, limit);
    return c.json({ events: rows.map(eventView) }, 200);
  },
);

ledger.openapi(
  createRoute({
    method: "post",
    path: "/events/{id}/retry",
    operationId: "retryEvent",
    summary: "Split a parked or failed event again",
    tags: ["events"],
    security: bearer,
    description:
      "Runs the split again for a parked or failed event (or one whose run died), after the cause was fixed: an offer added, contributors given. " +
      "With `rule`, the admin names the rule version to split it by, for a payment no version covered when it was paid; audited.",
    request: {
      params: EventIdParam,
      body: {
        required: false,
        content: {
          "application/json": {
            schema: z
              .object({
                rule: z.object({ rule_id: Slug, version: z.number().int().min(1) }).nullable().optional().openapi({ description: "The version to split by where none was in force; null clears an earlier choice" }),
                reason: z.string().trim().min(1).max(2000).optional(),
              })
              .openapi("Retry"),
          },
        },
      },
    },
    responses: {
      202: jsonBody(
        EventSchema.extend({
          outcome: z.enum(["started", "queued"]).openapi({ description: "`started`: its next run was created now; `queued`: the start failed, the event stays due and is started by `next_sweep_at` at the latest" }),
          next_sweep_at: z.string().nullable(),
        }).openapi("RetriedEvent"),
        "What the retry did",
      ),
      ...problems(400, 401, 403, 404, 409),
    },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const event = await getEvent(db, c.req.valid("param").id);
    if (!event) throw new ApiError("not_found", `no event ${c.req.valid("param").id} was received`);
    const now = Date.now();
    // A run that stalled, or a start that did not happen, has made its event due.
    const dueNow = event.dueAtMs !== null && event.dueAtMs <= now && (event.status === "processing" || event.status === "received");
    if (event.status !== "parked" && event.status !== "failed" && !dueNow) {
      throw new ApiError("conflict", `event ${event.id} is ${event.status}${event.dueAtMs === null ? "" : `, due at ${new Date(event.dueAtMs).toISOString()}`}; only parked, failed, stalled or unstarted events are retried`);
    }
    const { rule, reason } = c.req.valid("json");
    if (rule && !(await getRuleVersion(db, rule.rule_id, rule.version))) {
      throw new ApiError("invalid_request", `rule.version: rule ${rule.rule_id} has no version ${rule.version}`, [{ path: "rule", message: "no such rule version" }]);
    }
    if (rule && !reason) throw new ApiError("invalid_request", "reason: say why this payment is split by a rule version chosen by hand", [{ path: "reason", message: "required with rule" }]);
    // `rule` names a version, `null` clears an earlier choice, absent keeps it.
    const previous = ruleOverrideOf(event);
    const override = rule === undefined ? previous : rule;
    const audit = { actor: c.get("principal").actor, action: "event.retry", entity_type: "event" as const, entity_id: event.id, before: { status: event.status, reason: event.reason, rule_override: previous }, after: { status: "received", rule_override: override, reason: reason ?? null } };
    if (!(await requeueEvent(db, event, override, audit, now))) throw new ApiError("conflict", `event ${event.id} changed while it was being retried; read it again`);
    const start = await startDueEvents(c.env, db, [event.id]);
    const started = start.started.includes(event.id);
    if (!started) await queueStarts(c.env, [event.id]);
    const after = (await getEvent(db, event.id)) ?? event;
    return c.json({ ...eventView(after), outcome: started ? ("started" as const) : ("queued" as const), next_sweep_at: started ? null : nextSweepAt(Date.now()) }, 202);
  },
);

ledger.openapi(
  createRoute({
    method: "get",
    path: "/payments/{id}",
    operationId: "getPayment",
    summary: "Get a payment and the shares it gave",
    tags: ["ledger"],
    security: bearer,
    request: { params: z.object({ id: z.string().regex(/^pi_[A-Za-z0-9_]{1,200}$/, "a Stripe payment intent id (pi_…)").openapi({ param: { name: "id", in: "path" } }) }) },
    responses: { 200: jsonBody(PaymentSchema, "A payment and the shares it gave"), ...problems(400, 401, 404) },
  }),
  async (c) => {
    const db = database(c.env.DB);
    const found = await getPayment(db, c.req.valid("param").id);
    if (!found) throw new ApiError("not_found", `payment ${c.req.valid("param").id} is not on the ledger`);
    const { payment, lines, history, disputes } = found;
    const own = history.find((t) => t.id === payment.transactionId)?.postings ?? [];
    const shares = new Map<string, number>();
    for (const p of own) {
      const party = partyOfAccount(p.account);
      if (party !== null) shares.set(party, (shares.get(party) ?? 0) + p.amountMinor);
    }
    const back = history.filter((t) => t.id !== payment.transactionId);
    const sumCharge = (kinds: string[]) => back.filter((t) => kinds.includes(t.kind)).reduce((acc, t) => acc + (t.charge_amount_minor ?? 0), 0);
    const backPostings = back.flatMap((t) => t.postings);
    const sumRoles = (roles: string[]) => backPostings.filter((p) => p.role !== null && roles.includes(p.role)).reduce((acc, p) => acc + p.amountMinor, 0);
    const kinds = await partiesByIds(db, [...shares.keys()]);
    return c.json(
      {
        id: payment.id,
        source: { type: payment.sourceType, id: payment.sourceId },
        currency: payment.currency,
        gross_minor: payment.grossMinor,
        fee_minor: payment.feeMinor,
        net_minor: payment.netMinor,
        tax_minor: payment.taxMinor,
        shipping_minor: payment.shippingMinor,
        presentment: { currency: payment.presentmentCurrency, amount_minor: payment.presentmentAmountMinor },
        charge_id: payment.chargeId,
        balance_transaction_id: payment.balanceTransactionId,
        exchange_rate: payment.exchangeRate,
        paid_at: new Date(payment.paidAtS * 1000).toISOString(),
        rule_version: [...new Set(lines.map((l) => `${l.ruleId}@${l.ruleVersion}`))].join(","),
        transaction_id: payment.transactionId,
        lines: lines.map((l) => ({ offer_id: l.offerId, price_id: l.priceId, rule_id: l.ruleId, rule_version: l.ruleVersion, basis: l.basis, weight_minor: l.weightMinor, gross_minor: l.grossMinor, fee_minor: l.feeMinor, basis_minor: l.basisMinor })),
        shares: [...shares].map(([party_id, amount_minor]) => ({ party_id, kind: kinds.get(party_id)?.kind ?? "contributor", amount_minor })),
        refunded_minor: sumCharge(["refund", "refund_failed"]),
        disputed_minor: sumCharge(["dispute_withdrawn", "dispute_reinstated"]),
        fees_kept_minor: -sumRoles(["fee_kept", "dispute_fee"]),
        fx_minor: sumRoles(["fx"]),
        history: history.map((t) => ({
          transaction_id: t.id,
          cause: t.kind,
          stripe_object: t.kind === "payment" ? payment.id : t.stripe_object,
          at: new Date(t.created_at_ms).toISOString(),
          charge_amount_minor: t.kind === "payment" ? payment.chargeAmountMinor : t.charge_amount_minor,
          event_id: t.event_id,
          postings: t.postings.map((p) => ({ account: p.account, role: p.role, amount_minor: p.amountMinor, currency: p.currency })),
        })),
        disputes: disputes.map((d) => ({ id: d.id, status: d.status, reason: d.reason, amount_minor: d.amountMinor, currency: d.currency })),
      },
      200,
    );
  },
);

ledger.openapi(
  createRoute({
    method: "get",
    path: "/balances",
    operationId: "listBalances",
    summary: "List the parties' balances",
    description: "Every party's balances; a `party` token sees only its own party's.",
    tags: ["ledger"],
    security: bearer,
    responses: { 200: jsonBody(BalancesSchema, "Each party's balance per currency, from the postings"), ...problems(401) },
  }),
  async (c) => {
    const principal = c.get("principal");
    return c.json({ balances: await partyBalances(database(c.env.DB), Date.now(), principal.role === "party" ? (principal.party_id ?? "") : undefined) }, 200);
  },
);

ledger.openapi(
  createRoute({ method: "get", path: "/ledger/check", operationId: "checkLedger", summary: "Check the ledger's invariants", tags: ["ledger"], security: bearer, responses: { 200: jsonBody(LedgerCheckSchema, "The ledger's invariants, recomputed over every transaction"), ...problems(401) } }),
  async (c) => c.json(await checkLedger(database(c.env.DB)), 200),
);
