// fast-check arbitraries shared by the property tests: valid rules (as admin JSON), amounts,
// contributor pools. Valid means checkRule accepts them with every currency below.
import fc from "fast-check";
import type { LineJson, RuleJson } from "../../core";

export const PARTIES = ["commons", "reserve", "alice", "bob", "carol"] as const;
export const CURRENCIES = ["eur", "jpy", "bhd"] as const;

/** Every share of a level is a multiple of 1/30000, so percentages and fractions can mix. */
const GRID = 30_000;

const amountsByCurrency = (max: number) =>
  fc.record({ eur: fc.nat({ max }), jpy: fc.nat({ max }), bhd: fc.nat({ max }) });

/** n/30000 as "n/30000", or as a percentage with two decimals when it is one ("12.50%"). */
function renderShare(numerator: number, asPercentage: boolean): string {
  if (!asPercentage || numerator % 3 !== 0) return `${numerator}/${GRID}`;
  const basisPoints = numerator / 3;
  const whole = Math.floor(basisPoints / 100);
  return `${whole}.${String(basisPoints % 100).padStart(2, "0")}%`;
}

/** Shares of a level as numerators of the grid: the gaps between sorted cut points. */
function numerators(g: fc.GeneratorValue, count: number, whole: boolean): number[] {
  const cuts = Array.from({ length: count }, () => g(fc.integer, { min: 0, max: GRID })).sort((a, b) => a - b);
  if (whole && cuts.length > 0) cuts[cuts.length - 1] = GRID;
  return cuts.map((cut, index) => cut - (index === 0 ? 0 : (cuts[index - 1] ?? 0)));
}

function recipient(g: fc.GeneratorValue, depth: number): Pick<LineJson, "to" | "fallback"> {
  const kinds = depth < 4 ? ["party", "party", "party", "contributors", "group"] : ["party", "party", "contributors"];
  const kind = g(fc.constantFrom, ...kinds);
  if (kind === "group") return { to: { group: level(g, depth + 1) } };
  // Contributors lines always have a fallback, so any pool (even empty) can be applied.
  if (kind === "contributors") return { to: "contributors", fallback: g(fc.constantFrom, ...PARTIES) };
  return { to: g(fc.constantFrom, ...PARTIES) };
}

function level(g: fc.GeneratorValue, depth: number): LineJson[] {
  const hasRemaining = g(fc.boolean);
  const maxLines = [5, 4, 3, 2][depth - 1] ?? 2;
  const proportional = g(fc.integer, { min: hasRemaining ? 0 : 1, max: maxLines });
  const fixed = g(fc.integer, { min: 0, max: 2 });
  const lines: LineJson[] = numerators(g, proportional, !hasRemaining).map((numerator) => ({
    ...recipient(g, depth),
    share: renderShare(numerator, g(fc.boolean)),
    ...(hasRemaining && g(fc.boolean) ? { max: g(amountsByCurrency, 5_000_000) } : {}),
  }));
  for (let i = 0; i < fixed; i += 1) lines.push({ ...recipient(g, depth), share: { fixed: g(amountsByCurrency, 1_000_000) } });
  if (hasRemaining) lines.push({ ...recipient(g, depth), share: "remaining" });
  return g(fc.shuffledSubarray, lines, { minLength: lines.length, maxLength: lines.length });
}

/** Valid rules with nested groups, fixed amounts, fractions, percentages, caps, residual_to. */
export const ruleJsonArb: fc.Arbitrary<RuleJson> = fc.gen().map((g) => {
  const rule: RuleJson = { basis: g(fc.constantFrom, "net", "gross"), lines: level(g, 1) };
  if (g(fc.boolean)) rule.residual_to = g(fc.constantFrom, ...PARTIES);
  return rule;
});

/** Amounts in minor units: the edges, small ones and large ones (up to 1e12). */
export const amountArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 7, 99, 100, 101, 10_001),
  fc.nat({ max: 10_000 }),
  fc.integer({ min: 0, max: 1_000_000_000_000 }),
);

/** An offer's contributors: possibly none, possibly all at weight 0, repeated ids allowed. */
export const contributorsArb = fc.array(
  fc.record({ party_id: fc.constantFrom(...PARTIES, "dan"), weight: fc.nat({ max: 1000 }) }),
  { maxLength: 5 },
);

export const currencyArb = fc.constantFrom(...CURRENCIES);
