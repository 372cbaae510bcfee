// The split of one payment, as durable steps. A payment that needs no waiting takes one: take
// the event in hand (and look at the ledger first), fetch the payment from Stripe, plan,
// compute, post and mark processed in one D1 batch. Waits (Stripe's Retry-After, a balance
// transaction not there yet) are workflow sleeps between tries, one step a try. Each step is
// idempotent: it may run again after a crash or a retry, and the ledger write is keyed by the
// payment intent, so a replayed event, a second run or a retried step can never post twice.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import type Stripe from "stripe";
import type { StripeApi } from "./stripe-api";
import { parseRule, paymentPostings, pendingMovementsPostings, splitPayment, sumByParty, type PaymentLineInput, type PostedPayment, type RolePosting, type Rule } from "../core";
import { database, type Db } from "../db/client";
import { beginRun, extendRun, failEvent, markIgnored, markProcessed, markProcessedD1, markProcessedStatement, parkEvent, ruleOverrideOf } from "../db/queries/events";
import { feeBearers, moneyBackSoFar, paymentBySource, postedPayment, postMoneyBack, postPayment, recordDisputeStatement, type PaymentRecord } from "../db/queries/ledger";
import { meteredEnv, meteredStep, meterOutcome } from "./bench-meter";
import { defaultHoldDays, type Env, type SplitPaymentParams } from "./env";

const DAY_MS = 86_400_000;
import { classifyFailure, describeExhausted, MAX_RETRY_AFTER_S, NotYetAtStripe, PermanentPaymentProblem } from "./failures";
import { fetchDisputeFacts, fetchRefundFacts, type MoneyBackFacts } from "./money-back-facts";
import { classifyEvent, type PaymentSource } from "./payment-events";
import { fetchCheckoutFacts, fetchInvoiceFacts, type PaymentFacts } from "./payment-facts";
import { planSplit, type SplitPlan } from "./split-plan";
import { stepFaultsOf, withStepFaults } from "./step-faults";
import { stripeClient } from "./stripe";

export type SplitPaymentOutcome =
  | { status: "processed"; payment_intent_id: string; transaction_id: string; posted: boolean; note: string | null }
  | { status: "parked"; reason: string }
  | { status: "skipped"; reason: string };

/** The first step: the event taken in hand and, for a payment, its first try (read, split, post). Tests name it. */
export const FIRST_STEP = "take the event in hand, and split a payment";
/** A payment's later tries, after a wait ("…, try 2"). */
export const SPLIT_STEP = "fetch the payment from Stripe, split and post it";

/** Stripe and D1 hiccups are retried with exponential backoff: 5 s, 10 s, 20 s, 40 s, 80 s. */
const RETRIES = { limit: 5, delay_ms: 5_000, timeout_ms: 60_000 } as const;
const RETRIED: WorkflowStepConfig = { retries: { limit: RETRIES.limit, delay: RETRIES.delay_ms, backoff: "exponential" }, timeout: RETRIES.timeout_ms };
/** How many times a step waits as Stripe's Retry-After asks before it counts as a failure. */
const MAX_STRIPE_WAITS = 3;

/** The longest one step can take: every try timing out, and every backoff delay between them. */
const WORST_STEP_MS = (RETRIES.limit + 1) * RETRIES.timeout_ms + RETRIES.delay_ms * (2 ** RETRIES.limit - 1);
/**
 * The longest a live run can go between taking the event in hand and its last write: the
 * Stripe step with all its Retry-After waits, the posting step, and marking the event failed.
 */
export const WORST_RUN_MS = (MAX_STRIPE_WAITS + 1) * WORST_STEP_MS + MAX_STRIPE_WAITS * MAX_RETRY_AFTER_S * 1000 + 2 * WORST_STEP_MS;
/** A run that has not finished this long after taking its event in hand is dead: the event is due again. */
export const STALL_CUTOFF_MS = WORST_RUN_MS + 15 * 60_000;

