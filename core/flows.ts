/**
 * Where the money went in a period, as a flow graph a Sankey diagram draws, with exact integer
 * amounts: aggregates in, nodes, links and totals out. Nothing here is about one payment.
 *
 * Columns, left to right:
 *
 *   0  what came in: each offer kind's revenue (VAT excluded), the VAT, the shipping, the
 *      cooperative's own funds when it covered Stripe's fee (rules on a `gross` basis), and
 *      shares that plan changes' credits took back
 *   1  the revenue the rules split; money that came back to the ledger (a refund that failed,
 *      a dispute won)
 *   2  where it went: Stripe's fees, the tax office, the cooperative, the commons, the reserve,
 *      the contributors (named when they chose to be, together otherwise)
 *   3  money going back: refunds and disputes; credits of plan changes
 *
 * Every link goes from a lower column to a higher one, so the graph has no cycle. A flow that
 * would be negative (a kind or a party whose shares in the period are net negative after a plan
 * change's credit, a refund that failed after the period of its refund) goes the other way, to
 * or from a node that says why. Conservation is asserted: every transaction sums to zero, so what came
 * in equals what went out, and the revenue node splits exactly what reached it.
 */
import { assertCurrency } from "./currency";
import { assertSignedMinor, invariant, toSafeNumber } from "./invariant";
import { ACCOUNT_COOP_FEE_ABSORBED, ACCOUNT_COOP_SHIPPING, ACCOUNT_STRIPE_CUSTOMERS, ACCOUNT_STRIPE_FEES, ACCOUNT_TAX_COLLECTED, partyOfAccount } from "./ledger";

export type FlowPartyKind = "commons" | "reserve" | "contributor" | "pool";

export interface FlowParty {
  readonly id: string;
  readonly kind: FlowPartyKind;
  readonly name: string;
  /** A contributor who chose to be named on the public page. The commons, the reserve and need pools always are. */
  readonly public: boolean;
}

export const BACK_KINDS = ["refunds", "disputes"] as const;
export type BackKind = (typeof BACK_KINDS)[number];

export interface FlowInput {
  readonly currency: string;
  /** The payments paid in the period: what their lines brought in, by offer kind (VAT excluded; a credit line counts negative). */
  readonly revenue_by_kind: readonly { readonly kind: string; readonly gross_minor: number }[];
  /** The payments' own transactions: the sum of their postings per account. */
  readonly payment_postings: readonly { readonly account: string; readonly amount_minor: number }[];
  /** Refunds (and their failures) and disputes (withdrawals, reinstatements) posted in the period: the sum of their postings per account. */
  readonly back_postings: readonly { readonly back: BackKind; readonly account: string; readonly amount_minor: number }[];
  /** Every party the postings name (others are refused: a posting to an unknown party is a broken ledger). */
  readonly parties: readonly FlowParty[];
  /** Named contributors drawn on their own, the biggest first; the others join the "contributors" node. */
  readonly max_named_contributors?: number;
}

export type FlowNodeKind =
  | "income" // an offer kind's revenue; `offer_kind` says which
  | "vat" // VAT paid by customers
  | "shipping" // shipping paid by customers
  | "coop_funds" // the cooperative's own funds covering Stripe's fee
  | "taken_back" // shares taken back by plan changes' credits, from parties left net negative
  | "revenue" // what the rules split
  | "returned" // money that came back to the ledger; `back` says from what
  | "stripe_fees"
  | "tax_office"
  | "cooperative"
  | "commons"
  | "reserve"
  | "pool" // a need pool: what rules send it, before its close shares it among its members
  | "contributor" // a named contributor
  | "contributors" // contributors together: not named, or beyond the named ones
  | "back" // money going back to customers; `back` says how
  | "credits"; // taken back by plan changes' credits

