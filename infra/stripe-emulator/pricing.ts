/**
 * From a builder's options to priced lines whose amounts add up: each line's unit price is
 * given, or found so that the line costs what the options say the customer paid for it.
 * Pure and web-standard.
 */
import { divRound, lineAmounts, solveUnitAmount, totals, type LineAmounts, type Totals } from "./amounts.ts";
import {
  assertMinor,
  buildShippingRate,
  nameFor,
  planDiscount,
  planTax,
  productIdFor,
  type DiscountOption,
  type DiscountPlan,
  type PriceSpec,
  type ShippingOption,
  type TaxOption,
  type TaxPlan,
} from "./catalog.ts";
import type Stripe from "stripe";

export interface PaymentLine {
  price_id: string;
  /**
   * What the customer pays for this line: after its discounts and pretax credit, with its tax
   * (with an upgrade, what the line and its prorations add up to). The builder finds the unit
   * price that gives exactly this amount, or says which amounts near it can be reached.
   */
  amount_minor?: number;
  /**
   * Or the price itself (Stripe's `unit_amount`: before an exclusive tax, an inclusive tax
   * included, before discounts); the line's amounts follow from it.
   */
  unit_amount_minor?: number;
  quantity?: number;
  /** Defaults to a name derived from the price id. */
  description?: string;
  /** A discount on this line only, applied before the payment's. */
  discount?: DiscountOption;
  /** Invoices: a billing credit applied to this line before tax (a credit grant). */
  pretax_credit_minor?: number;
}

/**
 * A subscriber moving from plan A (`from_price_id`) to the payment's first line (plan B) during
 * a period: a credit line for the unused part of A and a debit line for the rest of the period
 * on B, both prorations (`parent.subscription_item_details.proration: true`).
 */
export interface UpgradeOption {
  from_price_id: string;
  /** Plan A's unit_amount (its price per period, as Stripe stores it). */
  from_unit_amount_minor: number;
  /** The part of the period left when the subscriber moved: { numerator: 15, denominator: 30 } for half a month. */
  unused: { numerator: number; denominator: number };
  /**
   * Also bill plan B's next full period on this invoice, as when the prorations wait for the
   * next cycle (billing_reason subscription_cycle). Default false: invoiced at once
   * (proration_behavior always_invoice, billing_reason subscription_update).
   */
  with_next_period?: boolean;
  /** The invoice and line that billed plan A (proration_details.credited_items); default random. */
  credited_invoice_id?: string;
  credited_line_item_id?: string;
  /** Plan A's product name; default derived from from_price_id. */
  from_description?: string;
}

/** What pricing reads from a builder's options. */
export interface PricingOptions {
  amount_minor?: number;
  currency: string;
  price_id: string;
  unit_amount_minor?: number;
  quantity?: number;
  lines?: PaymentLine[];
  tax?: TaxOption;
  discount?: DiscountOption;
}

/** The tax rate and the coupons of a payment, made once so that a session and its invoice share them. */
export interface Plans {
  tax: TaxPlan | null;
  payment_discount: DiscountPlan | null;
  /** Per input line, its own discount. */
  line_discounts: (DiscountPlan | null)[];
}

export function planPayment(opts: PricingOptions, created: number): Plans {
  return {
    tax: planTax(opts.tax, created),
    payment_discount: planDiscount(opts.discount, created, "discount"),
    line_discounts: (opts.lines?.length ? opts.lines : [{ price_id: opts.price_id }]).map((l: PaymentLine, i) => planDiscount(l.discount, created, `lines[${i}].discount`)),
  };
}

export type LineRole = "regular" | "proration_credit" | "proration_debit";

export interface PricedLine extends PriceSpec {
  role: LineRole;
  /** The input line it comes from (an upgrade makes several lines of one). */
  group: number;
  quantity: number;
  /** The discounts that applied, in order (the line's own, then the payment's); none on prorations. */
  discounts: DiscountPlan[];
  /** The line's own discount (an invoice line lists it in `discounts`). */
  line_discount: DiscountPlan | null;
  amounts: LineAmounts;
}

export interface ShippingPlan {
  rate: Stripe.ShippingRate;
  cost: Stripe.Checkout.Session.ShippingCost;
  /** What shipping adds to what the customer pays. */
  total_minor: number;
}

export interface Pricing {
  plans: Plans;
  lines: PricedLine[];
  totals: Totals;
  shipping: ShippingPlan | null;
  /** What the customer pays: the lines' total and shipping. */
  paid_minor: number;
  /** Every discount that applied, each once (line discounts first). */
  discounts: DiscountPlan[];
}

