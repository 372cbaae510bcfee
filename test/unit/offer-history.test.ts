import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { listedFrom, offerOfLine, offerVersionAt, type PriceListing } from "../../core";

const versions = [
  { version: 1, effective_from_ms: 1_000 },
  { version: 2, effective_from_ms: 5_000 },
  { version: 3, effective_from_ms: 9_000 },
];

describe("offerVersionAt: the version a payment made at a time is resolved with", () => {
  it("is the last version in force then, from its effective_from on", () => {
    expect(offerVersionAt(versions, 4_999)?.version).toBe(1);
    expect(offerVersionAt(versions, 5_000)?.version).toBe(2);
    expect(offerVersionAt(versions, 100_000)?.version).toBe(3);
  });

  it("is the first version for a payment made before the offer was written down", () => {
    expect(offerVersionAt(versions, 0)?.version).toBe(1);
    expect(offerVersionAt([], 0)).toBeUndefined();
  });

  it("skips a version superseded the second it began", () => {
    expect(offerVersionAt([...versions, { version: 4, effective_from_ms: 9_000 }], 9_000)?.version).toBe(4);
  });
});

describe("offerOfLine: the offer a line belongs to", () => {
  // price_x: offer a until 5000, nobody until 8000, offer b from then on.
  const listings: PriceListing[] = [
    { offer_id: "b", from_ms: 8_000, until_ms: null },
    { offer_id: "a", from_ms: 1_000, until_ms: 5_000 },
  ];

  it("is the offer that listed the price when the payment was made, whatever offer the payment names", () => {
    expect(offerOfLine(listings, null, 1_000)).toBe("a");
    expect(offerOfLine(listings, "named", 4_999)).toBe("a");
    expect(offerOfLine(listings, "named", 8_000)).toBe("b");
  });

  it("is the offer the payment names when no offer listed the price then", () => {
    expect(offerOfLine(listings, "named", 5_000)).toBe("named");
    expect(offerOfLine([], "named", 5_000)).toBe("named");
  });

  it("is otherwise the first offer to list the price afterwards, and null when none ever did", () => {
    expect(offerOfLine(listings, null, 5_000)).toBe("b");
    expect(offerOfLine(listings, null, 0)).toBe("a");
    expect(offerOfLine([], null, 5_000)).toBeNull();
  });

  it("ignores a listing superseded the moment it began", () => {
    expect(offerOfLine([{ offer_id: "never", from_ms: 3_000, until_ms: 3_000 }, ...listings], null, 2_000)).toBe("a");
    expect(offerOfLine([{ offer_id: "never", from_ms: 6_000, until_ms: 6_000 }, ...listings], null, 5_500)).toBe("b");
  });

  it("agrees with a timeline of who held the price, second by second", () => {
    // A timeline of 0-20 segments, each held by one of three offers or by nobody, one price at a time.
    const timeline = fc.array(fc.record({ holder: fc.constantFrom("a", "b", "c", null), length_s: fc.integer({ min: 1, max: 5 }) }), { maxLength: 20 });
    fc.assert(
      fc.property(timeline, fc.integer({ min: 0, max: 110 }), fc.constantFrom("named", null), (segments, at_s, named) => {
        const listings: PriceListing[] = [];
        const holderAt = new Map<number, string | null>();
        let start_s = 0;
        for (const s of segments) {
          if (s.holder !== null) listings.push({ offer_id: s.holder, from_ms: start_s * 1000, until_ms: (start_s + s.length_s) * 1000 });
          for (let t = start_s; t < start_s + s.length_s; t++) holderAt.set(t, s.holder);
          start_s += s.length_s;
        }
        // The holder of the last segment, if any, keeps the price for ever (its latest version).
        const last = listings.at(-1);
        const keeper = last && last.until_ms === start_s * 1000 ? last.offer_id : null;
        if (last && keeper !== null) listings[listings.length - 1] = { ...last, until_ms: null };
        const held = at_s >= start_s ? keeper : (holderAt.get(at_s) ?? null);
        const later = [...holderAt].filter(([t, h]) => t > at_s && h !== null).sort(([x], [y]) => x - y)[0]?.[1] ?? null;
        expect(offerOfLine(listings, named, at_s * 1000)).toBe(held ?? named ?? later);
      }),
      { numRuns: 500 },
    );
  });
});

describe("listedFrom: who holds a price at a time or later", () => {
  it("keeps the listings not over by then, earliest first", () => {
    const listings: PriceListing[] = [
      { offer_id: "c", from_ms: 9_000, until_ms: null },
      { offer_id: "a", from_ms: 1_000, until_ms: 5_000 },
      { offer_id: "b", from_ms: 5_000, until_ms: 9_000 },
    ];
    expect(listedFrom(listings, 5_000).map((l) => l.offer_id)).toEqual(["b", "c"]);
    expect(listedFrom(listings, 4_999).map((l) => l.offer_id)).toEqual(["a", "b", "c"]);
    expect(listedFrom(listings, 50_000).map((l) => l.offer_id)).toEqual(["c"]);
  });
});
