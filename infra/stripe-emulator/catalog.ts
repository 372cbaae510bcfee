/**
 * What a payment refers to: prices and products, the tax rate, coupons and the discounts that
 * apply them, shipping rates. Cloned from Stripe's example objects (infra/stripe-fixtures).
 * Pure and web-standard.
 */
import type Stripe from "stripe";

import { assertBps, bpsToPercent, type TaxBehavior, type TaxRule } from "./amounts.ts";
import { stripeId } from "./ids.ts";

import couponFx from "../stripe-fixtures/coupon.json" with { type: "json" };
import discountFx from "../stripe-fixtures/discount.json" with { type: "json" };
import priceFx from "../stripe-fixtures/price.json" with { type: "json" };
import productFx from "../stripe-fixtures/product.json" with { type: "json" };
import shippingRateFx from "../stripe-fixtures/shipping_rate.json" with { type: "json" };
import taxRateFx from "../stripe-fixtures/tax_rate.json" with { type: "json" };

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export { assertMinor } from "./amounts.ts";

export function uniqueBy<T extends { id: string }>(items: T[]): T[] {
  const seen = new Map<string, T>();
  for (const it of items) if (!seen.has(it.id)) seen.set(it.id, it);
  return [...seen.values()];
}

/**
 * The stripe SDK types decimal fields (`unit_amount_decimal`, `quantity_decimal`) as its own
 * Decimal class, which it makes from the string Stripe sends; the builders write the wire
 * form, a string.
 */
export function wireDecimal(value: string): Stripe.Decimal {
  return value as unknown as Stripe.Decimal;
}

/**
 * An object shaped like Stripe's example (fixtures3.json), which lacks a few keys `K` that the
 * SDK's type for the pinned version has: tsc checks every other key, and the emulator keeps the
 * example's keys (the shape tests compare them).
 */
export function exampleShaped<T, K extends keyof T>(object: Omit<T, K>): T {
  return object as T;
}

export function productIdFor(price_id: string): string {
  return `prod_${price_id.replace(/^price_/, "")}`;
}

export function nameFor(price_id: string): string {
  const base = price_id.replace(/^price_/, "").replace(/[_-]+/g, " ").trim();
  return base ? base.charAt(0).toUpperCase() + base.slice(1) : price_id;
}

