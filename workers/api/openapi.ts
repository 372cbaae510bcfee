// Shared pieces of the documented API: the router factory whose validation failures
// become problem+json 400s naming the field (422s for a rule body, see RuleBodyInput),
// response helpers for route definitions, and the document's own metadata.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Env } from "../../workflows/env";
import type { AuthVariables } from "../auth";
import { ApiError, type FieldError } from "../errors";
import { ruleErrorsOf, ruleProblem } from "./rule-schema";

export type AppEnv = { Bindings: Env; Variables: AuthVariables };

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)",
    message: issue.message,
    // A refinement may name its own code (a notice that is not a duration: `bad_duration`).
    code: issue.code === "custom" && typeof issue.params?.["code"] === "string" ? issue.params["code"] : issue.code,
  }));
}

export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        // A rule body the core's parser refused, and nothing else wrong: the parser's 422.
        const ruleErrors = result.error.issues.length === 1 && result.error.issues[0] ? ruleErrorsOf(result.error.issues[0]) : null;
        if (ruleErrors) throw ruleProblem(ruleErrors);
        const errors = fieldErrors(result.error);
        const where = result.target === "json" ? "body" : result.target;
        throw new ApiError("invalid_request", `invalid ${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, errors);
      }
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: "invalid_request" }),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .openapi("Problem", { description: "An RFC 9457 problem; `code` is stable, `detail` is for people." });

const problemDescriptions: Record<number, string> = {
  400: "Invalid input: the problem names the field",
  401: "Missing or unknown bearer token",
  403: "The token's role may not do this",
  404: "Not found",
  409: "Conflicts with what exists",
  412: "If-Match does not match the current version",
  422: "A rule that cannot be applied, or a request above a stated limit",
  428: "If-Match is required",
};

export function problems(...statuses: (keyof typeof problemDescriptions)[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: problemDescriptions[s] ?? "Error", content: { "application/problem+json": { schema: ProblemSchema } } }]),
  );
}

export function jsonBody<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export const bearer = [{ bearerAuth: [] as string[] }];

/** Ids of parties, offers, rules: short, readable, safe in URLs and account names. */
export const Slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, '-' and '_', starting with a letter or digit");

/** The version of the documented API (`info.version`); paths carry its major, /api/v1. */
const API_VERSION = "1.0.0";

/** Tags group the operations in the docs and in generated clients; each route names one. */
const API_TAGS = [
  { name: "events", description: "Stripe events as received: their status, why one was parked or failed, and retrying it." },
  { name: "ledger", description: "What the ledger holds: a payment and the shares it gave, each party's balance, and the ledger's invariants recomputed." },
  { name: "parties", description: "Who receives shares: the commons, the reserve and the contributors." },
  { name: "offers", description: "What is sold (trainings, hosting): its Stripe prices and its contributors with their weights." },
  {
    name: "rules",
    description: "Split rules (the `RuleBody` schema): versioned, never retroactive; preview one on an amount, or replay a proposal over recent payments before adopting it.",
  },
  { name: "payouts", description: "Paying contributors: runs of Stripe transfers to their connected accounts, payments recorded by hand, and what each run paid." },
  { name: "reconciliation", description: "The ledger against Stripe's balance transactions, a UTC day at a time: what matched, the fees Stripe billed apart, and each difference with what to do about it." },
  {
    name: "pools",
    description:
      "Need pools: a rule line sends its share to a pool; at the close of each period the pool pays its members by their declared needs (never above a need, a need's rise held back so that nobody is crowded out), the leftover to the reserve.",
  },
  {
    name: "proposals",
    description:
      "Rules changed by consent: a proposal is open to objections from the parties it affects for the rule's notice, then becomes a rule version by itself unless an objection stands or the admins' approvals the rule asks for are missing. Amend, withdraw, object, lift, approve; every step is in its thread and the audit log.",
  },
  { name: "webhooks", description: "Outgoing webhooks: endpoints told what happens to proposals, signed like Stripe's (`Pot-Commun-Signature`), retried with backoff, each delivery attempt logged." },
  { name: "tokens", description: "API tokens: `admin` changes things, `viewer` reads, `party` speaks for one party. Secrets are shown once and stored only as hashes." },
  { name: "audit", description: "Every change to rules, parties, offers, tokens, proposals and webhook endpoints, and every retry: who, when, before and after." },
  { name: "public", description: "What anyone may read without a token: where the money went in a period, as sums (the figures of the public page at `/`), and the proposals under way." },
] as const;

/** The document's metadata; `server` is where the documented API answers. */
export function apiDocument(server: { url: string; description: string }) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Pot Commun",
      version: API_VERSION,
      description:
        "Split every Stripe payment between the commons, the reserve and the contributors, on a double-entry ledger. " +
        "Everything under /api/v1 needs `Authorization: Bearer <token>`, except /api/v1/public/ (read by anyone). Errors are RFC 9457 problem+json with a stable `code`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [server],
    tags: [...API_TAGS],
  };
}
