/**
 * A split rule as sentences, for the people who decide by consent (proposals, their threads): one sentence per line of
 * the rule, in its order, then how it rounds, who bears the fees Stripe keeps, and how long
 * shares are held. The words follow the order of operations (core/README.md): fixed amounts
 * first, percentages and fractions of what they leave, the remaining line last.
 */
import { formatMinor } from "./currency";
import type { CurrencyAmounts, FeePolicy, Line, Recipient, Rule, Share } from "./rule-types";

function amounts(a: CurrencyAmounts): string {
  return Object.keys(a)
    .sort()
    .map((currency) => `${formatMinor(a[currency] ?? 0, currency)} ${currency}`)
    .join(" or ");
}

function share(s: Share): string {
  switch (s.kind) {
    case "percentage":
    case "fraction":
      return s.text;
    case "fixed":
      return `a fixed ${amounts(s.amounts_minor)}`;
    case "remaining":
      return "what is left";
  }
}

function recipient(to: Recipient): string {
  switch (to.kind) {
    case "party":
      return to.party_id;
    case "contributors":
      return `the offer's contributors, by weight${to.fallback === undefined ? "" : ` (to ${to.fallback} when the offer has none)`}`;
    case "pool":
      return `the need pool ${to.pool_id}, shared by declared need when its period closes`;
    case "group":
      return `a group that splits it again: ${level(to.lines).join("; ")}`;
  }
}

function line(l: Line): string {
  const cap = l.max_minor === undefined ? "" : `, at most ${amounts(l.max_minor)} a payment (the excess to what is left)`;
  const label = l.label === undefined ? "" : ` (“${l.label}”)`;
  return `${share(l.share)} to ${recipient(l.to)}${cap}${label}`;
}

/** A level's lines, with a word about the order when fixed amounts come before percentages. */
function level(lines: readonly Line[]): string[] {
  const fixed = lines.some((l) => l.share.kind === "fixed");
  const proportional = lines.some((l) => l.share.kind === "percentage" || l.share.kind === "fraction");
  const words = lines.map(line);
  if (fixed && proportional) words.push("percentages and fractions apply to what the fixed amounts leave");
  return words;
}

const FEE_POLICY_WORDS: Record<FeePolicy, string> = {
  proportional: "the parties, in proportion to their shares",
  reserve: "the reserve",
  commons: "the commons",
  cooperative: "the cooperative's own funds",
};

const capitalised = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** The rule as sentences, each ending with a full stop. */
export function ruleInSentences(rule: Rule): string[] {
  const basis =
    rule.basis === "net"
      ? "Splits the net amount: what the customer paid, less tax, shipping and Stripe's fee."
      : "Splits the gross amount: what the customer paid, less tax and shipping; the cooperative covers Stripe's fee.";
  const rounding =
    rule.residual_to === undefined
      ? "Rounding: each part to the cent, the cents left over to the parts that lost most (largest remainder)."
      : `Rounding: every part rounded down, and ${rule.residual_to} takes the cents left over.`;
  return [
    basis,
    ...level(rule.lines).map((words) => `${capitalised(words)}.`),
    rounding,
    `When money goes back, the fees Stripe keeps are borne by ${FEE_POLICY_WORDS[rule.fee_policy ?? "proportional"]}.`,
    rule.hold_days === undefined ? "Shares are held for the deployment's usual hold before they can be paid out." : `Shares are held ${rule.hold_days} day${rule.hold_days === 1 ? "" : "s"} before they can be paid out.`,
  ];
}
