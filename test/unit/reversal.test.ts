import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { moneyBackPostings, parseRule, pendingMovementsPostings, splitPayment, takenBack, type PendingMovement, type PostedPayment, type RolePosting } from "../../core";
import { contributorsArb, ruleJsonArb } from "./arbitraries";

/** 10000 € paid, fee 175, "10% commons, 15% reserve, the rest to camille and dominique 2:1" on net: 982 / 1474 / 4913 / 2456. */
const paid: PostedPayment = {
  currency: "eur",
  gross_minor: 10_000,
  charge_amount_minor: 10_000,
  tax_minor: 0,
  shipping_minor: 0,
  lines: [
    {
      parts: [
        { party_id: "commons", amount_minor: 982 },
        { party_id: "reserve", amount_minor: 1_474 },
        { party_id: "camille", amount_minor: 4_913 },
        { party_id: "dominique", amount_minor: 2_456 },
      ],
      gross_minor: 10_000,
      borne_fee_minor: 175,
      fee_policy: "proportional",
    },
  ],
  bearers: { reserve: "reserve", commons: "commons" },
};

function postings(result: ReturnType<typeof moneyBackPostings>): RolePosting[] {
  if (!result.ok) throw new Error(result.error.message);
  return result.postings;
}

/** `account role amount` lines, sorted: easy to read in a failure. */
const table = (ps: readonly RolePosting[]) => ps.map((p) => `${p.account} ${p.role} ${p.amount_minor}`).sort();

