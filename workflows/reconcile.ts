// A reconciliation of one UTC day, as durable steps: Stripe's balance transactions of the day,
// a page of 100 per step (each page's progress on the day's row); the fees Stripe billed apart
// booked on the ledger, keyed by their balance transactions; then the ledger's side of the day
// read, compared (core/reconciliation.ts) and the result stored in one batch. Every step can run
// again: reading changes nothing, booking is keyed, the result replaces the day's.
//
// Why a workflow and not the request: a day's list has no bound at Stripe (a busy day is
// thousands of balance transactions, tens of pages), each page is a call that Stripe may refuse
// for a while (429, 5xx) and that is retried on its own here, and the daily cron must not hold
// a scheduled handler for that long. The API answers 202 and the day's row shows the progress.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import type Stripe from "stripe";
import { BILLED_APART_TYPES, billedFeePostings, reconcileDay, utcDay, type StripeMovement } from "../core";
import { database } from "../db/client";
import { postBilledFee } from "../db/queries/ledger";
import { failReconciliation, finishReconciliation, ledgerDay, recordReconciliationProgress } from "../db/queries/reconciliation";
import type { Env, ReconcileParams } from "./env";
import { classifyFailure, describeExhausted } from "./failures";
import { stripeClient } from "./stripe";

const RETRIED: WorkflowStepConfig = { retries: { limit: 5, delay: 10_000, backoff: "exponential" }, timeout: 120_000 };
/** Stripe's largest page. */
const PAGE_SIZE = 100;
/** A day of more balance transactions than this is refused (the run fails saying so): 200 pages. */
export const MAX_DAY_BALANCE_TRANSACTIONS = 20_000;
/** The ledger's side of a day is read whole; past this, the run fails saying so. */
export const MAX_DAY_LEDGER_TRANSACTIONS = 20_000;

export interface ReconcileSummary {
  date: string;
  run_id: string;
  status: "completed" | "failed";
  stripe_balance_transactions: number;
  fees_booked: number;
  differences: number;
  reason: string | null;
}

/** A problem retrying cannot fix: the run fails at once with this reason. */
class ReconcileRefused extends Error {}

/** What reconciliation reads of a balance transaction: plain JSON, as a step's result must be. */
function movement(bt: Stripe.BalanceTransaction): StripeMovement {
  return {
    id: bt.id,
    type: bt.type,
    reporting_category: bt.reporting_category,
    amount_minor: bt.amount,
    fee_minor: bt.fee,
    currency: bt.currency,
    created_s: bt.created,
    source: bt.source === null ? null : typeof bt.source === "string" ? bt.source : bt.source.id,
    description: bt.description,
  };
}

/** Runs a step's work: what retrying can fix is thrown as a plain sentence (the step retries it), the rest comes back as a refusal. */
async function refusing<T>(work: () => Promise<T>): Promise<T | { refused: string }> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ReconcileRefused) return { refused: error.message };
    const failure = classifyFailure(error);
    if (failure.transient) throw new Error(failure.reason);
    return { refused: failure.reason };
  }
}

const isRefused = (value: unknown): value is { refused: string } => typeof value === "object" && value !== null && "refused" in value;

export class ReconcileWorkflow extends WorkflowEntrypoint<Env, ReconcileParams> {
  override async run(event: Readonly<WorkflowEvent<ReconcileParams>>, step: WorkflowStep): Promise<ReconcileSummary> {
    const { date, run_id } = event.payload;
    const db = () => database(this.env.DB);
    const fail = async (reason: string): Promise<ReconcileSummary> => {
      await step.do("mark the reconciliation failed", RETRIED, () => failReconciliation(db(), date, run_id, reason, Date.now()));
      console.log(JSON.stringify({ msg: "reconciliation failed", date, run_id, reason }));
      return { date, run_id, status: "failed", stripe_balance_transactions: 0, fees_booked: 0, differences: 0, reason };
    };
    const day = utcDay(date);
    if (!day) return fail(`${date} is not a day`);
    try {
      const stripe: StripeMovement[] = [];
      let after: string | null = null;
      for (let page = 1; ; page++) {
        const start = after;
        const read = stripe.length;
        const got = await step.do(`list Stripe's balance transactions of ${date}, page ${page}`, RETRIED, () =>
          refusing(async () => {
            if (read >= MAX_DAY_BALANCE_TRANSACTIONS) throw new ReconcileRefused(`Stripe lists more than ${MAX_DAY_BALANCE_TRANSACTIONS} balance transactions on ${date}: more than one reconciliation reads`);
            const list = await stripeClient(this.env).balanceTransactions.list({ created: { gte: day.start_s, lt: day.end_s }, limit: PAGE_SIZE, ...(start ? { starting_after: start } : {}) });
            const rows = list.data.map(movement);
            await recordReconciliationProgress(db(), date, run_id, page, read + rows.length);
            return { rows, has_more: list.has_more };
          }),
        );
        if (isRefused(got)) return fail(got.refused);
        stripe.push(...got.rows);
        const last = got.rows.at(-1);
        if (!got.has_more || !last) break;
        after = last.id;
      }

      const fees = stripe.filter((bt) => BILLED_APART_TYPES.includes(bt.type));
      const booked = await step.do(`book the fees Stripe billed apart on ${date}`, RETRIED, () =>
        refusing(async () => {
          let posted = 0;
          for (const bt of fees) {
            const written = await postBilledFee(db(), { balance_transaction: bt.id, description: bt.description ?? `Stripe fee ${bt.id}`, stripe_created_s: bt.created_s, event_id: `reconciliation:${run_id}` }, billedFeePostings(bt), Date.now());
            if (written.posted) posted += 1;
          }
          return posted;
        }),
      );
      if (isRefused(booked)) return fail(booked.refused);

      const stored = await step.do(`compare ${date} with the ledger and store the result`, RETRIED, () =>
        refusing(async () => {
          const ledger = await ledgerDay(db(), day, MAX_DAY_LEDGER_TRANSACTIONS + 1);
          if (ledger.length > MAX_DAY_LEDGER_TRANSACTIONS) throw new ReconcileRefused(`the ledger has more than ${MAX_DAY_LEDGER_TRANSACTIONS} transactions on ${date}: more than one reconciliation reads`);
          const result = reconcileDay(date, stripe, ledger);
          await finishReconciliation(db(), date, run_id, { stripe_count: stripe.length, ledger_count: ledger.length, ...result }, Date.now());
          return { differences: result.differences.length };
        }),
      );
      if (isRefused(stored)) return fail(stored.refused);
      const summary: ReconcileSummary = { date, run_id, status: "completed", stripe_balance_transactions: stripe.length, fees_booked: booked, differences: stored.differences, reason: null };
      console.log(JSON.stringify({ msg: "reconciliation finished", ...summary }));
      return summary;
    } catch (error) {
      // A step's retries ran out (Stripe or D1 down all along): the day says so, a new run may start.
      return fail(describeExhausted(error));
    }
  }
}