export interface PriceSpec {
  price_id: string;
  product_id: string;
  unit_amount: number;
  description: string;
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** A percentage coupon, as a Stripe `coupon` with `percent_off`, applied through a `discount`. */
export interface DiscountOption {
  /** 1000 = 10% off. */
  percent_bps: number;
  /** Default: a random coupon id. */
  coupon_id?: string;
}

export interface TaxOption {
  /** 2000 = 20% (French VAT on hosting). */
  rate_bps: number;
  /**
   * "exclusive" (default): prices exclude the tax, which comes on top. "inclusive": prices
   * include it, and the tax is the part of them that belongs to the tax office.
   */
  behavior?: TaxBehavior;
  /**
   * "automatic" (default): Stripe Tax computed it (`automatic_tax.enabled`, taxability reason
   * `standard_rated`). "tax_rates": a tax rate set by hand on the prices (taxability reason
   * `not_available` on invoice lines, null on Checkout line items).
   */
  calculation?: "automatic" | "tax_rates";
  /** Default: a random txr_ id. */
  tax_rate_id?: string;
  /** Default "VAT". */
  display_name?: string;
  /** Two-letter country of the tax (default "FR"). */
  country?: string;
}

export interface ShippingOption {
  /** The shipping rate's fixed amount (before an exclusive tax; an inclusive tax included). */
  amount_minor: number;
  /** Default "Standard shipping". */
  display_name?: string;
  /** Default: taxed at the payment's tax rate when it has one. */
  taxed?: boolean;
  /** Default: a random shr_ id. */
  shipping_rate_id?: string;
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

export function buildPrice(p: PriceSpec, currency: string, created: number, recurring: boolean, tax: TaxPlan | null): Stripe.Price {
  return {
    ...clone(priceFx),
    id: p.price_id,
    object: "price",
    created,
    currency,
    product: p.product_id,
    custom_unit_amount: null,
    transform_quantity: null,
    tax_behavior: tax ? tax.rule.behavior : "unspecified",
    type: recurring ? "recurring" : "one_time",
    recurring: recurring ? { interval: "month", interval_count: 1, meter: null, usage_type: "licensed", trial_period_days: null } : null,
    unit_amount: p.unit_amount,
    unit_amount_decimal: wireDecimal(String(p.unit_amount)),
  };
}

export function buildProduct(p: PriceSpec, created: number): Stripe.Product {
  return exampleShaped<Stripe.Product, "tax_details">({
    ...clone(productFx),
    id: p.product_id,
    object: "product",
    created,
    updated: created,
    default_price: p.price_id,
    description: null,
    name: p.description,
    package_dimensions: null,
    type: "service",
  });
}

export interface TaxPlan {
  rule: TaxRule;
  automatic: boolean;
  rate: Stripe.TaxRate;
}

export function planTax(opt: TaxOption | undefined, created: number): TaxPlan | null {
  if (!opt) return null;
  assertBps(opt.rate_bps, "tax.rate_bps");
  const behavior = opt.behavior ?? "exclusive";
  if (behavior !== "exclusive" && behavior !== "inclusive") throw new Error(`tax.behavior must be "exclusive" or "inclusive", got ${String(behavior)}`);
  const country = opt.country ?? "FR";
  const percent = bpsToPercent(opt.rate_bps);
  const rate: Stripe.TaxRate = {
    ...clone(taxRateFx),
    id: opt.tax_rate_id ?? stripeId("txr_"),
    object: "tax_rate",
    active: true,
    country,
    created,
    description: `${opt.display_name ?? "VAT"} ${country} ${percent}%`,
    display_name: opt.display_name ?? "VAT",
    effective_percentage: percent,
    flat_amount: null,
    inclusive: behavior === "inclusive",
    jurisdiction: country,
    jurisdiction_level: "country",
    livemode: false,
    metadata: {},
    percentage: percent,
    rate_type: "percentage",
    state: null,
    tax_type: "vat",
  };
  return { rule: { rate_bps: opt.rate_bps, behavior }, automatic: (opt.calculation ?? "automatic") === "automatic", rate };
}

export interface DiscountPlan {
  coupon: Stripe.Coupon;
  /** The Stripe discount applying the coupon (its id is what invoices list). */
  discount: Stripe.Discount;
  percent_bps: number;
}

export function planDiscount(opt: DiscountOption | undefined, created: number, where: string): DiscountPlan | null {
  if (!opt) return null;
  assertBps(opt.percent_bps, `${where}.percent_bps`);
  const percent = bpsToPercent(opt.percent_bps);
  const coupon: Stripe.Coupon = {
    ...clone(couponFx),
    id: opt.coupon_id ?? stripeId("", 8).toUpperCase(),
    object: "coupon",
    amount_off: null,
    created,
    currency: null,
    duration: "forever",
    duration_in_months: null,
    livemode: false,
    max_redemptions: null,
    metadata: {},
    name: `${percent}% off`,
    percent_off: percent,
    redeem_by: null,
    times_redeemed: 1,
    valid: true,
  };
  const discount: Stripe.Discount = {
    ...clone(discountFx),
    id: stripeId("di_"),
    object: "discount",
    checkout_session: null,
    customer: null,
    customer_account: null,
    end: null,
    invoice: null,
    invoice_item: null,
    promotion_code: null,
    source: { coupon: coupon.id, type: "coupon" },
    start: created,
    subscription: null,
    subscription_item: null,
  };
  return { coupon, discount, percent_bps: opt.percent_bps };
}

export function buildShippingRate(opt: ShippingOption, currency: string, created: number, taxed: TaxPlan | null): Stripe.ShippingRate {
  return {
    ...clone(shippingRateFx),
    id: opt.shipping_rate_id ?? stripeId("shr_"),
    object: "shipping_rate",
    active: true,
    created,
    delivery_estimate: null,
    display_name: opt.display_name ?? "Standard shipping",
    fixed_amount: { amount: opt.amount_minor, currency },
    livemode: false,
    metadata: {},
    tax_behavior: taxed ? taxed.rule.behavior : "unspecified",
    tax_code: null,
    type: "fixed_amount",
  };
}
