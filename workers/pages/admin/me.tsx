// A party's own console: signed in with its `party` token, a party sees its balance and
// statement, its pools and needs, and the proposals that affect it, and objects to them. It is
// shown only the pages its token can use (partyConsole); the API's roles stay the guard: every
// page calls the API with the party's session, which answers 403 to anything else.
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import type { ConsoleEnv } from "./context";
import { ConsolePage, Wide, errorNotice, when } from "./layout";
import { ObjectForm, type ProposalView } from "./proposals";

/** The console pages a party's token can use: anything else is not shown to it. */
const PARTY_PAGES: { methods: string[]; path: RegExp }[] = [
  { methods: ["GET", "HEAD"], path: /^\/admin\/me$/ },
  { methods: ["GET", "HEAD"], path: /^\/admin\/proposals(?:\/[^/]+)?$/ },
  { methods: ["POST"], path: /^\/admin\/proposals\/[^/]+\/objections(?:\/[^/]+\/lift)?$/ },
  { methods: ["GET", "HEAD"], path: /^\/admin\/pools\/[^/]+(?:\/periods\/[^/]+)?$/ },
  { methods: ["POST"], path: /^\/admin\/pools\/[^/]+\/needs\/[^/]+$/ },
  // Its statement as CSV (the API answers 403 for another party's).
  { methods: ["GET", "HEAD"], path: /^\/admin\/parties\/[^/]+\/statement\.csv$/ },
];

