// Which Stripe events move money onto the ledger. Decided at ingress from the event
// alone (no Stripe call), so that the acknowledgement never waits.

export type PaymentSource = "checkout.session" | "invoice";

export type EventHandling =
  | { handled: true; source: PaymentSource; objectId: string }
  | { handled: false; objectId: string | null; reason: string };

interface EventLike {
  type: string;
  data: { object: Record<string, unknown> };
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

  switch (event.type) {
    case "checkout.session.completed":
      // A subscription's checkout also completes, but its money arrives as an invoice:
      // splitting both would count it twice.
      if (object.mode !== "payment") return skip(`checkout in ${String(object.mode)} mode: its invoice is split instead`);
      // Delayed methods (SEPA debit) complete unpaid, then send async_payment_succeeded.
      if (object.payment_status !== "paid") return skip(`checkout completed with payment_status ${String(object.payment_status)}: waiting for async_payment_succeeded`);
      return { handled: true, source: "checkout.session", objectId };
    case "checkout.session.async_payment_succeeded":
      if (object.mode !== "payment") return skip(`checkout in ${String(object.mode)} mode: its invoice is split instead`);
      return { handled: true, source: "checkout.session", objectId };
    case "invoice.paid":
      if (typeof object.amount_paid !== "number" || object.amount_paid <= 0) return skip("invoice paid with nothing to split (amount_paid is 0)");
      return { handled: true, source: "invoice", objectId };
    default:
      return skip(`event type ${event.type} is not handled`);
  }
}
