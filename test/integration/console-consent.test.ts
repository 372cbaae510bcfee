// The console's pools and proposals (issues 13 and 14), and a party's own console: an admin
// makes a pool, sets needs and closes a period, and the period's page shows who got what and
// why; an admin proposes a rule change from the rule's page, a party signed in with its own
// token objects, the admin amends, another admin approves (the proposer may not), and it passes.
// A viewer sees the same pages and changes nothing; a party sees only its own pages.
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { get, post, signIn, type ConsoleSession } from "./console-session";
import { allComplete, advanceClock, api, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

type Who = ConsoleSession;

async function page(path: string, who: Who): Promise<{ status: number; html: string }> {
  const res = await get(path, { headers: { cookie: who.cookie } });
  return { status: res.status, html: await res.text() };
}

async function token(role: "admin" | "viewer" | "party", name: string, party_id?: string): Promise<{ id: string; token: string }> {
  const res = await api("/tokens", { method: "POST", body: { name, role, ...(party_id ? { party_id } : {}) } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

/** The text of an element with data-testid, tags dropped, spaces folded. */
function textOf(html: string, testid: string): string {
  const at = html.indexOf(`data-testid="${testid}"`);
  if (at < 0) return "";
  const start = html.lastIndexOf("<", at);
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1] ?? "";
  const end = html.indexOf(`</${tag}>`, at);
  return html.slice(html.indexOf(">", at) + 1, end).replace(/<[^>]+>/g, " ").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
}

describe("a need pool from the console", () => {
  const POOL_RULE = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: { pool: "facilitators" }, share: "remaining" }] };

  beforeEach(async () => {
    await seedCatalog(POOL_RULE);
    setClock("2026-11-10T12:00:00Z");
  });

  it("is made, its needs set (one by its member), closed, and its period's page says who got what and why", async () => {
    const admin = await signIn((await token("admin", "admin at the console")).token);
    const made = await post("/admin/pools", admin, { id: "facilitators", name: "Facilitators", members: "camille, dominique, sacha", period: "month", floor_minor: "", leftover_to: "", solidarity_minimum_minor: "", solidarity_budget_minor: "" });
    expect(made.status).toBe(303);
    expect(made.headers.get("location")).toBe("/admin/pools/facilitators?done=created");
    const list = await page("/admin/pools", admin);
    expect(list.html).toContain('<a href="/admin/pools/facilitators">Facilitators</a>');

    // A training of 100.00 € by card (fee 1.75 €): 75% of the net, 73.69 €, to the pool.
    const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro" });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);

    const auto = await post("/admin/pools/facilitators/needs/dominique", admin, { currency: "eur", amount_minor: "", auto: "1" });
    expect(auto.headers.get("location")).toBe("/admin/pools/facilitators?done=need&party=dominique&need=auto&currency=eur&throttled=0");
    expect((await post("/admin/pools/facilitators/needs/dominique", admin, { currency: "eur", amount_minor: "1000" })).status).toBe(303);
    expect((await post("/admin/pools/facilitators/needs/sacha", admin, { currency: "eur", amount_minor: "300" })).status).toBe(303);
    const bad = await post("/admin/pools/facilitators/needs/sacha", admin, { currency: "eur", amount_minor: "12.50" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("give the need in minor units");

    // Camille signs in with her own token, sees her pool, and declares her own need; not another's.
    const camille = await signIn((await token("party", "Camille's token", "camille")).token);
    expect(camille.home).toBe("/admin/me");
    const me = await page("/admin/me", camille);
    expect(me.html).toContain('<a href="/admin/pools/facilitators">Facilitators</a>');
    const hers = await page("/admin/pools/facilitators", camille);
    expect(hers.status).toBe(200);
    expect(hers.html).toContain('action="/admin/pools/facilitators/needs/camille"');
    expect(hers.html).not.toContain('action="/admin/pools/facilitators/needs/sacha"');
    expect(hers.html).not.toContain("Close the current period now");
    const declared = await post("/admin/pools/facilitators/needs/camille", camille, { currency: "eur", amount_minor: "5000" });
    expect(declared.status).toBe(303);
    const forSacha = await post("/admin/pools/facilitators/needs/sacha", camille, { currency: "eur", amount_minor: "1" });
    expect(forSacha.status).toBe(403);
    expect(await forSacha.text()).toContain("a party token reads its own party");
    for (const path of ["/admin/pools", "/admin/rules", "/admin/events", "/admin/balances"]) expect({ path, status: (await page(path, camille)).status }).toEqual({ path, status: 403 });
    // Her statement as CSV, linked from her page; another party's is refused by the API.
    expect(me.html).toContain('href="/admin/parties/camille/statement.csv?from=');
    const csv = await get("/admin/parties/camille/statement.csv?from=2020-01-01&to=2020-12-31", { headers: { cookie: camille.cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect((await csv.text()).split("\n")[0]).toContain("amount");
    expect((await get("/admin/parties/sacha/statement.csv?from=2020-01-01&to=2020-12-31", { headers: { cookie: camille.cookie } })).status).toBe(403);
    expect((await post("/admin/pools/facilitators/close", camille, {})).status).toBe(403);

    // The pool's page: needs, the estimate of the close, and every change of a need with who made it.
    const pool = await page("/admin/pools/facilitators", admin);
    expect(textOf(pool.html, "estimate")).toContain("73.69 EUR came in against 63.00 EUR of needs counted: every need was met, and the 10.69 EUR left over went to reserve");
    const history = textOf(pool.html, "need-history");
    expect(history).toMatch(/camille none declared €50\.00 token:tok_/);
    expect(history).toContain("dominique auto €10.00");
    expect(history).toContain("dominique none declared auto");

    // A viewer sees it, and cannot close it.
    const viewer = await signIn((await token("viewer", "viewer at the console")).token);
    expect((await page("/admin/pools/facilitators", viewer)).html).toMatch(/<button type="submit" id="close-now" disabled="" aria-describedby="viewer-note">Close the current period now<\/button>/);
    const refused = await post("/admin/pools/facilitators/close", viewer, {});
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("role viewer may read but not change anything");

    const closed = await post("/admin/pools/facilitators/close", admin, {});
    expect(closed.status).toBe(303);
    expect(closed.headers.get("location")).toBe("/admin/pools/facilitators/periods/2026-11?currency=eur&done=closed");
    const period = await page("/admin/pools/facilitators/periods/2026-11?currency=eur&done=closed", admin);
    expect(period.status).toBe(200);
    expect(textOf(period.html, "notice")).toBe("Closed: 2026-11 is distributed.");
    expect(period.html).toContain('data-income-minor="7369"');
    expect(period.html).toContain('data-leftover-minor="1069"');
    expect(textOf(period.html, "period-facts")).toContain("€10.69, to reserve");
    const rows = [...period.html.matchAll(/<tr data-member="(\w+)">.*?data-paid-minor="(\d+)"/gs)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual([
      ["camille", 5_000],
      ["dominique", 1_000],
      ["sacha", 300],
    ]);
    expect(textOf(period.html, "why")).toContain("camille : declared 50.00 EUR: paid in full, 50.00 EUR");
    // The member reads the period too, and the pool lists it.
    expect((await page("/admin/pools/facilitators/periods/2026-11", camille)).status).toBe(200);
    expect((await page("/admin/pools/facilitators", admin)).html).toContain('href="/admin/pools/facilitators/periods/2026-11?currency=eur"');
  });

  it("changes its settings with the ETag it was read with, and members are added and removed", async () => {
    const admin = await signIn((await token("admin", "admin at the console")).token);
    await post("/admin/pools", admin, { id: "facilitators", name: "Facilitators", members: "camille", period: "month" });
    const form = await page("/admin/pools/facilitators", admin);
    const etag = /name="etag" value="([^"]+)"/.exec(form.html)?.[1]?.replace(/&quot;/g, '"') ?? "";
    const settings = { name: "Facilitators", period: "quarter", floor_minor: "2000", leftover_to: "", solidarity_minimum_minor: "1000", solidarity_budget_minor: "5000" };
    const saved = await post("/admin/pools/facilitators/settings", admin, { ...settings, etag });
    expect(saved.headers.get("location")).toBe("/admin/pools/facilitators?done=settings");
    expect(await (await api("/pools/facilitators")).json()).toMatchObject({ period: "quarter", floor_minor: 2000, solidarity: { minimum_minor: 1000, budget_minor: 5000 } });
    // The same ETag again: someone changed it since (this admin did): 412, said.
    const stale = await post("/admin/pools/facilitators/settings", admin, { ...settings, name: "Stale", etag });
    expect(stale.status).toBe(412);
    expect(await stale.text()).toContain("changed since you read it");

    expect((await post("/admin/pools/facilitators/members", admin, { party_id: "sacha" })).headers.get("location")).toBe("/admin/pools/facilitators?done=member_added&party=sacha");
    expect((await post("/admin/pools/facilitators/members/camille/remove", admin, {})).status).toBe(303);
    expect(((await (await api("/pools/facilitators")).json()) as { members: { party_id: string }[] }).members.map((m) => m.party_id)).toEqual(["sacha"]);
  });
});

describe("a rule changed by consent from the console", () => {
  const NOW = "2031-03-12T09:00:00.250Z";
  const NOW_S = Math.floor(Date.parse(NOW) / 1000);
  const RESERVE_20 = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "20%" }, { to: "contributors", share: "remaining" }] };
  const RESERVE_18_FROM_COMMONS = { basis: "net", lines: [{ to: "commons", share: "7%" }, { to: "reserve", share: "18%" }, { to: "contributors", share: "remaining" }] };

  beforeEach(async () => {
    setClock(NOW);
    await seedCatalog();
    // A training paid an hour ago, no fee: commons 1000, reserve 1500, camille 5000, dominique 2500.
    const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: NOW_S - 3600 });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
  });

  it("is proposed from the rule's page, objected to by a party signed in with its own token, amended, approved by another admin, and passes", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const alice = await signIn((await token("admin", "Alice")).token);
    const bob = await signIn((await token("admin", "Bob")).token);

    // How the rule changes, from its page: a notice of a second, one admin's approval.
    expect((await post("/admin/rules/default/governance", alice, { notice: "P1M", approvals: "1" })).status).toBe(400);
    expect((await post("/admin/rules/default/governance", alice, { notice: "PT1S", approvals: "1" })).headers.get("location")).toBe("/admin/rules/default?done=governance");
    const editor = await page("/admin/rules/default", alice);
    expect(textOf(editor.html, "governance")).toContain("for PT1S and needs 1 admin approval(s)");
    const etag = /name="etag" value="([^"]+)"/.exec(editor.html)?.[1]?.replace(/&quot;/g, '"') ?? "";

    const proposed = await post("/admin/rules/default/propose", alice, { body: JSON.stringify(RESERVE_20), reason: "The reserve must reach six months of costs", effective_from: "", etag, amount_minor: "10000", fee_minor: "0", currency: "eur", offer_id: "" });
    expect(proposed.status).toBe(303);
    const first = /^\/admin\/proposals\/(prop_[0-9a-f]{16})\?done=proposed$/.exec(proposed.headers.get("location") ?? "")?.[1] ?? "";
    expect(first).not.toBe("");
    advanceClock(100); // each step of the thread at its own time, so the thread's order is the story's
    const shown = await page(`/admin/proposals/${first}`, alice);
    expect(textOf(shown.html, "in-words")).toContain("20% to reserve.");
    expect(textOf(shown.html, "current-in-words")).toContain("15% to reserve.");
    expect(textOf(shown.html, "diff")).toBe('changed lines[1] (reserve).share : "15%" → "20%"');
    expect(shown.html).toMatch(/<tr data-party="camille"><th scope="row">camille<\/th><td class="amount">€50\.00<\/td><td class="amount">€46\.67<\/td><td class="amount" data-delta-minor="-333">/);
    // While it is open, the editor says so and does not save around it.
    const busy = await page("/admin/rules/default", alice);
    expect(textOf(busy.html, "pending")).toContain("The reserve must reach six months of costs");
    expect(busy.html).toMatch(/<button type="submit" id="save" disabled="" aria-describedby="pending-note">/);

    // Camille signs in with her own token: the proposal is on her page, and she objects from there.
    const camille = await signIn((await token("party", "Camille's token", "camille")).token);
    const mine = await page("/admin/me", camille);
    expect(textOf(mine.html, "my-proposals")).toContain("€46.67 under the proposal");
    const objected = await post(`/admin/proposals/${first}/objections`, camille, { reason: "My share drops: take it from elsewhere", back: "/admin/me" });
    expect(objected.headers.get("location")).toBe("/admin/me?done=objected");
    advanceClock(100);
    expect((await page("/admin/me?done=objected", camille)).html).toContain("Lift my objection");
    // A party reads the proposal but sees no admin's buttons, and cannot approve by posting anyway.
    const herView = await page(`/admin/proposals/${first}`, camille);
    expect(herView.html).not.toContain("Approve");
    expect(herView.html).not.toContain(`action="/admin/proposals/${first}/amend"`);
    expect((await post(`/admin/proposals/${first}/approve`, camille, {})).status).toBe(403);

    // The admin sees the objection and amends: the reserve's points come from the commons.
    const held = await page(`/admin/proposals/${first}`, alice);
    expect(held.html).toContain('data-status="held"');
    expect(textOf(held.html, "objections")).toContain("camille My share drops: take it from elsewhere");
    const amended = await post(`/admin/proposals/${first}/amend`, alice, { body: JSON.stringify(RESERVE_18_FROM_COMMONS), reason: "The reserve's points come from the commons", effective_from: "" });
    expect(amended.status).toBe(303);
    const second = /^\/admin\/proposals\/(prop_[0-9a-f]{16})\?done=amended$/.exec(amended.headers.get("location") ?? "")?.[1] ?? "";
    expect(second).not.toBe(first);
    // It no longer affects Camille: her objection is refused with the API's words, and the proposal is not on her page.
    const notHers = await post(`/admin/proposals/${second}/objections`, camille, { reason: "Still against" });
    expect(notHers.status).toBe(403);
    expect(textOf(await notHers.text(), "notice")).toMatch(/^No objection recorded: /);
    expect(textOf((await page("/admin/me", camille)).html, "my-proposals")).toBe("");

    // Approvals: Alice proposed in this thread and may not; a viewer may not; Bob does.
    const self = await post(`/admin/proposals/${second}/approve`, alice, {});
    expect(self.status).toBe(403);
    expect(textOf(await self.text(), "notice")).toMatch(/^Not approved: token:tok_\w+ proposed (this proposal|a proposal of this thread): nobody approves their own proposal; another admin must$/);
    const viewer = await signIn((await token("viewer", "viewer")).token);
    expect((await page(`/admin/proposals/${second}`, viewer)).html).toMatch(/<button type="submit" disabled="" aria-describedby="viewer-note">Approve<\/button>/);
    expect((await post(`/admin/proposals/${second}/approve`, viewer, {})).status).toBe(403);
    expect((await post(`/admin/proposals/${second}/approve`, bob, {})).headers.get("location")).toBe(`/admin/proposals/${second}?done=approved`);

    advanceClock(2_000);
    await allComplete(workflows);
    const passed = await page(`/admin/proposals/${second}`, alice);
    expect(passed.html).toContain('data-status="activated"');
    expect([...passed.html.matchAll(/<li data-kind="(\w+)"/g)].map((m) => m[1])).toEqual(["proposed", "objected", "amended", "approved", "activated"]);
    const rule = (await (await api("/rules/default")).json()) as { versions: { version: number; body: unknown }[] };
    expect(rule.versions.at(-1)).toMatchObject({ version: 2, body: RESERVE_18_FROM_COMMONS });
    const list = await page("/admin/proposals", alice);
    expect(textOf(list.html, "closed-proposals")).toContain("activated");
  });

  it("lets an admin object on a party's behalf and lift it, and withdraw a proposal", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const admin = await signIn((await token("admin", "Alice")).token);
    await post("/admin/rules/default/governance", admin, { notice: "PT1S", approvals: "0" });
    const etag = /name="etag" value="([^"]+)"/.exec((await page("/admin/rules/default", admin)).html)?.[1]?.replace(/&quot;/g, '"') ?? "";
    const proposed = await post("/admin/rules/default/propose", admin, { body: JSON.stringify(RESERVE_20), reason: "More for the reserve", effective_from: "", etag });
    const id = /(prop_[0-9a-f]{16})/.exec(proposed.headers.get("location") ?? "")?.[1] ?? "";
    const onBehalf = await post(`/admin/proposals/${id}/objections`, admin, { party_id: "dominique", reason: "Dominique asked me, by phone" });
    expect(onBehalf.headers.get("location")).toBe(`/admin/proposals/${id}?done=objected`);
    const shown = await page(`/admin/proposals/${id}`, admin);
    const objection = /data-objection="(obj_[0-9a-f]{16})" data-standing="true"/.exec(shown.html)?.[1] ?? "";
    expect(objection).not.toBe("");
    expect((await post(`/admin/proposals/${id}/objections/${objection}/lift`, admin, {})).headers.get("location")).toBe(`/admin/proposals/${id}?done=lifted`);
    expect((await post(`/admin/proposals/${id}/withdraw`, admin, { reason: "At the assembly" })).status).toBe(303);
    const withdrawn = await page(`/admin/proposals/${id}`, admin);
    expect(withdrawn.html).toContain('data-status="withdrawn"');
    expect(withdrawn.html).not.toContain(`action="/admin/proposals/${id}/approve"`);
    const again = await post(`/admin/proposals/${id}/approve`, admin, {});
    expect(again.status).toBe(409);
    advanceClock(2_000);
    await allComplete(workflows);
  });
});
