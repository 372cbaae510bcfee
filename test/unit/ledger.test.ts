import { describe, expect, it } from "vitest";
import { assertBalanced, checkTransactions, InvariantError, parseRule, paymentPostings, splitPayment, type PaymentSplit } from "../../core";

function split(basis: "net" | "gross", gross_minor: number, fee_minor: number): PaymentSplit {
  const parsed = parseRule({ basis, lines: [{ to: "commons", share: "10%" }, { to: "alice", share: "remaining" }] });
  if (!parsed.ok) throw new Error("bad test rule");
  const result = splitPayment({ currency: "eur", gross_minor, fee_minor, lines: [{ key: "li", weight_minor: 1, rule: parsed.rule, contributors: [] }] });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe("payment postings", () => {
  it("take the gross from customers, give Stripe its fee and each party its share (basis net)", () => {
    expect(paymentPostings(split("net", 10000, 300))).toEqual([
      { account: "stripe:customers", amount_minor: -10000, currency: "eur", role: "customer" },
      { account: "stripe:fees", amount_minor: 300, currency: "eur", role: "fee" },
      { account: "party:commons", amount_minor: 970, currency: "eur", role: "share" },
      { account: "party:alice", amount_minor: 8730, currency: "eur", role: "share" },
    ]);
  });

  it("let the cooperative absorb the fee when the parties share the gross (basis gross)", () => {
    expect(paymentPostings(split("gross", 10000, 300))).toEqual([
      { account: "stripe:customers", amount_minor: -10000, currency: "eur", role: "customer" },
      { account: "stripe:fees", amount_minor: 300, currency: "eur", role: "fee" },
      { account: "party:commons", amount_minor: 1000, currency: "eur", role: "share" },
      { account: "party:alice", amount_minor: 9000, currency: "eur", role: "share" },
      { account: "coop:fee_absorbed", amount_minor: -300, currency: "eur", role: "fee_absorbed" },
    ]);
  });

  it("leave out postings of 0: no fee posting without a fee, no posting for a share of 0", () => {
    // 10% of 4 is 0.4: commons gets 0 and has no posting; alice's 3.6 takes the leftover unit.
    expect(paymentPostings(split("gross", 4, 0))).toEqual([
      { account: "stripe:customers", amount_minor: -4, currency: "eur", role: "customer" },
      { account: "party:alice", amount_minor: 4, currency: "eur", role: "share" },
    ]);
    expect(paymentPostings(split("net", 0, 0))).toEqual([]);
  });
});

describe("balance checks", () => {
  it("accept postings that sum to zero in each currency", () => {
    expect(() =>
      assertBalanced([
        { account: "a", amount_minor: 5, currency: "eur" },
        { account: "b", amount_minor: -5, currency: "eur" },
        { account: "a", amount_minor: 7, currency: "jpy" },
        { account: "b", amount_minor: -7, currency: "jpy" },
      ]),
    ).not.toThrow();
  });

  it("refuse postings that only balance across currencies, or are not integers", () => {
    expect(() => assertBalanced([{ account: "a", amount_minor: 5, currency: "eur" }, { account: "b", amount_minor: -5, currency: "usd" }])).toThrow(InvariantError);
    expect(() => assertBalanced([{ account: "a", amount_minor: 0.5, currency: "eur" }, { account: "b", amount_minor: -0.5, currency: "eur" }])).toThrow(InvariantError);
  });

  it("report every unbalanced transaction and malformed posting of a ledger", () => {
    const report = checkTransactions([
      { id: "tx_ok", postings: [{ account: "a", amount_minor: 5, currency: "eur" }, { account: "b", amount_minor: -5, currency: "eur" }] },
      { id: "tx_off", postings: [{ account: "a", amount_minor: 5, currency: "eur" }, { account: "b", amount_minor: -4, currency: "eur" }, { account: "c", amount_minor: 3, currency: "jpy" }] },
      { id: "tx_bad", postings: [{ account: "a", amount_minor: 1.5, currency: "eur" }] },
    ]);
    expect(report).toEqual({
      ok: false,
      transactions: 3,
      postings: 6,
      imbalances: [
        { transaction_id: "tx_off", currency: "eur", sum_minor: 1 },
        { transaction_id: "tx_off", currency: "jpy", sum_minor: 3 },
      ],
      malformed: [{ transaction_id: "tx_bad", index: 0, reason: "amount 1.5 is not a safe integer" }],
    });
    expect(checkTransactions([])).toEqual({ ok: true, transactions: 0, postings: 0, imbalances: [], malformed: [] });
  });

  it("sum in bigint, so amounts near 2^53 do not lose units", () => {
    const max = Number.MAX_SAFE_INTEGER;
    const report = checkTransactions([{ id: "tx", postings: [{ account: "a", amount_minor: max, currency: "eur" }, { account: "b", amount_minor: max, currency: "eur" }, { account: "c", amount_minor: -max, currency: "eur" }, { account: "d", amount_minor: -max + 1, currency: "eur" }] }]);
    expect(report.imbalances).toEqual([{ transaction_id: "tx", currency: "eur", sum_minor: 1 }]);
  });
});
