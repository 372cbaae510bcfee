// core/statement.ts: periods of whole UTC days, the cause of each posting on a party's account,
// and statements whose opening plus lines is the closing, for every ledger.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildStatement, InvariantError, MAX_PERIOD_DAYS, periodOf, statementCause, type StatementBalance, type StatementCredit, type StatementPosting } from "../../core";

describe("a period", () => {
  it("runs from the start of `from` to the end of `to`, in UTC", () => {
    expect(periodOf("2026-03-01", "2026-03-31")).toEqual({ ok: true, period: { from: "2026-03-01", to: "2026-03-31", from_ms: Date.parse("2026-03-01T00:00:00Z"), until_ms: Date.parse("2026-04-01T00:00:00Z") } });
    expect(periodOf("2026-03-10", "2026-03-10")).toMatchObject({ ok: true, period: { from_ms: Date.parse("2026-03-10T00:00:00Z"), until_ms: Date.parse("2026-03-11T00:00:00Z") } });
  });

  it("knows leap days and the years before 100", () => {
    expect(periodOf("2028-02-29", "2028-02-29").ok).toBe(true);
    expect(periodOf("0042-01-01", "0042-01-01")).toMatchObject({ ok: true, period: { from_ms: Date.parse("0042-01-01T00:00:00Z") } });
  });

  it("refuses what is not a day, naming the field and saying why", () => {
    for (const bad of ["2027-02-29", "2026-13-01", "2026-04-31", "2026-1-1", "", "2026-03-01T00:00:00Z", "01/03/2026"]) {
      expect(periodOf(bad, "2026-03-31")).toEqual({ ok: false, errors: [{ code: "bad_date", path: "from", message: `${JSON.stringify(bad)} is not a day written YYYY-MM-DD` }] });
    }
    expect(periodOf("x", "y")).toMatchObject({ ok: false, errors: [{ path: "from" }, { path: "to" }] });
  });

  it("ends on or after the day it starts, and lasts at most a leap year", () => {
    expect(periodOf("2026-03-02", "2026-03-01")).toEqual({ ok: false, errors: [{ code: "from_after_to", path: "to", message: "2026-03-01 is before 2026-03-02: the period ends on or after the day it starts" }] });
    expect(MAX_PERIOD_DAYS).toBe(366);
    expect(periodOf("2028-01-01", "2028-12-31").ok).toBe(true);
    expect(periodOf("2026-01-01", "2027-01-01").ok).toBe(true);
    expect(periodOf("2026-01-01", "2027-01-02")).toMatchObject({ ok: false, errors: [{ code: "period_too_long", path: "to" }] });
  });
});

describe("the cause of a posting on a party's account", () => {
  it("is the payment for a share, the movement for a reversal, the fee for a fee, the payout for a payout", () => {
    expect(
      [
        ["payment", "share"],
        ["refund", "reversal"],
        ["refund_failed", "reversal"],
        ["dispute_withdrawn", "reversal"],
        ["dispute_reinstated", "reversal"],
        ["refund", "fee_kept"],
        ["dispute_withdrawn", "fee_kept"],
        ["dispute_withdrawn", "dispute_fee"],
        ["payout", "payout"],
        ["payout_manual", "payout"],
      ].map(([kind, role]) => statementCause(kind as string, role as string)),
    ).toEqual(["payment", "refund", "refund_failed", "dispute_withdrawn", "dispute_reinstated", "fee_kept", "fee_kept", "dispute_fee", "payout", "payout_manual"]);
  });

  it("is a broken ledger for a role that never lands on a party's account, a share outside a payment, or no role", () => {
    for (const [kind, role] of [["payment", "customer"], ["payment", "fee_absorbed"], ["refund", "fx"], ["refund", "share"], ["payment", "reversal"], ["refund", "payout"], ["payment", "bonus"], ["payment", null]] as const) {
      expect(() => statementCause(kind, role), `${kind}/${role}`).toThrow(InvariantError);
    }
  });
});

const posting = (p: Partial<StatementPosting> & Pick<StatementPosting, "posting_id" | "amount_minor" | "at_ms">): StatementPosting => ({
  transaction_id: `txn_${p.posting_id}`,
  kind: "payment",
  role: "share",
  currency: "eur",
  stripe_object: null,
  payment_id: null,
  description: "",
  ...p,
});

const credit = (c: Partial<StatementCredit> & Pick<StatementCredit, "payment_id" | "line_no" | "amount_minor">): StatementCredit => ({ offer_id: `offer_${c.line_no}`, offer_name: null, contributor_role: null, rule_id: "default", rule_version: 1, ...c });