describe("a refund takes back the posted allocation", () => {
  it("in full: every share, and the fee Stripe keeps borne in proportion to the shares", () => {
    // The fee 175 over 982 / 1474 / 4913 / 2456: 17.49 / 26.25 / 87.51 / 43.75, floors 17 / 26 / 87 / 43, the two units to .75 and .51.
    expect(table(postings(moneyBackPostings(paid, [], 10_000, { paid_out_minor: 10_000, stripe_fee_minor: 0 })))).toEqual(
      table([
        { account: "stripe:customers", role: "customer", amount_minor: 10_000, currency: "eur" },
        { account: "party:commons", role: "reversal", amount_minor: -982, currency: "eur" },
        { account: "party:reserve", role: "reversal", amount_minor: -1_474, currency: "eur" },
        { account: "party:camille", role: "reversal", amount_minor: -4_913, currency: "eur" },
        { account: "party:dominique", role: "reversal", amount_minor: -2_456, currency: "eur" },
        { account: "party:commons", role: "fee_kept", amount_minor: -17, currency: "eur" },
        { account: "party:reserve", role: "fee_kept", amount_minor: -26, currency: "eur" },
        { account: "party:camille", role: "fee_kept", amount_minor: -88, currency: "eur" },
        { account: "party:dominique", role: "fee_kept", amount_minor: -44, currency: "eur" },
      ]),
    );
  });

  it("in part, in proportion; the refund that completes the charge takes exactly what is left", () => {
    // A quarter: 245.5 / 368.5 / 1228.25 / 614 / fee 43.75, floors leave 2: the fee (.75), then commons (first .5).
    // The fee's 44 over the shares: 4.40 / 6.60 / 22.00 / 11.00, floors 4 / 6 / 22 / 10, units to dominique (.998) and reserve (.601).
    const quarter = postings(moneyBackPostings(paid, [], 2_500, { paid_out_minor: 2_500, stripe_fee_minor: 0 }));
    expect(table(quarter)).toEqual(
      table([
        { account: "stripe:customers", role: "customer", amount_minor: 2_500, currency: "eur" },
        { account: "party:commons", role: "reversal", amount_minor: -246, currency: "eur" },
        { account: "party:reserve", role: "reversal", amount_minor: -368, currency: "eur" },
        { account: "party:camille", role: "reversal", amount_minor: -1_228, currency: "eur" },
        { account: "party:dominique", role: "reversal", amount_minor: -614, currency: "eur" },
        { account: "party:commons", role: "fee_kept", amount_minor: -4, currency: "eur" },
        { account: "party:reserve", role: "fee_kept", amount_minor: -7, currency: "eur" },
        { account: "party:camille", role: "fee_kept", amount_minor: -22, currency: "eur" },
        { account: "party:dominique", role: "fee_kept", amount_minor: -11, currency: "eur" },
      ]),
    );
    const rest = postings(moneyBackPostings(paid, quarter, 10_000, { paid_out_minor: 7_500, stripe_fee_minor: 0 }));
    expect(table(rest.filter((p) => p.role === "reversal"))).toEqual(
      table([
        { account: "party:commons", role: "reversal", amount_minor: -736, currency: "eur" },
        { account: "party:reserve", role: "reversal", amount_minor: -1_106, currency: "eur" },
        { account: "party:camille", role: "reversal", amount_minor: -3_685, currency: "eur" },
        { account: "party:dominique", role: "reversal", amount_minor: -1_842, currency: "eur" },
      ]),
    );
  });

  it("that fails afterwards is put back exactly", () => {
    const quarter = postings(moneyBackPostings(paid, [], 2_500, { paid_out_minor: 2_500, stripe_fee_minor: 0 }));
    const failed = postings(moneyBackPostings(paid, quarter, 0, { paid_out_minor: -2_500, stripe_fee_minor: 0 }));
    expect(table(failed)).toEqual(table(quarter.map((p) => ({ ...p, amount_minor: -p.amount_minor }))));
  });

  it("settled at another day's rate books the difference to the cooperative (coop:fx)", () => {
    // The parties give back their shares of the 10000 € that arrived; the refund cost 10400 € at the day's rate.
    const ps = postings(moneyBackPostings(paid, [], 10_000, { paid_out_minor: 10_400, stripe_fee_minor: 0 }));
    expect(ps.find((p) => p.account === "coop:fx")).toEqual({ account: "coop:fx", role: "fx", amount_minor: -400, currency: "eur" });
  });

  it("puts the fee on the reserve, the commons or the cooperative when the rule says so", () => {
    const kept = (fee_policy: "reserve" | "commons" | "cooperative") =>
      postings(moneyBackPostings({ ...paid, lines: paid.lines.map((l) => ({ ...l, fee_policy })) }, [], 10_000, { paid_out_minor: 10_000, stripe_fee_minor: 0 })).filter((p) => p.role === "fee_kept");
    expect(kept("reserve")).toEqual([{ account: "party:reserve", role: "fee_kept", amount_minor: -175, currency: "eur" }]);
    expect(kept("commons")).toEqual([{ account: "party:commons", role: "fee_kept", amount_minor: -175, currency: "eur" }]);
    expect(kept("cooperative")).toEqual([{ account: "coop:fees_kept", role: "fee_kept", amount_minor: -175, currency: "eur" }]);
  });

  it("refuses a reserve policy with no reserve to bear it, and more taken back than was charged", () => {
    expect(moneyBackPostings({ ...paid, bearers: { reserve: null, commons: "commons" }, lines: paid.lines.map((l) => ({ ...l, fee_policy: "reserve" })) }, [], 100, { paid_out_minor: 100, stripe_fee_minor: 0 })).toEqual({
      ok: false,
      error: { code: "no_fee_bearer", message: 'the rule\'s fee_policy is "reserve", but there is not exactly one party of kind reserve to bear the fees' },
    });
    expect(takenBack(paid, 10_001)).toMatchObject({ ok: false, error: { code: "over_taken" } });
  });
});

describe("a dispute", () => {
  it("withdrawn: reverses like a refund and the dispute fee is borne by the rule's policy; reinstated with its fee: all comes back", () => {
    const withdrawn = postings(moneyBackPostings(paid, [], 10_000, { paid_out_minor: 10_000, stripe_fee_minor: 1_500 }));
    // 1500 over the shares: 149.92 / 225.04 / 750.08 / 374.96, floors leave 2: to dominique (.96) and commons (.92).
    expect(table(withdrawn.filter((p) => p.role === "dispute_fee" || p.role === "fee"))).toEqual(
      table([
        { account: "stripe:fees", role: "fee", amount_minor: 1_500, currency: "eur" },
        { account: "party:commons", role: "dispute_fee", amount_minor: -150, currency: "eur" },
        { account: "party:reserve", role: "dispute_fee", amount_minor: -225, currency: "eur" },
        { account: "party:camille", role: "dispute_fee", amount_minor: -750, currency: "eur" },
        { account: "party:dominique", role: "dispute_fee", amount_minor: -375, currency: "eur" },
      ]),
    );
    const reinstated = postings(moneyBackPostings(paid, withdrawn, 0, { paid_out_minor: -10_000, stripe_fee_minor: -1_500 }));
    expect(table(reinstated)).toEqual(table(withdrawn.map((p) => ({ ...p, amount_minor: -p.amount_minor }))));
  });
});

