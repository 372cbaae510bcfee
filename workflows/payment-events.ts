// Which Stripe events move money onto the ledger. Decided at ingress from the event
// alone (no Stripe call), so that the acknowledgement never waits.

export type PaymentSource = "checkout.session" | "invoice";

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
    default:
      return skip(`event type ${event.type} is not handled`);
  }
}