describe("a statement", () => {
  it("turns a share into one line per payment line that gave something, and keeps a running balance to the closing", () => {
    const statements = buildStatement({
      balances: [{ currency: "eur", opening_minor: 4_913, closing_minor: 4_913 + 17_325 - 1_228 - 22 - 10_000 }],
      postings: [
        posting({ posting_id: 10, amount_minor: 17_325, at_ms: 100, payment_id: "pi_b", stripe_object: "pi_b" }),
        posting({ posting_id: 20, amount_minor: -1_228, at_ms: 200, kind: "refund", role: "reversal", payment_id: "pi_a", stripe_object: "re_1" }),
        posting({ posting_id: 21, amount_minor: -22, at_ms: 200, kind: "refund", role: "fee_kept", payment_id: "pi_a", stripe_object: "re_1" }),
        posting({ posting_id: 30, amount_minor: -10_000, at_ms: 300, kind: "payout", role: "payout", stripe_object: "tr_1" }),
      ],
      credits: [
        credit({ payment_id: "pi_b", line_no: 1, amount_minor: 7_425, offer_id: "workshop", contributor_role: "author" }),
        credit({ payment_id: "pi_b", line_no: 0, amount_minor: 9_900, offer_id: "training-intro", contributor_role: "facilitator" }),
        credit({ payment_id: "pi_b", line_no: 2, amount_minor: 0, offer_id: "nothing-for-her" }),
      ],
    });
    expect(statements).toHaveLength(1);
    const [eur] = statements;
    expect(eur?.lines.map((l) => [l.cause, l.amount_minor, l.balance_minor, l.payment_line_no, l.offer_id, l.contributor_role, l.stripe_object])).toEqual([
      ["payment", 9_900, 14_813, 0, "training-intro", "facilitator", "pi_b"],
      ["payment", 7_425, 22_238, 1, "workshop", "author", "pi_b"],
      ["refund", -1_228, 21_010, null, null, null, "re_1"],
      ["fee_kept", -22, 20_988, null, null, null, "re_1"],
      ["payout", -10_000, 10_988, null, null, null, "tr_1"],
    ]);
    expect(eur).toMatchObject({ currency: "eur", opening_balance_minor: 4_913, closing_balance_minor: 10_988 });
  });

  it("keeps a share as one line when its payment's lines kept no parts (posted before they did)", () => {
    const [eur] = buildStatement({ balances: [{ currency: "eur", opening_minor: 0, closing_minor: 500 }], postings: [posting({ posting_id: 1, amount_minor: 500, at_ms: 1, payment_id: "pi_old" })], credits: [] });
    expect(eur?.lines).toMatchObject([{ cause: "payment", amount_minor: 500, offer_id: null, payment_line_no: null }]);
  });

  it("refuses, as a broken ledger, a closing that is not the opening plus the lines", () => {
    const input = { balances: [{ currency: "eur", opening_minor: 100, closing_minor: 250 }], postings: [posting({ posting_id: 1, amount_minor: 100, at_ms: 1 })], credits: [] };
    expect(() => buildStatement(input)).toThrow(/eur: opening 100 plus the lines is 200, not the closing 250/);
    // Even with nothing in the period.
    expect(() => buildStatement({ balances: [{ currency: "eur", opening_minor: 0, closing_minor: 5 }], postings: [], credits: [] })).toThrow(InvariantError);
  });

  it("refuses payment lines that do not sum to the share posted, postings out of order, and a posting in a currency without a balance", () => {
    const balances = [{ currency: "eur", opening_minor: 0, closing_minor: 300 }];
    expect(() => buildStatement({ balances, postings: [posting({ posting_id: 1, amount_minor: 300, at_ms: 1, payment_id: "pi_1" })], credits: [credit({ payment_id: "pi_1", line_no: 0, amount_minor: 299 })] })).toThrow(/pi_1: its lines gave 299, but the share posted is 300/);
    expect(() => buildStatement({ balances, postings: [posting({ posting_id: 2, amount_minor: 100, at_ms: 2 }), posting({ posting_id: 1, amount_minor: 200, at_ms: 1 })], credits: [] })).toThrow(/order/);
    expect(() => buildStatement({ balances, postings: [posting({ posting_id: 1, amount_minor: 300, at_ms: 1, currency: "usd" })], credits: [] })).toThrow(/usd/);
  });

  it("leaves out a currency with nothing at the start and nothing in the period, and orders the others by code", () => {
    const statements = buildStatement({
      balances: [
        { currency: "usd", opening_minor: 0, closing_minor: 0 },
        { currency: "jpy", opening_minor: 0, closing_minor: 450 },
        { currency: "eur", opening_minor: 12, closing_minor: 12 },
      ],
      postings: [posting({ posting_id: 1, amount_minor: 450, at_ms: 1, currency: "jpy" })],
      credits: [],
    });
    expect(statements.map((s) => [s.currency, s.opening_balance_minor, s.lines.length, s.closing_balance_minor])).toEqual([
      ["eur", 12, 0, 12],
      ["jpy", 0, 1, 450],
    ]);
  });
});

