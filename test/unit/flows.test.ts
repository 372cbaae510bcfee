// Where the money went in a period (core/flows.ts): test/golden/flows.json, worked by hand
// (aggregates in → links, nodes, totals, the recipients list and the sentence in both
// languages), and properties over random ledgers: every link is positive and goes right, the
// revenue node passes on exactly what it receives, what came in is what went out.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildFlows, flowsInWords, InvariantError, parsePeriod, type FlowInput, type FlowLink, type FlowNode, type FlowRecipient, type FlowTotals } from "../../core";

interface GoldenCase {
  name: string;
  period: string;
  input: FlowInput;
  expected: { links: FlowLink[]; nodes: FlowNode[]; recipients: FlowRecipient[]; totals: FlowTotals; en: string; fr: string };
}

const cases = JSON.parse(readFileSync(new URL("../golden/flows.json", import.meta.url), "utf8")) as GoldenCase[];

describe("flows of a period (test/golden/flows.json)", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, golden) => {
    const period = parsePeriod(golden.period);
    if (!period.ok) throw new Error(period.message);
    const flows = buildFlows(golden.input);
    expect(flows.links).toEqual(golden.expected.links);
    expect(flows.nodes).toEqual(golden.expected.nodes);
    expect(flows.totals).toEqual(golden.expected.totals);
    expect(flows.recipients).toEqual(golden.expected.recipients);
    expect(flowsInWords(flows, period.period, "en")).toBe(golden.expected.en);
    expect(flowsInWords(flows, period.period, "fr")).toBe(golden.expected.fr);
  });

  it("never names a contributor who chose not to be named, nor their id", () => {
    const golden = cases[0] as GoldenCase;
    const text = JSON.stringify(buildFlows(golden.input));
    expect(text).not.toContain("Sacha");
    expect(text).not.toContain("sacha");
  });
});

describe("a broken ledger is a bug, not a page", () => {
  const base: FlowInput = { currency: "eur", revenue_by_kind: [{ kind: "training", gross_minor: 1000 }], payment_postings: [{ account: "stripe:customers", amount_minor: -1000 }, { account: "party:a", amount_minor: 1000 }], back_postings: [], parties: [{ id: "a", kind: "commons", name: "A", public: true }] };

  it("accepts the balanced base case", () => {
    expect(buildFlows(base).totals.to_commons_minor).toBe(1000);
  });

  it.each([
    ["payments that do not sum to zero", { payment_postings: [{ account: "stripe:customers", amount_minor: -1000 }, { account: "party:a", amount_minor: 999 }] }, "do not sum to zero"],
    ["lines that do not add up to what customers paid", { revenue_by_kind: [{ kind: "training", gross_minor: 900 }] }, "do not add up"],
    ["a posting to a party not given", { parties: [] }, "not among the parties given"],
    ["a payment posting to an account payments never use", { payment_postings: [{ account: "stripe:customers", amount_minor: -1000 }, { account: "payouts:bank", amount_minor: 1000 }], parties: [] }, "a payment never does"],
    ["money going back that does not sum to zero", { back_postings: [{ back: "refunds" as const, account: "stripe:customers", amount_minor: 10 }] }, "do not sum to zero"],
    ["a float", { revenue_by_kind: [{ kind: "training", gross_minor: 1000.5 }] }, "safe integer"],
  ])("refuses %s", (_what, change, message) => {
    expect(() => buildFlows({ ...base, ...change })).toThrow(InvariantError);
    expect(() => buildFlows({ ...base, ...change })).toThrow(message);
  });
});

