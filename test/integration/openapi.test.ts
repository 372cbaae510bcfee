import { beforeEach, describe, expect, it } from "vitest";
import { api, call, seedCatalog } from "./helpers";

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; allOf?: Schema[]; [key: string]: unknown };

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

interface Document {
  info: { license?: { name: string; identifier?: string } };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

async function served(): Promise<Document> {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

const operations = (doc: Document) => Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })));

/** A `$ref` to a component, followed. */
function component(doc: Document, schema: Schema | undefined): Schema {
  const name = schema?.$ref?.replace("#/components/schemas/", "");
  const found = name === undefined ? undefined : doc.components.schemas[name];
  if (found === undefined) throw new Error(`not a $ref to a component: ${JSON.stringify(schema)}`);
  return found;
}

/** Every place in a schema where a sub-schema is `{}` (anything goes), as a path. */
function placeholders(schema: unknown, path: string): string[] {
  if (typeof schema !== "object" || schema === null) return [];
  if (!Array.isArray(schema) && Object.keys(schema).length === 0) return [path];
  return Object.entries(schema).flatMap(([key, value]) => (key === "example" ? [] : placeholders(value, `${path}/${key}`)));
}

describe("the OpenAPI document", () => {
  it("names every operation for a generated client: a unique operationId, a summary and a described tag", async () => {
    const doc = await served();
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(ids.sort()).toEqual(
      [
        "checkLedger", "createOffer", "createParty", "createRule", "createRuleVersion", "createToken", "diffRuleVersions", "exportLedger", "getEvent", "getOffer",
        "getParty", "getPartyStatement", "getPayment", "getPayoutRun", "getPublicFlows", "getReconciliation", "getRule", "listAudit", "listBalances", "listEvents", "listOffers", "listParties", "listPayments", "listPayoutRuns", "listRules", "listTokens",
        "previewRule", "recordManualPayout", "retryEvent", "revokeToken", "startPayoutRun", "startReconciliation", "updateOffer", "updateParty", "whatIfRule",
        "createPool", "listPools", "getPool", "updatePool", "addPoolMember", "removePoolMember", "declareNeed", "listNeeds", "closePool", "listPoolPeriods", "getPoolPeriod",
        "updateRule", "createProposal", "listProposals", "getProposal", "raiseObjection", "liftObjection", "amendProposal", "approveProposal", "withdrawProposal", "listPublicProposals",
        "createWebhookEndpoint", "listWebhookEndpoints", "deleteWebhookEndpoint", "listWebhookDeliveries", "getWebhookDelivery",
      ].sort(),
    );
    const described = new Set((doc.tags ?? []).filter((tag) => (tag.description ?? "").length > 0).map((tag) => tag.name));
    for (const { route, op } of operations(doc)) {
      expect(op.summary, route).toMatch(/^[A-Z].{5,}/);
      expect(op.tags?.length, route).toBe(1);
      expect(described.has(op.tags?.[0] ?? ""), `${route}: tag ${op.tags?.[0]}`).toBe(true);
    }
  });

  it("documents the statement as JSON (its schema) or CSV, and the export as CSV", async () => {
    const doc = (await served()) as unknown as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>> };
    const statement = doc.paths["/api/v1/parties/{id}/statement"]?.["get"]?.responses["200"]?.content ?? {};
    expect(Object.keys(statement)).toEqual(["application/json", "text/csv"]);
    expect(statement["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Statement" });
    expect(statement["text/csv"]?.schema).toMatchObject({ type: "string" });
    expect(Object.keys(doc.paths["/api/v1/ledger/export"]?.["get"]?.responses["200"]?.content ?? {})).toEqual(["text/csv"]);
  });

  it("names its license and the server it was served from", async () => {
    const doc = await served();
    expect(doc.info.license).toEqual({ name: "MIT", identifier: "MIT" });
    expect(doc.servers).toEqual([{ url: "http://pot-commun.test", description: "This deployment" }]);
  });

  it("describes the rule language as schemas: RuleBody's lines are RuleLines, whose groups hold RuleLines again", async () => {
    const doc = await served();
    const body = doc.components.schemas["RuleBody"];
    expect(body?.properties?.["basis"]).toMatchObject({ type: "string", enum: ["gross", "net"] });
    expect(body?.properties?.["lines"]).toMatchObject({ type: "array", minItems: 1, maxItems: 50, items: { $ref: "#/components/schemas/RuleLine" } });
    expect(body?.["additionalProperties"]).toBe(false);
    expect(body?.["example"]).toBeDefined();

    const ruleLine = component(doc, body?.properties?.["lines"]?.items);
    expect(Object.keys(ruleLine.properties ?? {})).toEqual(["to", "share", "max", "fallback", "label"]);
    const recipient = component(doc, ruleLine.properties?.["to"]);
    const group = (recipient.anyOf ?? []).find((option) => option.$ref === "#/components/schemas/RuleGroup");
    expect(component(doc, group).properties?.["group"]?.items).toEqual({ $ref: "#/components/schemas/RuleLine" });

    const share = component(doc, ruleLine.properties?.["share"]);
    expect(share.anyOf?.map((option) => option["pattern"] ?? option["enum"] ?? option.properties?.["fixed"]?.$ref)).toEqual([
      expect.stringContaining("%$"),
      expect.stringContaining("\\/"),
      "#/components/schemas/CurrencyAmounts",
      ["remaining"],
    ]);

    for (const name of ["RuleBody", "RuleLine", "RuleGroup", "RuleRecipient", "RuleShare", "CurrencyAmounts", "PartyId"]) {
      expect(doc.components.schemas[name], name).toBeDefined();
      expect(placeholders(doc.components.schemas[name], name), name).toEqual([]);
    }
  });

  it("uses RuleBody for the rule in every request that carries one", async () => {
    const doc = await served();
    const requestSchema = (path: string) => component(doc, doc.paths[path]?.["post"]?.requestBody?.content["application/json"]?.schema);
    const ruleBody = { $ref: "#/components/schemas/RuleBody" };
    expect(component(doc, requestSchema("/api/v1/rules").properties?.["version"]).properties?.["body"]).toEqual(ruleBody);
    expect(requestSchema("/api/v1/rules/{id}/versions").properties?.["body"]).toEqual(ruleBody);
    expect(requestSchema("/api/v1/rules/preview").properties?.["rule"]).toEqual(ruleBody);
    expect(requestSchema("/api/v1/rules/{id}/what-if").properties?.["body"]).toEqual(ruleBody);
    expect(requestSchema("/api/v1/rules/{id}/proposals").properties?.["body"]).toEqual(ruleBody);
    expect(requestSchema("/api/v1/proposals/{id}/amendments").properties?.["body"]).toEqual(ruleBody);
  });
});

