/**
 * A need pool's close as anyone may read it, and in words (English, French): what came into the
 * pool, each member's need and what they received, who was held to a cap (throttled), the
 * leftover and where it went. Built from the close as it was written, so the words and the
 * figures are the same numbers. Golden cases in test/golden/pool-words.json.
 *
 * Members' amounts are shown: that is the point of a need pool, whose members agreed to share by
 * need in the open. Their names are not, unless their party chose to be public: a member who did
 * not is "a member" / "un membre", without name or id, listed by amount (not by id, which would
 * let an order give them away). A pool with a single non-public member still shows that
 * member's amounts: that is what a close of one is.
 */
import { invariant } from "./invariant";
import { inPeriod, plural } from "./flow-words";
import { parsePeriod } from "./report-period";
import { formatMoney, type Lang } from "./words";

export interface PoolWordsParty {
  readonly kind: "commons" | "reserve" | "contributor" | "pool";
  readonly name: string;
  readonly public: boolean;
}

/** A close as the ledger wrote it (db/ pool_closes and pool_close_members). */
export interface PoolCloseRecord {
  readonly pool_id: string;
  readonly pool_name: string;
  /** The pool's period: `2026-10`, `2026-Q4`, `2026-W43`. */
  readonly period: string;
  readonly currency: string;
  readonly income_minor: number;
  readonly leftover_minor: number;
  readonly leftover_to: string | null;
  readonly carried_minor: number;
  readonly topups_minor: number;
  readonly members: readonly { readonly party_id: string; readonly need_minor: number; readonly paid_minor: number; readonly topup_minor: number; readonly throttled: boolean }[];
}

export interface PublicPoolMember {
  /** null: a member who chose not to be named. */
  readonly party_id: string | null;
  readonly name: string | null;
  /** The need the close counted (held to its cap when throttled). */
  readonly need_minor: number;
  /** What they received: from the pool, plus any solidarity top-up from the reserve. */
  readonly received_minor: number;
  readonly topup_minor: number;
  /** Their declared need rose more than a period allows: it counted as its cap. */
  readonly throttled: boolean;
}

export interface PublicPoolClose {
  readonly pool_id: string;
  readonly name: string;
  readonly period: string;
  readonly currency: string;
  /** What the pool's account held at the close (negative: refunds of money already distributed). */
  readonly income_minor: number;
  /** The needs counted, together. */
  readonly needs_minor: number;
  /** Paid to members from the pool. */
  readonly distributed_minor: number;
  readonly leftover_minor: number;
  /** Who took the leftover (null when there was none); party_id and name null for a contributor not named. */
  readonly leftover_to: { readonly party_id: string | null; readonly kind: PoolWordsParty["kind"]; readonly name: string | null } | null;
  /** A negative income left on the pool's account for its next close. */
  readonly carried_minor: number;
  readonly topups_minor: number;
  readonly members: PublicPoolMember[];
}

const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);

/** The close as the public page and GET /api/v1/public/flows show it: names only of public parties. */
export function publicPoolClose(record: PoolCloseRecord, parties: ReadonlyMap<string, PoolWordsParty>): PublicPoolClose {
  const shown = (id: string) => {
    const party = parties.get(id);
    invariant(party !== undefined, `a close names party ${id}, which is not among the parties given`);
    return party.kind !== "contributor" || party.public ? { party_id: id, name: party.name, kind: party.kind } : { party_id: null, name: null, kind: party.kind };
  };
  const members = record.members
    .map((m) => ({ ...shown(m.party_id), need_minor: m.need_minor, received_minor: m.paid_minor + m.topup_minor, topup_minor: m.topup_minor, throttled: m.throttled }))
    .sort((a, b) => b.received_minor - a.received_minor || b.need_minor - a.need_minor || (a.name === null ? 1 : 0) - (b.name === null ? 1 : 0) || (a.name ?? "").localeCompare(b.name ?? "", "en"))
    .map(({ kind: _kind, ...m }) => m);
  const distributed_minor = sum(record.members.map((m) => m.paid_minor));
  invariant(record.carried_minor > 0 || distributed_minor + record.leftover_minor === Math.max(record.income_minor, 0), `the close of ${record.pool_id} for ${record.period} does not add up`);
  return {
    pool_id: record.pool_id,
    name: record.pool_name,
    period: record.period,
    currency: record.currency,
    income_minor: record.income_minor,
    needs_minor: sum(record.members.map((m) => m.need_minor)),
    distributed_minor,
    leftover_minor: record.leftover_minor,
    leftover_to: record.leftover_minor > 0 && record.leftover_to !== null ? shown(record.leftover_to) : null,
    carried_minor: record.carried_minor,
    topups_minor: record.topups_minor,
    members,
  };
}