export interface FlowNode {
  /** Stable: `income:training`, `revenue`, `party:commons`, `contributors`, `back:refunds`… */
  readonly id: string;
  readonly kind: FlowNodeKind;
  readonly column: 0 | 1 | 2 | 3;
  readonly offer_kind?: string;
  readonly back?: BackKind;
  readonly party_id?: string;
  /** The party's own name (parties only). */
  readonly name?: string;
  readonly in_minor: number;
  readonly out_minor: number;
}

export interface FlowLink {
  readonly source: string;
  readonly target: string;
  readonly amount_minor: number;
}

export interface BackTotals {
  /** Paid to customers (net of refunds that failed, of disputes won). */
  readonly to_customers_minor: number;
  /** Stripe's fees on them: dispute fees, net of fees returned. */
  readonly stripe_fees_minor: number;
  /** Taken from the ledger's accounts: to customers plus Stripe's fees. */
  readonly taken_minor: number;
}

export interface FlowTotals {
  /** What customers paid, VAT and shipping included. */
  readonly came_in_minor: number;
  readonly revenue_minor: number;
  readonly revenue_by_kind: { readonly kind: string; readonly amount_minor: number }[];
  readonly vat_minor: number;
  readonly shipping_minor: number;
  /** Stripe's fees on the payments; `fee_covered_minor` of them paid by the cooperative's own funds. */
  readonly stripe_fees_minor: number;
  readonly fee_covered_minor: number;
  readonly to_commons_minor: number;
  readonly to_reserve_minor: number;
  readonly to_contributors_minor: number;
  /** What rules sent to need pools (a pool's close later shares it among its members). */
  readonly to_pools_minor: number;
  readonly refunds: BackTotals;
  readonly disputes: BackTotals;
}

export interface FlowRecipient {
  /** null: the contributors who are not named, together. */
  readonly party_id: string | null;
  readonly kind: FlowPartyKind;
  readonly name: string | null;
  readonly received_minor: number;
  readonly given_back_minor: number;
  readonly net_minor: number;
}

export interface Flows {
  readonly currency: string;
  readonly nodes: FlowNode[];
  readonly links: FlowLink[];
  readonly totals: FlowTotals;
  readonly recipients: FlowRecipient[];
}

export const DEFAULT_MAX_NAMED_CONTRIBUTORS = 8;

const CONTRIBUTORS_NODE = "contributors";
const REVENUE_NODE = "revenue";

/** Sums with bigint, back to a safe integer (asserted). */
function total(amounts: readonly number[], name: string): number {
  return toSafeNumber(amounts.reduce((acc, a) => acc + BigInt(a), 0n), name);
}

