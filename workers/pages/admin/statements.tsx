// Statements and export: a party's statement over a period (its lines with their cause and Stripe
// object, opening and closing), and the CSV downloads an accountant takes away: the statement, and
// every posting of a period. A download is the API's own answer, streamed through as it comes.
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, problemText } from "./context";
import { ConsolePage, Wide, errorNotice, when, type Notice } from "./layout";

const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");

interface StatementLine {
  at: string;
  transaction_id: string;
  cause: string;
  amount_minor: number;
  balance_minor: number;
  payment_id: string | null;
  stripe_object: string | null;
  offer_id: string | null;
  offer_name: string | null;
  contributor_role: string | null;
  rule_id: string | null;
  rule_version: number | null;
  description: string;
}

interface Statement {
  party_id: string;
  from: string;
  to: string;
  currencies: { currency: string; opening_balance_minor: number; lines: StatementLine[]; closing_balance_minor: number }[];
}

/** The period of the query, or this UTC month so far; the API checks it (a bad day is its 400). */
function periodOf(c: ConsoleContext): { from: string; to: string } {
  const today = new Date().toISOString().slice(0, 10);
  return { from: c.req.query("from") ?? `${today.slice(0, 8)}01`, to: c.req.query("to") ?? today };
}

const periodQuery = (p: { from: string; to: string }) => new URLSearchParams({ from: p.from, to: p.to }).toString();

/** The API's CSV passed on as it comes (never read whole here), as a download. */
function passOn(res: Response): Response {
  const headers = new Headers({ "content-type": res.headers.get("content-type") ?? "text/csv; charset=utf-8" });
  const disposition = res.headers.get("content-disposition");
  if (disposition) headers.set("content-disposition", disposition);
  return new Response(res.body, { status: res.status, headers });
}

/** A refused download as a problem answer read once, for the page that offered it. */
async function refusal(res: Response): Promise<ApiAnswer> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, ok: false, body, etag: null };
}

function PeriodFields(props: { period: { from: string; to: string }; idPrefix: string }) {
  return (
    <>
      <p>
        <label for={`${props.idPrefix}-from`}>From <span class="hint-text">(UTC day, included)</span></label>
        <input type="date" id={`${props.idPrefix}-from`} name="from" required value={props.period.from} />
      </p>
      <p>
        <label for={`${props.idPrefix}-to`}>To <span class="hint-text">(included; at most 366 days in all)</span></label>
        <input type="date" id={`${props.idPrefix}-to`} name="to" required value={props.period.to} />
      </p>
    </>
  );
}

export const statementPages = new Hono<ConsoleEnv>();

