// Reconciliation with Stripe: the days reconciled, a day started by hand, and a day's result with
// each difference, its Stripe object and what to do about it. The API offers no resolve action:
// a difference is dealt with where it comes from (an event retried, a correcting transaction),
// and a new run of the day replaces the result.
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

const money = (amount: number | null, currency: string | null) => (amount === null || currency === null ? "—" : formatMoney(amount, currency, "en"));

const DAY = /^\d{4}-\d{2}-\d{2}$/;

interface DaySummary {
  date: string;
  status: string;
  run_id: string;
  started_by: string;
  started_at: string;
  finished_at: string | null;
  reason: string | null;
  clean: boolean | null;
  matched: number | null;
  differences_total: number | null;
}

interface Difference {
  code: string;
  stripe_object: string | null;
  balance_transaction: string | null;
  stripe_type: string | null;
  transaction_id: string | null;
  kind: string | null;
  currency: string | null;
  stripe_amount_minor: number | null;
  ledger_amount_minor: number | null;
  stripe_fee_minor: number | null;
  ledger_fee_minor: number | null;
  action: string;
}

interface Reconciliation extends DaySummary {
  progress: { stripe_pages: number; stripe_balance_transactions: number };
  stripe_balance_transactions: number | null;
  ledger_transactions: number | null;
  outside_ledger: number | null;
  totals: { currency: string; stripe_net_minor: number; ledger_net_minor: number }[];
  fees_billed_apart: { balance_transaction: string; transaction_id: string; description: string; amount_minor: number; currency: string }[];
  differences: Difference[];
}

function outcome(d: DaySummary): string {
  if (d.status === "running") return "running";
  if (d.status === "failed") return "failed";
  return d.clean ? "clean" : `${d.differences_total ?? 0} difference(s)`;
}

/** Yesterday (UTC): the latest day that is over. */
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

export const reconciliationPages = new Hono<ConsoleEnv>();