export function buildFlows(input: FlowInput): Flows {
  assertCurrency(input.currency);
  const parties = new Map(input.parties.map((p) => [p.id, p]));
  const maxNamed = input.max_named_contributors ?? DEFAULT_MAX_NAMED_CONTRIBUTORS;

  // ---- money in: the payments' own transactions ------------------------------------------
  const byAccount = new Map<string, number>();
  for (const p of input.payment_postings) {
    assertSignedMinor(p.amount_minor, `payment postings of ${p.account}`);
    byAccount.set(p.account, (byAccount.get(p.account) ?? 0) + p.amount_minor);
  }
  invariant(total([...byAccount.values()], "payment postings") === 0, "the payments' postings do not sum to zero");
  const at = (account: string) => byAccount.get(account) ?? 0;
  const came_in_minor = 0 - at(ACCOUNT_STRIPE_CUSTOMERS); // 0 - x: never a -0
  const stripe_fees_minor = at(ACCOUNT_STRIPE_FEES);
  const vat_minor = at(ACCOUNT_TAX_COLLECTED);
  const shipping_minor = at(ACCOUNT_COOP_SHIPPING);
  const fee_covered_minor = 0 - at(ACCOUNT_COOP_FEE_ABSORBED);
  const shares = new Map<string, number>();
  for (const [account, amount] of byAccount) {
    const party = partyOfAccount(account);
    if (party !== null) {
      invariant(parties.has(party), `a payment posted to party ${party}, which is not among the parties given`);
      shares.set(party, amount);
      continue;
    }
    const known: string[] = [ACCOUNT_STRIPE_CUSTOMERS, ACCOUNT_STRIPE_FEES, ACCOUNT_TAX_COLLECTED, ACCOUNT_COOP_SHIPPING, ACCOUNT_COOP_FEE_ABSORBED];
    invariant(known.includes(account), `a payment's transaction posted to ${account}, which a payment never does`);
  }
  for (const k of input.revenue_by_kind) assertSignedMinor(k.gross_minor, `revenue of ${k.kind}`);
  const revenue_minor = total(input.revenue_by_kind.map((k) => k.gross_minor), "revenue");
  // The gross is shared between the lines, the tax and the shipping, exactly (core/payment.ts).
  invariant(revenue_minor + vat_minor + shipping_minor === came_in_minor, `the lines (${revenue_minor}), VAT (${vat_minor}) and shipping (${shipping_minor}) do not add up to what customers paid (${came_in_minor})`);

  // ---- money going back ------------------------------------------------------------------
  const back = new Map<BackKind, Map<string, number>>(BACK_KINDS.map((k) => [k, new Map()]));
  for (const p of input.back_postings) {
    assertSignedMinor(p.amount_minor, `${p.back} postings of ${p.account}`);
    const accounts = back.get(p.back);
    invariant(accounts !== undefined, `unknown kind of money going back: ${p.back}`);
    accounts.set(p.account, (accounts.get(p.account) ?? 0) + p.amount_minor);
  }
  const backTotals = (k: BackKind): BackTotals => {
    const accounts = back.get(k) ?? new Map<string, number>();
    invariant(total([...accounts.values()], `${k} postings`) === 0, `the ${k} postings do not sum to zero`);
    const to_customers_minor = accounts.get(ACCOUNT_STRIPE_CUSTOMERS) ?? 0;
    const fees = accounts.get(ACCOUNT_STRIPE_FEES) ?? 0;
    return { to_customers_minor, stripe_fees_minor: fees, taken_minor: to_customers_minor + fees };
  };

  // ---- which node holds which account --------------------------------------------------
  const given = new Map<string, number>(); // party id → given back, all kinds
  for (const accounts of back.values()) {
    for (const [account, amount] of accounts) {
      const party = partyOfAccount(account);
      if (party === null) continue;
      invariant(parties.has(party), `money went back from party ${party}, which is not among the parties given`);
      given.set(party, (given.get(party) ?? 0) - amount);
    }
  }
  const named = [...parties.values()]
    .filter((p) => p.kind === "contributor" && p.public && (shares.has(p.id) || given.has(p.id)))
    .sort((a, b) => Math.abs(shares.get(b.id) ?? 0) + Math.abs(given.get(b.id) ?? 0) - (Math.abs(shares.get(a.id) ?? 0) + Math.abs(given.get(a.id) ?? 0)) || (a.id < b.id ? -1 : 1))
    .slice(0, maxNamed);
  const drawn = new Set(named.map((p) => p.id));
  const nodeOfParty = (id: string): string => {
    const party = parties.get(id);
    invariant(party !== undefined, `no party ${id}`);
    return party.kind !== "contributor" || drawn.has(id) ? `party:${id}` : CONTRIBUTORS_NODE;
  };
  const nodeOfAccount = (account: string): string | null => {
    const party = partyOfAccount(account);
    if (party !== null) return nodeOfParty(party);
    if (account === ACCOUNT_STRIPE_CUSTOMERS || account === ACCOUNT_STRIPE_FEES) return null; // the other side of money going back
    if (account === ACCOUNT_TAX_COLLECTED) return "tax_office";
    invariant(account.startsWith("coop:"), `money went back from ${account}, an account this page does not know`);
    return "cooperative";
  };

  // ---- nodes and links -------------------------------------------------------------------
  const nodes = new Map<string, Omit<FlowNode, "in_minor" | "out_minor">>();
  const node = (id: string): string => {
    if (nodes.has(id)) return id;
    const [prefix, rest = ""] = id.split(/:(.*)/s) as [string, string?];
    const party = prefix === "party" ? parties.get(rest) : undefined;
    const made: Omit<FlowNode, "in_minor" | "out_minor"> =
      party !== undefined
        ? { id, kind: party.kind, column: 2, party_id: party.id, name: party.name }
        : prefix === "income"
          ? { id, kind: "income", column: 0, offer_kind: rest }
          : prefix === "back"
            ? { id, kind: "back", column: 3, back: rest as BackKind }
            : prefix === "returned"
              ? { id, kind: "returned", column: 1, back: rest as BackKind }
              : SIMPLE_NODES[id] ?? invalidNode(id);
    nodes.set(id, made);
    return id;
  };
  const links = new Map<string, { source: string; target: string; amount_minor: number }>();
  const addLink = (source: string, target: string, amount_minor: number) => {
    if (amount_minor === 0) return;
    invariant(amount_minor > 0, `a link from ${source} to ${target} would be negative`);
    const key = `${source}\u0000${target}`;
    const link = links.get(key) ?? { source: node(source), target: node(target), amount_minor: 0 };
    link.amount_minor += amount_minor;
    links.set(key, link);
  };
  // A flow that would be negative goes the other way, through a node that says why: a kind
  // whose credits (plan changes) exceed its charges is credited to customers; a party whose
  // shares are net negative (a plan change's credit took back more than it received) gives it
  // to the revenue, from "taken back". The revenue node still passes on exactly what it receives.
  for (const k of input.revenue_by_kind) {
    if (k.gross_minor >= 0) addLink(`income:${k.kind}`, REVENUE_NODE, k.gross_minor);
    else addLink(REVENUE_NODE, "credits", -k.gross_minor);
  }
  if (vat_minor >= 0) addLink("vat", "tax_office", vat_minor);
  else addLink("tax_office", "credits", -vat_minor);
  addLink("shipping", "cooperative", shipping_minor);
  addLink("coop_funds", "stripe_fees", fee_covered_minor);
  addLink(REVENUE_NODE, "stripe_fees", stripe_fees_minor - fee_covered_minor);
  for (const [party, amount] of [...shares].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (amount >= 0) addLink(REVENUE_NODE, nodeOfParty(party), amount);
    else addLink("taken_back", REVENUE_NODE, -amount);
  }

  for (const k of BACK_KINDS) {
    const byNode = new Map<string, number>();
    for (const [account, amount] of back.get(k) ?? []) {
      const holder = nodeOfAccount(account);
      if (holder !== null) byNode.set(holder, (byNode.get(holder) ?? 0) - amount);
    }
    for (const [holder, amount] of [...byNode].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (amount >= 0) addLink(holder, `back:${k}`, amount);
      else addLink(`returned:${k}`, holder, -amount);
    }
  }

  const linkList = [...links.values()];
  const sumInto = (id: string) => total(linkList.filter((l) => l.target === id).map((l) => l.amount_minor), `into ${id}`);
  const sumFrom = (id: string) => total(linkList.filter((l) => l.source === id).map((l) => l.amount_minor), `from ${id}`);
  const nodeList = [...nodes.values()].map((n) => ({ ...n, in_minor: sumInto(n.id), out_minor: sumFrom(n.id) }));
  for (const l of linkList) invariant((nodes.get(l.source)?.column ?? 9) < (nodes.get(l.target)?.column ?? -1), `a link from ${l.source} to ${l.target} does not go right`);
  // The revenue node passes on exactly what reached it.
  const revenue = nodeList.find((n) => n.id === REVENUE_NODE);
  if (revenue) invariant(revenue.in_minor === revenue.out_minor, `the revenue node receives ${revenue.in_minor} and passes on ${revenue.out_minor}`);

  const byPartyKind = (kind: FlowPartyKind) => total([...shares].filter(([id]) => parties.get(id)?.kind === kind).map(([, a]) => a), `shares of ${kind}`);
  const recipients = recipientsOf(parties, shares, given);
  return {
    currency: input.currency,
    nodes: nodeList,
    links: linkList,
    totals: {
      came_in_minor,
      revenue_minor,
      revenue_by_kind: input.revenue_by_kind.filter((k) => k.gross_minor !== 0).map((k) => ({ kind: k.kind, amount_minor: k.gross_minor })),
      vat_minor,
      shipping_minor,
      stripe_fees_minor,
      fee_covered_minor,
      to_commons_minor: byPartyKind("commons"),
      to_reserve_minor: byPartyKind("reserve"),
      to_contributors_minor: byPartyKind("contributor"),
      to_pools_minor: byPartyKind("pool"),
      refunds: backTotals("refunds"),
      disputes: backTotals("disputes"),
    },
    recipients,
  };
}

