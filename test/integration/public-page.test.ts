// GET /: the public page, server-rendered. Its figures are the API's, its words the core's; it
// runs no script, names nobody who chose not to be named, and tells a bad address with a 400.
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildHostingPayment, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { allComplete, advanceClock, api, call, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** HTMLRewriter hands text as written in the HTML: entities still encoded. */
const decode = (text: string) => text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** What workerd's HTML parser finds in the page: headings, scripts, amounts by name, SVG bands. */
async function parts(res: Response) {
  const found = { h1: [] as string[], scripts: 0, inlineStyles: 0, handlers: 0, totals: new Map<string, number>(), bands: 0, lang: "", sentence: "" };
  let inH1 = false;
  let inSentence = false;
  await new HTMLRewriter()
    .on("html", { element: (el) => void (found.lang = el.getAttribute("lang") ?? "") })
    .on("h1", {
      element(el) {
        found.h1.push("");
        inH1 = true;
        el.onEndTag(() => void (inH1 = false));
      },
      text(t) {
        if (inH1) found.h1[found.h1.length - 1] += decode(t.text);
      },
    })
    .on("[data-testid=sentence]", {
      element(el) {
        inSentence = true;
        el.onEndTag(() => void (inSentence = false));
      },
      text(t) {
        if (inSentence) found.sentence += decode(t.text);
      },
    })
    .on("script", { element: () => void found.scripts++ })
    .on("[style]", { element: () => void found.inlineStyles++ })
    .on("*", {
      element(el) {
        for (const [name = ""] of el.attributes) if (name.startsWith("on")) found.handlers++;
      },
    })
    .on(".totals [data-total]", { element: (el) => void found.totals.set(el.getAttribute("data-total") ?? "", Number(el.getAttribute("data-amount-minor"))) })
    .on("svg.sankey path.band", { element: () => void found.bands++ })
    .transform(res)
    .text();
  return found;
}

beforeEach(async () => {
  await seedCatalog();
  await env.DB.prepare("UPDATE parties SET public = 1 WHERE id = 'camille'").run();
});

describe("GET /", () => {
  it("shows a period's flows as SVG with the API's totals, in one h1, without any script", async () => {
    setClock("2031-12-01T00:00:00Z");
    for (const built of [
      buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 175, created: s("2031-10-15T10:00:00Z") }),
      buildHostingPayment({ amount_minor: 12_000, currency: "eur", price_id: "price_hosting_basic", fee_minor: 205, tax: { rate_bps: 2000 }, created: s("2031-11-03T09:00:00Z") }),
    ]) {
      await putStripeObjects(built);
      await deliverAndSettle(built.event);
    }
    const res = await call("/?period=2031-Q4&lang=en");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const api = (await (await call("/api/v1/public/flows?period=2031-Q4")).json()) as { totals: Record<string, number>; links: unknown[] };
    const page = await parts(res);
    expect(page.h1).toEqual(["Where the money goes"]);
    expect(page.lang).toBe("en");
    expect(page.scripts).toBe(0);
    expect(page.inlineStyles).toBe(0);
    expect(page.handlers).toBe(0);
    expect(page.bands).toBe(api.links.length);
    for (const name of ["came_in_minor", "vat_minor", "to_commons_minor", "to_reserve_minor", "to_contributors_minor", "stripe_fees_minor"]) {
      expect(page.totals.get(name), name).toBe(api.totals[name]);
    }
    expect(page.totals.get("revenue_by_kind.training")).toBe(10_000);
    expect(page.sentence).toBe(
      "In the fourth quarter of 2031, €220.00 came in, of which €20.00 of VAT for the tax office; €19.62 went to the commons, €29.43 to the reserve, €147.15 to the contributors and €3.80 to Stripe in fees.",
    );
  });

  it("speaks French when the browser asks for it or the switch says so, and English otherwise", async () => {
    expect((await parts(await call("/", { headers: { "accept-language": "fr-FR,fr;q=0.9,en;q=0.8" } }))).h1).toEqual(["Où va l'argent"]);
    expect((await parts(await call("/", { headers: { "accept-language": "de-DE,fr;q=0.5,en;q=0.7" } }))).h1).toEqual(["Where the money goes"]);
    expect((await parts(await call("/?lang=fr", { headers: { "accept-language": "en" } }))).lang).toBe("fr");
    expect((await call("/")).headers.get("vary")).toContain("Accept-Language");
  });

  it("states the rules in force in plain words, with their version, since when, who and why", async () => {
    const text = await (await call("/?lang=en")).text();
    expect(text).toContain("On every payment, after Stripe&#39;s fee: 10% to the commons, 15% to the reserve, the rest to the contributors of what was sold by weight.");
    expect(text).toContain("Version 1, in force since 1 January 1970 at 00:00 UTC, made by test; why: <q>test seed</q>");
  });

  it("escapes what people wrote: a party's name and a rule's reason are text, never markup", async () => {
    await env.DB.prepare("UPDATE parties SET name = '<img src=x onerror=alert(1)>' WHERE id = 'camille'").run();
    await env.DB.prepare("UPDATE rule_versions SET reason = '</q><script>alert(2)</script>'").run();
    setClock("2031-12-01T00:00:00Z");
    const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 175, created: s("2031-10-15T10:00:00Z") });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    const res = await call("/?period=2031-10");
    const text = await res.clone().text();
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(text).toContain("&lt;/q&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
    const page = await parts(res);
    expect(page.scripts).toBe(0);
    expect(page.handlers).toBe(0);
  });

  it("answers a bad period or currency with a 400 page that says what is wrong", async () => {
    for (const query of ["?period=2031-13", "?currency=EURO"]) {
      const res = await call(`/${query}&lang=en`);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain("<h1>This address asks for something the page cannot show</h1>");
      expect(text).toMatch(query.includes("period") ? /is not a month \(2026-10\), a quarter \(2026-Q4\) or a year \(2026\)/ : /is not a lower-case ISO 4217 code/);
    }
  });
});

