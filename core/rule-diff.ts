/**
 * What changed between two versions of a rule, line by line, for people deciding by
 * consent. Lines are matched by whom they pay (a party, a pool, `contributors`, or the n-th group
 * of their level), not by position, so inserting a line shows one addition rather than
 * every later line "changed".
 */
import type { LineJson, RuleJson } from "./rule-types";

export type RuleChange =
  | { readonly change: "added"; readonly path: string; readonly to: unknown }
  | { readonly change: "removed"; readonly path: string; readonly from: unknown }
  | { readonly change: "changed"; readonly path: string; readonly from: unknown; readonly to: unknown }
  | { readonly change: "moved"; readonly path: string; readonly from: number; readonly to: number };

const LINE_FIELDS = ["share", "max", "fallback", "label"] as const;

/** `to:commons#0`, `group#1`: whom the line pays, and which of the lines paying them. */
function lineKeys(lines: readonly LineJson[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((line) => {
    const base = typeof line.to === "string" ? `to:${line.to}` : "pool" in line.to ? `pool:${line.to.pool}` : "group";
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return `${base}#${n}`;
  });
}

function describe(line: LineJson): string {
  return typeof line.to === "string" ? line.to : "pool" in line.to ? `pool ${line.to.pool}` : "group";
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function diffLines(before: readonly LineJson[], after: readonly LineJson[], at: string, out: RuleChange[]): void {
  const beforeKeys = lineKeys(before);
  const afterKeys = lineKeys(after);
  beforeKeys.forEach((key, i) => {
    const j = afterKeys.indexOf(key);
    const old = before[i] as LineJson;
    if (j < 0) {
      out.push({ change: "removed", path: `${at}[${i}] (${describe(old)})`, from: old });
      return;
    }
    const now = after[j] as LineJson;
    const path = `${at}[${j}] (${describe(now)})`;
    if (i !== j) out.push({ change: "moved", path, from: i, to: j });
    for (const field of LINE_FIELDS) {
      if (!same(old[field], now[field])) out.push({ change: "changed", path: `${path}.${field}`, from: old[field] ?? null, to: now[field] ?? null });
    }
    if (typeof old.to !== "string" && typeof now.to !== "string" && "group" in old.to && "group" in now.to) diffLines(old.to.group, now.to.group, `${path}.to.group`, out);
  });
  afterKeys.forEach((key, j) => {
    if (!beforeKeys.includes(key)) out.push({ change: "added", path: `${at}[${j}] (${describe(after[j] as LineJson)})`, to: after[j] });
  });
}

export function diffRules(before: RuleJson, after: RuleJson): RuleChange[] {
  const out: RuleChange[] = [];
  if (before.basis !== after.basis) out.push({ change: "changed", path: "basis", from: before.basis, to: after.basis });
  if (before.residual_to !== after.residual_to) out.push({ change: "changed", path: "residual_to", from: before.residual_to ?? null, to: after.residual_to ?? null });
  if (before.hold_days !== after.hold_days) out.push({ change: "changed", path: "hold_days", from: before.hold_days ?? null, to: after.hold_days ?? null });
  if ((before.fee_policy ?? "proportional") !== (after.fee_policy ?? "proportional")) out.push({ change: "changed", path: "fee_policy", from: before.fee_policy ?? "proportional", to: after.fee_policy ?? "proportional" });
  diffLines(before.lines, after.lines, "lines", out);
  return out;
}
