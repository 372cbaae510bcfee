/**
 * Stripe fees billed apart from payments: Billing's percentage of the invoices it collected,
 * Stripe Tax's per-transaction fee, and so on, each a balance transaction of its own that takes
 * the fee out of the balance. Pure and web-standard.
 *
 * What is known: such a balance transaction has `type: stripe_fee` (the SDK's types list it),
 * a negative amount, and a description that names the service and the period, such as
 * "Billing - Usage Fee (…)" or "Automatic Taxes (…)" (third-party code reads them so; Stripe's
 * example objects have none). Chosen: reporting_category `fee`, no fee on the fee (`fee` 0,
 * `net` = amount), no `source`, `available` at once.
 */
import type Stripe from "stripe";

import { buildBalanceTransaction } from "./balance-transaction.ts";
import { assertMinor } from "./catalog.ts";

export type BilledService = "billing" | "tax";

export interface StripeFeeOptions {
  /** What Stripe takes, positive minor units of `currency`. */
  amount_minor: number;
  currency: string;
  service: BilledService;
  /** Unix seconds (default: now). */
  created?: number;
  /** The period it bills, as Stripe writes it in the description (default: the month of `created`). */
  period?: { from: string; to: string };
  id?: string;
}

const SERVICE_NAMES: Record<BilledService, string> = { billing: "Billing - Usage Fee", tax: "Automatic Taxes" };

function monthOf(created: number): { from: string; to: string } {
  const d = new Date(created * 1000);
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
  return { from: first.toISOString().slice(0, 10), to: last.toISOString().slice(0, 10) };
}

/** A fee billed apart: `type: stripe_fee`, −amount, its service and period in the description. */
export function buildStripeFee(opts: StripeFeeOptions): Stripe.BalanceTransaction {
  assertMinor(opts.amount_minor, "amount_minor");
  const created = opts.created ?? Math.floor(Date.now() / 1000);
  const period = opts.period ?? monthOf(created);
  return buildBalanceTransaction({
      id: opts.id,
      amount: -opts.amount_minor,
      currency: opts.currency,
      created,
      available_on: created,
      description: `${SERVICE_NAMES[opts.service]} (${period.from} - ${period.to})`,
      exchange_rate: null,
      fee_minor: 0,
      fee_description: "",
      reporting_category: "fee",
      source: null,
      status: "available",
      type: "stripe_fee",
    });
}