/** One input line and what it needs to be priced: several invoice lines when it carries an upgrade. */
interface LineGroup {
  index: number;
  spec: Omit<PriceSpec, "unit_amount">;
  quantity: number;
  line_discount: DiscountPlan | null;
  pretax_credit_minor: number;
  /** Exactly one of: the price, or the total to reach. */
  unit_amount_minor: number | undefined;
  target_minor: number | undefined;
  upgrade: (UpgradeOption & { from: Omit<PriceSpec, "unit_amount"> }) | null;
}

/** Every line of a group, priced at unit amount `unit`. */
function priceGroup(g: LineGroup, unit: number, plans: Plans): PricedLine[] {
  const discounts = [g.line_discount, plans.payment_discount].filter((d): d is DiscountPlan => d !== null);
  const tax = plans.tax?.rule ?? null;
  const make = (role: LineRole, spec: PriceSpec, amount_minor: number, pretax_credit_minor: number): PricedLine => {
    // Stripe: an invoice line's `discountable` is "always false for prorations".
    const applied = role === "regular" ? discounts : [];
    return {
      ...spec,
      role,
      group: g.index,
      quantity: g.quantity,
      discounts: applied,
      line_discount: role === "regular" ? g.line_discount : null,
      amounts: lineAmounts({ amount_minor, discounts_bps: applied.map((d) => d.percent_bps), pretax_credit_minor, tax }),
    };
  };
  const b: PriceSpec = { ...g.spec, unit_amount: unit };
  if (!g.upgrade) return [make("regular", b, unit * g.quantity, g.pretax_credit_minor)];
  const u = g.upgrade;
  const unused = (amount: number) => Number(divRound(BigInt(amount) * BigInt(u.unused.numerator), BigInt(u.unused.denominator)));
  const a: PriceSpec = { ...u.from, unit_amount: u.from_unit_amount_minor };
  const next = u.with_next_period ?? false;
  return [
    make("proration_credit", a, 0 - unused(u.from_unit_amount_minor * g.quantity), 0), // 0 − x: never −0
    make("proration_debit", b, unused(unit * g.quantity), next ? 0 : g.pretax_credit_minor),
    ...(next ? [make("regular", b, unit * g.quantity, g.pretax_credit_minor)] : []),
  ];
}

const groupTotal = (lines: PricedLine[]) => lines.reduce((s, l) => s + l.amounts.total_minor, 0);

function priceGroups(groups: LineGroup[], plans: Plans): PricedLine[] {
  return groups.flatMap((g) => {
    const where = groups.length > 1 ? `lines[${g.index}]` : "the payment";
    let unit = g.unit_amount_minor;
    if (unit === undefined) {
      const target = g.target_minor!;
      const plain = !plans.tax && !g.line_discount && !plans.payment_discount && g.pretax_credit_minor === 0 && !g.upgrade;
      if (plain && target % g.quantity !== 0) throw new Error(`lines[${g.index}]: amount_minor ${target} is not a multiple of quantity ${g.quantity}`);
      unit = plain ? target / g.quantity : solveUnitAmount(target, (x) => groupTotal(priceGroup(g, x, plans)), `${where}: amount_minor`);
    }
    assertMinor(unit, `${where}: unit_amount_minor`);
    return priceGroup(g, unit, plans);
  });
}

