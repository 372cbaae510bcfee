// Which Stripe events move money onto the ledger. Decided at ingress from the event
// alone (no Stripe call), so that the acknowledgement never waits.
import type Stripe from "stripe";

/**
 * Every event type classifyEvent may handle, and so the types the webhook endpoint subscribes to
 * (`npm run stripe:setup`, the README's Deploy section). One list: a unit test proves that each
 * is handled (for some object) and that classifyEvent handles no other type Stripe sends.
 */
export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "invoice.paid",
  "refund.created",
  "refund.updated",
  "refund.failed",
  "charge.dispute.created",
  "charge.dispute.updated",
  "charge.dispute.funds_withdrawn",
  "charge.dispute.funds_reinstated",
  "charge.dispute.closed",
] as const satisfies readonly Stripe.WebhookEndpointCreateParams.EnabledEvent[];

export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];

/** Money in (a Checkout Session, an invoice) or money going back (a refund, a dispute). */
export type PaymentSource = "checkout.session" | "invoice" | "refund" | "dispute";

export type EventHandling =
  | { handled: true; source: PaymentSource; objectId: string }
  | { handled: false; objectId: string | null; reason: string };

interface EventLike {
  type: string;
  /** Set when the event comes from a connected account, not the cooperative's own. */
  account?: unknown;
  data: { object: Record<string, unknown> };
}

/** The payment methods of a Checkout Session set to manual capture, if any. */
function manualCaptureMethods(session: Record<string, unknown>): string[] {
  const options = session.payment_method_options;
  if (typeof options !== "object" || options === null) return [];
  return Object.entries(options as Record<string, unknown>)
    .filter(([, o]) => typeof o === "object" && o !== null && (o as { capture_method?: unknown }).capture_method === "manual")
    .map(([method]) => method);
}

function objectIdOf(event: EventLike): string | null {
  const id = event.data.object.id;
  return typeof id === "string" ? id : null;
}

export function classifyEvent(event: EventLike): EventHandling {
  const object = event.data.object;
  const objectId = objectIdOf(event);
  const skip = (reason: string): EventHandling => ({ handled: false, objectId, reason });
  if (objectId === null) return skip("the event's object has no id");
  if (typeof event.account === "string" && event.account !== "") {
    return skip(`the event comes from connected account ${event.account}, not the cooperative's own account: its money is not the cooperative's to split`);
  }

  switch (event.type) {
    case "checkout.session.completed":
      // A subscription's checkout also completes, but its money arrives as an invoice:
      // splitting both would count it twice.
      if (object.mode !== "payment") return skip(`checkout in ${String(object.mode)} mode: its invoice is split instead`);
      if (object.payment_status === "no_payment_required") return skip("the checkout needed no payment (payment_status no_payment_required): there is nothing to split");
      if (object.payment_status !== "paid") {
        const manual = manualCaptureMethods(object);
        if (manual.length > 0) {
          return skip(`the checkout waits for a manual capture (${manual.join(", ")}): its capture sends no Checkout event, so this payment is not split automatically`);
        }
        // Delayed methods (SEPA debit) complete unpaid, then send async_payment_succeeded.
        return skip(`checkout completed with payment_status ${String(object.payment_status)}: waiting for checkout.session.async_payment_succeeded (a delayed method such as SEPA debit)`);
      }
      return { handled: true, source: "checkout.session", objectId };
    case "checkout.session.async_payment_succeeded":
      if (object.mode !== "payment") return skip(`checkout in ${String(object.mode)} mode: its invoice is split instead`);
      return { handled: true, source: "checkout.session", objectId };
    case "invoice.paid":
      if (typeof object.amount_paid !== "number" || object.amount_paid <= 0) return skip("invoice paid with nothing to split (amount_paid is 0)");
      return { handled: true, source: "invoice", objectId };
    case "refund.created":
    case "refund.updated":
    case "refund.failed":
      // A pending refund has moved nothing yet: the refund.updated that settles it will say.
      if (object.status === "pending" || object.status === "requires_action") return skip(`refund ${String(object.status)}: nothing moved yet; the event that settles it is split`);
      return { handled: true, source: "refund", objectId };
    case "charge.dispute.created":
    case "charge.dispute.updated":
    case "charge.dispute.funds_withdrawn":
    case "charge.dispute.funds_reinstated":
    case "charge.dispute.closed":
      if (typeof object.status === "string" && object.status.startsWith("warning_")) return skip(`dispute inquiry (${object.status}): an inquiry moves no money`);
      return { handled: true, source: "dispute", objectId };
    case "charge.refunded":
      return skip("each refund is taken back from its refund.* events, not from charge.refunded");
    default:
      return skip(`event type ${event.type} is not handled`);
  }
}
