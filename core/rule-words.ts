/**
 * A rule in plain words, in English or French, generated from the rule itself: what it splits,
 * each line in the order the arithmetic takes them (fixed amounts first), how it rounds, and
 * who bears what Stripe keeps when money goes back. Shown to members on the public page;
 * golden cases in test/golden/rule-words.json.
 *
 * A contributor named in a rule who chose not to be named publicly is written "a contributor
 * who is not named": the words never show more than the flows do.
 */
import type { FeePolicy, Line, Recipient, Rule, Share } from "./rule-types";
import { formatMoney, formatPercentText, type Lang } from "./words";

export type WordsScope = { readonly default: true } | { readonly offer_kind: string } | { readonly offer_id: string; readonly offer_name: string };

export interface WordsParty {
  readonly kind: "commons" | "reserve" | "contributor" | "pool";
  readonly name: string;
  readonly public: boolean;
}

export interface RuleWordsContext {
  readonly scope: WordsScope;
  readonly parties: ReadonlyMap<string, WordsParty>;
}

export interface RuleInWords {
  /** "On every training, after Stripe's fee: 10% to the commons, …" */
  readonly sentence: string;
  /** How parts are rounded to the cent. */
  readonly rounding: string;
  /** Who bears the fees Stripe keeps when money goes back. */
  readonly fee_policy: string;
  /** When its shares can be paid out, if the rule says (`hold_days`). */
  readonly hold?: string;
}

interface Words {
  opener(scope: WordsScope): string;
  basis: Record<Rule["basis"], string>;
  remaining: string;
  /** "to the commons" / "au commun": a recipient with its preposition. */
  toCommons: string;
  toReserve: string;
  toParty(name: string): string;
  toHiddenContributor: string;
  toPool(name: string): string;
  hold(days: number): string;
  toContributors(scope: WordsScope): string;
  orFallback(to: string): string;
  line(share: string, to: string): string;
  group(share: string, inner: string): string;
  cap(amount: string): string;
  quote(text: string): string;
  fixedFirst(fixed: string, rest: string): string;
  /** ":" in English, "\u00a0:" in French, before the lines. */
  colon: string;
  rounding: string;
  roundingTo(to: string): string;
  feePolicy: Record<FeePolicy, string>;
}

const EN: Words = {
  opener: (scope) =>
    "offer_id" in scope ? `On every payment for “${scope.offer_name}”` : "offer_kind" in scope ? (scope.offer_kind === "training" ? "On every training" : scope.offer_kind === "hosting" ? "On every hosting payment" : `On every ${scope.offer_kind} payment`) : "On every payment",
  basis: { net: ", after Stripe's fee", gross: ", before Stripe's fee (the cooperative pays it)" },
  remaining: "the rest",
  toCommons: "to the commons",
  toReserve: "to the reserve",
  toParty: (name) => `to ${name}`,
  toHiddenContributor: "to a contributor who is not named",
  toPool: (name) => `to the pool “${name}”, shared by need among its members`,
  hold: (days) => (days === 0 ? "Its shares can be paid out at once." : `Its shares can be paid out ${days} day${days === 1 ? "" : "s"} after the payment.`),
  toContributors: (scope) =>
    "offer_kind" in scope && scope.offer_kind === "training"
      ? "to the training's facilitators and authors by weight"
      : "offer_kind" in scope && scope.offer_kind === "hosting"
        ? "to the platform's hosts and maintainers by weight"
        : "offer_id" in scope
          ? "to the offer's contributors by weight"
          : "to the contributors of what was sold by weight",
  orFallback: (to) => ` (or ${to} when there are none)`,
  line: (share, to) => `${share} ${to}`,
  group: (share, inner) => `${share} split as follows (${inner})`,
  cap: (amount) => `at most ${amount} per payment`,
  quote: (text) => `“${text}”`,
  fixedFirst: (fixed, rest) => `first ${fixed}; then, of what is left, ${rest}`,
  colon: ":",
  rounding: "Each part is rounded down to the cent, and the cents left over go one by one to the parts that lost the most (largest remainder).",
  roundingTo: (to) => `Each part is rounded down to the cent, and the cents left over go ${to}.`,
  feePolicy: {
    proportional: "When money goes back (a refund, a dispute), the fees Stripe keeps are borne by each party in proportion to its share.",
    reserve: "When money goes back (a refund, a dispute), the fees Stripe keeps are borne by the reserve.",
    commons: "When money goes back (a refund, a dispute), the fees Stripe keeps are borne by the commons.",
    cooperative: "When money goes back (a refund, a dispute), the fees Stripe keeps are borne by the cooperative.",
  },
};

