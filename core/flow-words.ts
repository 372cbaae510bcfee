/**
 * A period's flows in one plain paragraph, in English or French: what came in, where it went,
 * what went back. Built from `buildFlows`' totals, so the words and the figures are the same
 * numbers. Golden cases in test/golden/flows.json.
 */
import { minorUnitExponent } from "./currency";
import type { BackKind, Flows } from "./flows";
import type { ReportPeriod } from "./report-period";
import { formatMoney, joinWords, type Lang } from "./words";

const MONTHS: Record<Lang, readonly string[]> = {
  en: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
  fr: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
};
const QUARTERS: Record<Lang, readonly string[]> = {
  en: ["first", "second", "third", "fourth"],
  fr: ["premier", "deuxième", "troisième", "quatrième"],
};

/** "October 2026", "Q4 2026", "2026" (en); "octobre 2026", "T4 2026", "2026" (fr). */
export function periodLabel(period: ReportPeriod, lang: Lang): string {
  switch (period.kind) {
    case "month":
      return `${MONTHS[lang][period.index - 1]} ${period.year}`;
    case "quarter":
      return `${lang === "fr" ? "T" : "Q"}${period.index} ${period.year}`;
    case "year":
      return String(period.year);
  }
}

/** "In October 2026" / "En octobre 2026"; "In the fourth quarter of 2026" / "Au quatrième trimestre 2026"; "In 2026" / "En 2026". */
export function inPeriod(period: ReportPeriod, lang: Lang): string {
  if (period.kind === "quarter") {
    const nth = QUARTERS[lang][period.index - 1];
    return lang === "fr" ? `Au ${nth} trimestre ${period.year}` : `In the ${nth} quarter of ${period.year}`;
  }
  return `${lang === "fr" ? "En" : "In"} ${periodLabel(period, lang)}`;
}

/** "1 October 2026 at 09:30 UTC" / "1er octobre 2026 à 09:30 UTC": when a version took effect, to the minute. */
export function dateTimeLabel(ms: number, lang: Lang): string {
  const d = new Date(ms);
  const day = d.getUTCDate();
  const time = `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")} UTC`;
  const month = MONTHS[lang][d.getUTCMonth()];
  return lang === "fr" ? `${day === 1 ? "1er" : day} ${month} ${d.getUTCFullYear()} à ${time}` : `${day} ${month} ${d.getUTCFullYear()} at ${time}`;
}

/** French agreement: "1,50 € est entré", "2,00 € sont entrés" (plural from two units on). */
export function plural(amount_minor: number, currency: string): boolean {
  return Math.abs(amount_minor) >= 2 * 10 ** minorUnitExponent(currency);
}