/** "In October 2026" / "En octobre 2026"; "In week 43 of 2026" / "Pendant la semaine 43 de 2026". */
function inPoolPeriod(period: string, lang: Lang): string {
  const week = /^(\d{4})-W(\d{2})$/.exec(period);
  if (week) return lang === "fr" ? `Pendant la semaine ${Number(week[2])} de ${week[1]}` : `In week ${Number(week[2])} of ${week[1]}`;
  const parsed = parsePeriod(period);
  return parsed.ok ? inPeriod(parsed.period, lang) : lang === "fr" ? `Pour ${period}` : `For ${period}`;
}

/** "to the reserve" / "à la réserve", to a party by its name, or to "a contributor who is not named". */
function toLeftover(to: NonNullable<PublicPoolClose["leftover_to"]>, lang: Lang): string {
  const fr = lang === "fr";
  if (to.kind === "reserve") return fr ? `à la réserve (${to.name})` : `to the reserve (${to.name})`;
  if (to.kind === "commons") return fr ? `au commun (${to.name})` : `to the commons (${to.name})`;
  if (to.name === null) return fr ? "à une personne contributrice non nommée" : "to a contributor who is not named";
  return fr ? `à ${to.name}` : `to ${to.name}`;
}

/** A close in one or two sentences, in English or French. */
export function poolCloseInWords(c: PublicPoolClose, lang: Lang): string {
  const fr = lang === "fr";
  const money = (minor: number) => formatMoney(minor, c.currency, lang);
  const when = inPoolPeriod(c.period, lang);
  const pool = fr ? `le fonds «\u00a0${c.name}\u00a0»` : `the pool “${c.name}”`;
  if (c.income_minor < 0) {
    return fr
      ? `${when}, ${pool} devait ${money(-c.income_minor)} (des remboursements d'argent déjà distribué)\u202f: rien n'a été distribué, et la dette est reportée à la période suivante.`
      : `${when}, ${pool} owed ${money(-c.income_minor)} (refunds of money it had already distributed): nothing was distributed, and the debt is carried into the next period.`;
  }
  if (c.income_minor === 0) return fr ? `${when}, rien n'est entré dans ${pool}\u202f: rien n'a été distribué.` : `${when}, nothing came into ${pool}: nothing was distributed.`;
  const members = c.members.length;
  const met = c.distributed_minor >= c.needs_minor;
  let text = fr
    ? `${when}, ${money(c.income_minor)} ${plural(c.income_minor, c.currency) ? "sont entrés" : "est entré"} dans ${pool} pour ${money(c.needs_minor)} de besoins comptés entre ${members} ${members === 1 ? "membre" : "membres"}\u202f; ${met ? "chaque besoin a été couvert" : "chaque besoin a été payé dans la même proportion"}`
    : `${when}, ${money(c.income_minor)} came into ${pool} against ${money(c.needs_minor)} of needs counted among ${members} ${members === 1 ? "member" : "members"}; ${met ? "every need was met" : "each need was paid in the same proportion"}`;
  if (c.leftover_to !== null) {
    const to = toLeftover(c.leftover_to, lang);
    text += fr ? `, et ${plural(c.leftover_minor, c.currency) ? "les" : "le"} ${money(c.leftover_minor)} ${plural(c.leftover_minor, c.currency) ? "restants sont allés" : "restant est allé"} ${to}` : `, and the ${money(c.leftover_minor)} left over went ${to}`;
  }
  const sentences = [`${text}.`];
  const throttled = c.members.filter((m) => m.throttled).length;
  if (throttled > 0) {
    sentences.push(
      fr
        ? `${throttled === 1 ? "Le besoin d'un membre a été compté" : `Les besoins de ${throttled} membres ont été comptés`} au plus qu'un besoin pouvait atteindre cette période.`
        : `${throttled === 1 ? "One member's need was" : `${throttled} members' needs were`} counted at the most a need could rise to this period.`,
    );
  }
  if (c.topups_minor > 0) sentences.push(fr ? `La réserve a complété ${money(c.topups_minor)} au titre du plancher de solidarité.` : `The reserve topped members up by ${money(c.topups_minor)} (the pool's solidarity floor).`);
  return sentences.join(" ");
}
