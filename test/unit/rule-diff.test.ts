import { describe, expect, it } from "vitest";
import { diffRules, type RuleJson } from "../../core";

const base: RuleJson = {
  basis: "net",
  lines: [
    { to: "commons", share: "10%" },
    { to: "reserve", share: "15%" },
    { to: "contributors", share: "remaining" },
  ],
};

describe("diffRules", () => {
  it("finds no change between a rule and itself", () => {
    expect(diffRules(base, structuredClone(base))).toEqual([]);
  });

  it("shows an inserted line as one addition, not every later line changed", () => {
    const after: RuleJson = { ...base, lines: [{ to: "ateliers", share: "5%" }, ...base.lines] };
    const changes = diffRules(base, after);
    expect(changes.filter((c) => c.change === "added")).toEqual([{ change: "added", path: "lines[0] (ateliers)", to: { to: "ateliers", share: "5%" } }]);
    expect(changes.filter((c) => c.change === "changed")).toEqual([]);
  });

  it("names removed lines, changed shares and caps, and the basis", () => {
    const after: RuleJson = { basis: "gross", residual_to: "reserve", lines: [{ to: "commons", share: "12%", max: { eur: 1000 } }, { to: "contributors", share: "remaining" }] };
    expect(diffRules(base, after)).toEqual([
      { change: "changed", path: "basis", from: "net", to: "gross" },
      { change: "changed", path: "residual_to", from: null, to: "reserve" },
      { change: "changed", path: "lines[0] (commons).share", from: "10%", to: "12%" },
      { change: "changed", path: "lines[0] (commons).max", from: null, to: { eur: 1000 } },
      { change: "removed", path: "lines[1] (reserve)", from: { to: "reserve", share: "15%" } },
      { change: "moved", path: "lines[1] (contributors)", from: 2, to: 1 },
    ]);
  });

  it("goes into groups, matching lines paid to the same party by their order", () => {
    const grouped = (facilitators: string): RuleJson => ({
      basis: "net",
      lines: [
        { to: "commons", share: "25%" },
        { to: { group: [{ to: "camille", share: facilitators }, { to: "dominique", share: "remaining" }] }, share: "remaining" },
      ],
    });
    expect(diffRules(grouped("2/3"), grouped("1/2"))).toEqual([{ change: "changed", path: "lines[1] (group).to.group[0] (camille).share", from: "2/3", to: "1/2" }]);
  });
});
