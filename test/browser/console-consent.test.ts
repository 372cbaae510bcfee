// Issues 13 and 14 at the console in a real browser. An admin makes a need pool, sets needs
// (its member sets her own), closes the period and reads the period's page. Issue 14's story: a party signs in to the console with its own token, sees
// the proposal that would lower its share and objects; the admin sees the objection on the
// proposal's page and amends it so that it no longer takes from that party. Every page passes
// axe and a keyboard walk, fits a phone, and is screenshotted as an artefact.
import Stripe from "stripe";
import { describe, expect, inject, it } from "vitest";
import { buildTrainingPayment, emulatorObjects } from "../../infra/stripe-emulator/objects";
import { poll } from "../../infra/scripts/poll";
import { artefact } from "./browser";
import { checkedPage as checked, consoleKit } from "./console-kit";

const base = inject("base");
const adminToken = inject("adminToken");

const { api, session } = consoleKit(base, adminToken);




describe("a rule changed by consent, at the console", () => {
  it("a party signs in with its own token and objects; the admin sees the objection and amends", async () => {
    // A workshop of its own, with its own rule, so that the story runs again on the same stack.
    const run = Date.now().toString(36);
    const offer = `consent-workshop-${run}`;
    const price = `price_consent_${run}`;
    expect((await api("/offers", { method: "POST", body: { id: offer, kind: "training", name: "Atelier du consentement", stripe_price_ids: [price], contributors: [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }] } })).status).toBe(201);
    const lines = (reserve: string, commons = "10%") => ({ basis: "net", lines: [{ to: "commons", share: commons }, { to: "reserve", share: reserve }, { to: "contributors", share: "remaining" }] });
    expect((await api("/rules", { method: "POST", body: { id: offer, scope: { offer_id: offer }, governance: { notice: "P7D", approvals: 0 }, version: { reason: "The workshop's own split", body: lines("15%") } } })).status).toBe(201);
    // A payment of it, split by that rule: what the proposal is replayed over.
    const webhookSecret = inject("webhookSecret");
    const emulator = inject("emulator");
    const built = buildTrainingPayment({ amount_minor: 30_000, currency: "eur", price_id: price, fee_minor: 0 });
    expect((await fetch(`${emulator}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) })).status).toBe(200);
    const payload = JSON.stringify(built.event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: webhookSecret });
    expect((await fetch(`${base}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload })).status).toBe(200);
    await poll("the payment to be split", async () => ((await api<{ status: string }>(`/events/${built.event.id}`)).body.status === "processed" ? true : undefined), { timeoutMs: 60_000 });

    // The admin proposes from the rule's page: 20% to the reserve, from the contributors.
    const admin = await session(adminToken, { landing: "/admin" });
    await admin.page.goto(`${base}/admin/rules/${offer}`);
    expect(await admin.page.getByTestId("governance").innerText()).toContain("for P7D");
    await admin.page.getByTestId("rule-body").fill(JSON.stringify(lines("20%"), null, 2));
    await admin.page.getByLabel("Why this change").fill("The reserve must reach six months of costs");
    await admin.page.getByRole("button", { name: /^Propose as version 2/ }).click();
    await admin.page.waitForURL(/\/admin\/proposals\/prop_[0-9a-f]{16}\?done=proposed$/);
    const proposal = /prop_[0-9a-f]{16}/.exec(admin.page.url())?.[0] ?? "";
    expect(await admin.page.getByTestId("in-words").innerText()).toContain("20% to reserve.");
    // 30000 net: contributors 75% → 22500 (camille 15000), under the proposal 70% → 21000 (camille 14000).
    expect(await admin.page.locator('[data-testid=affected] tr[data-party="camille"]').innerText()).toMatch(/camille\s+€150\.00\s+€140\.00\s+−€10\.00/);

    // Camille signs in with her own token: her console is her account, with the proposal and an Object button.
    const camilleToken = (await api<{ token: string }>("/tokens", { method: "POST", body: { name: `camille ${run}`, role: "party", party_id: "camille" } })).body.token;
    const camille = await session(camilleToken, { landing: "/admin/me" });
    expect(await camille.page.getByTestId("whoami").innerText()).toMatch(/^Signed in as token:tok_\w+ \(party\)$/);
    expect(await camille.page.getByRole("navigation", { name: "Console" }).innerText()).not.toContain("Rules");
    const card = camille.page.locator(`li[data-proposal="${proposal}"]`);
    expect(await card.innerText()).toContain("€150.00 now, €140.00 under the proposal");
    await checked(camille.page, "console-party-home");
    await card.getByLabel("Why you object").fill("My share of the workshop drops by a fifteenth: take it from the commons");
    await card.getByRole("button", { name: "Object" }).click();
    await camille.page.waitForURL(`${base}/admin/me?done=objected`);
    expect(await camille.page.getByTestId("notice").innerText()).toContain("Your objection is recorded");
    expect(await camille.page.locator(`li[data-proposal="${proposal}"]`).getByRole("button", { name: "Lift my objection" }).isVisible()).toBe(true);
    // The pages a party cannot use are not hers to open.
    const rules = await camille.page.goto(`${base}/admin/rules`);
    expect(rules?.status()).toBe(403);

    // The admin sees the objection, and amends: the reserve's points from the commons, the contributors keep theirs.
    await admin.page.goto(`${base}/admin/proposals/${proposal}`);
    expect(await admin.page.getByTestId("status").getAttribute("data-status")).toBe("held");
    expect(await admin.page.getByTestId("objections").innerText()).toContain("My share of the workshop drops by a fifteenth");
    await checked(admin.page, "console-proposal-held");
    await admin.page.getByLabel("The amended rule (JSON)").fill(JSON.stringify(lines("18%", "7%"), null, 2));
    await admin.page.getByLabel("Why this amendment").fill("The reserve's points come from the commons");
    await admin.page.getByRole("button", { name: /^Amend/ }).click();
    await admin.page.waitForURL(/\?done=amended$/);
    const amended = /prop_[0-9a-f]{16}/.exec(admin.page.url())?.[0] ?? "";
    expect(amended).not.toBe(proposal);
    expect(await admin.page.getByTestId("status").getAttribute("data-status")).toBe("open");
    expect(await admin.page.locator("[data-testid=affected] tr").allInnerTexts()).not.toContainEqual(expect.stringContaining("camille"));
    expect(await admin.page.getByTestId("thread").innerText()).toMatch(/proposed[\s\S]*objected for camille[\s\S]*amended/);
    await admin.page.screenshot({ path: artefact("console-proposal-amended.png"), fullPage: true });
    // Camille's page no longer lists it: the amendment does not affect her.
    await camille.page.goto(`${base}/admin/me`);
    expect(await camille.page.locator(`li[data-proposal="${amended}"]`).count()).toBe(0);

    // Left clean for the next run: the amendment withdrawn.
    expect((await api(`/proposals/${amended}/withdrawal`, { method: "POST", body: { reason: "browser test over" } })).status).toBe(200);
    expect(camille.problems.filter((p) => !p.includes("403"))).toEqual([]);
    expect(admin.problems).toEqual([]);
    await camille.context.close();
    await admin.context.close();
  });
});

