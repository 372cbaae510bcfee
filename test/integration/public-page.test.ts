// GET /: the public page, server-rendered. Its figures are the API's, its words the core's; it
// runs no script, names nobody who chose not to be named, and tells a bad address with a 400.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildHostingPayment, buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { call, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

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