export function flowsInWords(flows: Flows, period: ReportPeriod, lang: Lang): string {
  const t = flows.totals;
  const money = (amount_minor: number) => formatMoney(amount_minor, flows.currency, lang);
  const fr = lang === "fr";
  const sentences: string[] = [];

  const cameIn = t.came_in_minor !== 0;
  const back = (["refunds", "disputes"] as const satisfies readonly BackKind[]).map((k) => ({ k, ...t[k] }));
  const movedBack = back.some((b) => b.to_customers_minor !== 0 || b.stripe_fees_minor !== 0);
  if (!cameIn && !movedBack) return fr ? `${inPeriod(period, lang)}, aucun argent n'est entré ni reparti.` : `${inPeriod(period, lang)}, no money came in or went back.`;

  if (cameIn) {
    const of: string[] = [];
    if (t.vat_minor !== 0) of.push(fr ? `${money(t.vat_minor)} de TVA pour l'administration fiscale` : `${money(t.vat_minor)} of VAT for the tax office`);
    if (t.shipping_minor !== 0) of.push(fr ? `${money(t.shipping_minor)} de livraison pour la coopérative` : `${money(t.shipping_minor)} of shipping for the cooperative`);
    const head = fr
      ? `${inPeriod(period, lang)}, ${money(t.came_in_minor)} ${plural(t.came_in_minor, flows.currency) ? "sont entrés" : "est entré"}${of.length > 0 ? `, dont ${joinWords(of, lang)}` : ""}`
      : `${inPeriod(period, lang)}, ${money(t.came_in_minor)} came in${of.length > 0 ? `, of which ${joinWords(of, lang)}` : ""}`;
    const went = [
      { amount: t.to_commons_minor, en: "the commons", fr: "au commun" },
      { amount: t.to_reserve_minor, en: "the reserve", fr: "à la réserve" },
      { amount: t.to_contributors_minor, en: "the contributors", fr: "aux personnes contributrices" },
      { amount: t.to_pools_minor, en: "need pools", fr: "aux fonds de besoins" },
      { amount: t.stripe_fees_minor, en: "Stripe in fees", fr: "à Stripe en frais" },
    ].filter((x) => x.amount !== 0);
    const phrases = went.map((x, i) => {
      if (fr) return i === 0 ? `${money(x.amount)} ${plural(x.amount, flows.currency) ? "sont allés" : "est allé"} ${x.fr}` : `${money(x.amount)} ${x.fr}`;
      return i === 0 ? `${money(x.amount)} went to ${x.en}` : `${money(x.amount)} to ${x.en}`;
    });
    sentences.push(phrases.length > 0 ? `${head}${fr ? "\u202f;" : ";"} ${joinWords(phrases, lang)}.` : `${head}.`);
    if (t.fee_covered_minor !== 0) {
      sentences.push(fr ? `La coopérative a payé ${money(t.fee_covered_minor)} de ces frais sur ses fonds propres.` : `The cooperative paid ${money(t.fee_covered_minor)} of those fees from its own funds.`);
    }
  }

  // When nothing came in, the first sentence about money going back says when.
  const when = (sentence: string) => (sentences.length === 0 ? `${inPeriod(period, lang)}, ${sentence}` : `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}`);
  const wentBack = back.filter((b) => b.to_customers_minor > 0);
  if (wentBack.length > 0) {
    const sum = wentBack.reduce((acc, b) => acc + b.to_customers_minor, 0);
    const how = (b: (typeof back)[number]) => (fr ? `${money(b.to_customers_minor)} en ${b.k === "refunds" ? "remboursements" : "litiges"}` : `${money(b.to_customers_minor)} in ${b.k}`);
    const lead = fr ? `${money(sum)} ${plural(sum, flows.currency) ? "sont repartis" : "est reparti"} vers les clients` : `${money(sum)} went back to customers`;
    const only = wentBack[0];
    sentences.push(
      when(
        wentBack.length === 1 && only
          ? `${lead} ${fr ? `en ${only.k === "refunds" ? "remboursements" : "litiges"}` : `in ${only.k}`}.`
          : `${lead}${fr ? "\u00a0:" : ":"} ${joinWords(wentBack.map(how), lang)}.`,
      ),
    );
  }
  for (const b of back.filter((x) => x.to_customers_minor < 0)) {
    const amount = money(-b.to_customers_minor);
    sentences.push(
      when(
        fr
          ? `${amount} ${plural(b.to_customers_minor, flows.currency) ? "sont revenus" : "est revenu"} de clients (${b.k === "refunds" ? "remboursements échoués" : "litiges gagnés"}).`
          : `${amount} came back from customers (${b.k === "refunds" ? "refunds that failed" : "disputes won"}).`,
      ),
    );
  }
  const disputeFees = t.disputes.stripe_fees_minor + t.refunds.stripe_fees_minor;
  if (disputeFees > 0) sentences.push(when(fr ? `Stripe a prélevé ${money(disputeFees)} de frais de litige.` : `Stripe charged ${money(disputeFees)} in dispute fees.`));
  if (disputeFees < 0) sentences.push(when(fr ? `Stripe a rendu ${money(-disputeFees)} de frais de litige.` : `Stripe returned ${money(-disputeFees)} of dispute fees.`));
  return sentences.join(" ");
}