/** A random ledger of one party: postings at random times in two currencies, shares split over random payment lines. */
const ledger = fc
  .array(
    fc.record({
      at_ms: fc.integer({ min: 0, max: 1_000 }),
      currency: fc.constantFrom("eur", "jpy"),
      kind_role: fc.constantFrom(["payment", "share"], ["refund", "reversal"], ["refund", "fee_kept"], ["dispute_withdrawn", "reversal"], ["dispute_withdrawn", "dispute_fee"], ["dispute_reinstated", "reversal"], ["payout", "payout"], ["payout_manual", "payout"]),
      lines: fc.array(fc.integer({ min: -50_000, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
    }),
    { maxLength: 40 },
  )
  .map((entries) =>
    entries
      .map((e, i) => {
        const [kind, role] = e.kind_role as [string, string];
        // + 0: a ledger's integers have no negative zero, which -1 × 0 would be.
        const amount_minor = kind === "payment" ? e.lines.reduce((a, b) => a + b, 0) : (role === "reversal" && kind === "dispute_reinstated" ? 1 : -1) * Math.abs(e.lines[0] ?? 0) + 0;
        return { posting: posting({ posting_id: i + 1, at_ms: e.at_ms, currency: e.currency, kind, role, amount_minor, payment_id: `pi_${i}` }), parts: kind === "payment" ? e.lines : [] };
      })
      .sort((a, b) => a.posting.at_ms - b.posting.at_ms || a.posting.posting_id - b.posting.posting_id),
  );

/** What the database answers for [from_ms, until_ms): the balances summed apart, the postings in the period, their payments' lines. */
function read(entries: { posting: StatementPosting; parts: number[] }[], from_ms: number, until_ms: number) {
  const before = (limit: number, currency: string) => entries.filter((e) => e.posting.at_ms < limit && e.posting.currency === currency).reduce((a, e) => a + e.posting.amount_minor, 0);
  const currencies = [...new Set(entries.filter((e) => e.posting.at_ms < until_ms).map((e) => e.posting.currency))];
  const balances: StatementBalance[] = currencies.map((currency) => ({ currency, opening_minor: before(from_ms, currency), closing_minor: before(until_ms, currency) }));
  const inPeriod = entries.filter((e) => e.posting.at_ms >= from_ms && e.posting.at_ms < until_ms);
  const credits = inPeriod.flatMap((e) => e.parts.map((amount_minor, line_no) => credit({ payment_id: e.posting.payment_id ?? "", line_no, amount_minor })));
  return { balances, postings: inPeriod.map((e) => e.posting), credits };
}

describe("for every ledger and every period", () => {
  it("opening plus the lines is the closing, each share's lines sum to it, and consecutive periods chain", () => {
    fc.assert(
      fc.property(ledger, fc.integer({ min: 0, max: 1_001 }), fc.integer({ min: 0, max: 1_001 }), fc.integer({ min: 0, max: 1_001 }), (entries, x, y, z) => {
        const [a, b, c] = [x, y, z].sort((p, q) => p - q) as [number, number, number];
        const first = buildStatement(read(entries, a, b));
        const second = buildStatement(read(entries, b, c));
        for (const s of [...first, ...second]) {
          expect(s.opening_balance_minor + s.lines.reduce((acc, l) => acc + l.amount_minor, 0)).toBe(s.closing_balance_minor);
          expect(s.lines.at(-1)?.balance_minor ?? s.opening_balance_minor).toBe(s.closing_balance_minor);
        }
        // Each posting of the period is its lines' sum; no line comes from nowhere.
        const byTransaction = new Map<string, number>();
        for (const l of first.flatMap((s) => s.lines)) byTransaction.set(l.transaction_id, (byTransaction.get(l.transaction_id) ?? 0) + l.amount_minor);
        const posted = read(entries, a, b).postings;
        expect(Object.fromEntries(byTransaction)).toEqual(Object.fromEntries(posted.map((p) => [p.transaction_id, p.amount_minor])));
        // The end of one period is the start of the next.
        for (const s of second) {
          const before = first.find((f) => f.currency === s.currency);
          expect(s.opening_balance_minor).toBe(before?.closing_balance_minor ?? 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a posting dropped from what was read breaks the statement loudly, never silently", () => {
    fc.assert(
      fc.property(ledger.filter((entries) => entries.some((e) => e.posting.amount_minor !== 0)), (entries) => {
        const all = read(entries, 0, 1_001);
        const dropped = all.postings.findIndex((p) => p.amount_minor !== 0);
        expect(() => buildStatement({ ...all, postings: all.postings.filter((_, i) => i !== dropped) })).toThrow(InvariantError);
      }),
      { numRuns: 100 },
    );
  });
});
