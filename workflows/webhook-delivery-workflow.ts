// An outgoing webhook delivery as a workflow: one step, retried with exponential backoff
// (1, 2, 4 … 512 minutes: 11 attempts over about 17 hours), each attempt logged by the step
// itself; when they are spent the delivery is marked failed. Why a workflow rather than a
// queue: the backoff, the attempt count and the durable wait are the engine's, per delivery,
// with no consumer arithmetic and nothing held in memory between attempts.
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import type { Env, WebhookDeliveryParams } from "./env";
import { attemptDelivery, giveUpDelivery, type AttemptOutcome } from "./webhook-delivery";

const DELIVERY_RETRIES: WorkflowStepConfig = { retries: { limit: 10, delay: "1 minute", backoff: "exponential" }, timeout: "30 seconds" };

export class WebhookDeliveryWorkflow extends WorkflowEntrypoint<Env, WebhookDeliveryParams> {
  override async run(event: Readonly<WorkflowEvent<WebhookDeliveryParams>>, step: WorkflowStep): Promise<AttemptOutcome | { outcome: "failed" }> {
    const id = event.payload.delivery_id;
    try {
      // Safe to run again: a delivered delivery is not sent twice, and each attempt is logged under its own number.
      return await step.do("send the delivery", DELIVERY_RETRIES, () => attemptDelivery(this.env, id));
    } catch {
      // Only a pending delivery is closed, so running this again changes nothing.
      await step.do("give the delivery up", { retries: { limit: 5, delay: "10 seconds", backoff: "exponential" } }, () => giveUpDelivery(this.env, id));
      return { outcome: "failed" };
    }
  }
}
