/**
 * Checkout: a session's line items and the session, their amounts from pricing.ts.
 *
 * A line item: amount_subtotal (the price × quantity) − amount_discount, plus amount_tax when
 * the tax is exclusive, is amount_total. The session: amount_total = amount_subtotal −
 * total_details.amount_discount + total_details.amount_shipping + the exclusive tax, where
 * total_details.amount_tax counts every tax (inclusive ones too, and the shipping's).
 * Pure and web-standard.
 */
import type Stripe from "stripe";

import { buildPrice, clone, exampleShaped, type TaxPlan } from "./catalog.ts";
import { stripeId } from "./ids.ts";
import type { Pricing } from "./pricing.ts";

import checkoutSessionFx from "../stripe-fixtures/checkout.session.json" with { type: "json" };
import itemFx from "../stripe-fixtures/item.json" with { type: "json" };

function itemTaxes(l: { tax_minor: number; taxable_minor: number }, tax: TaxPlan | null): Stripe.LineItem.Tax[] {
  if (!tax) return [];
  return [{ amount: l.tax_minor, rate: clone(tax.rate), taxability_reason: tax.automatic ? "standard_rated" : null, taxable_amount: l.taxable_minor }];
}

/**
 * Every line item of a session, each with `taxes` and `discounts` as
 * `expand[]=data.taxes&expand[]=data.discounts` shows them.
 */
export function buildItems(pricing: Pricing, currency: string, created: number, recurring: boolean, session_id: string): Stripe.ApiList<Stripe.LineItem> {
  const data = pricing.lines.map((l): Stripe.LineItem => {
    if (l.role !== "regular") throw new Error("a Checkout Session has no proration lines");
    const a = l.amounts;
    return {
      ...clone(itemFx),
      id: stripeId("li_"),
      object: "item",
      adjustable_quantity: null,
      amount_discount: a.discounts_minor.reduce((s, d) => s + d, 0),
      amount_subtotal: a.amount_minor,
      amount_tax: a.tax_minor,
      amount_total: a.total_minor,
      currency,
      description: l.description,
      discounts: l.discounts.map((d, i) => ({ amount: a.discounts_minor[i]!, discount: { ...clone(d.discount), checkout_session: session_id } })),
      metadata: {},
      price: buildPrice(l, currency, created, recurring, pricing.plans.tax),
      quantity: l.quantity,
      taxes: itemTaxes(a, pricing.plans.tax),
    };
  });
  return { object: "list", data, has_more: false, url: `/v1/checkout/sessions/${session_id}/line_items` };
}

export function buildSession(fields: {
  id: string;
  mode: "payment" | "subscription";
  payment_status: "paid" | "unpaid";
  currency: string;
  created: number;
  metadata: Record<string, string>;
  payment_intent: string | null;
  invoice: string | null;
  subscription: string | null;
  customer: string | null;
  pricing: Pricing;
  presentment: Stripe.Checkout.Session.PresentmentDetails | null;
}): Stripe.Checkout.Session {
  const fx = clone(checkoutSessionFx);
  const { totals: t, plans, shipping } = fields.pricing;
  const coupons = [...new Set(fields.pricing.discounts.map((d) => d.coupon.id))];
  if (coupons.length > 1) throw new Error(`a Checkout Session takes one coupon; this payment has ${coupons.length} (${coupons.join(", ")})`);
  return exampleShaped<Stripe.Checkout.Session, "allowed_payment_method_types">({
    ...fx,
    id: fields.id,
    object: "checkout.session",
    adaptive_pricing: { enabled: fields.presentment !== null },
    after_expiration: null,
    amount_subtotal: t.subtotal_minor,
    amount_total: fields.pricing.paid_minor,
    automatic_tax: plans.tax?.automatic
      ? { enabled: true, liability: { type: "self" }, status: "complete", provider: "stripe" }
      : { enabled: false, liability: null, status: null, provider: null },
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: fields.created,
    currency: fields.currency,
    currency_conversion: null,
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: fields.customer,
    customer_creation: fields.mode === "subscription" ? "always" : "if_required",
    customer_details: { ...fx.customer_details, email: "customer@example.com", name: "Test Customer", tax_ids: [] },
    discounts: coupons.map((coupon) => ({ coupon, promotion_code: null })),
    expires_at: fields.created + 86400,
    invoice: fields.invoice,
    invoice_creation: fields.mode === "payment" ? { ...fx.invoice_creation, enabled: false } : null,
    managed_payments: { enabled: false },
    metadata: fields.metadata,
    mode: fields.mode,
    payment_intent: fields.payment_intent,
    payment_method_collection: fields.mode === "subscription" ? "always" : null,
    payment_method_configuration_details: null,
    payment_status: fields.payment_status,
    permissions: null,
    ...(fields.presentment ? { presentment_details: fields.presentment } : {}),
    saved_payment_method_options: null,
    shipping_address_collection: shipping ? { allowed_countries: ["FR"] } : null,
    shipping_cost: shipping?.cost ?? null,
    shipping_options: shipping ? [{ shipping_amount: shipping.cost.amount_subtotal, shipping_rate: shipping.rate.id }] : [],
    status: "complete",
    subscription: fields.subscription,
    total_details: {
      amount_discount: t.discount_minor,
      amount_shipping: shipping?.cost.amount_subtotal ?? 0,
      amount_tax: t.tax_exclusive_minor + t.tax_inclusive_minor + (shipping?.cost.amount_tax ?? 0),
    },
    ui_mode: "hosted",
    url: null,
    wallet_options: null,
  });
}

/** A new id for a Checkout Session, as Stripe shapes them. */
export function sessionId(): string {
  return stripeId("cs_test_", 58);
}
