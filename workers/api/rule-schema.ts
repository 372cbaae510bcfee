// The split-rule language (core/README.md) as a zod schema, so that /openapi.json documents it
// in full: `RuleBody` → `RuleLine` → `RuleGroup` → `RuleLine`, a `$ref` cycle. The core stays
// free of zod and remains the one parser the API obeys; test/unit/rule-schema.test.ts proves
// that this schema and `parseRule` accept and refuse the same bodies.
import { z } from "@hono/zod-openapi";
import { CONTRIBUTORS, FEE_POLICIES, PARTY_ID_PATTERN, RULE_LIMITS, parseRule, type LineJson, type RuleError, type RuleJson } from "../../core";
import { ApiError } from "../errors";

/** A party id as the parser reads it, minus the one name that means the offer's contributors. */
const PARTY_ID = new RegExp(`^(?!${CONTRIBUTORS}$)${PARTY_ID_PATTERN.source.replace(/^\^/, "")}`);

const PartyId = z
  .string()
  .regex(PARTY_ID, `a party id: 1-${RULE_LIMITS.party_id_length} letters, digits or _ . : @ -, starting with a letter or digit, and not "${CONTRIBUTORS}"`)
  .openapi("PartyId", { description: `A party's id (GET /api/v1/parties): 1-${RULE_LIMITS.party_id_length} letters, digits or \`_ . : @ -\`, starting with a letter or digit; never \`${CONTRIBUTORS}\`.`, example: "commons" });

/**
 * How `CurrencyAmounts` is documented. `propertyNames` is JSON Schema 2020-12 (OpenAPI 3.1);
 * zod-to-openapi's metadata type lists only the keys 3.0 and 3.1 share, hence a variable
 * rather than a literal in the call.
 */
const currencyAmountsDoc = {
  description:
    "Amounts in whole minor units (cents for `eur`, yen for `jpy`), at least 0, by lower-case currency code as Stripe writes it. " +
    "A fixed share or a cap must name every settlement currency of the deployment (`CURRENCIES`), or the rule is refused when saved.",
  propertyNames: { type: "string", pattern: "^[a-z]{3}$" },
  minProperties: 1,
  maxProperties: RULE_LIMITS.currencies_per_amount,
  example: { eur: 500, jpy: 80 },
} as const;

