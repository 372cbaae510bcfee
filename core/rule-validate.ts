import { checkRule, type RuleContext } from "./rule-check";
import { parseRule } from "./rule-parse";
import type { Rule, RuleError } from "./rule-types";

export type ValidateRuleResult = { readonly ok: true; readonly rule: Rule } | { readonly ok: false; readonly errors: RuleError[] };

/** What an admin API does on save: parse the JSON, then check it against the context. */
export function validateRule(input: unknown, ctx: RuleContext): ValidateRuleResult {
  const parsed = parseRule(input);
  if (!parsed.ok) return parsed;
  const checked = checkRule(parsed.rule, ctx);
  return checked.ok ? parsed : { ok: false, errors: checked.errors };
}