type Taken = { go: true; source: PaymentSource; objectId: string; override: { rule_id: string; version: number } | undefined } | { go: false; outcome: SplitPaymentOutcome };
/** What step 1 did: the event taken in hand (or not), and for a payment, what its first try gave. */
type Began = Taken | (Taken & { go: true; first: Fetched<SplitPaymentOutcome> });
type Fetched<T> = { ok: true; value: T } | { ok: false; reason: string } | { ok: "wait"; seconds: number; kind: "stripe" | "balance" };

/** How long to sleep before each new look for a balance transaction (or a refund's payment on the ledger): doubling from a minute to an hour, about a day in all. */
export const BALANCE_WAITS_S: readonly number[] = (() => {
  const waits: number[] = [];
  let total = 0;
  for (let wait = 60; total + wait <= 24 * 3600; wait = Math.min(wait * 2, 3600)) {
    waits.push(wait);
    total += wait;
  }
  return waits;
})();
const BALANCE_WAIT_TOTAL_S = BALANCE_WAITS_S.reduce((a, b) => a + b, 0);

/**
 * Runs a step's work. What retrying cannot fix parks the event at once, in this step; what
 * can is thrown again as a plain sentence (the platform keeps step errors: they stay clean),
 * so that the step's retries take it.
 */
async function parkOnPermanent<T>(db: Db, eventId: string, work: () => Promise<T>): Promise<T | { status: "parked"; reason: string }> {
  try {
    return await work();
  } catch (error) {
    const failure = classifyFailure(error);
    if (failure.transient) throw new Error(failure.reason);
    await parkEvent(db, eventId, failure.reason, Date.now());
    return { status: "parked", reason: failure.reason };
  }
}

export class SplitPaymentWorkflow extends WorkflowEntrypoint<Env, SplitPaymentParams> {
  constructor(ctx: ExecutionContext, env: Env) {
    // Itself unless the bench is on (BENCH=1): then D1 and the steps are counted (bench-meter.ts).
    super(ctx, meteredEnv(env));
  }

  override async run(event: Readonly<WorkflowEvent<SplitPaymentParams>>, engineStep: WorkflowStep): Promise<SplitPaymentOutcome> {
    const { event_id: eventId, run } = event.payload;
    // The engine's step (counted when the bench is on), unless a test turned on steps that fail once (step-faults.ts).
    const step = withStepFaults(meteredStep(this.env, engineStep), stepFaultsOf(this.env), event.instanceId);
    try {
      const outcome = await this.split(eventId, run, step);
      meterOutcome(this.env, outcome);
      // One line per run for `wrangler tail` and Workers Logs: ids and outcomes, nothing personal.
      console.log(JSON.stringify({ msg: "split finished", event_id: eventId, run, ...outcome }));
      return outcome;
    } catch (error) {
      // Retries are exhausted: say so on the event, where the API shows it, then fail the run.
      const reason = describeExhausted(error);
      meterOutcome(this.env, { status: "failed" });
      console.error(JSON.stringify({ msg: "split failed", event_id: eventId, run, reason }));
      await step.do("mark the event failed", RETRIED, async () => {
        await failEvent(database(this.env.DB), eventId, reason, Date.now());
      });
      throw new Error(reason);
    }
  }

  private async split(eventId: string, run: number, step: WorkflowStep): Promise<SplitPaymentOutcome> {
    const db = () => database(this.env.DB);
    // What a payment's run reads from Stripe, then does with it: plan, split and post (a retry
    // reads Stripe again, which is harmless: the ledger write is keyed by the payment intent).
    const readPayment = (source: "checkout.session" | "invoice", objectId: string) => (stripe: StripeApi) => (source === "checkout.session" ? fetchCheckoutFacts(stripe, objectId) : fetchInvoiceFacts(stripe, objectId));
    const postPlanned = (override: Taken & { go: true }) => (facts: PaymentFacts) => parkOnPermanent(db(), eventId, async () => this.post(db(), eventId, facts, await planSplit(db(), facts, override.override)));

    // Step 1 takes the event in hand and, for a payment (money in), makes the first try in the
    // same step: a payment that needs no waiting is read, split and posted in this one step.
    // The try sorts its own failures (Stripe's, the posting's): only taking the event is parked on here.
    const began = await step.do(FIRST_STEP, RETRIED, async (): Promise<Began | { status: "parked"; reason: string }> => {
      const taken = await parkOnPermanent(db(), eventId, () => this.take(db(), eventId, run));
      if ("status" in taken || !taken.go || taken.source === "refund" || taken.source === "dispute") return taken;
      const first = await this.tryRead(eventId, run, readPayment(taken.source, taken.objectId), postPlanned(taken), { stripe: 0, balance: 0 });
      return { ...taken, first: first as Fetched<SplitPaymentOutcome> };
    });
    if ("status" in began) return began;
    if (!began.go) return began.outcome;
    const { source, objectId } = began;
    if (source === "refund" || source === "dispute") return this.moneyBack(step, eventId, run, source, objectId);

    // Waiting (for Stripe, or for a balance transaction) and trying again, one step a try.
    const done = await this.fetchWithWaits(step, eventId, run, readPayment(source, objectId), { base: SPLIT_STEP, use: postPlanned(began), first: "first" in began ? began.first : undefined });
    if (!done.ok) return this.park(step, eventId, done.reason);
    return done.value;
  }

