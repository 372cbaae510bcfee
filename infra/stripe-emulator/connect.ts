/**
 * Stripe Connect as the payouts use it: connected accounts, transfers to them from the
 * platform's balance, and transfer reversals; each transfer and reversal with its balance
 * transaction. Cloned from Stripe's example objects (account, transfer, transfer_reversal).
 * Pure and web-standard.
 *
 * What the SDK's types (stripe 23) and Stripe's docs say, and the emulator follows:
 * - a transfer's balance transaction is `type: transfer`, reporting_category `transfer`, the
 *   amount out of the platform's balance (negative), no fee; `source` the transfer;
 * - a reversal gives the money back: its balance transaction `type: transfer_refund`,
 *   reporting_category `transfer_reversal`, positive; the transfer's `amount_reversed` and
 *   `reversals` (newest first, 10 embedded) follow, `reversed` once all of it came back.
 *
 * Not confirmed, chosen and marked here: a transfer's balance transaction is `available` at
 * once, or `pending` until `available_on` when it is funded by `source_transaction` (Stripe
 * says such a transfer "waits for its funds"); descriptions are null; the destination payment
 * (`py_…`) and its refund (`pyr_…`) are ids only, never objects.
 */
import type Stripe from "stripe";

import { clone } from "./catalog.ts";
import { stripeId } from "./ids.ts";

import accountFx from "../stripe-fixtures/account.json" with { type: "json" };

export { buildTransfer, buildTransferReversal, ReversalTooLarge, type BuiltTransfer, type BuiltTransferReversal, type TransferFields, type TransferReversalOptions } from "./transfers.ts";

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export interface ConnectedAccountOptions {
  id?: string;
  /** Default `FR`. */
  country?: string;
  /** Default `eur`. */
  default_currency?: string;
  email?: string | null;
  /** Unix seconds (default: now). */
  created?: number;
  /**
   * The `transfers` capability (default `active`). Anything else makes a transfer to the account
   * fail as Stripe refuses it (`insufficient_capabilities_for_transfer`).
   */
  transfers?: "active" | "inactive" | "pending";
  type?: "express" | "custom" | "standard";
  metadata?: Record<string, string>;
}

/** A connected account that can receive transfers (its onboarding done), unless `transfers` says otherwise. */
export function buildConnectedAccount(opts: ConnectedAccountOptions = {}): Stripe.Account {
  const fx = clone(accountFx);
  const id = opts.id ?? stripeId("acct_", 16);
  const ready = (opts.transfers ?? "active") === "active";
  const none = { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] };
  return {
    ...fx,
    id,
    object: "account",
    // Stripe's example lacks business_profile.specified_commercial_transactions_act_url (a
    // Japanese field the SDK has): the emulator keeps the example's keys.
    business_profile: fx.business_profile as Stripe.Account.BusinessProfile,
    capabilities: { transfers: opts.transfers ?? "active" },
    charges_enabled: false,
    country: opts.country ?? "FR",
    created: opts.created ?? nowSeconds(),
    default_currency: (opts.default_currency ?? "eur").toLowerCase(),
    details_submitted: ready,
    email: opts.email === undefined ? null : opts.email,
    external_accounts: { object: "list", data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
    metadata: opts.metadata ?? {},
    payouts_enabled: ready,
    requirements: ready ? none : { ...none, currently_due: ["external_account"], eventually_due: ["external_account"], disabled_reason: "requirements.past_due" },
    future_requirements: none,
    type: opts.type ?? "express",
  } satisfies Stripe.Account;
}
