// The console's money pages in a real browser: an admin starts a payout run and opens its page,
// and downloads a party's statement as CSV; every money page passes axe and a keyboard walk,
// fits a phone, and is screenshotted as an artefact.
import { readFile } from "node:fs/promises";
import { describe, expect, inject, it } from "vitest";
import { accessibilityViolations, artefact, overflowing, unreachableByKeyboard } from "./browser";
import { consoleKit } from "./console-kit";

const base = inject("base");
const adminToken = inject("adminToken");

const kit = consoleKit(base, adminToken);
const session = (token: string) => kit.session(token, { acceptDownloads: true });
/** The API with the admin's token: the answer's body. */
const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => (await kit.api<T>(path, init)).body;



/** The demo's year of payments, up to today (UTC): a period the statement accepts (at most 366 days). */
function lastYear(): { from: string; to: string } {
  const now = Date.now();
  return { from: new Date(now - 365 * 86_400_000).toISOString().slice(0, 10), to: new Date(now).toISOString().slice(0, 10) };
}

describe("an admin paying contributors at the console", () => {
  it("starts a payout run, follows the link to it, and sees its page", async () => {
    const { context, page, problems } = await session(adminToken);
    await page.goto(`${base}/admin/payouts`);
    await page.getByRole("button", { name: "Start a payout run" }).click();
    await page.waitForURL(/\/admin\/payouts\?done=started&run=po_/);
    const runId = new URL(page.url()).searchParams.get("run") ?? "";
    expect(runId).toMatch(/^po_/);
    expect(await page.getByTestId("notice").innerText()).toBe(`Payout run ${runId} started: its transfers are made in the background.`);
    await page.screenshot({ path: artefact("console-payouts-started.png"), fullPage: true });
    await page.getByRole("link", { name: `Open run ${runId}` }).click();
    await page.waitForURL(`${base}/admin/payouts/${runId}`);
    expect(await page.locator("h1").innerText()).toBe(`Payout run ${runId}`);
    expect(await page.getByTestId("run-status").innerText()).toMatch(/^(Running|Completed)$/);
    await page.screenshot({ path: artefact("console-payout-run.png"), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("downloads a party's statement as CSV from its page", async () => {
    const { context, page, problems } = await session(adminToken);
    const { from, to } = lastYear();
    await page.goto(`${base}/admin/parties/camille`);
    await page.getByRole("link", { name: "Its statement" }).click();
    await page.getByLabel("From").fill(from);
    await page.getByLabel("To").fill(to);
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(`${base}/admin/parties/camille/statement?from=${from}&to=${to}`);
    expect(await page.locator("h1").innerText()).toBe("Statement of camille");
    await page.screenshot({ path: artefact("console-statement.png"), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("statement-csv").click()]);
    expect(download.suggestedFilename()).toBe(`statement-camille-${from}-${to}.csv`);
    const csv = await readFile((await download.path()) ?? "", "utf8");
    const rows = csv.split("\r\n");
    expect(rows[0]).toBe("party_id,currency,at,cause,amount_minor,amount,balance_minor,balance,transaction_id,payment_id,stripe_object,payment_line_no,offer_id,offer_name,contributor_role,rule_id,rule_version,description");
    expect(rows[1]).toMatch(new RegExp(`^camille,eur,${from}T00:00:00\\.000Z,opening_balance,`));
    // The demo's trainings gave camille shares, as facilitator.
    expect(rows.some((r) => /^camille,eur,[^,]+,payment,\d+,/.test(r) && r.includes(",facilitator,"))).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("every money page of the console", () => {
  const PAGES = ["/admin/payouts", "/admin/reconciliation", "/admin/export", "/admin/webhooks", "/admin/parties/camille/statement"];

  it("passes axe's WCAG 2.1 A and AA checks, lets a keyboard reach every control, and fits a phone", async () => {
    const { context, page, problems } = await session(adminToken);
    const { from, to } = lastYear();
    const runs = (await api<{ runs: { id: string }[] }>("/payouts?limit=1")).runs;
    // A day reconciled and an endpoint, so that their tables and pages are checked too.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await api("/reconciliation/run", { method: "POST", body: { date: yesterday } });
    const endpoint = await api<{ id: string }>("/webhook-endpoints", { method: "POST", body: { url: "https://chat.example.coop/hooks/pot-commun", events: ["proposal.created"], description: "the chat" } });
    const pages = [...PAGES, `/admin/parties/dominique/statement?from=${from}&to=${to}`, ...runs.map((r) => `/admin/payouts/${r.id}`), `/admin/reconciliation/${yesterday}`, `/admin/webhooks/${endpoint.id}`];
    for (const path of pages) {
      await page.goto(`${base}${path}`);
      expect(await page.locator("h1").count(), path).toBe(1);
      expect(await accessibilityViolations(page), path).toEqual([]);
      const walk = await unreachableByKeyboard(page);
      expect(walk.missed, path).toEqual([]);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      const name = path.replace(/\?.*$/, "").replace(/po_[A-Za-z0-9_]+/, "run").replace(/\d{4}-\d{2}-\d{2}/, "day").replace(/whe_[0-9a-f]+/, "endpoint");
      await page.screenshot({ path: artefact(`console${name.replace(/[/?=]+/g, "-").replace(/-$/, "")}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 375, height: 812 });
    for (const path of pages) {
      await page.goto(`${base}${path}`);
      expect(await overflowing(page), `${path} at 375 px`).toEqual([]);
    }
    await page.goto(`${base}/admin/payouts`);
    await page.screenshot({ path: artefact("console-payouts-phone.png"), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });
});