function resolveGroups(opts: PricingOptions, plans: Plans, single_target_minor: number | undefined, upgrade: UpgradeOption | undefined, pretax_credit_minor: number | undefined): LineGroup[] {
  const raw: PaymentLine[] = opts.lines?.length
    ? opts.lines
    : [
        {
          price_id: opts.price_id,
          quantity: opts.quantity ?? 1,
          ...(opts.unit_amount_minor !== undefined ? { unit_amount_minor: opts.unit_amount_minor } : {}),
          ...(opts.unit_amount_minor === undefined && single_target_minor !== undefined ? { amount_minor: single_target_minor } : {}),
        },
      ];
  if (raw.length > 100) throw new Error(`at most 100 lines, got ${raw.length}`);
  return raw.map((l, i): LineGroup => {
    const quantity = l.quantity ?? 1;
    if (!Number.isSafeInteger(quantity) || quantity < 1) throw new Error(`lines[${i}].quantity must be a positive integer`);
    if (l.amount_minor !== undefined) assertMinor(l.amount_minor, `lines[${i}].amount_minor`);
    if (l.unit_amount_minor !== undefined) assertMinor(l.unit_amount_minor, `lines[${i}].unit_amount_minor`);
    if (l.amount_minor !== undefined && l.unit_amount_minor !== undefined) throw new Error(`lines[${i}]: give amount_minor or unit_amount_minor, not both`);
    if (l.amount_minor === undefined && l.unit_amount_minor === undefined) {
      throw new Error(`lines[${i}]: give amount_minor (what the customer pays) or unit_amount_minor (the price)`);
    }
    const credit = l.pretax_credit_minor ?? (i === 0 ? pretax_credit_minor : undefined) ?? 0;
    assertMinor(credit, `lines[${i}].pretax_credit_minor`);
    const up = i === 0 && upgrade ? upgrade : null;
    if (up) {
      const { numerator, denominator } = up.unused;
      if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator < 1 || numerator < 0 || numerator > denominator) {
        throw new Error(`upgrade.unused must be a fraction from 0 to 1 with integer terms, got ${numerator}/${denominator}`);
      }
      assertMinor(up.from_unit_amount_minor, "upgrade.from_unit_amount_minor");
      if (up.from_price_id === l.price_id) throw new Error(`upgrade.from_price_id is the price moved to (${l.price_id}): an upgrade goes from one price to another`);
    }
    return {
      index: i,
      spec: { price_id: l.price_id, product_id: productIdFor(l.price_id), description: l.description ?? nameFor(l.price_id) },
      quantity,
      line_discount: plans.line_discounts[i] ?? null,
      pretax_credit_minor: credit,
      unit_amount_minor: l.unit_amount_minor,
      target_minor: l.amount_minor,
      upgrade: up ? { ...up, from: { price_id: up.from_price_id, product_id: productIdFor(up.from_price_id), description: up.from_description ?? nameFor(up.from_price_id) } } : null,
    };
  });
}

function planShipping(opt: ShippingOption | undefined, currency: string, created: number, tax: TaxPlan | null): ShippingPlan | null {
  if (!opt) return null;
  assertMinor(opt.amount_minor, "shipping.amount_minor");
  const taxed = tax !== null && (opt.taxed ?? true) ? tax : null;
  // Coupons do not apply to shipping; the payment's tax does, when shipping is taxed.
  const a = lineAmounts({ amount_minor: opt.amount_minor, discounts_bps: [], pretax_credit_minor: 0, tax: taxed?.rule ?? null });
  const rate = buildShippingRate(opt, currency, created, taxed);
  return { rate, cost: { amount_subtotal: a.amount_minor, amount_tax: a.tax_minor, amount_total: a.total_minor, shipping_rate: rate.id }, total_minor: a.total_minor };
}

/**
 * Prices every line and checks that what the customer pays is `amount_minor`, when given.
 * With a single line and no unit price, that line costs amount_minor less shipping.
 */
export function pricePayment(
  opts: PricingOptions,
  created: number,
  plans: Plans,
  extra: { shipping?: ShippingOption; upgrade?: UpgradeOption; pretax_credit_minor?: number } = {},
): Pricing {
  if (opts.amount_minor !== undefined) assertMinor(opts.amount_minor, "amount_minor");
  const currency = opts.currency.toLowerCase();
  const shipping = planShipping(extra.shipping, currency, created, plans.tax);
  const fixed = shipping?.total_minor ?? 0;
  const single = opts.amount_minor === undefined ? undefined : opts.amount_minor - fixed;
  if (single !== undefined && single < 0) throw new Error(`amount_minor ${opts.amount_minor} is less than the shipping (${fixed})`);
  const groups = resolveGroups(opts, plans, single, extra.upgrade, extra.pretax_credit_minor);
  const lines = priceGroups(groups, plans);
  const t = totals(
    lines.map((l) => l.amounts),
    plans.tax?.rule ?? null,
  );
  const paid_minor = t.total_minor + fixed;
  if (opts.amount_minor !== undefined && paid_minor !== opts.amount_minor) {
    throw new Error(`lines add up to ${paid_minor}, but amount_minor is ${opts.amount_minor}`);
  }
  if (paid_minor < 0) throw new Error(`the lines add up to ${paid_minor}: a negative invoice is credited to the customer's balance, not paid`);
  const seen = new Set<string>();
  const discounts = [...groups.map((g) => g.line_discount), plans.payment_discount].filter((d): d is DiscountPlan => {
    if (d === null || seen.has(d.discount.id)) return false;
    seen.add(d.discount.id);
    return true;
  });
  return { plans, lines, totals: t, shipping, paid_minor, discounts };
}
