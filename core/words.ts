/**
 * Numbers and money for people, in English or French: string work on the exact decimal that
 * `formatMinor` writes, never a float. Grouping, the decimal mark and where the currency goes
 * follow each language's usage (French: a narrow no-break space between groups and before
 * "%", a no-break space before the currency).
 */
import { formatMinor } from "./currency";

export const LANGS = ["en", "fr"] as const;
export type Lang = (typeof LANGS)[number];

export function isLang(value: string): value is Lang {
  return (LANGS as readonly string[]).includes(value);
}

const NARROW_NBSP = "\u202f";
const NBSP = "\u00a0";
/** The minus sign, not the hyphen: screen readers say "minus". */
const MINUS = "\u2212";

const SEPARATORS: Record<Lang, { group: string; decimal: string }> = {
  en: { group: ",", decimal: "." },
  fr: { group: NARROW_NBSP, decimal: "," },
};

/** Symbols people read; any other currency is written by its code in capitals. */
const SYMBOLS: Record<Lang, Readonly<Record<string, string>>> = {
  en: { eur: "€", gbp: "£", usd: "$", jpy: "¥" },
  fr: { eur: "€", gbp: "£GB", usd: "$US", jpy: "JPY" },
};

function groupThousands(digits: string, separator: string): string {
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += separator;
    out += digits[i];
  }
  return out;
}

/** "1234.5" → "1,234.5" (en) or "1 234,5" (fr). `decimal` is an unsigned decimal string. */
export function formatDecimal(decimal: string, lang: Lang): string {
  const [whole = "", fraction] = decimal.split(".");
  const { group, decimal: mark } = SEPARATORS[lang];
  return fraction === undefined ? groupThousands(whole, group) : `${groupThousands(whole, group)}${mark}${fraction}`;
}

/** 423100 eur → "€4,231.00" (en), "4 231,00 €" (fr); negative amounts with a minus sign. */
export function formatMoney(amount_minor: number, currency: string, lang: Lang): string {
  const text = formatMinor(amount_minor, currency);
  const negative = text.startsWith("-");
  const number = formatDecimal(negative ? text.slice(1) : text, lang);
  const sign = negative ? MINUS : "";
  const symbol = SYMBOLS[lang][currency];
  if (lang === "fr") return `${sign}${number}${NBSP}${symbol ?? currency.toUpperCase()}`;
  return symbol === undefined ? `${sign}${currency.toUpperCase()}${NBSP}${number}` : `${sign}${symbol}${number}`;
}

/** A rule's percentage as the admin wrote it ("12.5%") in a language: "12.5%", "12,5 %". */
export function formatPercentText(text: string, lang: Lang): string {
  const number = text.replace(/%$/, "");
  return lang === "fr" ? `${number.replace(".", ",")}${NARROW_NBSP}%` : `${number}%`;
}

/** "a, b and c" (en), "a, b et c" (fr). */
export function joinWords(items: readonly string[], lang: Lang): string {
  if (items.length <= 1) return items.join("");
  const and = lang === "fr" ? "et" : "and";
  return `${items.slice(0, -1).join(", ")} ${and} ${items.at(-1)}`;
}
