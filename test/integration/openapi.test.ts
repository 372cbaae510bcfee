import { describe, expect, it } from "vitest";
import { call } from "./helpers";

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

describe("the OpenAPI document", () => {
  it("names every operation for a generated client: a unique operationId, a summary and a described tag", async () => {
    const doc = await served();
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(ids.sort()).toEqual(
      [
        "checkLedger", "createOffer", "createParty", "createRule", "createRuleVersion", "createToken", "diffRuleVersions", "getEvent", "getOffer",
        "getParty", "getPayment", "getRule", "listAudit", "listBalances", "listEvents", "listOffers", "listParties", "listRules", "listTokens",
        "previewRule", "retryEvent", "revokeToken", "updateOffer", "updateParty", "whatIfRule",
      ].sort(),
    );
    const described = new Set((doc.tags ?? []).filter((tag) => (tag.description ?? "").length > 0).map((tag) => tag.name));
    for (const { route, op } of operations(doc)) {
      expect(op.summary, route).toMatch(/^[A-Z].{5,}/);
      expect(op.tags?.length, route).toBe(1);
      expect(described.has(op.tags?.[0] ?? ""), `${route}: tag ${op.tags?.[0]}`).toBe(true);
    }
  });

  it("names its license and the server it was served from", async () => {
    const doc = await served();
    expect(doc.info.license).toEqual({ name: "MIT", identifier: "MIT" });
    expect(doc.servers).toEqual([{ url: "http://pot-commun.test", description: "This deployment" }]);
  });
});