describe("a rule body the parser refuses, in every request that carries one", () => {
  beforeEach(async () => {
    await seedCatalog();
  });

  const badRule = { basis: "net", lines: [{ to: "commons", share: "12,5%" }, { to: "reserve", share: "remaining", fallback: "commons" }] };

  async function requests(rule: unknown, extra: Record<string, unknown> = {}): Promise<[string, Response][]> {
    const etag = (await api("/rules/default")).headers.get("etag") ?? "";
    const send = (path: string, body: unknown) => api(path, { method: "POST", body, headers: { "if-match": etag } });
    return [
      ["POST /rules", await send("/rules", { id: "refused", scope: { offer_kind: "hosting" }, version: { reason: "r", body: rule, ...extra } })],
      ["POST /rules/default/versions", await send("/rules/default/versions", { reason: "r", body: rule, ...extra })],
      ["POST /rules/preview", await send("/rules/preview", { rule, amount_minor: 100, currency: "eur", ...extra })],
      ["POST /rules/default/what-if", await send("/rules/default/what-if", { body: rule, ...extra })],
      ["POST /rules/default/proposals", await send("/rules/default/proposals", { reason: "r", body: rule, ...extra })],
    ];
  }

  it("is a 422 invalid_rule with the parser's codes and paths, inside the rule", async () => {
    for (const [route, res] of await requests(badRule)) {
      expect(res.status, route).toBe(422);
      const problem = (await res.json()) as { code: string; detail: string; errors: { code: string; path: string }[] };
      expect(problem.code, route).toBe("invalid_rule");
      expect(problem.errors, route).toEqual([
        { code: "bad_percentage", path: "lines[0].share", message: expect.stringContaining("12,5%") },
        { code: "bad_fallback", path: "lines[1].fallback", message: expect.stringContaining("contributors") },
      ]);
      expect(problem.detail, route).toMatch(/^the rule cannot be applied: lines\[0\]\.share: .* \(and 1 more\)$/);
    }
  });

  it("is a 400 invalid_request naming both when another field is wrong too", async () => {
    for (const [route, res] of await requests(badRule, { reason: 5, amount_minor: -1, last: 0 })) {
      expect(res.status, route).toBe(400);
      const problem = (await res.json()) as { code: string; errors: { path: string; message: string }[] };
      expect(problem.code, route).toBe("invalid_request");
      expect(problem.errors.some((e) => e.message.startsWith("the rule cannot be applied: lines[0].share")), route).toBe(true);
      expect(problem.errors.length, route).toBeGreaterThan(1);
    }
  });

  it("is a 400 invalid_request when the rule is not even an object, as for any field of the wrong type", async () => {
    for (const [route, res] of await requests("10% commons")) {
      expect(res.status, route).toBe(400);
      const problem = (await res.json()) as { code: string; errors: { path: string }[] };
      expect(problem.code, route).toBe("invalid_request");
      expect(problem.errors.map((e) => e.path), route).toEqual([route === "POST /rules" ? "version.body" : route.endsWith("preview") ? "rule" : "body"]);
    }
  });
});
