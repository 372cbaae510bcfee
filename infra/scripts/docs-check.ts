// `npm run docs:check`: opens /docs of a running worker (`npm start`) in a real, headless
// Chromium and checks what the integration tests cannot: that Swagger UI renders every
// operation of /openapi.json, that a token typed into "Authorize" reaches the API, that no
// request leaves the worker's origin (any other is blocked and reported), and that the console
// shows no Content-Security-Policy violation nor any other error. Needs a Chromium binary
// (Debian: `apt-get install chromium`); `npm test` does not run it.
//
//   DOCS_URL    the page (default http://127.0.0.1:$PORT/docs, PORT defaulting to 8787)
//   CHROMIUM    the browser (default /usr/bin/chromium)
//   SCREENSHOT  where to save a picture of the page (default docs-check.png in the OS temp folder;
//               the answered GET /api/v1/balances goes next to it, as docs-check-balances.png)
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Page } from "playwright-core";
import { readDevVars } from "./trigger";

const root = resolve(import.meta.dirname, "../..");
const pageUrl = new URL(process.env.DOCS_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}/docs`);
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const screenshotPath = process.env.SCREENSHOT ?? join(tmpdir(), "docs-check.png");
const balancesScreenshotPath = screenshotPath.replace(/(\.png)?$/, "-balances.png");
const token = readDevVars(root).ADMIN_TOKEN ?? "local-admin-token";
/** Long enough for a 1.7 MB bundle on a slow machine; the page needs no network beyond the worker. */
const RENDER_TIMEOUT_MS = 30_000;

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);

async function documentedOperations(): Promise<number> {
  const res = await fetch(new URL("/openapi.json", pageUrl));
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: is the worker running (npm start)?`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.values(doc.paths).reduce((sum, item) => sum + Object.keys(item).filter((m) => METHODS.has(m)).length, 0);
}

/** Authorize with the bearer token, then run GET /api/v1/balances from the page. */
async function tryBalances(page: Page): Promise<string> {
  await page.locator(".btn.authorize").first().click();
  await page.locator(".modal-ux input").first().fill(token);
  await page.locator(".modal-ux .auth-btn-wrapper .authorize").click();
  await page.locator(".modal-ux .btn-done").click();
  const operation = page.locator(".opblock-get", { has: page.locator('.opblock-summary-path[data-path="/api/v1/balances"]') });
  await operation.locator(".opblock-summary").first().click();
  await operation.locator(".try-out__btn").click();
  await operation.locator(".execute").click();
  const status = operation.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor({ timeout: RENDER_TIMEOUT_MS });
  await operation.screenshot({ path: balancesScreenshotPath });
  return (await status.innerText()).trim();
}

async function main(): Promise<number> {
  const expectedOperations = await documentedOperations();
  const browser = await chromium.launch({ executablePath, args: ["--headless", "--no-sandbox", "--disable-background-networking"] });
  const problems: string[] = [];
  const consoleLines: string[] = [];
  const sameOrigin: string[] = [];
  const balancesAuth: (string | undefined)[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    // Every request the page makes passes here: the worker's origin goes through, any other
    // is blocked and reported (a page that works only with the internet fails this check).
    await context.route("**/*", async (route) => {
      const url = new URL(route.request().url());
      if (url.origin === pageUrl.origin) {
        sameOrigin.push(`${route.request().method()} ${url.pathname}`);
        if (url.pathname === "/api/v1/balances") balancesAuth.push(await route.request().headerValue("authorization") ?? undefined);
        return route.continue();
      }
      problems.push(`request to another origin, blocked: ${url.href}`);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("console", (message) => {
      consoleLines.push(`${message.type()}: ${message.text()}`);
      if (message.type() === "error" || /Content.Security.Policy|Refused to/i.test(message.text())) problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));

    const res = await page.goto(pageUrl.href);
    console.log(`GET ${pageUrl.href}: ${res?.status()}; CSP: ${res?.headers()["content-security-policy"]}`);
    await page.locator(".swagger-ui .info .title").waitFor({ timeout: RENDER_TIMEOUT_MS });
    await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: RENDER_TIMEOUT_MS });
    const title = (await page.locator(".swagger-ui .info .title").innerText()).split("\n")[0];
    const operations = await page.locator(".swagger-ui .opblock").count();
    console.log(`rendered: "${title}", ${operations} operations (the document has ${expectedOperations})`);
    if (!title?.startsWith("Pot Commun")) problems.push(`title is "${title}", expected Pot Commun`);
    if (operations !== expectedOperations) problems.push(`${operations} operations rendered, the document has ${expectedOperations}`);
    await page.screenshot({ path: screenshotPath });
    console.log(`screenshot: ${screenshotPath}`);

    const status = await tryBalances(page);
    console.log(`screenshot: ${balancesScreenshotPath}`);
    console.log(`Authorize + Try it out on GET /api/v1/balances: ${status}; the request carried ${balancesAuth.map((a) => (a === `Bearer ${token}` ? "the bearer token" : String(a))).join(", ") || "nothing"}`);
    if (!status.startsWith("200")) problems.push(`GET /api/v1/balances from the page answered ${status}`);
    if (!balancesAuth.includes(`Bearer ${token}`)) problems.push("the page's request to /api/v1/balances did not carry the bearer token");
  } finally {
    await browser.close();
  }
  console.log(`requests, all to ${pageUrl.origin}: ${[...new Set(sameOrigin)].join(", ")}`);
  if (consoleLines.length > 0) console.log(`console:\n  ${consoleLines.join("\n  ")}`);
  if (problems.length > 0) {
    console.error(`docs check FAILED:\n  ${problems.join("\n  ")}`);
    return 1;
  }
  console.log("docs check ok: rendered offline, same-origin requests only, no CSP violation");
  return 0;
}

process.exitCode = await main();
