// The split of one payment, as durable steps. Each step is idempotent: a step may run
// again after a crash or a retry, and the ledger write is keyed by the payment intent,
// so a replayed event or a retried step can never post twice.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import { parseRule, paymentPostings, splitPayment, type PaymentLineInput } from "../core";
import { database } from "../db/client";
import { getEvent, ruleOverrideOf, setEventStatus } from "../db/queries/events";
import { postPayment, type PaymentRecord } from "../db/queries/ledger";
import type { Env, SplitPaymentParams } from "./env";
import { classifyEvent } from "./payment-events";
import { fetchCheckoutFacts, fetchInvoiceFacts, isTransientStripeError, type PaymentFacts } from "./payment-facts";
import { planSplit } from "./split-plan";
import { stripeClient } from "./stripe";

export type SplitPaymentOutcome =
  | { status: "processed"; payment_intent_id: string; transaction_id: string; posted: boolean }
  | { status: "parked"; reason: string }
  | { status: "skipped"; reason: string };

/** Stripe and D1 hiccups are retried with exponential backoff: 5 s, 10 s, 20 s, 40 s, 80 s. */
const RETRIED: WorkflowStepConfig = { retries: { limit: 5, delay: "5 seconds", backoff: "exponential" }, timeout: "1 minute" };

type Fetched = { ok: true; facts: PaymentFacts } | { ok: false; reason: string };

export class SplitPaymentWorkflow extends WorkflowEntrypoint<Env, SplitPaymentParams> {
  override async run(event: Readonly<WorkflowEvent<SplitPaymentParams>>, step: WorkflowStep): Promise<SplitPaymentOutcome> {
    const eventId = event.payload.event_id;
    try {
      const outcome = await this.split(eventId, step);
      // One line per run for `wrangler tail` and Workers Logs: ids and outcomes, no secrets.
      console.log(JSON.stringify({ msg: "split finished", event_id: eventId, ...outcome }));
      return outcome;
    } catch (error) {
      // Retries are exhausted: say so on the event, where the API shows it, then fail the run.
      const reason = error instanceof Error ? error.message : String(error);
      console.error(JSON.stringify({ msg: "split failed", event_id: eventId, reason }));
      await step.do("mark the event failed", RETRIED, async () => {
        await setEventStatus(database(this.env.DB), eventId, "failed", reason.slice(0, 500), Date.now());
      });
      throw error;
    }
  }

  private async split(eventId: string, step: WorkflowStep): Promise<SplitPaymentOutcome> {
    const db = () => database(this.env.DB);

    const source = await step.do("start processing the event", RETRIED, async () => {
      const stored = await getEvent(db(), eventId);
      if (!stored) return { ok: false as const, reason: `event ${eventId} is not stored` };
      if (stored.status === "processed" || stored.status === "ignored") return { ok: false as const, reason: `event already ${stored.status}` };
      const handling = classifyEvent(JSON.parse(stored.payload));
      if (!handling.handled) return { ok: false as const, reason: handling.reason };
      await setEventStatus(db(), eventId, "processing", null, Date.now());
      const override = ruleOverrideOf(stored) ?? undefined;
      return { ok: true as const, source: handling.source, objectId: handling.objectId, override };
    });
    if (!source.ok) return { status: "skipped", reason: source.reason };

    const fetched = await step.do("fetch the payment from Stripe", RETRIED, async (): Promise<Fetched> => {
      const stripe = stripeClient(this.env);
      try {
        const facts = source.source === "checkout.session" ? await fetchCheckoutFacts(stripe, source.objectId) : await fetchInvoiceFacts(stripe, source.objectId);
        return { ok: true, facts };
      } catch (error) {
        if (isTransientStripeError(error)) throw error;
        return { ok: false, reason: error instanceof Error ? error.message : String(error) };
      }
    });
    if (!fetched.ok) return this.park(step, eventId, fetched.reason);
    const facts = fetched.facts;

    const plan = await step.do("resolve the offers and the rule versions in force", RETRIED, () => planSplit(db(), facts, source.override));
    if (!plan.ok) return this.park(step, eventId, plan.reason);

    const allocation = await step.do("compute the allocation", async () => {
      const lines: PaymentLineInput[] = [];
      for (const [i, l] of plan.lines.entries()) {
        const rule = parseRule(l.rule);
        if (!rule.ok) return { ok: false as const, reason: `rule ${l.rule_id}@${l.rule_version} is not valid: ${rule.errors[0]?.message}` };
        lines.push({ key: String(i), weight_minor: l.weight_minor, rule: rule.rule, contributors: l.contributors });
      }
      const split = splitPayment({ currency: facts.currency, gross_minor: facts.gross_minor, fee_minor: facts.fee_minor, lines });
      if (!split.ok) return { ok: false as const, reason: `the rule cannot split this payment: ${split.error.message}` };
      return { ok: true as const, split: split.value, postings: paymentPostings(split.value) };
    });
    if (!allocation.ok) return this.park(step, eventId, allocation.reason);

    const outcome = await step.do("post the ledger transaction", RETRIED, async () => {
      const record: PaymentRecord = {
        id: facts.payment_intent_id,
        source_type: facts.source_type,
        source_id: facts.source_id,
        event_id: eventId,
        currency: facts.currency,
        gross_minor: facts.gross_minor,
        fee_minor: facts.fee_minor,
        net_minor: facts.net_minor,
        presentment_currency: facts.presentment_currency,
        presentment_amount_minor: facts.presentment_amount_minor,
        paid_at_s: facts.paid_at_s,
        lines: plan.lines.map((l, i) => {
          const line = allocation.split.lines[i];
          if (!line) throw new Error(`allocation lost line ${i}`);
          return { offer_id: l.offer_id, price_id: l.price_id, rule_id: l.rule_id, rule_version: l.rule_version, basis: line.basis, gross_minor: line.gross_minor, fee_minor: line.fee_minor, basis_minor: line.basis_minor };
        }),
      };
      return postPayment(db(), record, allocation.postings, Date.now());
    });

    await step.do("mark the event processed", RETRIED, async () => {
      const note = outcome.posted ? null : `payment ${facts.payment_intent_id} was already on the ledger (${outcome.transaction_id}): not posted twice`;
      await setEventStatus(db(), eventId, "processed", note, Date.now());
    });
    return { status: "processed", payment_intent_id: facts.payment_intent_id, transaction_id: outcome.transaction_id, posted: outcome.posted };
  }

  private async park(step: WorkflowStep, eventId: string, reason: string): Promise<SplitPaymentOutcome> {
    await step.do("park the event", RETRIED, async () => {
      await setEventStatus(database(this.env.DB), eventId, "parked", reason.slice(0, 500), Date.now());
    });
    return { status: "parked", reason };
  }
}