const FR: Words = {
  opener: (scope) =>
    "offer_id" in scope
      ? `Sur chaque paiement pour «\u00a0${scope.offer_name}\u00a0»`
      : "offer_kind" in scope
        ? scope.offer_kind === "training"
          ? "Sur chaque formation"
          : scope.offer_kind === "hosting"
            ? "Sur chaque paiement d'hébergement"
            : `Sur chaque paiement ${scope.offer_kind}`
        : "Sur chaque paiement",
  basis: { net: ", après les frais de Stripe", gross: ", avant les frais de Stripe (la coopérative les paie)" },
  remaining: "le reste",
  toCommons: "au commun",
  toReserve: "à la réserve",
  // "à Le commun" is said "au commun", "à Les amis" "aux amis".
  toParty: (name) => (/^Le\s/.test(name) ? `au ${name.slice(3)}` : /^Les\s/.test(name) ? `aux ${name.slice(4)}` : `à ${name}`),
  toHiddenContributor: "à une personne contributrice non nommée",
  toPool: (name) => `au fonds «\u00a0${name}\u00a0», partagé selon les besoins de ses membres`,
  hold: (days) => (days === 0 ? "Ses parts peuvent être versées aussitôt." : `Ses parts peuvent être versées ${days}\u00a0jour${days === 1 ? "" : "s"} après le paiement.`),
  toContributors: (scope) =>
    "offer_kind" in scope && scope.offer_kind === "training"
      ? "aux personnes qui animent et écrivent la formation, selon leur poids"
      : "offer_kind" in scope && scope.offer_kind === "hosting"
        ? "aux personnes qui hébergent et maintiennent la plateforme, selon leur poids"
        : "offer_id" in scope
          ? "aux personnes qui contribuent à l'offre, selon leur poids"
          : "aux personnes qui ont contribué à ce qui a été vendu, selon leur poids",
  orFallback: (to) => ` (ou ${to} s'il n'y en a pas)`,
  line: (share, to) => `${share} ${to}`,
  group: (share, inner) => `${share} répartis ainsi (${inner})`,
  cap: (amount) => `au plus ${amount} par paiement`,
  quote: (text) => `«\u00a0${text}\u00a0»`,
  fixedFirst: (fixed, rest) => `d'abord ${fixed}\u202f; puis, sur ce qui reste, ${rest}`,
  colon: "\u00a0:",
  rounding: "Chaque part est arrondie au centime inférieur, et les centimes restants vont un à un aux parts qui ont le plus perdu (méthode des plus forts restes).",
  roundingTo: (to) => `Chaque part est arrondie au centime inférieur, et les centimes restants vont ${to}.`,
  feePolicy: {
    proportional: "Quand de l'argent repart (remboursement, litige), les frais que Stripe garde sont supportés par chaque partie en proportion de sa part.",
    reserve: "Quand de l'argent repart (remboursement, litige), les frais que Stripe garde sont supportés par la réserve.",
    commons: "Quand de l'argent repart (remboursement, litige), les frais que Stripe garde sont supportés par le commun.",
    cooperative: "Quand de l'argent repart (remboursement, litige), les frais que Stripe garde sont supportés par la coopérative.",
  },
};

const WORDS: Record<Lang, Words> = { en: EN, fr: FR };

export function ruleInWords(rule: Rule, ctx: RuleWordsContext, lang: Lang): RuleInWords {
  const w = WORDS[lang];
  const onlyOfKind = (kind: WordsParty["kind"]) => [...ctx.parties.values()].filter((p) => p.kind === kind).length === 1;
  const toParty = (id: string): string => {
    const party = ctx.parties.get(id);
    if (party === undefined) return w.toParty(id);
    if (party.kind === "commons" && onlyOfKind("commons")) return w.toCommons;
    if (party.kind === "reserve" && onlyOfKind("reserve")) return w.toReserve;
    if (party.kind === "contributor" && !party.public) return w.toHiddenContributor;
    return w.toParty(party.name);
  };
  const share = (s: Share): string => {
    switch (s.kind) {
      case "percentage":
        return formatPercentText(s.text, lang);
      case "fraction":
        return s.text;
      case "fixed":
        return amounts(s.amounts_minor);
      case "remaining":
        return w.remaining;
    }
  };
  const recipient = (to: Recipient): string => {
    switch (to.kind) {
      case "party":
        return toParty(to.party_id);
      case "contributors":
        return `${w.toContributors(ctx.scope)}${to.fallback === undefined ? "" : w.orFallback(toParty(to.fallback))}`;
      case "group":
        return level(to.lines);
      case "pool":
        return w.toPool(ctx.parties.get(to.pool_id)?.name ?? to.pool_id);
    }
  };
  const amounts = (byCurrency: Readonly<Record<string, number>>) =>
    Object.entries(byCurrency)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, amount]) => formatMoney(amount, currency, lang))
      .join(" / ");
  /** The admin's label and the cap, in one parenthesis after the line. */
  const notes = (line: Line): string => {
    const said = [...(line.label === undefined ? [] : [w.quote(line.label)]), ...(line.max_minor === undefined ? [] : [w.cap(amounts(line.max_minor))])];
    return said.length === 0 ? "" : ` (${said.join(", ")})`;
  };
  const linePhrase = (line: Line): string => {
    const said = line.to.kind === "group" ? w.group(share(line.share), recipient(line.to)) : w.line(share(line.share), recipient(line.to));
    return `${said}${notes(line)}`;
  };
  function level(lines: readonly Line[]): string {
    // The arithmetic takes fixed amounts first, whatever their place in the list.
    const fixed = lines.filter((l) => l.share.kind === "fixed").map(linePhrase);
    const rest = lines.filter((l) => l.share.kind !== "fixed").map(linePhrase);
    if (fixed.length === 0) return rest.join(", ");
    if (rest.length === 0) return fixed.join(", ");
    return w.fixedFirst(fixed.join(", "), rest.join(", "));
  }
  return {
    sentence: `${w.opener(ctx.scope)}${w.basis[rule.basis]}${w.colon} ${level(rule.lines)}.`,
    rounding: rule.residual_to === undefined ? w.rounding : w.roundingTo(toParty(rule.residual_to)),
    fee_policy: w.feePolicy[rule.fee_policy ?? "proportional"],
    ...(rule.hold_days === undefined ? {} : { hold: w.hold(rule.hold_days) }),
  };
}