async function daysPage(c: ConsoleContext, notice: Notice | null, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<{ days: DaySummary[] }>("/reconciliation?limit=60");
  const list = answer.ok ? answer.body.days : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Reconciliation" session={session} section="/admin/reconciliation" notice={notice ?? (answer.ok ? null : errorNotice(answer))}>
        <p>
          Each UTC day, the ledger against Stripe's balance transactions: every charge, refund, dispute and transfer at Stripe has its ledger transaction with the same amount and fee, and the ledger has nothing Stripe does not list. Yesterday is reconciled every day at 02:00 UTC; a new run of a day replaces its result.
        </p>
        <form method="post" action="/admin/reconciliation/run" class="picker">
          <Csrf session={session} />
          <p>
            <label for="reconcile-date">Day <span class="hint-text">(UTC, over)</span></label>
            <input type="date" id="reconcile-date" name="date" required value={yesterday()} />
          </p>
          <p>
            <Submit session={session}>Reconcile the day</Submit>
          </p>
        </form>
        <h2>Days reconciled</h2>
        {list.length === 0 ? (
          <p>No day was reconciled yet.</p>
        ) : (
          <Wide label="Days reconciled">
            <table data-testid="days">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Matched</th>
                  <th scope="col">Started</th>
                  <th scope="col">By</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {list.map((d) => (
                  <tr data-day={d.date}>
                    <th scope="row">
                      <a href={`/admin/reconciliation/${d.date}`}>{d.date}</a>
                    </th>
                    <td>
                      <span class={`status ${d.status}`}>{outcome(d)}</span>
                      {d.reason ? `: ${d.reason}` : ""}
                    </td>
                    <td>{d.matched ?? "—"}</td>
                    <td>{when(d.started_at)}</td>
                    <td>{d.started_by}</td>
                    <td>{when(d.finished_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
      </ConsolePage>
    )}`,
    status as 200,
  );
}

reconciliationPages.get("/reconciliation", (c) => daysPage(c, null));

reconciliationPages.post("/reconciliation/run", async (c) => {
  const date = (await field(c, "date")) ?? "";
  const answer = await c.get("api").send<Reconciliation>("POST", "/reconciliation/run", { date });
  if (answer.ok) return c.redirect(`/admin/reconciliation/${answer.body.date}?done=started`, 303);
  return daysPage(c, errorNotice(answer), answer.status);
});

reconciliationPages.get("/reconciliation/:date", async (c) => {
  const session = c.get("session");
  const date = c.req.param("date");
  const answer: ApiAnswer<Reconciliation> = DAY.test(date) ? await c.get("api").get(`/reconciliation/${date}`) : { status: 404, ok: false, body: { code: "not_found", detail: `${date} is not a day (YYYY-MM-DD)` } as never, etag: null };
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Reconciliation" session={session} section="/admin/reconciliation" notice={errorNotice(answer)}><p><a href="/admin/reconciliation">Back to the days reconciled</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const r = answer.body;
  const notice: Notice | null = c.req.query("done") === "started" ? { kind: "ok", text: `Reconciliation of ${r.date} started (${r.run_id}): reload to follow it.` } : null;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Reconciliation of ${r.date}`} session={session} section="/admin/reconciliation" notice={notice}>
        <p>
          Outcome: <strong data-testid="outcome">{outcome(r)}</strong>
          {r.reason ? `: ${r.reason}` : ""}. Run {r.run_id}, started {when(r.started_at)} by {r.started_by}
          {r.finished_at ? `, finished ${when(r.finished_at)}` : `; ${r.progress.stripe_pages} page(s) of Stripe's list read so far`}. <a href="/admin/reconciliation">All days</a>
        </p>
        <form method="post" action="/admin/reconciliation/run" class="inline-form">
          <Csrf session={session} />
          <input type="hidden" name="date" value={r.date} />
          <Submit session={session}>Reconcile {r.date} again</Submit>
        </form>
        {r.status === "completed" ? (
          <>
            <Wide label="Counts">
              <table>
                <tbody>
                  <tr><th scope="row">Stripe's balance transactions</th><td>{r.stripe_balance_transactions ?? "—"}</td></tr>
                  <tr><th scope="row">The ledger's transactions that day</th><td>{r.ledger_transactions ?? "—"}</td></tr>
                  <tr><th scope="row">Matched</th><td>{r.matched ?? "—"}</td></tr>
                  <tr><th scope="row">Between Stripe and the bank (not the ledger's)</th><td>{r.outside_ledger ?? "—"}</td></tr>
                </tbody>
              </table>
            </Wide>
            {r.totals.length > 0 ? (
              <>
                <h2>Net over the day</h2>
                <Wide label="Totals">
                  <table data-testid="totals">
                    <thead><tr><th scope="col">Currency</th><th scope="col" class="amount">Stripe</th><th scope="col" class="amount">Ledger</th></tr></thead>
                    <tbody>
                      {r.totals.map((t) => (
                        <tr><th scope="row">{t.currency.toUpperCase()}</th><td class="amount">{money(t.stripe_net_minor, t.currency)}</td><td class="amount">{money(t.ledger_net_minor, t.currency)}</td></tr>
                      ))}
                    </tbody>
                  </table>
                </Wide>
              </>
            ) : null}
            {r.fees_billed_apart.length > 0 ? (
              <>
                <h2>Fees billed apart, booked to the cooperative</h2>
                <ul>
                  {r.fees_billed_apart.map((f) => (
                    <li>
                      <span class="mono">{f.balance_transaction}</span>: {f.description}, {money(f.amount_minor, f.currency)}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            <h2>Differences</h2>
            {r.differences.length === 0 ? (
              <p>None: the day reconciles.</p>
            ) : (
              <>
                {r.differences_total !== null && r.differences_total > r.differences.length ? <p>The first {r.differences.length} of {r.differences_total}.</p> : null}
                <p>Each is dealt with where it comes from (an event retried, a correcting transaction with the accountant), then the day reconciled again.</p>
                <Wide label="Differences">
                  <table data-testid="differences">
                    <thead>
                      <tr>
                        <th scope="col">What</th>
                        <th scope="col">Stripe object</th>
                        <th scope="col">Ledger transaction</th>
                        <th scope="col" class="amount">Stripe amount</th>
                        <th scope="col" class="amount">Ledger amount</th>
                        <th scope="col" class="amount">Stripe fee</th>
                        <th scope="col" class="amount">Ledger fee</th>
                        <th scope="col">What to do</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.differences.map((d) => (
                        <tr>
                          <th scope="row">{d.code.replace(/_/g, " ")}</th>
                          <td class="mono">{d.stripe_object ?? d.balance_transaction ?? "—"}</td>
                          <td class="mono">{d.transaction_id ?? "—"}</td>
                          <td class="amount">{money(d.stripe_amount_minor, d.currency)}</td>
                          <td class="amount">{money(d.ledger_amount_minor, d.currency)}</td>
                          <td class="amount">{money(d.stripe_fee_minor, d.currency)}</td>
                          <td class="amount">{money(d.ledger_fee_minor, d.currency)}</td>
                          <td>{d.action}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Wide>
              </>
            )}
          </>
        ) : null}
      </ConsolePage>
    )}`,
  );
});
