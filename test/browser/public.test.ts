// The public page in a real browser, on `npm start`'s demo data: the Sankey is drawn and its
// totals are the API's, it weighs under 100 KiB gzipped, a keyboard reaches every control, axe
// finds no WCAG A/AA violation, and a phone's width scrolls only the diagram.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accessibilityViolations, artefact, gzippedWeight, launch, overflowing, unreachableByKeyboard, watch } from "./browser";

const base = inject("base");

interface PublicFlows {
  period: { id: string };
  totals: Record<string, unknown> & { revenue_by_kind: { kind: string; amount_minor: number }[]; refunds: { to_customers_minor: number; stripe_fees_minor: number }; disputes: { to_customers_minor: number; stripe_fees_minor: number } };
  links: unknown[];
  nodes: { id: string }[];
  recipients: { party_id: string | null; received_minor: number; given_back_minor: number; net_minor: number }[];
}

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The page as a browser without JavaScript sees it (it needs none); axe runs in a page with it. */
async function open(path: string, viewport = { width: 1280, height: 900 }, lang = "en-GB", javaScriptEnabled = false): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, locale: lang, javaScriptEnabled });
  const page = await context.newPage();
  const problems = await watch(page, base);
  await page.goto(`${base}${path}`);
  return { page, problems };
}

/** The value of a dotted name in the API's totals ("refunds.to_customers_minor", "revenue_by_kind.training"). */
function total(flows: PublicFlows, name: string): number | undefined {
  if (name.startsWith("revenue_by_kind.")) return flows.totals.revenue_by_kind.find((k) => k.kind === name.slice("revenue_by_kind.".length))?.amount_minor;
  if (name === "tax_office_minor") return flows.totals.vat_minor as number;
  if (name === "cooperative_minor") return flows.totals.shipping_minor as number;
  if (name === "disputes.stripe_fees_minor") return flows.totals.disputes.stripe_fees_minor + flows.totals.refunds.stripe_fees_minor;
  const [a, b] = name.split(".") as [string, string?];
  const value = b === undefined ? flows.totals[a] : (flows.totals[a] as Record<string, number>)[b];
  return typeof value === "number" ? value : undefined;
}

describe("the public page on the demo data", () => {
  it("draws the Sankey without JavaScript, and every total beside it is the API's", async () => {
    const { page, problems } = await open("/?lang=en");
    const flows = (await (await fetch(`${base}/api/v1/public/flows`)).json()) as PublicFlows;
    expect(flows.links.length).toBeGreaterThan(10);
    await expect.poll(() => page.locator("svg.sankey path.band").count()).toBe(flows.links.length);
    expect(await page.locator("svg.sankey g.node").count()).toBe(flows.nodes.length);
    expect(await page.locator("h1").allInnerTexts()).toEqual(["Where the money goes"]);
    // The demo has trainings, hosting, VAT, a refund and a dispute: each shows on the diagram.
    for (const id of ["income:training", "income:hosting", "vat", "back:refunds", "back:disputes", "party:commons", "party:reserve", "contributors"]) {
      expect(await page.locator(`svg.sankey g.node[data-node="${id}"]`).count(), id).toBe(1);
    }
    const cells = await page.locator(".totals [data-total]").evaluateAll((els) => els.map((el) => [el.getAttribute("data-total") ?? "", Number(el.getAttribute("data-amount-minor"))] as const));
    expect(cells.length).toBeGreaterThanOrEqual(12);
    for (const [name, amount] of cells) expect(amount, name).toBe(total(flows, name));
    const recipients = await page.locator(".recipients tbody tr").evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("[data-amount-minor]")].map((c) => Number(c.getAttribute("data-amount-minor")))));
    expect(recipients).toEqual(flows.recipients.map((r) => [r.received_minor, r.given_back_minor, r.net_minor]));
    const sentence = await page.getByTestId("sentence").innerText();
    expect(sentence).toMatch(/^In \d{4}, €[\d,]+\.\d\d came in, of which €[\d,]+\.\d\d of VAT for the tax office; /);
    expect(sentence).toContain("went back to customers");
    await page.screenshot({ path: artefact("public-page.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("speaks French through the switch and to a French browser, with French numbers", async () => {
    const { page, problems } = await open("/", { width: 1280, height: 900 }, "fr-FR");
    expect(await page.locator("html").getAttribute("lang")).toBe("fr");
    expect(await page.locator("h1").innerText()).toBe("Où va l'argent");
    expect(await page.getByTestId("sentence").innerText()).toMatch(/^En \d{4}, [\d\u202f]+,\d\d\u00a0€ sont entrés/);
    await page.getByRole("link", { name: "English" }).click();
    expect(await page.locator("h1").innerText()).toBe("Where the money goes");
    await page.getByRole("link", { name: "Français" }).click();
    expect(await page.locator("h1").innerText()).toBe("Où va l'argent");
    await page.screenshot({ path: artefact("public-page-fr.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("weighs under 100 KiB gzipped, everything it loads included, and loads no script", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const weight = await gzippedWeight(page, `${base}/?lang=en`);
    console.log(`public page: ${weight.bytes} bytes gzipped (${(weight.bytes / 1024).toFixed(1)} KiB): ${weight.parts.map((p) => `${new URL(p.url).pathname} ${p.type} ${p.gzipped} B`).join(", ")}`);
    expect(weight.parts.map((p) => p.type)).not.toContain("script");
    expect(weight.parts.filter((p) => p.type === "document")).toHaveLength(1);
    expect(weight.bytes).toBeLessThan(100 * 1024);
    await context.close();
  });

  it("lets a keyboard reach every control, skip to the content, and choose another period", async () => {
    const { page } = await open("/?lang=en");
    const walk = await unreachableByKeyboard(page);
    expect(walk.missed).toEqual([]);
    expect(walk.reached).toBeGreaterThanOrEqual(8);
    // From the top: the first Tab lands on the skip link, which moves focus to the content.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.goto(`${base}/?lang=en`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to the content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // The period picker, by keyboard alone: arrows down to the first month offered, Tab to the button, Enter.
    await page.locator("#period").focus();
    let value = await page.locator("#period").inputValue();
    for (let i = 0; i < 20 && !/^\d{4}-\d\d$/.test(value); i++) {
      await page.keyboard.press("ArrowDown");
      value = await page.locator("#period").inputValue();
    }
    expect(value).toMatch(/^\d{4}-\d\d$/);
    await page.keyboard.press("Tab"); // the currency
    await page.keyboard.press("Tab"); // Show
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Show");
    await page.keyboard.press("Enter");
    const firstMonth = value;
    await page.waitForURL(new RegExp(`period=${firstMonth}`));
    expect(await page.locator(".summary h2").innerText()).toMatch(/^[A-Z][a-z]+ \d{4}$/);
  });

  it("passes axe's WCAG 2.1 A and AA checks, contrast included, in both languages and on an empty period", async () => {
    for (const path of ["/?lang=en", "/?lang=fr", "/?period=1999-01&lang=en", "/?period=2031-13"]) {
      const { page } = await open(path, undefined, undefined, true);
      expect(await accessibilityViolations(page), path).toEqual([]);
    }
  });

  it("fits a phone's width: only the diagram and the wide tables scroll sideways", async () => {
    const { page, problems } = await open("/?lang=en", { width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await overflowing(page)).toEqual([]);
    await page.screenshot({ path: artefact("public-page-phone.png"), fullPage: true });
    expect(problems).toEqual([]);
  });
});