/** Whole minor units >= 0 by lower-case currency code; used by fixed shares and caps. */
const CurrencyAmounts = z
  .record(z.string().regex(/^[a-z]{3}$/, "a lower-case currency code like eur"), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
  .refine((amounts) => {
    const count = Object.keys(amounts).length;
    return count >= 1 && count <= RULE_LIMITS.currencies_per_amount;
  }, `1-${RULE_LIMITS.currencies_per_amount} amounts by currency`)
  .openapi("CurrencyAmounts", currencyAmountsDoc);

/** "12.5%": 1-3 digits, up to 9 decimals, with a dot; at most 100% (100.000% included). */
const PERCENTAGE = /^(?:(?:\d{1,2}|0\d{2})(?:\.\d{1,9})?|100(?:\.0{1,9})?)%$/;
/** "1/3": 1-12 digits on each side, the denominator not zero. */
const FRACTION = /^\d{1,12}\/(?=\d*[1-9])\d{1,12}$/;

const Percentage = z
  .string()
  .regex(PERCENTAGE, `a percentage like "12.5%", at most "100%"`)
  .openapi({ description: "A percentage of what the level splits, after its fixed amounts: 1-3 digits and up to 9 decimals after a dot (`12.5%`, not `12,5%`), at most `100%`.", example: "12.5%" });

const Fraction = z
  .string()
  .regex(FRACTION, `a fraction like "1/3"`)
  .refine((text) => {
    const [num = "", den = ""] = text.split("/");
    return Number(num) <= Number(den); // both at most 12 digits: exact as numbers
  }, "a fraction is at most 1")
  .openapi({
    description: "A fraction of what the level splits, after its fixed amounts: `numerator/denominator`, 1-12 digits each, the denominator not 0. At most 1 (numerator ≤ denominator): the pattern cannot say this, the API checks it.",
    example: "1/3",
  });

const Remaining = z.literal("remaining").openapi({ description: "Whatever the level's other lines leave, caps' excess included; at most one per level." });

const FixedShare = z
  .object({ fixed: CurrencyAmounts })
  .strict()
  .openapi({ description: "A fixed amount per payment, in the payment's settlement currency; taken first, in line order, and cut down to what is left." });

const RuleShare = z.union([Percentage, Fraction, FixedShare, Remaining]).openapi("RuleShare", {
  description: 'How much the line takes: a percentage `"12.5%"`, a fraction `"1/3"`, a fixed amount `{ "fixed": { "eur": 500 } }`, or `"remaining"`.',
});

const Contributors = z.literal(CONTRIBUTORS).openapi({ description: "The offer's contributors, split by their weights." });

type LineSchema = z.ZodType<LineJson>;

const RuleGroup = z
  .object({
    get group(): z.ZodArray<LineSchema> {
      return linesOfOneLevel();
    },
  })
  .strict()
  .openapi("RuleGroup", { description: "A group splits its line's amount again, by its own lines (one more level)." });

const RulePool = z
  .object({ pool: PartyId })
  .strict()
  .openapi("RulePool", { description: "A need pool (POST /api/v1/pools): the line's share is held on the pool's account and distributed by declared need when the pool's period closes." });

const RuleRecipient = z.union([PartyId, Contributors, RuleGroup, RulePool]).openapi("RuleRecipient", {
  description: `Who receives the line: a party id, \`"${CONTRIBUTORS}"\`, a group \`{ "group": [lines] }\`, or a need pool \`{ "pool": "facilitators" }\`.`,
});

export const RuleLineSchema: LineSchema = z
  .object({
    to: RuleRecipient,
    share: RuleShare,
    max: CurrencyAmounts.optional().openapi({
      description: "A cap per currency, per payment. Only on a percentage or fraction share; what it cuts off goes to the level's `remaining` line (which it needs).",
    }),
    fallback: PartyId.optional().openapi({ description: `Only on a line whose \`to\` is \`"${CONTRIBUTORS}"\`: who takes the line when the offer has no contributor with a weight above 0.` }),
    label: z
      .string()
      .max(RULE_LIMITS.label_length)
      // zod and JSON Schema count code points, the parser UTF-16 code units (an emoji is 2).
      .refine((label) => label.length <= RULE_LIMITS.label_length, `at most ${RULE_LIMITS.label_length} UTF-16 code units`)
      .optional()
      .openapi({ description: `Words for people, ignored by the arithmetic: at most ${RULE_LIMITS.label_length} UTF-16 code units (an emoji counts 2, which \`maxLength\` cannot say).` }),
  })
  .strict()
  .superRefine((line, ctx) => {
    if (line.fallback !== undefined && line.to !== CONTRIBUTORS) {
      ctx.addIssue({ code: "custom", path: ["fallback"], message: `"fallback" only applies to a line whose "to" is "${CONTRIBUTORS}"` });
    }
    if (line.max !== undefined && (line.share === "remaining" || typeof line.share !== "string")) {
      ctx.addIssue({ code: "custom", path: ["max"], message: `a cap ("max") only applies to a percentage or fraction share` });
    }
  })
  .openapi("RuleLine", {
    description:
      `One line of a level: who (\`to\`) takes how much (\`share\`). A level takes its fixed amounts first, in line order, then the percentages and fractions of what is left, ` +
      `then clips the capped lines; \`remaining\` takes the rest. \`fallback\` only goes with \`"to": "${CONTRIBUTORS}"\` and \`max\` only with a percentage or fraction share: ` +
      `the schema's fields cannot say this, the API checks it.`,
    example: { to: CONTRIBUTORS, share: "remaining", fallback: "reserve", label: "the facilitators" },
  });

function linesOfOneLevel(): z.ZodArray<LineSchema> {
  return z
    .array(RuleLineSchema)
    .min(1)
    .max(RULE_LIMITS.lines_per_level)
    .openapi({ description: `The lines of one level, in order: 1-${RULE_LIMITS.lines_per_level}.` });
}

/** Levels of lines, the top one counted: 1 without groups. */
function depthOf(lines: readonly LineJson[]): number {
  return 1 + Math.max(0, ...lines.map((line) => (typeof line.to === "object" && "group" in line.to ? depthOf(line.to.group) : 0)));
}

function linesIn(lines: readonly LineJson[]): number {
  return lines.reduce((count, line) => count + 1 + (typeof line.to === "object" && "group" in line.to ? linesIn(line.to.group) : 0), 0);
}

const RULE_EXAMPLE: RuleJson = {
  basis: "net",
  lines: [
    { to: "commons", share: "10%", label: "the common project" },
    { to: "reserve", share: "15%", max: { eur: 100000 }, label: "the fund reserve" },
    { to: "host", share: { fixed: { eur: 500 } } },
    { to: { group: [{ to: "camille", share: "2/3" }, { to: "dominique", share: "remaining" }] }, share: "1/2" },
    { to: CONTRIBUTORS, share: "remaining", fallback: "reserve" },
  ],
};

/** The rule language: what the API documents, and what `parseRule` accepts. */
export const RuleBodySchema: z.ZodType<RuleJson> = z
  .object({
    basis: z.enum(["gross", "net"]).openapi({ description: "`gross` splits what the customer paid (the cooperative's own funds cover Stripe's fee); `net` splits what arrived after the fee." }),
    lines: linesOfOneLevel(),
    residual_to: PartyId.optional().openapi({
      description: "Rounding: every part is rounded down and this party takes all the leftover units. Without it, leftovers go by largest remainder, ties to the line listed first.",
    }),
    fee_policy: z.enum(FEE_POLICIES).optional().openapi({
      description:
        "Who bears what Stripe keeps when money goes back (its fee is not returned on a refund; a dispute has a fee of its own): `proportional` to the shares (the default), " +
        "the `reserve` or the `commons` (the one party of that kind), or the `cooperative`'s own funds. The cost is its own posting.",
    }),
    hold_days: z.number().int().min(0).max(RULE_LIMITS.hold_days).optional().openapi({
      description: "Days a share this rule gives is held before it can be paid out, so that most refunds hit money not yet paid; the deployment's `HOLD_DAYS` (14 by default) when absent.",
    }),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (depthOf(rule.lines) > RULE_LIMITS.depth) {
      ctx.addIssue({ code: "custom", path: ["lines"], message: `groups nest at most ${RULE_LIMITS.depth} levels deep, the top level included` });
    }
    if (linesIn(rule.lines) > RULE_LIMITS.lines_total) {
      ctx.addIssue({ code: "custom", path: ["lines"], message: `at most ${RULE_LIMITS.lines_total} lines in a rule` });
    }
  })
  .openapi("RuleBody", {
    description: [
      "A split rule (core/README.md): it splits the payment's `basis` by its ordered `lines`. A line's `share` is a percentage, a fraction, a fixed amount per currency or `remaining`; " +
        "its `to` is a party, the offer's contributors, or a group whose own lines split the line's amount again.",
      `Beyond what this schema's fields say, a body is refused (422 \`invalid_rule\`, each error with a \`path\` like \`lines[1].to.group[0].share\` and a stable \`code\`) when: ` +
        `groups nest deeper than ${RULE_LIMITS.depth} levels (the top one included); the rule has more than ${RULE_LIMITS.lines_total} lines in all; a fraction is above 1; ` +
        "`fallback` is on a line not sent to `contributors`; `max` is on a fixed or `remaining` share.",
      "When saved, a rule must also make sense: the percentages and fractions of a level add up to at most 100% (exactly 100% without a `remaining` line), one `remaining` per level, " +
        "a cap only where a `remaining` line takes its excess, parties that exist, amounts for every settlement currency, and contributors (or a `fallback`) for every offer the rule covers.",
    ].join("\n\n"),
    example: RULE_EXAMPLE,
  });

// ---------------------------------------------------------------------------------------
// Requests: the core's parser decides.

/** The 422 for a rule that cannot be applied; `errors` keep the core's paths and codes. */
export function ruleProblem(errors: readonly RuleError[], what = "the rule"): ApiError {
  const first = errors[0];
  return new ApiError(
    "invalid_rule",
    `${what} cannot be applied: ${first ? `${first.path}: ${first.message}` : "invalid"}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`,
    errors.map((e) => ({ path: e.path, message: e.message, code: e.code })),
  );
}

const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A rule body in a request: documented as `RuleBody`, but checked first by the core's parser.
 * zod alone would answer 400 `invalid_request` with its own paths and messages; a rule the
 * parser refuses must get the parser's 422 `invalid_rule` (codes like `bad_share`, paths like
 * `lines[2].share`), the same answer as a rule whose meaning is wrong. So the parser's errors
 * travel in one issue that the router's hook (openapi.ts) turns into that 422, and the zod
 * schema then never walks a body the parser refused (one nested far too deep, say).
 * Something that is not even an object is left to the schema: a 400, as for any field.
 * Being part of request validation, it answers before the handler's own checks (an unknown
 * rule's 404, a stale If-Match's 412). What comes out is zod's copy of the rule: the same
 * values, fields in the schema's order.
 */
export const RuleBodyInput = z.preprocess((value, ctx) => {
  if (!isJsonObject(value)) return value;
  const parsed = parseRule(value);
  if (!parsed.ok) ctx.addIssue({ code: "custom", message: ruleProblem(parsed.errors).message, input: value, params: { rule_errors: parsed.errors } });
  return value;
}, RuleBodySchema);

/** The parser's errors carried by an issue of `RuleBodyInput`, if it is one. */
export function ruleErrorsOf(issue: z.core.$ZodIssue): RuleError[] | null {
  if (issue.code !== "custom") return null;
  const errors: unknown = issue.params?.["rule_errors"];
  return Array.isArray(errors) ? (errors as RuleError[]) : null;
}
