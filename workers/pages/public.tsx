// GET /: where the money went, for anyone, without signing in. Server-rendered, no script:
// the period picker is a GET form, the diagram is SVG, every figure is also in a table. The
// figures are those of GET /api/v1/public/flows (workers/public-data.ts), and the rules in force
// are said in plain words by the core.
import { Hono } from "hono";
import { html } from "hono/html";
import { dateTimeLabel, flowsInWords, formatMoney, periodLabel, periodsBetween, type Flows, type Lang, type ReportPeriod } from "../../core";
import { database } from "../../db/client";
import type { Env } from "../../workflows/env";
import { ApiError } from "../errors";
import { publicFlows, rulesInForce, type Author, type PublicFlows, type RuleInForce } from "../public-data";
import { negotiateLang, T, type Texts } from "./i18n";
import { Page } from "./layout";
import { Sankey } from "./sankey";
import { publicPageHeaders } from "./security";

export const publicPages = new Hono<{ Bindings: Env }>();

/** The page's own address with some parameters changed: the language switch and the JSON link keep the period. */
function href(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
  const s = q.toString();
  return s === "" ? "/" : `/?${s}`;
}

publicPages.get("/", publicPageHeaders, async (c) => {
  const lang = negotiateLang(c.req.query("lang"), c.req.header("accept-language"));
  c.header("vary", "Accept-Language");
  // Sums change only when money moves: a minute's staleness is fine for anyone, as for the API.
  c.header("cache-control", "public, max-age=60");
  const asked = { period: c.req.query("period") || undefined, currency: c.req.query("currency") || undefined };
  const db = database(c.env.DB);
  const now = Date.now();
  let data: PublicFlows;
  try {
    data = await publicFlows(db, c.env, asked, now);
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) return c.html(html`<!doctype html>${(<BadRequest lang={lang} message={error.message} />)}`, 400);
    throw error;
  }
  const rules = await rulesInForce(db, now);
  return c.html(html`<!doctype html>${(<PublicPage lang={lang} data={data} rules={rules} nowMs={now} />)}`);
});