/** Keeps a party's session to its own pages: the overview is its account, anything else a 403 that says so. */
export const partyConsole = createMiddleware<ConsoleEnv>(async (c, next) => {
  const session = c.get("session");
  if (session.principal.role !== "party") return next();
  const path = c.req.path.replace(/\/$/, "");
  if (path === "/admin" && (c.req.method === "GET" || c.req.method === "HEAD")) return c.redirect("/admin/me", 303);
  if (PARTY_PAGES.some((p) => p.methods.includes(c.req.method) && p.path.test(path))) return next();
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Not in your console" session={session} section="/admin/me" notice={{ kind: "error", text: "A party's token does not open this page: it reads its own account, its pools and the proposals that affect it." }}>
        <p>
          <a href="/admin/me">Your account</a>
        </p>
      </ConsolePage>
    )}`,
    403,
  );
});

interface Balance {
  party_id: string;
  currency: string;
  balance_minor: number;
  pending_minor?: number;
  payable_minor?: number;
  paid_minor?: number;
}

interface Statement {
  party_id: string;
  from: string;
  to: string;
  currencies: { currency: string; opening_balance_minor: number; closing_balance_minor: number; lines: { at: string; cause: string; amount_minor: number; balance_minor: number; payment_id: string | null; offer_name: string | null; description: string }[] }[];
}

interface PoolSummary {
  id: string;
  name: string;
  period: string;
}

const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");
const DAY_MS = 86_400_000;
const isDay = (s: string | undefined): s is string => s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s);

export const mePages = new Hono<ConsoleEnv>();

mePages.get("/me", async (c) => {
  const session = c.get("session");
  const api = c.get("api");
  const me = session.principal.party_id ?? "";
  if (session.principal.role !== "party") return c.redirect("/admin", 303);
  const today = new Date(Date.now()).toISOString().slice(0, 10);
  const from = isDay(c.req.query("from")) ? (c.req.query("from") as string) : new Date(Date.now() - 29 * DAY_MS).toISOString().slice(0, 10);
  const to = isDay(c.req.query("to")) ? (c.req.query("to") as string) : today;
  const [party, balances, statement, pools, proposals] = await Promise.all([
    api.get<{ id: string; name: string }>(`/parties/${encodeURIComponent(me)}`),
    api.get<{ balances: Balance[] }>("/balances"),
    api.get<Statement>(`/parties/${encodeURIComponent(me)}/statement?from=${from}&to=${to}`),
    api.get<{ pools: PoolSummary[] }>("/pools"),
    api.get<{ proposals: ProposalView[] }>("/proposals?status=open"),
  ]);
  const mine = (proposals.ok ? proposals.body.proposals : []).filter((p) => p.affected.some((a) => a.party_id === me) || p.objections.some((o) => o.party_id === me));
  const failed = [party, balances, pools, proposals].find((a) => !a.ok);
  const done = c.req.query("done");
  const notice = failed ? errorNotice(failed) : done === "objected" ? { kind: "ok" as const, text: "Your objection is recorded: it holds the proposal until you lift it." } : done === "lifted" ? { kind: "ok" as const, text: "Your objection is lifted." } : null;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={party.ok ? `${party.body.name} (${me})` : me} session={session} section="/admin/me" notice={notice}>
        <h2>What the cooperative holds for you</h2>
        {balances.ok && balances.body.balances.length > 0 ? (
          <Wide label="Your balance">
            <table data-testid="my-balances">
              <thead><tr><th scope="col">Currency</th><th scope="col" class="amount">Balance</th><th scope="col" class="amount">Held</th><th scope="col" class="amount">Payable</th><th scope="col" class="amount">Paid out</th></tr></thead>
              <tbody>
                {balances.body.balances.map((b) => (
                  <tr>
                    <th scope="row">{b.currency.toUpperCase()}</th>
                    <td class="amount">{money(b.balance_minor, b.currency)}</td>
                    <td class="amount">{b.pending_minor === undefined ? "—" : money(b.pending_minor, b.currency)}</td>
                    <td class="amount">{b.payable_minor === undefined ? "—" : money(b.payable_minor, b.currency)}</td>
                    <td class="amount">{b.paid_minor === undefined ? "—" : money(b.paid_minor, b.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        ) : (
          <p>Nothing is held for you yet.</p>
        )}

        <h2 id="proposals-title">Proposals that affect you</h2>
        {mine.length === 0 ? (
          <p>No open proposal affects you.</p>
        ) : (
          <ul aria-labelledby="proposals-title" data-testid="my-proposals">
            {mine.map((p) => {
              const standing = p.objections.find((o) => o.party_id === me && o.standing);
              return (
                <li data-proposal={p.id}>
                  <p>
                    <a href={`/admin/proposals/${encodeURIComponent(p.id)}`}>{p.reason}</a> (rule {p.rule_id}, {p.status.replace("_", " ")}; notice ends {when(p.notice_ends)})
                  </p>
                  <p>
                    For you:{" "}
                    {p.affected
                      .filter((a) => a.party_id === me)
                      .map((a) => `${money(a.now_minor, a.currency)} now, ${money(a.proposed_minor, a.currency)} under the proposal (${a.delta_minor > 0 ? "+" : ""}${money(a.delta_minor, a.currency)})`)
                      .join("; ") || "no change in amounts"}
                    , over the payments of the last 90 days.
                  </p>
                  <ObjectForm session={session} proposal={p} me={me} standing={standing} back="/admin/me" />
                </li>
              );
            })}
          </ul>
        )}

        <h2>Your pools</h2>
        {pools.ok && pools.body.pools.length > 0 ? (
          <ul data-testid="my-pools">
            {pools.body.pools.map((p) => (
              <li>
                <a href={`/admin/pools/${encodeURIComponent(p.id)}`}>{p.name}</a> ({p.id}, closes every {p.period}): your need, what it counts for, and each close.
              </li>
            ))}
          </ul>
        ) : (
          <p>You are in no pool.</p>
        )}

        <h2>Your statement</h2>
        <form method="get" action="/admin/me" class="actions">
          <label for="from">From</label>
          <input type="date" id="from" name="from" value={from} />
          <label for="to">to</label>
          <input type="date" id="to" name="to" value={to} />
          <button type="submit" class="secondary">Show</button>
        </form>
        <p>
          <a href={`/admin/parties/${encodeURIComponent(me)}/statement.csv?${new URLSearchParams({ from, to }).toString()}`} data-testid="my-statement-csv">
            Download this statement as CSV
          </a>
        </p>
        {!statement.ok ? (
          <p class="problem">{errorNotice(statement).text}</p>
        ) : statement.body.currencies.length === 0 ? (
          <p>Nothing moved from {from} to {to}.</p>
        ) : (
          statement.body.currencies.map((s) => (
            <Wide label={`Statement in ${s.currency.toUpperCase()}`}>
              <table data-testid="my-statement">
                <caption>
                  {s.currency.toUpperCase()}: {money(s.opening_balance_minor, s.currency)} on {from}, {money(s.closing_balance_minor, s.currency)} at the end of {to}
                </caption>
                <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">On</th><th scope="col" class="amount">Amount</th><th scope="col" class="amount">Balance</th></tr></thead>
                <tbody>
                  {s.lines.map((l) => (
                    <tr>
                      <th scope="row">{when(l.at)}</th>
                      <td>{l.cause.replace(/_/g, " ")}</td>
                      <td>{l.offer_name ?? l.description}</td>
                      <td class="amount">{money(l.amount_minor, s.currency)}</td>
                      <td class="amount">{money(l.balance_minor, s.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Wide>
          ))
        )}
      </ConsolePage>
    )}`,
  );
});