async function statementPage(c: ConsoleContext, id: string, notice: Notice | null, status?: number) {
  const session = c.get("session");
  const period = periodOf(c);
  const answer = await c.get("api").get<Statement>(`/parties/${encodeURIComponent(id)}/statement?${periodQuery(period)}`);
  const s = answer.ok ? answer.body : null;
  const base = `/admin/parties/${encodeURIComponent(id)}/statement`;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Statement of ${id}`} session={session} section="/admin/parties" notice={notice ?? (answer.ok ? null : errorNotice(answer))}>
        <p>
          What the cooperative holds for <a href={`/admin/parties/${encodeURIComponent(id)}`}>{id}</a>, per currency: the balance at the start of the first day, each movement in the order it was booked, the balance at the end of the last day.
        </p>
        <form method="get" action={base} class="picker">
          <PeriodFields period={period} idPrefix="statement" />
          <p>
            <button type="submit">Show</button>
          </p>
        </form>
        {s ? (
          <>
            <p>
              <a href={`${base}.csv?${periodQuery(period)}`} download data-testid="statement-csv">
                Download CSV<span class="visually-hidden"> of the statement of {id} from {s.from} to {s.to}</span>
              </a>
            </p>
            {s.currencies.length === 0 ? <p>Nothing held and nothing moved from {s.from} to {s.to}.</p> : null}
            {s.currencies.map((cur) => (
              <section aria-labelledby={`cur-${cur.currency}`}>
                <h2 id={`cur-${cur.currency}`}>{cur.currency.toUpperCase()}</h2>
                <Wide label={`Statement in ${cur.currency.toUpperCase()}`}>
                  <table data-testid={`statement-${cur.currency}`}>
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">Cause</th>
                        <th scope="col" class="amount">Amount</th>
                        <th scope="col" class="amount">Balance</th>
                        <th scope="col">Stripe object</th>
                        <th scope="col">Payment</th>
                        <th scope="col">Offer</th>
                        <th scope="col">Description</th>
                      </tr>
                    </thead>
                    <tbody>
                      <tr class="total">
                        <th scope="row">{s.from}</th>
                        <td>opening balance</td>
                        <td class="amount"></td>
                        <td class="amount" data-testid="opening">{money(cur.opening_balance_minor, cur.currency)}</td>
                        <td colspan={4}></td>
                      </tr>
                      {cur.lines.map((l) => (
                        <tr>
                          <th scope="row">{when(l.at)}</th>
                          <td>{l.cause.replace(/_/g, " ")}</td>
                          <td class="amount">{money(l.amount_minor, cur.currency)}</td>
                          <td class="amount">{money(l.balance_minor, cur.currency)}</td>
                          <td class="mono">{l.stripe_object ?? "—"}</td>
                          <td class="mono">{l.payment_id ? <a href={`/admin/payments/${encodeURIComponent(l.payment_id)}`}>{l.payment_id}</a> : "—"}</td>
                          <td>{l.offer_name ? `${l.offer_name}${l.contributor_role ? ` (${l.contributor_role})` : ""}` : "—"}</td>
                          <td>{l.description}</td>
                        </tr>
                      ))}
                      <tr class="total">
                        <th scope="row">{s.to}</th>
                        <td>closing balance</td>
                        <td class="amount"></td>
                        <td class="amount" data-testid="closing">{money(cur.closing_balance_minor, cur.currency)}</td>
                        <td colspan={4}></td>
                      </tr>
                    </tbody>
                  </table>
                </Wide>
              </section>
            ))}
          </>
        ) : null}
      </ConsolePage>
    )}`,
    (status ?? (answer.ok ? 200 : answer.status === 404 ? 404 : 400)) as 200,
  );
}

statementPages.get("/parties/:id/statement", (c) => statementPage(c, c.req.param("id"), null));

statementPages.get("/parties/:id/statement.csv", async (c) => {
  const id = c.req.param("id");
  const res = await c.get("api").download(`/parties/${encodeURIComponent(id)}/statement?${periodQuery(periodOf(c))}`, "text/csv");
  if (res.ok) return passOn(res);
  const refused = await refusal(res);
  return statementPage(c, id, { kind: "error", text: `No CSV: ${problemText(refused)}` }, res.status);
});

async function exportPage(c: ConsoleContext, notice: Notice | null, status = 200) {
  const session = c.get("session");
  const period = periodOf(c);
  const parties = await c.get("api").get<{ parties: { id: string; name: string }[] }>("/parties");
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Statements and export" session={session} section="/admin/export" notice={notice ?? (parties.ok ? null : errorNotice(parties))}>
        <h2>A party's statement</h2>
        <p>Its opening balance, each movement with its cause and Stripe object, its closing balance; as a page, and from there as CSV.</p>
        <form method="get" action="/admin/statement" class="fields">
          <p>
            <label for="statement-party">Party</label>
            <select id="statement-party" name="party" required>
              {(parties.ok ? parties.body.parties : []).map((p) => (
                <option value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </p>
          <PeriodFields period={period} idPrefix="statement" />
          <p>
            <button type="submit">Show the statement</button>
          </p>
        </form>
        <h2>The ledger's export</h2>
        <p>Every posting of the transactions booked in the period, one CSV row each, for the accountant: each transaction sums to zero per currency, and so does the file.</p>
        <form method="get" action="/admin/export/ledger.csv" class="fields">
          <PeriodFields period={period} idPrefix="export" />
          <p>
            <button type="submit">Download the ledger as CSV</button>
          </p>
        </form>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

statementPages.get("/export", (c) => exportPage(c, null));

/** The statement form's answer: the party's statement page for that period. */
statementPages.get("/statement", (c) => {
  const party = c.req.query("party") ?? "";
  if (party === "") return c.redirect("/admin/export", 303);
  return c.redirect(`/admin/parties/${encodeURIComponent(party)}/statement?${periodQuery(periodOf(c))}`, 303);
});

statementPages.get("/export/ledger.csv", async (c) => {
  const res = await c.get("api").download(`/ledger/export?${periodQuery(periodOf(c))}`, "text/csv");
  if (res.ok) return passOn(res);
  return exportPage(c, { kind: "error", text: `No CSV: ${problemText(await refusal(res))}` }, res.status);
});
