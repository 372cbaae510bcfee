import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activationDecision,
  activationEffectiveFrom,
  affectedParties,
  approvalRefusal,
  parseDuration,
  parseRule,
  proposalStatus,
  ruleInSentences,
  signatureHeader,
  verifySignature,
  visibleAffected,
  type ProposalFacts,
} from "../../core";

describe("a notice as an ISO 8601 duration", () => {
  it.each([
    ["P7D", 7 * 86_400_000],
    ["P2W", 14 * 86_400_000],
    ["PT3S", 3_000],
    ["PT36H", 36 * 3_600_000],
    ["PT90M", 90 * 60_000],
    ["P1DT12H", 36 * 3_600_000],
    ["P1DT1H1M1S", 90_061_000],
    ["PT1S", 1_000],
    ["P365D", 365 * 86_400_000],
    ["P52W", 364 * 86_400_000],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(["", "P", "PT", "P1DT", "7D", "p7d", "P7d", "P1M", "P1Y", "P1.5D", "P-1D", "PT1,5S", "P1W2D", "PT1S ", " P7D", "P7DT", "P1234567D", "PT3S3S"])("refuses %j as bad_duration", (text) => {
    expect(parseDuration(text)).toMatchObject({ ok: false, code: "bad_duration" });
  });

  it.each(["PT0S", "P0D", "P0W", "P366D", "P53W", "PT8761H"])("refuses %s as out of range (a second to 365 days)", (text) => {
    expect(parseDuration(text)).toMatchObject({ ok: false, code: "duration_out_of_range" });
  });

  it("reads back any days, hours, minutes and seconds it is given, in milliseconds", () => {
    const part = fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, (d, h, m, s) => {
        const time = `${h === undefined ? "" : `${h}H`}${m === undefined ? "" : `${m}M`}${s === undefined ? "" : `${s}S`}`;
        const text = `P${d === undefined ? "" : `${d}D`}${time === "" ? "" : `T${time}`}`;
        const ms = (((d ?? 0) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60_000 + (s ?? 0) * 1_000;
        const parsed = parseDuration(text);
        if (text === "P") return parsed.ok === false && parsed.code === "bad_duration";
        if (ms < 1_000 || ms > 365 * 86_400_000) return parsed.ok === false && parsed.code === "duration_out_of_range";
        return parsed.ok && parsed.ms === ms;
      }),
    );
  });
});

const facts = (over: Partial<ProposalFacts> = {}): ProposalFacts => ({ stored: "open", notice_ends_ms: 1_000, standing_objections: 0, approvals_given: 0, approvals_required: 0, hold_reason: null, ...over });

describe("where a proposal stands", () => {
  it.each<[string, Partial<ProposalFacts>, number, string, string]>([
    ["in its notice", {}, 999, "open", "notice_running"],
    ["at its notice's end", {}, 1_000, "due", "activate"],
    ["objected to in its notice", { standing_objections: 1 }, 999, "held", "notice_running"],
    ["objected to after", { standing_objections: 2 }, 5_000, "held", "objection_stands"],
    ["short of approvals", { approvals_required: 2, approvals_given: 1 }, 5_000, "awaiting_approvals", "approvals_missing"],
    ["objected to and short of approvals", { approvals_required: 2, standing_objections: 1 }, 5_000, "held", "objection_stands"],
    ["approved enough", { approvals_required: 2, approvals_given: 2 }, 5_000, "due", "activate"],
    ["whose rule no longer applies", { hold_reason: "no contributors" }, 5_000, "held", "activate"],
    ["withdrawn", { stored: "withdrawn" }, 5_000, "withdrawn", "closed"],
    ["amended", { stored: "amended", standing_objections: 1 }, 5_000, "amended", "closed"],
    ["activated", { stored: "activated" }, 5_000, "activated", "closed"],
  ])("%s", (_, over, now, status, decision) => {
    expect(proposalStatus(facts(over), now)).toBe(status);
    const decided = activationDecision(facts(over), now);
    expect(decided.activate ? "activate" : decided.why).toBe(decision);
  });

  it("is never activated while an objection stands, its notice runs, or approvals are missing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2_000 }), (objections, given, required, now) => {
        const decided = activationDecision(facts({ standing_objections: objections, approvals_given: given, approvals_required: required }), now);
        return decided.activate === (objections === 0 && given >= required && now >= 1_000);
      }),
    );
  });
});

describe("when a proposal's version takes effect", () => {
  it("never before it is written, its notice's end, the date asked or the previous version; on a whole second", () => {
    const ms = fc.integer({ min: 0, max: 4_000_000_000_000 });
    fc.assert(
      fc.property(ms, ms, fc.option(ms, { nil: null }), ms, (now_ms, notice_ends_ms, requested_ms, previous_ms) => {
        const at = activationEffectiveFrom({ now_ms, notice_ends_ms, requested_ms, previous_ms });
        const latest = Math.max(now_ms, notice_ends_ms, requested_ms ?? 0, previous_ms);
        return at % 1000 === 0 && at >= latest && at < latest + 1000;
      }),
    );
    expect(activationEffectiveFrom({ now_ms: Date.parse("2031-03-12T09:00:03.250Z"), notice_ends_ms: Date.parse("2031-03-12T09:00:01.250Z"), requested_ms: null, previous_ms: 0 })).toBe(Date.parse("2031-03-12T09:00:04.000Z"));
  });
});