/** The page's text with its entities decoded, and the text of what matches `selector`, one string each. */
async function textsOf(res: Response, selector: string): Promise<{ all: string; found: string[] }> {
  const found: string[] = [];
  let depth = 0;
  const rewritten = new HTMLRewriter()
    .on(selector, {
      element(el) {
        found.push("");
        depth++;
        el.onEndTag(() => void depth--);
      },
      text(t) {
        if (depth > 0) found[found.length - 1] += decode(t.text);
      },
    })
    // A space where an element starts, as a reader sees "Notice ends" and its date apart.
    .on(`${selector} *`, { element: () => void (found[found.length - 1] += " ") })
    .transform(res);
  const all = decode(await rewritten.text());
  // Only the spaces of the markup are folded: the no-break spaces of French typography stay.
  return { all, found: found.map((f) => f.replace(/[ \t\r\n]+/g, " ").trim()) };
}

describe("GET /: need pools", () => {
  beforeEach(async () => {
    await env.DB.prepare("UPDATE rule_versions SET body = ? WHERE rule_id = 'default'")
      .bind(JSON.stringify({ basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: { pool: "facilitators" }, share: "remaining" }] }))
      .run();
    setClock("2031-10-01T00:00:00Z");
    expect((await api("/pools", { method: "POST", body: { id: "facilitators", name: "Facilitators", members: ["camille", "dominique", "sacha"] } })).status).toBe(201);
    setClock("2031-11-02T08:00:00Z");
    // Two trainings of 100.00 € in October (fee 1.75 €): 2 × 73.69 € to the pool, against needs of 120, 50 and 30 €.
    for (const day of [10, 11]) {
      const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 175, created: s(`2031-10-${day}T10:00:00Z`) });
      await putStripeObjects(built);
      await deliverAndSettle(built.event);
    }
    for (const [party, amount_minor] of [["camille", 12_000], ["dominique", 5_000], ["sacha", 3_000]] as const) {
      expect((await api(`/pools/facilitators/needs/${party}`, { method: "PUT", body: { currency: "eur", amount_minor } })).status).toBe(200);
    }
    expect((await api("/pools/facilitators/close", { method: "POST", body: { period: "2031-10" } })).status).toBe(201);
  });

  it("shows the period's close: each member's need and what they received, with the API's figures, and says it in English", async () => {
    const api_ = (await (await call("/api/v1/public/flows?period=2031-10")).json()) as { pools: { members: { need_minor: number; received_minor: number }[]; income_minor: number; leftover_minor: number }[] };
    const res = await call("/?period=2031-10&lang=en");
    const page = await textsOf(res.clone(), "[data-testid=pool-sentence]");
    // 147.38 € against 200.00 € of needs: 120 × 147.38 / 200 = 88.428 → 88.43 (the unit goes to the least served), 36.84, 22.11.
    expect(page.found).toEqual([
      "In October 2031, €147.38 came into the pool “Facilitators” against €200.00 of needs counted among 3 members; each need was paid in the same proportion.",
    ]);
    const rows = await textsOf(res.clone(), ".pools tbody tr th");
    expect(rows.found).toEqual(["Camille", "A member", "A member", "Came into the pool"]);
    const amounts: [string, number][] = [];
    await new HTMLRewriter().on(".pools [data-total]", { element: (el) => void amounts.push([el.getAttribute("data-total") ?? "", Number(el.getAttribute("data-amount-minor"))]) }).transform(res.clone()).text();
    const pool = api_.pools[0];
    expect(amounts).toEqual([...(pool?.members ?? []).flatMap((m) => [["need_minor", m.need_minor], ["received_minor", m.received_minor]] as [string, number][]), ["income_minor", 14_738]]);
    expect(pool?.leftover_minor).toBe(0);
    expect(page.all).not.toMatch(/Dominique|Sacha|dominique|sacha/);
    // The pool is a node of its own on the diagram, by its name.
    expect(page.all).toContain("Need pool: Facilitators");
  });

  it("says it in French, a member not named being « un membre »", async () => {
    const res = await call("/?period=2031-10&lang=fr");
    const page = await textsOf(res.clone(), "[data-testid=pool-sentence]");
    expect(page.found).toEqual([
      "En octobre 2031, 147,38\u00a0€ sont entrés dans le fonds «\u00a0Facilitators\u00a0» pour 200,00\u00a0€ de besoins comptés entre 3 membres\u202f; chaque besoin a été payé dans la même proportion.",
    ]);
    expect((await textsOf(res.clone(), ".pools tbody tr th")).found).toEqual(["Camille", "Un membre", "Un membre", "Entré dans le fonds"]);
    expect(page.all).not.toMatch(/Dominique|Sacha|dominique|sacha/);
  });

  it("shows no close in a period its pool's month does not end in", async () => {
    const page = await textsOf(await call("/?period=2031-11&lang=en"), ".pools article");
    expect(page.found).toEqual([]);
    expect(page.all).toContain("No need pool closed a period that ends in this one.");
  });
});