/** A paid training of a price, delivered as Stripe would, until split. */
async function paidTraining(price: string, amount_minor: number): Promise<void> {
  const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id: price, fee_minor: 0 });
  expect((await fetch(`${inject("emulator")}/_emulator/objects`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(emulatorObjects(built)) })).status).toBe(200);
  const payload = JSON.stringify(built.event);
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: inject("webhookSecret") });
  expect((await fetch(`${base}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload })).status).toBe(200);
  await poll("the payment to be split", async () => ((await api<{ status: string }>(`/events/${built.event.id}`)).body.status === "processed" ? true : undefined), { timeoutMs: 60_000 });
}

describe("a need pool, at the console", () => {
  it("is made, its needs set (one by its member, signed in with her token), closed, and its period explained", async () => {
    const run = Date.now().toString(36);
    const pool = `crew-${run}`;
    const admin = await session(adminToken, { landing: "/admin" });
    await admin.page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Pools" }).click();
    await admin.page.getByLabel("Pool id").fill(pool);
    await admin.page.getByLabel("Name", { exact: true }).fill("The workshop crew");
    await admin.page.locator("#pool-members").fill("camille, dominique");
    await admin.page.getByRole("button", { name: "Create the pool" }).click();
    await admin.page.waitForURL(`${base}/admin/pools/${pool}?done=created`);

    // A workshop whose share goes to the pool, and one payment of it: 300.00 €, 75% to the pool.
    const price = `price_crew_${run}`;
    expect((await api("/offers", { method: "POST", body: { id: `crew-workshop-${run}`, kind: "training", name: "Atelier de l'équipe", stripe_price_ids: [price], contributors: [{ party_id: "camille", weight: 1 }] } })).status).toBe(201);
    const rule = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: { pool }, share: "remaining" }] };
    expect((await api("/rules", { method: "POST", body: { id: `crew-workshop-${run}`, scope: { offer_id: `crew-workshop-${run}` }, version: { reason: "The crew shares by need", body: rule } } })).status).toBe(201);
    // The rule is in force from the next whole second: the payment comes after it.
    await new Promise((r) => setTimeout(r, 2_000));
    await paidTraining(price, 30_000);

    await admin.page.reload();
    await admin.page.locator('tr[data-member="dominique"]').getByLabel("Need of dominique").fill("5000");
    await admin.page.locator('tr[data-member="dominique"]').getByRole("button", { name: "Set need" }).click();
    expect(await admin.page.getByTestId("notice").innerText()).toBe("dominique's need is €50.00.");

    const camilleToken = (await api<{ token: string }>("/tokens", { method: "POST", body: { name: `camille crew ${run}`, role: "party", party_id: "camille" } })).body.token;
    const camille = await session(camilleToken, { landing: "/admin/me" });
    await camille.page.getByRole("link", { name: "The workshop crew" }).click();
    expect(await camille.page.locator('tr[data-member="dominique"] form').count()).toBe(0);
    await camille.page.getByLabel("Need of camille").fill("12000");
    await camille.page.getByRole("button", { name: "Set need" }).click();
    expect(await camille.page.getByTestId("notice").innerText()).toBe("camille's need is €120.00.");
    await checked(camille.page, "console-pool-member");

    await admin.page.reload();
    expect(await admin.page.getByTestId("estimate").innerText()).toContain("225.00 EUR came in against 170.00 EUR of needs counted");
    expect(await admin.page.getByTestId("need-history").innerText()).toMatch(/camille\s+none declared\s+€120\.00\s+token:tok_/);
    await checked(admin.page, "console-pool");
    await admin.page.getByRole("button", { name: "Close the current period now" }).click();
    await admin.page.waitForURL(/\/periods\/[^?]+\?currency=eur&done=closed$/);
    expect(await admin.page.getByTestId("explanation").innerText()).toContain("every need was met, and the 55.00 EUR left over went to");
    expect(await admin.page.locator('tr[data-member="camille"] [data-paid-minor]').getAttribute("data-paid-minor")).toBe("12000");
    expect(await admin.page.locator('tr[data-member="dominique"] [data-paid-minor]').getAttribute("data-paid-minor")).toBe("5000");
    await checked(admin.page, "console-pool-period");
    expect(camille.problems).toEqual([]);
    expect(admin.problems).toEqual([]);
    await camille.context.close();
    await admin.context.close();
  });
});
