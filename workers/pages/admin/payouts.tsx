// Paying contributors: the payout runs, a run started by hand, a run's transfers and payments
// due by hand, and a payment made by hand recorded against its run (or on its own).
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");

/** A payout run's id as the API names it: anything else is not put in a link. */
const RUN_ID = /^po_[A-Za-z0-9_]{1,64}$/;

interface RunSummary {
  id: string;
  status: string;
  started_by: string;
  started_at: string;
  finished_at: string | null;
  items: { status: string; count: number; amount_minor: number }[];
}

interface PayoutItem {
  party_id: string;
  currency: string;
  amount_minor: number;
  method: "transfer" | "manual";
  status: string;
  stripe_account_id: string | null;
  source_transaction: string | null;
  transfer_id: string | null;
  reason: string | null;
  updated_at: string;
}

interface Run extends Omit<RunSummary, "items"> {
  items: PayoutItem[];
}

const STATUS_WORDS: Record<string, string> = {
  pending: "transfer under way",
  paid: "paid",
  parked: "parked",
  manual_due: "due by hand",
  manual_paid: "paid by hand",
};

const STATUS_ORDER = Object.keys(STATUS_WORDS);

export const payoutPages = new Hono<ConsoleEnv>();

async function runsPage(c: ConsoleContext, notice: Notice | null, started: string | null, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<{ runs: RunSummary[] }>("/payouts?limit=50");
  const list = answer.ok ? answer.body.runs : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Payouts" session={session} section="/admin/payouts" notice={notice ?? (answer.ok ? null : errorNotice(answer))}>
        {started ? (
          <p data-testid="started-run">
            <a href={`/admin/payouts/${encodeURIComponent(started)}`}>Open run {started}</a>
          </p>
        ) : null}
        <p>
          A payout run pays each contributor its payable balance per currency once it reaches the party's minimum: by a Stripe transfer to its connected account, or listed as due by hand when it has none. Runs start every Monday at 06:00 UTC, one at a time; the commons, the reserve and the pools are never paid out.
        </p>
        <form method="post" action="/admin/payouts/run" class="inline-form">
          <Csrf session={session} />
          <Submit session={session}>Start a payout run</Submit>
        </form>
        <h2>Runs</h2>
        {list.length === 0 ? (
          <p>No payout run yet.</p>
        ) : (
          <Wide label="Payout runs">
            <table data-testid="runs">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">By</th>
                  <th scope="col">Finished</th>
                  <th scope="col">Items</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr data-run={r.id}>
                    <th scope="row" class="mono">
                      <a href={`/admin/payouts/${encodeURIComponent(r.id)}`}>{r.id}</a>
                    </th>
                    <td>{r.status}</td>
                    <td>{when(r.started_at)}</td>
                    <td>{r.started_by}</td>
                    <td>{when(r.finished_at)}</td>
                    <td>{r.items.length === 0 ? "nothing to pay" : [...r.items].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status)).map((i) => `${i.count} ${STATUS_WORDS[i.status] ?? i.status}`).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
        <h2>A payment made by hand, outside a run</h2>
        <p>Record a bank transfer made to a party: its balance goes down by the amount, never more than what is payable now. A payment due by hand in a run is recorded from the run's page.</p>
        <ManualForm session={session} action="/admin/payouts/manual" />
      </ConsolePage>
    )}`,
    status as 200,
  );
}

function ManualForm(props: { session: ConsoleContext["var"]["session"]; action: string }) {
  return (
    <form method="post" action={props.action} class="fields">
      <Csrf session={props.session} />
      <p>
        <label for="manual-party">Party</label>
        <input type="text" id="manual-party" name="party_id" required />
      </p>
      <p>
        <label for="manual-currency">Currency <span class="hint-text">(e.g. eur)</span></label>
        <input type="text" id="manual-currency" name="currency" required value="eur" />
      </p>
      <p>
        <label for="manual-amount">Amount <span class="hint-text">(in minor units: 2456 is 24.56 €)</span></label>
        <input type="number" id="manual-amount" name="amount_minor" required min={1} step={1} inputmode="numeric" />
      </p>
      <p>
        <label for="manual-reference">Reference <span class="hint-text">(the bank transfer's reference, or how it was paid)</span></label>
        <input type="text" id="manual-reference" name="reference" required maxlength={200} />
      </p>
      <p>
        <Submit session={props.session}>Record the payment</Submit>
      </p>
    </form>
  );
}

payoutPages.get("/payouts", (c) => {
  const run = c.req.query("run");
  const done = c.req.query("done");
  const started = done === "started" && run && RUN_ID.test(run) ? run : null;
  const notice: Notice | null = started ? { kind: "ok", text: `Payout run ${started} started: its transfers are made in the background.` } : done === "recorded" ? { kind: "ok", text: "Payment by hand recorded." } : null;
  return runsPage(c, notice, started);
});

payoutPages.post("/payouts/run", async (c) => {
  const answer = await c.get("api").send<{ run_id: string }>("POST", "/payouts/run");
  if (answer.ok) return c.redirect(`/admin/payouts?done=started&run=${encodeURIComponent(answer.body.run_id)}`, 303);
  return runsPage(c, errorNotice(answer), null, answer.status);
});

/** The manual payout's body from the form, with the run it settles when there is one. */
async function manualBody(c: ConsoleContext, runId?: string) {
  const amount = (await field(c, "amount_minor")) ?? "";
  return {
    party_id: (await field(c, "party_id")) ?? "",
    currency: ((await field(c, "currency")) ?? "").toLowerCase(),
    // Not a number: the API names the field at fault.
    amount_minor: /^\d{1,16}$/.test(amount) ? Number(amount) : amount,
    reference: (await field(c, "reference")) ?? "",
    ...(runId ? { run_id: runId } : {}),
  };
}

payoutPages.post("/payouts/manual", async (c) => {
  const answer = await c.get("api").send("POST", "/payouts/manual", await manualBody(c));
  if (answer.ok) return c.redirect("/admin/payouts?done=recorded", 303);
  return runsPage(c, errorNotice(answer), null, answer.status);
});

async function runPage(c: ConsoleContext, runId: string, notice: Notice | null, status = 200) {
  const session = c.get("session");
  const answer: ApiAnswer<Run> = await c.get("api").get(`/payouts/${encodeURIComponent(runId)}`);
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Payout run" session={session} section="/admin/payouts" notice={errorNotice(answer)}><p><a href="/admin/payouts">Back to the payouts</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const r = answer.body;
  const parked = r.items.filter((i) => i.status === "parked");
  const due = r.items.filter((i) => i.status === "manual_due");
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Payout run ${r.id}`} session={session} section="/admin/payouts" notice={notice}>
        <p>
          <span data-testid="run-status">{r.status === "running" ? "Running" : "Completed"}</span>: started {when(r.started_at)} by {r.started_by}
          {r.finished_at ? `, finished ${when(r.finished_at)}` : " (reload to follow it)"}. <a href="/admin/payouts">All runs</a>
        </p>
        {r.items.length === 0 ? (
          <p>This run had nothing to pay: no contributor's payable balance reached its minimum.</p>
        ) : (
          <Wide label="Payout items">
            <table data-testid="items">
              <thead>
                <tr>
                  <th scope="col">Party</th>
                  <th scope="col" class="amount">Amount</th>
                  <th scope="col">Method</th>
                  <th scope="col">Status</th>
                  <th scope="col">Connected account</th>
                  <th scope="col">Transfer</th>
                  <th scope="col">Reason or reference</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {r.items.map((i) => (
                  <tr data-item={`${i.party_id}:${i.currency}`}>
                    <th scope="row">
                      <a href={`/admin/parties/${encodeURIComponent(i.party_id)}`}>{i.party_id}</a>
                    </th>
                    <td class="amount">{money(i.amount_minor, i.currency)}</td>
                    <td>{i.method === "manual" ? "by hand" : "Stripe transfer"}</td>
                    <td>
                      <span class={`status ${i.status}`}>{STATUS_WORDS[i.status] ?? i.status}</span>
                    </td>
                    <td class="mono">{i.stripe_account_id ?? "—"}</td>
                    <td class="mono">{i.transfer_id ?? "—"}</td>
                    <td>{i.reason ?? "—"}</td>
                    <td>{when(i.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
        {parked.length > 0 ? (
          <section aria-labelledby="parked-title">
            <h2 id="parked-title">Parked</h2>
            <p>Stripe refused these transfers; the next run pays these parties again. Fix the cause first (a connected account not ready, a currency it cannot take).</p>
            <ul data-testid="parked">
              {parked.map((i) => (
                <li>
                  {i.party_id}, {money(i.amount_minor, i.currency)}: {i.reason ?? "no reason given"}
                </li>
              ))}
            </ul>
          </section>
        ) : null}
        {due.length > 0 ? (
          <section aria-labelledby="due-title">
            <h2 id="due-title">Due by hand</h2>
            <p>These parties have no Stripe connected account: pay each by bank transfer, then record it here with the transfer's reference.</p>
            {due.map((i) => (
              <form method="post" action={`/admin/payouts/${encodeURIComponent(r.id)}/manual`} class="fields" data-testid={`manual-${i.party_id}-${i.currency}`}>
                <Csrf session={session} />
                <input type="hidden" name="party_id" value={i.party_id} />
                <input type="hidden" name="currency" value={i.currency} />
                <input type="hidden" name="amount_minor" value={String(i.amount_minor)} />
                <h3>
                  {i.party_id}: {money(i.amount_minor, i.currency)}
                </h3>
                <p>
                  <label for={`reference-${i.party_id}-${i.currency}`}>Reference of the payment to {i.party_id}</label>
                  <input type="text" id={`reference-${i.party_id}-${i.currency}`} name="reference" required maxlength={200} />
                </p>
                <p>
                  <Submit session={session}>
                    Record the payment<span class="visually-hidden"> to {i.party_id} in {i.currency.toUpperCase()}</span>
                  </Submit>
                </p>
              </form>
            ))}
          </section>
        ) : null}
      </ConsolePage>
    )}`,
    status as 200,
  );
}

payoutPages.get("/payouts/:run_id", (c) => runPage(c, c.req.param("run_id"), c.req.query("done") === "recorded" ? { kind: "ok", text: `Payment by hand to ${c.req.query("party") ?? ""} recorded.` } : null));

payoutPages.post("/payouts/:run_id/manual", async (c) => {
  const runId = c.req.param("run_id");
  const body = await manualBody(c, runId);
  const answer = await c.get("api").send("POST", "/payouts/manual", body);
  if (answer.ok) return c.redirect(`/admin/payouts/${encodeURIComponent(runId)}?done=recorded&party=${encodeURIComponent(body.party_id)}`, 303);
  return runPage(c, runId, errorNotice(answer), answer.status);
});
