/**
 * Transfers from the platform's balance to connected accounts, and their reversals, each with
 * its balance transaction. Written out with the keys of Stripe's examples (transfer.json,
 * transfer_reversal.json: the shape tests compare them) and checked by the SDK's types, rather
 * than cloned: the emulator's routes make them, and app.ts, which vitest.config.ts loads in the
 * test host, must import no JSON. Pure and web-standard. See connect.ts for what is confirmed.
 */
import type Stripe from "stripe";

import { assertMinor } from "./amounts.ts";
import { buildBalanceTransaction } from "./balance-transaction.ts";
import { EMBEDDED_LIST_LIMIT, stripeId } from "./ids.ts";

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export interface TransferFields {
  amount_minor: number;
  currency: string;
  destination: string;
  /** Unix seconds (default: now). */
  created?: number;
  transfer_group?: string | null;
  /** The charge that funds it: its balance transaction stays pending until `source_available_on`. */
  source_transaction?: string | null;
  /** When the source charge's funds become available (default: a week after `created`). */
  source_available_on?: number;
  description?: string | null;
  metadata?: Record<string, string>;
  ids?: Partial<Record<"transfer" | "balance_transaction" | "destination_payment", string>>;
}

export interface BuiltTransfer {
  transfer: Stripe.Transfer;
  balance_transaction: Stripe.BalanceTransaction;
}

/** A transfer from the platform's balance to a connected account, and the balance transaction that takes it out. */
export function buildTransfer(f: TransferFields): BuiltTransfer {
  assertMinor(f.amount_minor, "amount_minor");
  const created = f.created ?? nowSeconds();
  const currency = f.currency.toLowerCase();
  const id = f.ids?.transfer ?? stripeId("tr_");
  const funded = f.source_transaction ?? null;
  const balance_transaction = buildBalanceTransaction({
    id: f.ids?.balance_transaction,
    amount: -f.amount_minor,
    currency,
    created,
    available_on: funded ? (f.source_available_on ?? created + 7 * 86400) : created,
    description: f.description ?? null,
    exchange_rate: null,
    fee_minor: 0,
    fee_description: "",
    reporting_category: "transfer",
    source: id,
    status: funded ? "pending" : "available",
    type: "transfer",
  });
  const transfer: Stripe.Transfer = {
    id,
    object: "transfer",
    amount: f.amount_minor,
    amount_reversed: 0,
    balance_transaction: balance_transaction.id,
    created,
    currency,
    description: f.description ?? null,
    destination: f.destination,
    destination_payment: f.ids?.destination_payment ?? stripeId("py_"),
    livemode: false,
    metadata: f.metadata ?? {},
    reversals: { object: "list", data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
    reversed: false,
    source_transaction: funded,
    source_type: "card",
    transfer_group: f.transfer_group ?? null,
  };
  return { transfer, balance_transaction };
}

export interface TransferReversalOptions {
  /** Default: what is left of the transfer. */
  amount_minor?: number;
  created?: number;
  description?: string | null;
  metadata?: Record<string, string>;
  ids?: Partial<Record<"reversal" | "balance_transaction", string>>;
}

export interface BuiltTransferReversal {
  reversal: Stripe.TransferReversal;
  balance_transaction: Stripe.BalanceTransaction;
  /** The transfer after it: amount_reversed, reversed, reversals. */
  transfer: Stripe.Transfer;
}

/** Thrown when a reversal asks for more than is left of the transfer. */
export class ReversalTooLarge extends Error {}

/** Part or all of a transfer back to the platform's balance. */
export function buildTransferReversal(transfer: Stripe.Transfer, opts: TransferReversalOptions = {}): BuiltTransferReversal {
  const left = transfer.amount - transfer.amount_reversed;
  const amount = opts.amount_minor ?? left;
  assertMinor(amount, "amount_minor");
  if (amount === 0 || amount > left) throw new ReversalTooLarge(`a reversal of ${amount} on transfer ${transfer.id}, of which ${left} is left to reverse`);
  const created = opts.created ?? nowSeconds();
  const id = opts.ids?.reversal ?? stripeId("trr_");
  const balance_transaction = buildBalanceTransaction({
    id: opts.ids?.balance_transaction,
    amount,
    currency: transfer.currency,
    created,
    available_on: created,
    description: opts.description ?? null,
    exchange_rate: null,
    fee_minor: 0,
    fee_description: "",
    reporting_category: "transfer_reversal",
    source: id,
    status: "available",
    type: "transfer_refund",
  });
  const reversal: Stripe.TransferReversal = {
    id,
    object: "transfer_reversal",
    amount,
    balance_transaction: balance_transaction.id,
    created,
    currency: transfer.currency,
    destination_payment_refund: stripeId("pyr_"),
    metadata: opts.metadata ?? {},
    source_refund: null,
    transfer: transfer.id,
  };
  const all = [reversal, ...transfer.reversals.data];
  const amount_reversed = transfer.amount_reversed + amount;
  return {
    reversal,
    balance_transaction,
    transfer: {
      ...structuredClone(transfer),
      amount_reversed,
      reversed: amount_reversed === transfer.amount,
      reversals: { ...transfer.reversals, data: all.slice(0, EMBEDDED_LIST_LIMIT), has_more: all.length > EMBEDDED_LIST_LIMIT },
    },
  };
}