describe("an object's movements not on the ledger yet, posted together", () => {
  const refund = (charge_amount_minor: number): PendingMovement => ({ charge_amount_minor, paid_out_minor: charge_amount_minor, stripe_fee_minor: 0 });
  const groups = (result: ReturnType<typeof pendingMovementsPostings>): RolePosting[][] => {
    if (!result.ok) throw new Error(result.error.message);
    return result.postings;
  };
  /** The sum of postings by `account role`, zeros left out. */
  const net = (ps: readonly RolePosting[]) => {
    const sums = new Map<string, number>();
    for (const p of ps) sums.set(`${p.account} ${p.role}`, (sums.get(`${p.account} ${p.role}`) ?? 0) + p.amount_minor);
    return [...sums].filter(([, v]) => v !== 0).sort();
  };

  it("are each what moneyBackPostings gives, in turn, when they fit where the ledger stands", () => {
    const quarter = postings(moneyBackPostings(paid, [], 2_500, { paid_out_minor: 2_500, stripe_fee_minor: 0 }));
    const [half, failed] = groups(pendingMovementsPostings(paid, quarter, 2_500, [refund(5_000), { charge_amount_minor: -5_000, paid_out_minor: -5_000, stripe_fee_minor: 0 }]));
    const expectedHalf = postings(moneyBackPostings(paid, quarter, 7_500, { paid_out_minor: 5_000, stripe_fee_minor: 0 }));
    expect(half).toEqual(expectedHalf);
    expect(failed).toEqual(postings(moneyBackPostings(paid, [...quarter, ...expectedHalf], 2_500, { paid_out_minor: -5_000, stripe_fee_minor: 0 })));
  });

  it("a refund and its failure, after a later refund reached the ledger first, cancel out on every share: only the cost stays (found by the fault storm)", () => {
    // At Stripe: 100.00 refunded, the refund failed, then 75.00 refunded. The ledger got the 75.00 first.
    const later = postings(moneyBackPostings(paid, [], 7_500, { paid_out_minor: 7_500, stripe_fee_minor: 0 }));
    expect(pendingMovementsPostings(paid, later, 7_500, [refund(10_000)])).toMatchObject({ ok: false, error: { code: "over_taken" } });
    const pair = groups(pendingMovementsPostings(paid, later, 7_500, [{ ...refund(10_000), paid_out_minor: 10_400 }, { charge_amount_minor: -10_000, paid_out_minor: -10_000, stripe_fee_minor: 0 }]));
    expect(pair.map((ps) => ps.reduce((a, p) => a + p.amount_minor, 0))).toEqual([0, 0]);
    // The refund went out at a dearer rate than it came back: 4.00 of exchange difference is all that is left.
    expect(net(pair.flat())).toEqual([
      ["coop:fx fx", -400],
      ["stripe:customers customer", 400],
    ]);
    // Every share as the later refund left it: the pair did not move them.
    expect(net([...later, ...pair.flat()]).filter(([k]) => k.includes("reversal") || k.includes("fee_kept"))).toEqual(net(later).filter(([k]) => k.includes("reversal") || k.includes("fee_kept")));
  });

  it("a dispute withdrawn and won, after a refund, cancels out too; one that takes back more than is left is over_taken", () => {
    const refunded = postings(moneyBackPostings(paid, [], 4_000, { paid_out_minor: 4_000, stripe_fee_minor: 0 }));
    const won = groups(pendingMovementsPostings(paid, refunded, 4_000, [{ charge_amount_minor: 10_000, paid_out_minor: 10_000, stripe_fee_minor: 1_500 }, { charge_amount_minor: -10_000, paid_out_minor: -10_000, stripe_fee_minor: 0 }]));
    expect(net(won.flat()).filter(([k]) => k.includes("reversal") || k.includes("fee_kept"))).toEqual([]);
    expect(net(won.flat()).find(([k]) => k === "stripe:fees fee")).toEqual(["stripe:fees fee", 1_500]);
    expect(pendingMovementsPostings(paid, refunded, 4_000, [{ charge_amount_minor: 10_000, paid_out_minor: 10_000, stripe_fee_minor: 1_500 }])).toEqual({
      ok: false,
      error: { code: "over_taken", message: "14000 taken back of a charge of 10000: more than was charged, or less than nothing" },
    });
    expect(pendingMovementsPostings(paid, [], 0, [{ charge_amount_minor: -100, paid_out_minor: -100, stripe_fee_minor: 0 }])).toMatchObject({ ok: false, error: { code: "over_taken" } });
  });
});

