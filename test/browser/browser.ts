// What the browser tests share: Debian's chromium, signing in, the keyboard walk, axe, the
// page's weight, and where screenshots go (test artefacts).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";

/** Debian's chromium (apt-get install chromium); CHROMIUM names another. Never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Screenshots, written as test artefacts (BROWSER_ARTIFACTS, default artifacts/browser). */
export const ARTIFACTS = resolve(process.env.BROWSER_ARTIFACTS ?? join(import.meta.dirname, "../../artifacts/browser"));

export function launch(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"] });
}

export function artefact(name: string): string {
  return join(ARTIFACTS, name);
}

/** Fails the test on any console error, page error or request to another origin (which it also blocks). */
export async function watch(page: Page, base: string): Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin === new URL(base).origin) return route.continue();
    problems.push(`request to another origin: ${url.href}`);
    return route.abort("blockedbyclient");
  });
  return problems;
}

/** Signs in through the sign-in form, as a person would. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/admin`);
  await expect.poll(() => page.url()).toBe(`${base}/admin/login`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/admin`);
}

/** axe-core's WCAG 2.1 A and AA rules (contrast included): the violations, as readable lines. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  // Never vacuous: axe ran its rules on the page (contrast among them) and some passed.
  expect(results.passes.map((r) => r.id)).toEqual(expect.arrayContaining(["color-contrast", "html-has-lang", "document-title"]));
  return results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

/**
 * Presses Tab from the top of the page until focus comes back round, and answers which of the
 * page's controls were never reached. A control: a link, button, input, select, textarea,
 * summary or element with tabindex=0 that is visible and enabled.
 */
export async function unreachableByKeyboard(page: Page, maxTabs = 300): Promise<{ controls: number; reached: number; missed: string[] }> {
  const controls = await page.evaluate(() => {
    const selector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex="0"]';
    const all = [...document.querySelectorAll<HTMLElement>(selector)].filter((el) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      const hidden = style.visibility === "hidden" || style.display === "none" || (box.width === 0 && box.height === 0 && el.tagName !== "A");
      return !hidden && !(el as HTMLButtonElement).disabled && !el.closest("details:not([open]) > :not(summary)");
    });
    all.forEach((el, i) => el.setAttribute("data-kbd", String(i)));
    return all.map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : ""} "${(el.textContent ?? "").trim().slice(0, 30)}"`);
  });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen = new Set<number>();
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press("Tab");
    const at = await page.evaluate(() => document.activeElement?.getAttribute("data-kbd") ?? null);
    if (at === null) {
      if (seen.size > 0) break; // focus left the page's controls: the walk went round
      continue;
    }
    const n = Number(at);
    if (seen.has(n) && seen.size === controls.length) break;
    seen.add(n);
  }
  return { controls: controls.length, reached: seen.size, missed: controls.filter((_, i) => !seen.has(i)) };
}

/** What a page costs to load: every response it made (the document, styles, scripts, images), gzipped. */
export async function gzippedWeight(page: Page, url: string): Promise<{ bytes: number; parts: { url: string; type: string; gzipped: number }[] }> {
  const parts: { url: string; type: string; gzipped: number }[] = [];
  const pending: Promise<void>[] = [];
  const onResponse = (res: import("playwright-core").Response) => {
    pending.push(
      res.body().then(
        (body) => void parts.push({ url: res.url(), type: res.request().resourceType(), gzipped: gzipSync(body).length }),
        () => undefined,
      ),
    );
  };
  page.on("response", onResponse);
  await page.goto(url, { waitUntil: "networkidle" });
  await Promise.all(pending);
  page.off("response", onResponse);
  return { bytes: parts.reduce((a, p) => a + p.gzipped, 0), parts };
}

/** Elements wider than the window that are not inside a sideways-scrolling region. */
export async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>("body *")) {
      if (el.getBoundingClientRect().right <= width + 1) continue;
      let p = el.parentElement;
      let scrolls = false;
      for (; p; p = p.parentElement) if (getComputedStyle(p).overflowX === "auto") scrolls = true;
      if (!scrolls) out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}.${typeof el.className === "string" ? el.className : ""}`);
    }
    return out.slice(0, 10);
  });
}