describe("GET /: proposals to change the rules", () => {
  const RESERVE = (share: string) => ({ basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share }, { to: "contributors", share: "remaining" }] });

  /** A training paid under the default rule (Camille, public, and Dominique, not, affected); then a withdrawn proposal, and one amended, objected to by both, Dominique's lifted. */
  async function proposals() {
    setClock("2031-03-12T09:00:00Z");
    const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: s("2031-03-12T08:00:00Z") });
    await putStripeObjects(built);
    await deliverAndSettle(built.event);
    expect((await api("/rules/default", { method: "PATCH", body: { governance: { notice: "PT1S", approvals: 1 } } })).status).toBe(200);
    const post = async (path: string, body: unknown) => {
      advanceClock(100); // each step at its own instant, as people take them
      const res = await api(path, { method: "POST", body });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return (await res.json()) as { id: string; objection?: { id: string } };
    };
    const withdrawn = await post("/rules/default/proposals", { reason: "More for the commons", body: { ...RESERVE("15%"), lines: [{ to: "commons", share: "12%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] } });
    await post(`/proposals/${withdrawn.id}/withdrawal`, { reason: "Funded otherwise" });
    const first = await post("/rules/default/proposals", { reason: "The reserve must reach six months of costs", body: RESERVE("20%") });
    await post(`/proposals/${first.id}/objections`, { party_id: "dominique", reason: "Too much at once" });
    const amended = await post(`/proposals/${first.id}/amendments`, { reason: "A smaller step: 18%", body: RESERVE("18%") });
    await post(`/proposals/${amended.id}/objections`, { party_id: "camille", reason: "Still too much for the facilitators" });
    const lifted = await post(`/proposals/${amended.id}/objections`, { party_id: "dominique", reason: "Still too much" });
    expect((await api(`/proposals/${amended.id}/objections/${lifted.objection?.id}`, { method: "DELETE" })).status).toBe(200);
    return { withdrawn: withdrawn.id, first: first.id, amended: amended.id };
  }

  it("lists the open one: where it stands, the rule in words before and after, why, objections (named only if public), approvals, what it amends, every step", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const ids = await proposals();
    const res = await call("/?lang=en");
    const open = await textsOf(res.clone(), `.proposals article[data-proposal="${ids.amended}"]`);
    expect(open.found).toHaveLength(1);
    const text = open.found[0] ?? "";
    // An objection stands: held, during the notice as after it.
    expect(text).toContain("Every payment · Held by an objection");
    expect(text).toContain("Proposed: On every payment, after Stripe's fee: 10% to the commons, 18% to the reserve, the rest to the contributors of what was sold by weight.");
    expect(text).toContain("Now: On every payment, after Stripe's fee: 10% to the commons, 15% to the reserve, the rest to the contributors of what was sold by weight.");
    expect(text).toContain("Why: A smaller step: 18%");
    expect(text).toContain("Notice ends 12 March 2031 at 09:00 UTC");
    expect(text).toContain("Objections 1 standing, 1 lifted (raised by Camille; a member, lifted)");
    expect(text).toContain("Approvals 0 of 1 given");
    expect(text).toContain("Amends the proposal of 12 March 2031 at 09:00 UTC, whose reason was The reserve must reach six months of costs");
    const steps = await textsOf(res.clone(), `.proposals article[data-proposal="${ids.amended}"] li`);
    expect(steps.found.map((s) => s.replace(/^.*UTC: /, ""))).toEqual(["Proposed", "Objection raised", "Amended", "Objection raised", "Objection raised", "Objection lifted"]);
    // Decided lately: the withdrawn one; the amended one lives on in its amendment's thread.
    const decided = await textsOf(res.clone(), ".proposals article.decided");
    expect(decided.found).toHaveLength(1);
    expect(decided.found[0]).toContain("Every payment · Withdrawn on 12 March 2031 at 09:00 UTC");
    expect(decided.found[0]).toContain("Proposed: On every payment, after Stripe's fee: 12% to the commons");
    // What an objector said is for the members; Dominique chose not to be named.
    const section = (await textsOf(await call("/?lang=en"), ".proposals")).found.join(" ");
    expect(section).not.toMatch(/Dominique|dominique|Too much at once|Still too much/);

    // The notice ends with Camille's objection standing: held, and the thread says so.
    setClock("2031-03-12T09:00:05Z");
    await allComplete(workflows);
    const after = await call("/?lang=en");
    expect((await textsOf(after.clone(), `.proposals article[data-proposal="${ids.amended}"] h3`)).found).toEqual(["Every payment · Held by an objection"]);
    expect((await textsOf(after, `.proposals article[data-proposal="${ids.amended}"] li`)).found.at(-1)).toMatch(/UTC: Held at the end of its notice$/);
  });

  it("says it in French, an objector not named being « un membre », as the public API does", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const ids = await proposals();
    const text = (await textsOf(await call("/?lang=fr"), `.proposals article[data-proposal="${ids.amended}"]`)).found[0] ?? "";
    expect(text).toContain("Tous les paiements · Retenue par une objection");
    expect(text).toContain("Proposé\u00a0: Sur chaque paiement");
    expect(text).toContain("Pourquoi\u00a0: A smaller step: 18%");
    expect(text).toContain("Objections 1 maintenue, 1 levée (soulevée par Camille\u202f; un membre, levée)");
    expect(text).toContain("Approbations 0 sur 1");
    const publicApi = (await (await call("/api/v1/public/proposals")).json()) as { proposals: { id: string; objectors: unknown[]; objections: unknown }[] };
    const read = publicApi.proposals.find((p) => p.id === ids.amended);
    expect(read?.objections).toEqual({ standing: 1, lifted: 1 });
    expect(read?.objectors).toEqual([
      { party_id: "camille", name: "Camille", standing: true },
      { party_id: null, name: null, standing: false },
    ]);
    expect(JSON.stringify(publicApi)).not.toMatch(/dominique|Dominique|Too much at once/);
    setClock("2031-03-12T09:00:05Z");
    await allComplete(workflows);
  });
});