describe("for any payment and any history of money going back", () => {
  const parsed = (json: unknown) => {
    const r = parseRule(json);
    if (!r.ok) throw new Error("bad rule");
    return r.rule;
  };
  /** A payment split by random rules (proration credits included), as the ledger posts it. */
  const postedArb = fc
    .tuple(
      fc.array(fc.tuple(ruleJsonArb, fc.integer({ min: -20_000, max: 200_000 }), contributorsArb, fc.constantFrom("proportional", "reserve", "commons", "cooperative")), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 0, max: 5_000 }),
      fc.integer({ min: 1, max: 400_000 }),
      fc.integer({ min: 0, max: 30 }),
    )
    .map(([lines, tax, extra, feePer1000]): PostedPayment | null => {
      const weights = [200_001 + extra, ...lines.slice(1).map((l) => l[1])];
      const gross = weights.reduce((a, b) => a + b, 0) + tax;
      const result = splitPayment({
        currency: "eur",
        gross_minor: gross,
        fee_minor: Math.floor((200_001 * feePer1000) / 1000),
        tax_weight_minor: tax,
        lines: lines.map(([rule, , contributors], i) => ({ key: String(i), weight_minor: weights[i] ?? 0, rule: parsed(rule), contributors })),
      });
      if (!result.ok) return null;
      const split = result.value;
      return {
        currency: "eur",
        gross_minor: split.gross_minor,
        charge_amount_minor: split.gross_minor,
        tax_minor: split.tax_minor,
        shipping_minor: split.shipping_minor,
        lines: split.lines.map((line, i) => ({
          parts: Object.entries(line.parts.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.party_id]: (acc[p.party_id] ?? 0) + p.amount_minor }), {})).map(([party_id, amount_minor]) => ({ party_id, amount_minor })),
          gross_minor: line.gross_minor,
          borne_fee_minor: line.basis === "net" && line.gross_minor > 0 ? line.fee_minor : 0,
          fee_policy: (lines[i]?.[3] ?? "proportional") as "proportional",
        })),
        bearers: { reserve: "reserve", commons: "commons" },
      };
    });
  /** Cumulative amounts taken back after each event: up with refunds and withdrawals, down with failures and reinstatements. */
  const historyArb = fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 6 });

  it("balances every transaction, never takes from a party more than the payment gave it, and a whole charge gives back every share exactly", () => {
    fc.assert(
      fc.property(postedArb, historyArb, (payment, steps) => {
        fc.pre(payment !== null);
        const p = payment as PostedPayment;
        const given = new Map<string, number>();
        for (const line of p.lines) for (const part of line.parts) given.set(part.party_id, (given.get(part.party_id) ?? 0) + part.amount_minor);
        const earlier: RolePosting[] = [];
        const path = [...steps.map((s) => Math.floor((p.charge_amount_minor * s) / 1000)), p.charge_amount_minor, 0];
        for (const taken of path) {
          const result = moneyBackPostings(p, earlier, taken, { paid_out_minor: 0, stripe_fee_minor: 0 });
          if (!result.ok) throw new Error(result.error.message);
          expect(result.postings.reduce((a, x) => a + x.amount_minor, 0)).toBe(0);
          earlier.push(...result.postings);
          for (const [party, share] of given) {
            const back = 0 - earlier.filter((x) => x.account === `party:${party}` && x.role === "reversal").reduce((a, x) => a + x.amount_minor, 0);
            expect(Math.abs(back) <= Math.abs(share) && (back === 0 || Math.sign(back) === Math.sign(share))).toBe(true);
            if (taken === p.charge_amount_minor) expect(back).toBe(share);
          }
          if (taken === p.charge_amount_minor) {
            const kept = 0 - earlier.filter((x) => x.role === "fee_kept").reduce((a, x) => a + x.amount_minor, 0);
            expect(kept).toBe(p.lines.reduce((a, l) => a + l.borne_fee_minor, 0));
            expect(0 - earlier.filter((x) => x.account === "tax:collected").reduce((a, x) => a + x.amount_minor, 0)).toBe(p.tax_minor);
          }
        }
        // Everything back, then everything put back: each account is where the payment left it.
        for (const x of new Set(earlier.map((e) => `${e.account} ${e.role}`))) {
          expect(earlier.filter((e) => `${e.account} ${e.role}` === x).reduce((a, e) => a + e.amount_minor, 0)).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