  /**
   * Step 1. Only the event's latest run goes on, and never for a finished or parked event. A
   * run started again looks at the ledger first: a payment already posted (by this event's
   * earlier run, or by another event for the same payment) is not fetched or planned again.
   */
  private async take(db: Db, eventId: string, run: number): Promise<Taken> {
    const now = Date.now();
    const begun = await beginRun(db, eventId, run, now, STALL_CUTOFF_MS);
    if (!begun) return { go: false, outcome: { status: "skipped", reason: `run ${run} of event ${eventId} has nothing to do: the event is finished, parked, or a later run has it` } };
    const stored = begun.event;
    const handling = classifyEvent(JSON.parse(stored.payload));
    if (!handling.handled) {
      await markIgnored(db, eventId, handling.reason, now);
      return { go: false, outcome: { status: "skipped", reason: handling.reason } };
    }
    // beginRun found the payment by the object id stored with the event; an event stored with
    // another one (or none) is looked up by what its payload names.
    const moneyBack = handling.source === "refund" || handling.source === "dispute";
    const posted = moneyBack ? undefined : stored.objectId === handling.objectId ? begun.posted : await paymentBySource(db, handling.objectId);
    if (posted) {
      const note = posted.eventId === eventId ? `payment ${posted.id} was posted by an earlier run of this event` : `payment ${posted.id} was already posted by event ${posted.eventId}: not posted twice`;
      await markProcessed(db, eventId, note, now);
      return { go: false, outcome: { status: "processed", payment_intent_id: posted.id, transaction_id: posted.transactionId, posted: false, note } };
    }
    return { go: true, source: handling.source, objectId: handling.objectId, override: ruleOverrideOf(stored) ?? undefined };
  }

  /**
   * Step 2: what Stripe says about the payment. Two waits are durable sleeps, not spent
   * retries: as long as Stripe's Retry-After asks (three times at most), and for a charge whose
   * balance transaction Stripe has not attached yet (1, 2, 4 … 60 minutes apart, about a day in
   * all, then the event is parked saying so). Before each sleep the run moves its event's stall
   * cutoff past it, so that the sweep does not take a sleeping run for a dead one.
   */
  private async fetchWithWaits<T extends PaymentFacts | MoneyBackFacts, R = T>(
    step: WorkflowStep,
    eventId: string,
    run: number,
    read: (stripe: StripeApi) => Promise<T>,
    options: { again?: string; base?: string; use?: (facts: T) => Promise<R>; first?: Fetched<R> } = {},
  ): Promise<{ ok: true; value: R } | { ok: false; reason: string }> {
    const waits = { stripe: 0, balance: 0 };
    const first = options.base ?? "fetch the payment from Stripe";
    const base = options.again === undefined ? first : `${first} again, ${options.again}`;
    for (let attempt = 1; ; attempt++) {
      const name = attempt === 1 ? base : `${base}, try ${attempt}`;
      // The first try may have been made already, in the step that took the event in hand.
      const fetched = attempt === 1 && options.first ? options.first : ((await step.do(name, RETRIED, () => this.tryRead(eventId, run, read, options.use, waits))) as Fetched<R>);
      if (fetched.ok !== "wait") return fetched;
      if (fetched.kind === "balance") waits.balance++;
      else waits.stripe++;
      const why = fetched.kind === "balance" ? "for the charge's balance transaction" : "as Stripe asked";
      await step.sleep(`wait ${fetched.seconds} s ${why}, before try ${attempt + 1}`, fetched.seconds * 1000);
    }
  }