/** A random period's ledger: payments split between parties, some money going back, balanced by construction. */
const ledgers = fc
  .record({
    kinds: fc.array(fc.record({ kind: fc.constantFrom("training", "hosting"), gross: fc.integer({ min: -5_000, max: 1_000_000 }) }), { maxLength: 4 }),
    vat: fc.integer({ min: 0, max: 200_000 }),
    shipping: fc.integer({ min: 0, max: 10_000 }),
    feeNet: fc.integer({ min: 0, max: 20_000 }),
    feeCovered: fc.integer({ min: 0, max: 20_000 }),
    weights: fc.array(fc.integer({ min: -3, max: 10 }), { minLength: 1, maxLength: 12 }),
    backs: fc.array(fc.record({ back: fc.constantFrom("refunds" as const, "disputes" as const), party: fc.nat(11), amount: fc.integer({ min: -50_000, max: 50_000 }), fee: fc.integer({ min: 0, max: 1_500 }), tax: fc.integer({ min: -1_000, max: 1_000 }) }), { maxLength: 6 }),
    publics: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    maxNamed: fc.integer({ min: 0, max: 8 }),
  })
  .map((r): FlowInput => {
    const kinds = [...new Map(r.kinds.map((k) => [k.kind, k])).values()];
    const revenue = kinds.reduce((a, k) => a + k.gross, 0);
    const parties = r.weights.map((_, i) => ({ id: `p${i}`, kind: i === 0 ? ("commons" as const) : i === 1 ? ("reserve" as const) : ("contributor" as const), name: `P${i}`, public: r.publics[i] ?? false }));
    // What the parties share: the revenue less the fee they bore, spread by the (signed) weights, the rest to p0.
    const toShare = revenue - r.feeNet;
    const shares = r.weights.map((w) => w * Math.trunc(toShare / 20));
    shares[0] = (shares[0] ?? 0) + toShare - shares.reduce((a, s) => a + s, 0);
    const payment_postings = [
      { account: "stripe:customers", amount_minor: -(revenue + r.vat + r.shipping) },
      { account: "stripe:fees", amount_minor: r.feeNet + r.feeCovered },
      { account: "coop:fee_absorbed", amount_minor: -r.feeCovered },
      { account: "tax:collected", amount_minor: r.vat },
      { account: "coop:shipping", amount_minor: r.shipping },
      ...shares.map((s, i) => ({ account: `party:p${i}`, amount_minor: s })),
    ];
    const back_postings = r.backs.flatMap((b) => [
      { back: b.back, account: `party:p${b.party % parties.length}`, amount_minor: -b.amount },
      { back: b.back, account: "tax:collected", amount_minor: -b.tax },
      { back: b.back, account: "coop:fees_kept", amount_minor: -b.fee },
      { back: b.back, account: "stripe:fees", amount_minor: b.fee },
      { back: b.back, account: "stripe:customers", amount_minor: b.amount + b.tax },
    ]);
    return { currency: "eur", revenue_by_kind: kinds.map((k) => ({ kind: k.kind, gross_minor: k.gross })), payment_postings, back_postings, parties, max_named_contributors: r.maxNamed };
  });

describe("flows of any balanced ledger", () => {
  it("draw positive links that go right, with the revenue passing on what it receives and every node's in and out its links'", () => {
    fc.assert(
      fc.property(ledgers, (input) => {
        const flows = buildFlows(input);
        const column = new Map(flows.nodes.map((n) => [n.id, n.column]));
        for (const l of flows.links) {
          expect(l.amount_minor).toBeGreaterThan(0);
          expect(column.get(l.source)).toBeLessThan(column.get(l.target) ?? -1);
        }
        for (const n of flows.nodes) {
          expect(n.in_minor).toBe(flows.links.filter((l) => l.target === n.id).reduce((a, l) => a + l.amount_minor, 0));
          expect(n.out_minor).toBe(flows.links.filter((l) => l.source === n.id).reduce((a, l) => a + l.amount_minor, 0));
        }
        const revenue = flows.nodes.find((n) => n.id === "revenue");
        if (revenue) expect(revenue.in_minor).toBe(revenue.out_minor);
        const t = flows.totals;
        expect(t.came_in_minor).toBe(t.revenue_minor + t.vat_minor + t.shipping_minor);
        expect(t.to_commons_minor + t.to_reserve_minor + t.to_contributors_minor + (t.stripe_fees_minor - t.fee_covered_minor)).toBe(t.revenue_minor);
        // The recipients list accounts for every party's shares.
        expect(flows.recipients.reduce((a, r) => a + r.received_minor, 0)).toBe(t.to_commons_minor + t.to_reserve_minor + t.to_contributors_minor);
        // Contributors who are not public never appear by name or id.
        const hidden = input.parties.filter((p) => p.kind === "contributor" && !p.public);
        const text = JSON.stringify(flows);
        for (const p of hidden) {
          expect(text).not.toContain(`"${p.name}"`);
          expect(text).not.toContain(`party:${p.id}"`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
