// /docs works offline: the page is served by the worker under a strict CSP, and everything
// it loads is a static asset of this worker. `exports.default.fetch` (in `call`) runs the
// worker alone, without the asset router in front of it, so the assets are read through the
// ASSETS binding, which serves them as the router would (with public/_headers applied).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

const ORIGIN = "http://pot-commun.test";
const ALLOWED_SOURCES = new Set(["'self'", "'none'"]);
/** swagger-ui.css draws its icons as data: SVG images; nothing else may load from outside 'self'. */
const IMAGE_SOURCES = new Set([...ALLOWED_SOURCES, "data:"]);

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(";").map((part) => part.trim().split(/\s+/)).filter((words) => words[0]).map(([name, ...sources]) => [name!, sources]));
}

type Script = { src: string | null; inline: string; handlers: string[] };

/** The page's scripts, stylesheets and inline event handlers, read by workerd's HTML parser. */
async function pageParts(res: Response) {
  const scripts: Script[] = [];
  const stylesheets: string[] = [];
  const handlers: string[] = [];
  await new HTMLRewriter()
    .on("script", {
      element(el) {
        scripts.push({ src: el.getAttribute("src"), inline: "", handlers: [] });
      },
      text(chunk) {
        scripts[scripts.length - 1]!.inline += chunk.text;
      },
    })
    .on("link", {
      element(el) {
        if (el.getAttribute("rel") === "stylesheet") stylesheets.push(el.getAttribute("href") ?? "");
      },
    })
    .on("*", {
      element(el) {
        for (const [name = ""] of el.attributes) if (name.startsWith("on")) handlers.push(`${el.tagName} ${name}`);
      },
    })
    .transform(res)
    .text();
  return { scripts, stylesheets, handlers };
}

describe("GET /docs", () => {
  it("answers HTML under a CSP that allows only this origin", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = directives(res.headers.get("content-security-policy") ?? "");
    expect(Object.fromEntries(csp)).toMatchObject({
      "default-src": ["'none'"],
      "script-src": ["'self'"],
      "connect-src": ["'self'"],
      "frame-ancestors": ["'none'"],
      "object-src": ["'none'"],
      "base-uri": ["'none'"],
    });
    for (const [name, sources] of csp) {
      const allowed = name === "img-src" ? IMAGE_SOURCES : ALLOWED_SOURCES;
      for (const source of sources) expect(allowed, `${name} ${source}`).toContain(source);
    }
  });

  it("loads only same-origin scripts and stylesheets, with no inline script", async () => {
    const { scripts, stylesheets, handlers } = await pageParts(await call("/docs"));
    expect(scripts.map((s) => s.src)).toEqual(["/docs/swagger-ui/swagger-ui-bundle.js", "/docs/start.js"]);
    expect(scripts.map((s) => s.inline.trim())).toEqual(["", ""]);
    expect(stylesheets).toEqual(["/docs/swagger-ui/swagger-ui.css"]);
    expect(handlers).toEqual([]);
  });

  it("points the viewer at the worker's own OpenAPI document", async () => {
    expect(await (await call("/docs")).text()).toContain('data-openapi-url="/openapi.json"');
    const start = await (await env.ASSETS.fetch(`${ORIGIN}/docs/start.js`)).text();
    expect(start).toContain("root.dataset.openapiUrl");
    expect(start).toContain("validatorUrl: null");
  });
});

describe("the viewer's static assets", () => {
  it("serves every file the page loads, with its type and nosniff", async () => {
    const { scripts, stylesheets } = await pageParts(await call("/docs"));
    const expected: [string, RegExp][] = [...scripts.map((s): [string, RegExp] => [s.src ?? "", /^text\/javascript/]), ...stylesheets.map((href): [string, RegExp] => [href, /^text\/css/])];
    expect(expected).toHaveLength(3);
    for (const [path, type] of expected) {
      const res = await env.ASSETS.fetch(`${ORIGIN}${path}`);
      // Missing on a clone where `npm install` did not run its postinstall (infra/scripts/docs-assets.ts).
      expect(res.status, `${path} (npm install copies Swagger UI into public/docs/swagger-ui/)`).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(type);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      await res.body?.cancel();
    }
  });

  it("is Swagger UI's browser bundle, served with its licence and notice", async () => {
    const bundle = await (await env.ASSETS.fetch(`${ORIGIN}/docs/swagger-ui/swagger-ui-bundle.js`)).text();
    expect(bundle).toContain("SwaggerUIBundle");
    for (const file of ["LICENSE", "NOTICE"]) {
      const res = await env.ASSETS.fetch(`${ORIGIN}/docs/swagger-ui/${file}`);
      expect(res.status, file).toBe(200);
      expect(await res.text(), file).toMatch(/Apache License|SmartBear/);
    }
  });

  it("does not serve the _headers file, and leaves other paths to the worker", async () => {
    expect((await env.ASSETS.fetch(`${ORIGIN}/_headers`)).status).toBe(404);
    expect((await env.ASSETS.fetch(`${ORIGIN}/docs`)).status).toBe(404);
    expect((await env.ASSETS.fetch(`${ORIGIN}/openapi.json`)).status).toBe(404);
  });
});