  /**
   * One try, inside a step: read from Stripe, then `use` what was read. Facts and outcomes are
   * plain JSON (numbers, strings, arrays): what a step's result may be.
   */
  private async tryRead<T extends PaymentFacts | MoneyBackFacts, R>(eventId: string, run: number, read: (stripe: StripeApi) => Promise<T>, use: ((facts: T) => Promise<R>) | undefined, waits: { stripe: number; balance: number }): Promise<Fetched<PaymentFacts | MoneyBackFacts | SplitPaymentOutcome>> {
    const wait = async (seconds: number, kind: "stripe" | "balance"): Promise<Fetched<never>> => {
      const now = Date.now();
      await extendRun(database(this.env.DB), eventId, run, now + seconds * 1000 + STALL_CUTOFF_MS, now);
      return { ok: "wait", seconds, kind };
    };
    let facts: T;
    try {
      facts = await read(stripeClient(this.env));
    } catch (error) {
      if (error instanceof NotYetAtStripe) {
        const seconds = BALANCE_WAITS_S[waits.balance];
        if (seconds === undefined) return { ok: false, reason: `${error.message} after ${Math.round(BALANCE_WAIT_TOTAL_S / 3600)} hours of waiting for it: retry the event once Stripe shows it` };
        return wait(seconds, "balance");
      }
      const failure = classifyFailure(error);
      if (!failure.transient) return { ok: false, reason: failure.reason };
      if (failure.retry_after_s !== null && waits.stripe < MAX_STRIPE_WAITS) return wait(failure.retry_after_s, "stripe");
      // Thrown again as a plain sentence: the platform keeps step errors, and they stay clean.
      throw new Error(failure.reason);
    }
    return { ok: true, value: (use ? await use(facts) : facts) as PaymentFacts | MoneyBackFacts | SplitPaymentOutcome };
  }