function Header(props: { lang: Lang; t: Texts; switchTo: (lang: Lang) => string }) {
  return (
    <header class="site">
      <p class="brand">
        <a href={props.switchTo(props.lang)}>{props.t.site}</a>
      </p>
      <nav aria-label={props.t.languages} class="langs">
        <ul>
          {(["en", "fr"] as const).map((l) => (
            <li>
              <a href={props.switchTo(l)} lang={l} hreflang={l} aria-current={l === props.lang ? "true" : undefined}>
                {l === "en" ? "English" : "Français"}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </header>
  );
}

function PublicPage(props: { lang: Lang; data: PublicFlows; rules: RuleInForce[]; nowMs: number }) {
  const { lang, data } = props;
  const t = T[lang];
  const { flows, period, currency } = data;
  const money = (amount: number) => formatMoney(amount, currency, lang);
  const sentence = flowsInWords(flows, period, lang);
  const switchTo = (l: Lang) => href({ lang: l, period: period.id, currency });
  const empty = flows.links.length === 0;
  return (
    <Page
      lang={lang}
      title={`${t.publicTitle} · ${periodLabel(period, lang)} · ${t.site}`}
      skip={t.skip}
      header={<Header lang={lang} t={t} switchTo={switchTo} />}
      footer={
        <footer class="site">
          <ul>
            <li>
              <a href={`/api/v1/public/flows?period=${encodeURIComponent(period.id)}&currency=${encodeURIComponent(currency)}`}>{t.json}</a>
            </li>
            <li>
              <a href="/admin">{t.console}</a>
            </li>
          </ul>
        </footer>
      }
    >
      <h1>{t.publicTitle}</h1>
      <p class="lede">{t.lede}</p>
      <PeriodPicker lang={lang} t={t} data={data} nowMs={props.nowMs} />
      <section class="summary" aria-labelledby="summary-title">
        <h2 id="summary-title">{periodLabel(period, lang)}</h2>
        <p class="sentence" data-testid="sentence">
          {sentence}
        </p>
      </section>
      <div class="flows">
        <figure class="diagram">
          <figcaption>
            <h2 id="diagram-title">{t.diagram}</h2>
            <p class="help">{empty ? t.noMovement : t.diagramHelp}</p>
          </figcaption>
          {empty ? null : (
            <div class="scroll" tabindex={0} role="region" aria-labelledby="diagram-title">
              <Sankey nodes={flows.nodes} links={flows.links} currency={currency} lang={lang} title={`${t.diagram}, ${periodLabel(period, lang)}`} description={sentence} />
            </div>
          )}
          {empty ? null : <p class="hint">{t.scrollHint}</p>}
        </figure>
        <Totals t={t} flows={flows} money={money} />
      </div>
      <Recipients t={t} flows={flows} money={money} />
      <Rules lang={lang} t={t} rules={props.rules} />
      <section aria-labelledby="about-title" class="about">
        <h2 id="about-title">{t.about}</h2>
        <p>{t.aboutText}</p>
      </section>
    </Page>
  );
}

function PeriodPicker(props: { lang: Lang; t: Texts; data: PublicFlows; nowMs: number }) {
  const { data, lang, t } = props;
  const first = data.available.first_period ?? data.period.id;
  const firstMs = Math.min(Date.parse(`${first.slice(0, 4)}-01-01T00:00:00Z`), data.period.from_ms);
  const lastMs = Math.max(props.nowMs, data.period.from_ms);
  const years = periodsBetween(firstMs, lastMs);
  const shown = (p: ReportPeriod) => p.from_ms <= lastMs;
  return (
    <form method="get" action="/" class="picker" aria-label={t.picker}>
      <input type="hidden" name="lang" value={lang} />
      <p>
        <label for="period">{t.period}</label>
        <select id="period" name="period">
          {years.map((y) => (
            <optgroup label={String(y.year.year)}>
              {[y.year, ...y.quarters.filter(shown), ...y.months.filter(shown)].map((p) => (
                <option value={p.id} selected={p.id === data.period.id}>
                  {p.kind === "year" ? `${t.year} ${p.year}` : periodLabel(p, lang)}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </p>
      <p>
        <label for="currency">{t.currency}</label>
        <select id="currency" name="currency">
          {[...new Set([...data.available.currencies, data.currency])].map((cur) => (
            <option value={cur} selected={cur === data.currency}>
              {cur.toUpperCase()}
            </option>
          ))}
        </select>
      </p>
      <p>
        <button type="submit">{t.show}</button>
      </p>
    </form>
  );
}

function Amount(props: { name: string; amount: number; money: (a: number) => string }) {
  return (
    <td class="amount" data-total={props.name} data-amount-minor={props.amount}>
      {props.money(props.amount)}
    </td>
  );
}

function Totals(props: { t: Texts; flows: Flows; money: (a: number) => string }) {
  const { t, flows, money } = props;
  const x = flows.totals;
  const n = t.node;
  const row = (name: string, label: string, amount: number, sub = false) => (
    <tr class={sub ? "sub" : undefined}>
      <th scope="row">{label}</th>
      <Amount name={name} amount={amount} money={money} />
    </tr>
  );
  return (
    <section class="totals" aria-labelledby="totals-title">
      <h2 id="totals-title">{t.totals}</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">{t.what}</th>
            <th scope="col" class="amount">
              {t.amount}
            </th>
          </tr>
        </thead>
        <tbody>
          {row("came_in_minor", t.cameIn, x.came_in_minor)}
          {x.revenue_by_kind.map((k) => row(`revenue_by_kind.${k.kind}`, n.income(k.kind), k.amount_minor, true))}
          {x.vat_minor !== 0 ? row("vat_minor", n.vat, x.vat_minor, true) : null}
          {x.shipping_minor !== 0 ? row("shipping_minor", n.shipping, x.shipping_minor, true) : null}
        </tbody>
        <tbody>
          <tr class="group">
            <th scope="rowgroup" colspan={2}>
              {t.wentTo}
            </th>
          </tr>
          {row("to_commons_minor", n.commons, x.to_commons_minor, true)}
          {row("to_reserve_minor", n.reserve, x.to_reserve_minor, true)}
          {row("to_contributors_minor", n.contributors, x.to_contributors_minor, true)}
          {x.to_pools_minor !== 0 ? row("to_pools_minor", t.toPools, x.to_pools_minor, true) : null}
          {row("stripe_fees_minor", n.stripe_fees, x.stripe_fees_minor, true)}
          {x.fee_covered_minor !== 0 ? row("fee_covered_minor", n.coop_funds, x.fee_covered_minor, true) : null}
          {x.vat_minor !== 0 ? row("tax_office_minor", n.tax_office, x.vat_minor, true) : null}
          {x.shipping_minor !== 0 ? row("cooperative_minor", n.cooperative, x.shipping_minor, true) : null}
        </tbody>
        {x.refunds.taken_minor !== 0 || x.disputes.taken_minor !== 0 || x.refunds.to_customers_minor !== 0 || x.disputes.to_customers_minor !== 0 ? (
          <tbody>
            <tr class="group">
              <th scope="rowgroup" colspan={2}>
                {t.wentBack}
              </th>
            </tr>
            {x.refunds.to_customers_minor !== 0 ? row("refunds.to_customers_minor", t.refundedRow, x.refunds.to_customers_minor, true) : null}
            {x.disputes.to_customers_minor !== 0 ? row("disputes.to_customers_minor", t.disputedRow, x.disputes.to_customers_minor, true) : null}
            {x.disputes.stripe_fees_minor + x.refunds.stripe_fees_minor !== 0 ? row("disputes.stripe_fees_minor", t.disputeFeesRow, x.disputes.stripe_fees_minor + x.refunds.stripe_fees_minor, true) : null}
          </tbody>
        ) : null}
      </table>
    </section>
  );
}

function Recipients(props: { t: Texts; flows: Flows; money: (a: number) => string }) {
  const { t, flows, money } = props;
  if (flows.recipients.length === 0) return null;
  const single = (kind: string) => flows.recipients.filter((r) => r.kind === kind).length === 1;
  const nameOf = (r: Flows["recipients"][number]) =>
    r.party_id === null ? t.notNamed : r.kind === "commons" && single("commons") ? `${t.node.commons} (${r.name})` : r.kind === "reserve" && single("reserve") ? `${t.node.reserve} (${r.name})` : (r.name ?? "");
  return (
    <section class="recipients" aria-labelledby="recipients-title">
      <h2 id="recipients-title">{t.recipients}</h2>
      <div class="table-scroll" tabindex={0} role="region" aria-labelledby="recipients-title">
      <table>
        <thead>
          <tr>
            <th scope="col">{t.recipient}</th>
            <th scope="col" class="amount">
              {t.received}
            </th>
            <th scope="col" class="amount">
              {t.givenBack}
            </th>
            <th scope="col" class="amount">
              {t.net}
            </th>
          </tr>
        </thead>
        <tbody>
          {flows.recipients.map((r) => (
            <tr data-recipient={r.party_id ?? "contributors"}>
              <th scope="row">{nameOf(r)}</th>
              <Amount name="received_minor" amount={r.received_minor} money={money} />
              <Amount name="given_back_minor" amount={r.given_back_minor} money={money} />
              <Amount name="net_minor" amount={r.net_minor} money={money} />
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </section>
  );
}

function authorLabel(t: Texts, author: Author): string {
  return author.kind === "bootstrap" ? t.authorBootstrap : author.kind === "token" ? t.authorToken(author.name) : t.authorOther(author.actor);
}

function Rules(props: { lang: Lang; t: Texts; rules: RuleInForce[] }) {
  const { lang, t } = props;
  return (
    <section class="rules" aria-labelledby="rules-title">
      <h2 id="rules-title">{t.rulesTitle}</h2>
      <p>{t.rulesLede}</p>
      {props.rules.length === 0 ? <p>{t.noRules}</p> : null}
      {props.rules.map((r) => {
        const scope = "offer_id" in r.scope ? t.scopeOffer(r.offer_name ?? r.scope.offer_id) : "offer_kind" in r.scope ? t.scopeKind(r.scope.offer_kind) : t.scopeDefault;
        const words = r.words[lang];
        return (
          <article class="rule" data-rule={r.id} aria-labelledby={`rule-${r.id}`}>
            <h3 id={`rule-${r.id}`}>
              {scope} <span class="version">· {t.ruleVersion(r.version)}</span>
            </h3>
            <p class="sentence">{words.sentence}</p>
            <p class="meta">
              {t.ruleVersion(r.version)}, {t.since} {dateTimeLabel(r.effective_from_ms, lang)}, {t.changedBy} {authorLabel(t, r.author)}
              {t.why}
              <q>{r.reason}</q>
            </p>
            <p class="detail">{words.rounding}</p>
            <p class="detail">{words.fee_policy}</p>
            {r.next ? <p class="detail">{t.nextVersion(r.next.version, dateTimeLabel(r.next.effective_from_ms, lang))}</p> : null}
          </article>
        );
      })}
    </section>
  );
}

function BadRequest(props: { lang: Lang; message: string }) {
  const t = T[props.lang];
  return (
    <Page lang={props.lang} title={`${t.badRequest} · ${t.site}`} skip={t.skip} header={<Header lang={props.lang} t={t} switchTo={(l) => href({ lang: l })} />}>
      <h1>{t.badRequest}</h1>
      <p class="problem">{props.message}</p>
      <p>
        <a href={href({ lang: props.lang })}>{t.backHome}</a>
      </p>
    </Page>
  );
}