const SIMPLE_NODES: Readonly<Record<string, Omit<FlowNode, "in_minor" | "out_minor">>> = {
  vat: { id: "vat", kind: "vat", column: 0 },
  shipping: { id: "shipping", kind: "shipping", column: 0 },
  coop_funds: { id: "coop_funds", kind: "coop_funds", column: 0 },
  taken_back: { id: "taken_back", kind: "taken_back", column: 0 },
  [REVENUE_NODE]: { id: REVENUE_NODE, kind: "revenue", column: 1 },
  stripe_fees: { id: "stripe_fees", kind: "stripe_fees", column: 2 },
  tax_office: { id: "tax_office", kind: "tax_office", column: 2 },
  cooperative: { id: "cooperative", kind: "cooperative", column: 2 },
  [CONTRIBUTORS_NODE]: { id: CONTRIBUTORS_NODE, kind: "contributors", column: 2 },
  credits: { id: "credits", kind: "credits", column: 3 },
};

function invalidNode(id: string): never {
  invariant(false, `no flow node ${id}`);
}

/** Each party named (the commons, the reserve, public contributors), then the contributors not named, together. */
function recipientsOf(parties: ReadonlyMap<string, FlowParty>, shares: ReadonlyMap<string, number>, given: ReadonlyMap<string, number>): FlowRecipient[] {
  const ids = [...new Set([...shares.keys(), ...given.keys()])];
  const order: Record<FlowPartyKind, number> = { commons: 0, reserve: 1, pool: 2, contributor: 3 };
  const shown = ids
    .map((id) => parties.get(id) as FlowParty)
    .filter((p) => p.kind !== "contributor" || p.public)
    .sort((a, b) => order[a.kind] - order[b.kind] || (shares.get(b.id) ?? 0) - (shares.get(a.id) ?? 0) || (a.id < b.id ? -1 : 1))
    .map((p) => row(p.id, p.kind, p.name, shares.get(p.id) ?? 0, given.get(p.id) ?? 0));
  const hidden = ids.filter((id) => parties.get(id)?.kind === "contributor" && !parties.get(id)?.public);
  if (hidden.length === 0) return shown;
  const received = total(hidden.map((id) => shares.get(id) ?? 0), "contributors not named");
  const gaveBack = total(hidden.map((id) => given.get(id) ?? 0), "contributors not named, given back");
  return [...shown, row(null, "contributor", null, received, gaveBack)];
}

function row(party_id: string | null, kind: FlowPartyKind, name: string | null, received_minor: number, given_back_minor: number): FlowRecipient {
  return { party_id, kind, name, received_minor, given_back_minor, net_minor: received_minor - given_back_minor };
}