describe("who a proposal affects, and who sees it", () => {
  const totals = [
    { party_id: "camille", currency: "eur", now_minor: 5000, proposed_minor: 4667, delta_minor: -333 },
    { party_id: "commons", currency: "eur", now_minor: 1000, proposed_minor: 1000, delta_minor: 0 },
    { party_id: "dominique", currency: "eur", now_minor: 2500, proposed_minor: 2333, delta_minor: -167 },
    { party_id: "reserve", currency: "eur", now_minor: 1500, proposed_minor: 2000, delta_minor: 500 },
    { party_id: "facilitators", currency: "usd", now_minor: 0, proposed_minor: 10, delta_minor: 10 },
  ];
  const kinds = new Map([
    ["camille", "contributor"],
    ["dominique", "contributor"],
    ["commons", "commons"],
    ["reserve", "reserve"],
    ["facilitators", "pool"],
  ]);

  it("affects those whose total moves in some currency", () => {
    expect(affectedParties(totals).map((a) => a.party_id)).toEqual(["camille", "dominique", "reserve", "facilitators"]);
  });

  it("shows a contributor's amounts to admins and viewers and to that contributor; the cooperative's accounts to everyone", () => {
    const affected = affectedParties(totals);
    expect(visibleAffected(affected, kinds, { all: true })).toEqual(affected);
    expect(visibleAffected(affected, kinds, { all: false, party_id: "camille" }).map((a) => a.party_id)).toEqual(["camille", "reserve", "facilitators"]);
    expect(visibleAffected(affected, kinds, { all: false, party_id: null }).map((a) => a.party_id)).toEqual(["reserve", "facilitators"]);
    // A party of unknown kind (deleted since) counts as a contributor: not shown.
    expect(visibleAffected(affected, new Map(), { all: false, party_id: null })).toEqual([]);
  });

  it("refuses an approval by anyone who proposed in the thread", () => {
    expect(approvalRefusal("token:a", ["token:a"])).toBe("own_proposal");
    expect(approvalRefusal("token:a", ["token:b", "token:a"])).toBe("own_proposal");
    expect(approvalRefusal("bootstrap", ["token:a", "token:b"])).toBeNull();
  });
});

describe("a rule in plain words", () => {
  it("says every line in order, with fixed amounts, caps, groups, pools, a fallback, the rounding, the fees and the hold", () => {
    const parsed = parseRule({
      basis: "gross",
      lines: [
        { to: "host", share: { fixed: { eur: 500, jpy: 80 } }, label: "the room" },
        { to: "commons", share: "12.5%", max: { eur: 100000 } },
        { to: { group: [{ to: "reserve", share: "1/3" }, { to: { pool: "facilitators" }, share: "remaining" }] }, share: "20%" },
        { to: "contributors", share: "remaining", fallback: "reserve" },
      ],
      residual_to: "commons",
      fee_policy: "cooperative",
      hold_days: 1,
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(ruleInSentences(parsed.rule)).toEqual([
      "Splits the gross amount: what the customer paid, less tax and shipping; the cooperative covers Stripe's fee.",
      "A fixed 5.00 eur or 80 jpy to host (“the room”).",
      "12.5% to commons, at most 1000.00 eur a payment (the excess to what is left).",
      "20% to a group that splits it again: 1/3 to reserve; what is left to the need pool facilitators, shared by declared need when its period closes.",
      "What is left to the offer's contributors, by weight (to reserve when the offer has none).",
      "Percentages and fractions apply to what the fixed amounts leave.",
      "Rounding: every part rounded down, and commons takes the cents left over.",
      "When money goes back, the fees Stripe keeps are borne by the cooperative's own funds.",
      "Shares are held 1 day before they can be paid out.",
    ]);
  });
});

describe("outgoing webhook signatures", () => {
  it("are Stripe's scheme: t=<seconds>,v1=<hex HMAC-SHA256 of `t.body`>, as Node's own HMAC computes it", async () => {
    const body = '{"id":"evt_1","type":"proposal.created"}';
    const header = await signatureHeader("whsec_test", body, 1_931_072_400);
    expect(header).toBe(`t=1931072400,v1=${createHmac("sha256", "whsec_test").update(`1931072400.${body}`).digest("hex")}`);
  });

  it("verify for the exact body, secret and a timestamp within 300 s, and for nothing else", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: -400, max: 400 }), async (body, secret, t, skew) => {
        const header = await signatureHeader(secret, body, t);
        const check = await verifySignature(header, body, secret, t + skew);
        if (Math.abs(skew) > 300) return !check.ok && check.reason === "too_old";
        if (!check.ok) return false;
        const tampered = await verifySignature(header, `${body}x`, secret, t);
        const otherSecret = await verifySignature(header, body, `${secret}x`, t);
        return !tampered.ok && tampered.reason === "mismatch" && !otherSecret.ok;
      }),
      { numRuns: 50 },
    );
    expect(await verifySignature("v1=abc", "{}", "s", 0)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifySignature("t=abc,v1=abc", "{}", "s", 0)).toEqual({ ok: false, reason: "malformed" });
  });
});
