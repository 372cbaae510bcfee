/** The rule language: types, structural parse, semantic check, application. */
export * from "./rule-types";
export { parseRule, formatRule, type ParseRuleResult } from "./rule-parse";
export {
  checkRule,
  checkRuleShape,
  versionNeedingContributors,
  type StoredVersion,
  type CheckRuleResult,
  type Contributor,
  type ContributorPool,
  type RuleContext,
} from "./rule-check";
export {
  applyRule,
  sumByParty,
  RESIDUAL_PATH,
  type ApplyRuleInput,
  type ApplyRuleResult,
  type LineAmount,
  type Part,
} from "./rule-apply";
export { validateRule, type ValidateRuleResult } from "./rule-validate";
