// The admin console in a real browser: an admin signs in, edits a rule and watches the preview
// follow the typing, saves, sees the new version; a viewer cannot save; an event parked for an
// unknown offer is retried from the inbox once the offer is made, and ends processed. Every
// page passes axe and a keyboard walk, fits a phone, and is screenshotted as an artefact.
import Stripe from "stripe";
import type { Page } from "playwright-core";
import { describe, expect, inject, it } from "vitest";
import { buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { poll } from "../../infra/scripts/poll";
import { accessibilityViolations, artefact, overflowing, unreachableByKeyboard } from "./browser";
import { consoleKit } from "./console-kit";

const base = inject("base");
const adminToken = inject("adminToken");

const { api, session, newContext } = consoleKit(base, adminToken);



/** The preview's amount for a party, as the page shows it now. */
async function previewShare(page: Page, party: string): Promise<number> {
  return Number(await page.locator(`[data-testid=preview-shares] tr[data-party="${party}"] td`).getAttribute("data-amount-minor"));
}

describe("an admin at the console", () => {
  it("signs in with a token into a cookie the page's scripts cannot read, and never a token in a URL", async () => {
    const { context, page, problems } = await session(adminToken);
    expect(await page.getByTestId("whoami").innerText()).toBe("Signed in as bootstrap (admin)");
    const cookies = await context.cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.secure, c.sameSite])).toEqual([["__Host-pc_session", true, true, "Strict"]]);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(page.url()).not.toContain(adminToken);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("edits a rule, sees the preview change as it types, saves, and sees the new version", async () => {
    const { context, page, problems } = await session(adminToken);
    await page.goto(`${base}/admin/rules/trainings`);
    const before = await api<{ latest: { version: number; body: { lines: { to: string; share: string }[] } } }>("/rules/trainings");
    const next = before.body.latest.version + 1;
    // The commons' share now, and the one typed (so that the test can run again on the same stack).
    const now = before.body.latest.body.lines.find((l) => l.to === "commons")?.share ?? "";
    const percent = Number(now.replace("%", ""));
    const typed = percent === 20 ? 25 : 20;
    await page.getByLabel("Contributors of the offer").selectOption("training-intro");
    await page.getByLabel("Amount paid").fill("10000");
    await page.getByLabel("Stripe's fee").fill("0");
    await expect.poll(() => previewShare(page, "commons")).toBe(percent * 100);
    expect(await page.getByTestId("preview-words").innerText()).toContain(`${percent}% to the commons`);
    await page.screenshot({ path: artefact("console-rule-editor.png"), fullPage: true });

    // Typing another share for the commons: the preview follows, with no button pressed.
    const body = page.getByTestId("rule-body");
    const text = await body.inputValue();
    const withCommons = (p: number) => text.replace(`"share": "${now}"`, `"share": "${p}%"`);
    await body.fill(withCommons(typed));
    await expect.poll(() => previewShare(page, "commons")).toBe(typed * 100);
    expect(await page.getByTestId("preview-words").innerText()).toContain(`${typed}% to the commons`);
    // A rule that cannot be split says why, still without a button.
    await body.fill(withCommons(90));
    await expect.poll(() => page.locator("#preview-body .problem").innerText()).toMatch(/^the rule cannot be applied/);
    await body.fill(withCommons(typed));
    await expect.poll(() => previewShare(page, "commons")).toBe(typed * 100);

    const reason = `The assembly gives the commons ${typed}% of trainings`;
    await page.getByLabel("Why this change").fill(reason);
    await page.getByRole("button", { name: `Save as version ${next}` }).click();
    await page.waitForURL(`${base}/admin/rules/trainings?done=saved&version=${next}`);
    expect(await page.getByTestId("notice").innerText()).toBe(`Saved: version ${next} is the rule's latest.`);
    const row = page.locator(`[data-testid=versions] tr[data-version="${next}"]`);
    expect(await row.innerText()).toContain(reason);
    await page.locator("details", { hasText: `Version ${next} and what changed from version ${next - 1}` }).locator("summary").click();
    expect(await page.getByTestId("diff").first().innerText()).toContain(`changed lines[0] (commons).share: "${now}" → "${typed}%"`);
    const after = await api<{ latest: { version: number; reason: string; author: string } }>("/rules/trainings");
    expect(after.body.latest).toMatchObject({ version: next, reason, author: "bootstrap" });
    await page.screenshot({ path: artefact("console-rule-saved.png"), fullPage: true });
    // The one rule that could not be split: the API's 422, which the preview showed.
    expect(problems).toEqual(["console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]);
    await context.close();
  });

  it("retries from the inbox an event parked for an unknown offer, once the offer is made, and sees it processed", async () => {
    const webhookSecret = inject("webhookSecret");
    const emulator = inject("emulator");
    // Fresh ids, so that the test can run again on the same stack.
    const run = Date.now().toString(36);
    const price = `price_browser_${run}`;
    const offerId = `browser-workshop-${run}`;
    const built = buildTrainingPayment({ amount_minor: 15_000, currency: "eur", price_id: price, fee_minor: 250 });
    expect((await fetch(`${emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) })).status).toBe(200);
    const payload = JSON.stringify(built.event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: webhookSecret });
    expect((await fetch(`${base}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload })).status).toBe(200);
    await poll("the event to be parked", async () => ((await api<{ status: string }>(`/events/${built.event.id}`)).body.status === "parked" ? true : undefined), { timeoutMs: 60_000 });

    const { context, page, problems } = await session(adminToken);
    await page.getByRole("link", { name: "Events" }).click();
    const row = page.locator(`tr[data-event="${built.event.id}"]`);
    expect(await row.innerText()).toMatch(new RegExp(`parked.*unknown offer.*${price}`, "s"));
    await page.screenshot({ path: artefact("console-events-parked.png"), fullPage: true });

    await page.getByRole("link", { name: "Offers" }).click();
    await page.getByLabel("Id", { exact: true }).fill(offerId);
    await page.getByLabel("Kind", { exact: true }).selectOption("training");
    await page.getByLabel("Name", { exact: true }).fill("Atelier : le navigateur");
    await page.getByLabel("Stripe prices").fill(price);
    await page.getByLabel("Contributors").fill("camille 1");
    await page.getByRole("button", { name: "Create the offer" }).click();
    expect(await page.getByTestId("notice").innerText()).toContain(`Offer ${offerId} created`);

    await page.getByRole("link", { name: "Events" }).click();
    await page.locator(`tr[data-event="${built.event.id}"]`).getByRole("button", { name: /Retry/ }).click();
    expect(await page.getByTestId("notice").innerText()).toMatch(/^Retried: a new run of the event started\./);
    await poll("the event to be processed", async () => ((await api<{ status: string }>(`/events/${built.event.id}`)).body.status === "processed" ? true : undefined), { timeoutMs: 60_000 });
    await page.goto(`${base}/admin/events?status=processed`);
    expect(await page.locator(`tr[data-event="${built.event.id}"]`).innerText()).toContain("processed");
    const paid = await api<{ shares: { party_id: string; amount_minor: number }[] }>(`/payments/${built.payment_intent.id}`);
    expect(paid.status).toBe(200);
    // A training: split by the demo's trainings rule, whose rest goes to the facilitators' need pool.
    expect(paid.body.shares.map((s) => s.party_id).sort()).toEqual(["commons", "facilitators", "reserve"]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("a viewer at the console", () => {
  it("sees the editor and its preview, but cannot save: the button is disabled, and a forced post is refused by the API", async () => {
    const made = await api<{ token: string }>("/tokens", { method: "POST", body: { name: "browser viewer", role: "viewer" } });
    const { context, page, problems } = await session(made.body.token);
    expect(await page.getByTestId("whoami").innerText()).toMatch(/^Signed in as token:tok_\w+ \(viewer\)$/);
    await page.goto(`${base}/admin/rules/default`);
    const before = await api<{ latest: { version: number } }>("/rules/default");
    const save = page.getByRole("button", { name: /^Save as version/ });
    expect(await save.isDisabled()).toBe(true);
    expect(await page.locator("#viewer-note").innerText()).toContain("you can see everything and change nothing");
    // The preview stores nothing: a viewer may use it.
    const body = page.getByTestId("rule-body");
    await body.fill((await body.inputValue()).replace(/"share": "10%"/, '"share": "11%"'));
    await expect.poll(() => page.getByTestId("preview-words").innerText()).toContain("11% to the commons");
    // Forcing the disabled button: the console passes the post to the API, which says 403.
    await page.getByLabel("Why this change").fill("a viewer tries");
    await page.evaluate(() => {
      const button = document.querySelector<HTMLButtonElement>("#save");
      if (button) button.disabled = false;
      button?.click();
    });
    await page.waitForLoadState();
    expect(await page.getByTestId("notice").innerText()).toBe("Not saved: role viewer may read but not change anything");
    expect((await api<{ latest: { version: number } }>("/rules/default")).body.latest.version).toBe(before.body.latest.version);
    // The browser reports the console's 403 page, and nothing else.
    expect(problems).toEqual(["console: Failed to load resource: the server responded with a status of 403 (Forbidden)"]);
    await context.close();
  });
});

describe("every console page", () => {
  const PAGES = ["/admin", "/admin/events", "/admin/events?status=processed", "/admin/payments", "/admin/balances", "/admin/rules", "/admin/rules/default", "/admin/rules/new", "/admin/parties", "/admin/parties/camille", "/admin/offers", "/admin/offers/training-intro", "/admin/tokens", "/admin/audit"];

  it("passes axe's WCAG 2.1 A and AA checks, lets a keyboard reach every control, and fits a phone", async () => {
    const { context, page, problems } = await session(adminToken);
    const payments = await api<{ payments: { id: string }[] }>("/payments?limit=1");
    const pages = [...PAGES, `/admin/payments/${payments.body.payments[0]?.id ?? ""}`];
    for (const path of pages) {
      await page.goto(`${base}${path}`);
      expect(await page.locator("h1").count(), path).toBe(1);
      expect(await accessibilityViolations(page), path).toEqual([]);
      const walk = await unreachableByKeyboard(page);
      expect(walk.missed, path).toEqual([]);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      const name = path.startsWith("/admin/payments/") ? "/admin/payment" : path;
      await page.screenshot({ path: artefact(`console${name.replace(/[/?=]+/g, "-").replace(/-$/, "")}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 375, height: 812 });
    for (const path of pages) {
      await page.goto(`${base}${path}`);
      expect(await overflowing(page), `${path} at 375 px`).toEqual([]);
    }
    await page.goto(`${base}/admin/rules/default`);
    await page.screenshot({ path: artefact("console-rule-editor-phone.png"), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("and the sign-in page, for a keyboard and for axe", async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin/login`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect((await unreachableByKeyboard(page)).missed).toEqual([]);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab"); // past the skip link and the brand
    await page.getByLabel("API token").focus();
    await page.keyboard.type(adminToken);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/admin`);
    await context.close();
  });
});