  /** A payment try's last part: the plan's lines split by their rules and posted with the event marked processed, in one batch. */
  private async post(db: Db, eventId: string, facts: PaymentFacts, plan: SplitPlan): Promise<SplitPaymentOutcome> {
    if (!plan.ok) throw new PermanentPaymentProblem(plan.reason);
    const rules = plan.lines.map((l) => {
      const rule = parseRule(l.rule);
      if (!rule.ok) throw new PermanentPaymentProblem(`rule ${l.rule_id}@${l.rule_version} is not valid: ${rule.errors[0]?.message}`);
      return rule.rule;
    });
    const lines: PaymentLineInput[] = plan.lines.map((l, i) => ({ key: String(i), weight_minor: l.weight_minor, rule: rules[i] as Rule, contributors: l.contributors }));
    const split = splitPayment({
      currency: facts.currency,
      gross_minor: facts.gross_minor,
      fee_minor: facts.fee_minor,
      tax_weight_minor: facts.tax_weight_minor,
      shipping_weight_minor: facts.shipping_weight_minor,
      lines,
    });
    if (!split.ok) throw new PermanentPaymentProblem(`the rule cannot split this payment: ${split.error.message}`);
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
      charge_amount_minor: facts.charge_amount_minor,
      tax_minor: split.value.tax_minor,
      shipping_minor: split.value.shipping_minor,
      charge_id: facts.charge_id,
      balance_transaction_id: facts.balance_transaction_id,
      exchange_rate: facts.exchange_rate,
      paid_at_s: facts.paid_at_s,
      // Held for the longest hold of its lines' rules: a share is paid out once refunds are unlikely.
      available_at_ms: facts.paid_at_s * 1000 + Math.max(...rules.map((r) => r.hold_days ?? defaultHoldDays(this.env))) * DAY_MS,
      stripe_created_s: facts.balance_transaction_created_s ?? facts.paid_at_s,
      lines: plan.lines.map((l, i) => {
        const line = split.value.lines[i];
        if (!line) throw new PermanentPaymentProblem(`the split lost line ${i}`);
        return {
          offer_id: l.offer_id,
          price_id: l.price_id,
          rule_id: l.rule_id,
          rule_version: l.rule_version,
          basis: line.basis,
          fee_policy: rules[i]?.fee_policy ?? "proportional",
          parts: sumByParty(line.parts),
          weight_minor: l.weight_minor,
          gross_minor: line.gross_minor,
          fee_minor: line.fee_minor,
          basis_minor: line.basis_minor,
        };
      }),
    };
    const now = Date.now();
    const outcome = await postPayment(db, record, paymentPostings(split.value), now, [markProcessedD1(db, eventId, null, now)]);
    if (outcome.posted) return { status: "processed", payment_intent_id: record.id, transaction_id: outcome.transaction_id, posted: true, note: null };
    const note = outcome.event_id === eventId ? `payment ${record.id} was posted by an earlier run of this event` : `payment ${record.id} was already posted by event ${outcome.event_id}: not posted twice`;
    await markProcessed(db, eventId, note, now);
    return { status: "processed", payment_intent_id: record.id, transaction_id: outcome.transaction_id, posted: false, note };
  }

  /**
   * Money going back (a refund, a dispute): step 2 reads every movement the Stripe object has
   * made; step 3 posts those not on the ledger yet, together, on its payment, and marks the
   * event processed. Two things are waited for with workflow sleeps, a day at most, then the
   * event is parked saying so: a payment not on the ledger yet (events arrive in any order), and
   * a movement that gives money back (a refund's failure, a dispute won) that Stripe made before
   * this one but whose own event has not reached the ledger: without it, this one would take
   * back more than was charged. For that one the object is read again after the wait, as it may
   * have moved on (a refund read before it failed).
   */
  private async moneyBack(step: WorkflowStep, eventId: string, run: number, source: "refund" | "dispute", objectId: string): Promise<SplitPaymentOutcome> {
    const db = () => database(this.env.DB);
    const read = (stripe: StripeApi) => (source === "refund" ? fetchRefundFacts(stripe, objectId) : fetchDisputeFacts(stripe, objectId));
    let fetched = await this.fetchWithWaits(step, eventId, run, read);
    for (let attempt = 1; ; attempt++) {
      if (!fetched.ok) return this.park(step, eventId, fetched.reason);
      const facts = fetched.value;
      const name = attempt === 1 ? "post the money going back" : `post the money going back, try ${attempt}`;
      const result = await step.do(name, RETRIED, () => parkOnPermanent(db(), eventId, () => this.postMoneyBack(db(), eventId, run, facts, attempt)));
      if ("status" in result) return result;
      const why = result.waiting_for === "payment" ? `for payment ${facts.payment_intent_id} to be on the ledger` : `for money given back on payment ${facts.payment_intent_id} to be on the ledger`;
      await step.sleep(`wait ${result.wait_s} s ${why}, before try ${attempt + 1}`, result.wait_s * 1000);
      if (result.waiting_for === "money given back") fetched = await this.fetchWithWaits(step, eventId, run, read, { again: `before try ${attempt + 1}` });
    }
  }

  private async postMoneyBack(db: Db, eventId: string, run: number, facts: MoneyBackFacts, attempt: number): Promise<SplitPaymentOutcome | { wait_s: number; waiting_for: "payment" | "money given back" }> {
    const now = Date.now();
    const finish = async (note: string | null, outcome: Omit<Extract<SplitPaymentOutcome, { status: "processed" }>, "note" | "status">) => {
      const alongside = facts.dispute ? [recordDisputeStatement(db, { ...facts.dispute, payment_id: facts.payment_intent_id, charge_id: facts.charge_id }, now)] : [];
      await db.batch([markProcessedStatement(db, eventId, note, now), ...alongside]);
      return { status: "processed" as const, ...outcome, note };
    };
    const wait = async (waiting_for: "payment" | "money given back", gaveUp: string) => {
      const seconds = BALANCE_WAITS_S[attempt - 1];
      if (seconds === undefined) throw new PermanentPaymentProblem(gaveUp);
      await extendRun(db, eventId, run, now + seconds * 1000 + STALL_CUTOFF_MS, now);
      return { wait_s: seconds, waiting_for };
    };
    if (facts.payment_intent_id === null) throw new PermanentPaymentProblem(`charge ${facts.charge_id} has no payment intent: it is not a payment Pot Commun splits`);
    const posted = await postedPayment(db, facts.payment_intent_id);
    if (facts.movements.length === 0) return finish(facts.note, { payment_intent_id: facts.payment_intent_id, transaction_id: posted?.transaction_id ?? "", posted: false });
    if (!posted) {
      return wait("payment", `payment ${facts.payment_intent_id} is not on the ledger after ${Math.round(BALANCE_WAIT_TOTAL_S / 3600)} hours of waiting for it (is its own event parked?): retry this event once the payment is split`);
    }
    const lines = posted.lines.map((line, i) => {
      if (line.parts === null) throw new PermanentPaymentProblem(`payment ${posted.id} was posted before its shares per line were kept (line ${i + 1}): it cannot be taken back automatically`);
      return { ...line, parts: line.parts };
    });
    if (posted.charge_amount_minor === null) throw new PermanentPaymentProblem(`payment ${posted.id} was posted before its charged amount was kept: it cannot be taken back automatically`);
    const payment: PostedPayment = { ...posted, charge_amount_minor: posted.charge_amount_minor, lines, bearers: await feeBearers(db) };
    for (const movement of facts.movements) {
      if (movement.currency !== posted.currency) throw new PermanentPaymentProblem(`${movement.stripe_object} moved ${movement.currency}, but payment ${posted.id} settled in ${posted.currency}`);
    }
    const so_far = await moneyBackSoFar(db, posted.id);
    const pending = facts.movements.filter((m) => !so_far.keys.has(m.key));
    const already = facts.movements.filter((m) => so_far.keys.has(m.key)).map((m) => `${m.stripe_object} was already on the ledger`);
    if (pending.length === 0) return finish(already.join("; "), { payment_intent_id: posted.id, transaction_id: "", posted: false });
    const result = pendingMovementsPostings(payment, so_far.postings as RolePosting[], so_far.taken_charge_minor, pending);
    if (!result.ok && result.error.code === "over_taken") {
      const what = pending.map((m) => m.stripe_object).join(", ");
      return wait("money given back", `${what} would take back from payment ${posted.id} ${result.error.message.split(":")[0]}, even after ${Math.round(BALANCE_WAIT_TOTAL_S / 3600)} hours of waiting for money given back (a failed refund, a dispute won) to reach the ledger: retry this event once it has`);
    }
    if (!result.ok) throw new PermanentPaymentProblem(`${pending.map((m) => m.stripe_object).join(", ")} cannot be taken back from payment ${posted.id}: ${result.error.message}`);
    const written = await postMoneyBack(
      db,
      pending.map((movement, i) => ({
        record: {
          payment_id: posted.id,
          kind: movement.kind,
          key: movement.key,
          stripe_object: movement.stripe_object,
          event_id: eventId,
          charge_amount_minor: movement.charge_amount_minor,
          seq: so_far.seq + 1 + i,
          description: `${movement.kind.replace("_", " ")} ${movement.stripe_object}`,
          available_at_ms: posted.available_at_ms,
          stripe_created_s: movement.created_s,
        },
        entries: result.postings[i] ?? [],
      })),
      now,
    );
    const done = written.posted ? pending.map((m) => `${m.stripe_object}: ${m.kind.replace("_", " ")} posted`) : pending.map((m) => `${m.stripe_object} was already on the ledger`);
    return finish(written.posted ? null : [...already, ...done].join("; "), { payment_intent_id: posted.id, transaction_id: written.transaction_ids.at(-1) ?? "", posted: written.posted });
  }

  private async park(step: WorkflowStep, eventId: string, reason: string): Promise<SplitPaymentOutcome> {
    await step.do("park the event", RETRIED, async () => {
      await parkEvent(database(this.env.DB), eventId, reason, Date.now());
    });
    return { status: "parked", reason };
  }
}
