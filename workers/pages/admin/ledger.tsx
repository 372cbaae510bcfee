// What the ledger holds: an overview, the payments with their shares and history, and each
// party's balance.
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import type { ConsoleEnv } from "./context";
import { ConsolePage, Wide, errorNotice, when } from "./layout";

const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");

interface Balance {
  party_id: string;
  kind: string;
  currency: string;
  balance_minor: number;
  pending_minor?: number;
  payable_minor?: number;
  paid_minor?: number;
}

export const ledgerPages = new Hono<ConsoleEnv>();

ledgerPages.get("/", async (c) => {
  const api = c.get("api");
  const [parked, failed, due, check, balances] = await Promise.all([
    api.get<{ events: unknown[] }>("/events?status=parked&limit=500"),
    api.get<{ events: unknown[] }>("/events?status=failed&limit=500"),
    api.get<{ events: unknown[] }>("/events?due=true&limit=500"),
    api.get<{ ok: boolean; transactions: number; postings: number }>("/ledger/check"),
    api.get<{ balances: Balance[] }>("/balances"),
  ]);
  const count = (a: typeof parked) => (a.ok ? a.body.events.length : 0);
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Overview" session={c.get("session")} section="/admin">
        <ul>
          <li>
            <a href="/admin/events?status=parked">{count(parked)} parked event(s)</a> waiting for an admin, <a href="/admin/events?status=failed">{count(failed)} failed</a>, <a href="/admin/events?status=due">{count(due)} due sometime</a>.
          </li>
          <li>
            The ledger check is{" "}
            <strong data-testid="ledger-check">{check.ok ? (check.body.ok ? "ok" : "FAILING") : "unavailable"}</strong>
            {check.ok ? ` over ${check.body.transactions} transactions and ${check.body.postings} postings.` : "."}
          </li>
          <li>
            <a href="/admin/balances">{balances.ok ? balances.body.balances.length : 0} balance(s)</a> held for parties; <a href="/admin/payments">the payments</a>; <a href="/admin/rules">the rules</a>.
          </li>
        </ul>
      </ConsolePage>
    )}`,
  );
});

interface PaymentSummary {
  id: string;
  paid_at: string;
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  tax_minor: number;
  rule_versions: string[];
  offer_ids: string[];
  refunded_minor: number;
  disputed_minor: number;
}

ledgerPages.get("/payments", async (c) => {
  const before = c.req.query("before");
  const answer = await c.get("api").get<{ payments: PaymentSummary[]; next_before: string | null }>(`/payments?limit=50${before ? `&before=${encodeURIComponent(before)}` : ""}`);
  const list = answer.ok ? answer.body.payments : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Payments" session={c.get("session")} section="/admin/payments" notice={answer.ok ? null : errorNotice(answer)}>
        <p>Newest first, by when they were paid. Amounts in the settlement currency; refunds and disputes in the charge's.</p>
        {list.length === 0 ? (
          <p>No payment is on the ledger{before ? " before this point" : " yet"}.</p>
        ) : (
          <Wide label="Payments">
            <table data-testid="payments">
              <thead>
                <tr>
                  <th scope="col">Payment</th>
                  <th scope="col">Paid</th>
                  <th scope="col">Offers</th>
                  <th scope="col">Rule</th>
                  <th scope="col" class="amount">Gross</th>
                  <th scope="col" class="amount">Fee</th>
                  <th scope="col" class="amount">VAT</th>
                  <th scope="col" class="amount">Refunded</th>
                  <th scope="col" class="amount">Disputed</th>
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <tr>
                    <th scope="row" class="mono">
                      <a href={`/admin/payments/${encodeURIComponent(p.id)}`}>{p.id}</a>
                    </th>
                    <td>{when(p.paid_at)}</td>
                    <td>{p.offer_ids.join(", ")}</td>
                    <td>{p.rule_versions.join(", ")}</td>
                    <td class="amount">{money(p.gross_minor, p.currency)}</td>
                    <td class="amount">{money(p.fee_minor, p.currency)}</td>
                    <td class="amount">{money(p.tax_minor, p.currency)}</td>
                    <td class="amount">{p.refunded_minor === 0 ? "—" : money(p.refunded_minor, p.currency)}</td>
                    <td class="amount">{p.disputed_minor === 0 ? "—" : money(p.disputed_minor, p.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
        {answer.ok && answer.body.next_before ? (
          <p>
            <a href={`/admin/payments?before=${encodeURIComponent(answer.body.next_before)}`}>Older payments</a>
          </p>
        ) : null}
      </ConsolePage>
    )}`,
  );
});

interface PaymentDetail {
  id: string;
  source: { type: string; id: string };
  currency: string;
  gross_minor: number;
  fee_minor: number;
  net_minor: number;
  tax_minor: number;
  shipping_minor: number;
  presentment: { currency: string; amount_minor: number };
  paid_at: string;
  rule_version: string;
  lines: { offer_id: string; rule_id: string; rule_version: number; basis: string; gross_minor: number; fee_minor: number; basis_minor: number }[];
  shares: { party_id: string; kind: string; amount_minor: number }[];
  refunded_minor: number;
  disputed_minor: number;
  fees_kept_minor: number;
  fx_minor: number;
  history: { transaction_id: string; cause: string; stripe_object: string | null; at: string; charge_amount_minor: number | null; postings: { account: string; role: string | null; amount_minor: number; currency: string }[] }[];
  disputes: { id: string; status: string; reason: string | null; amount_minor: number; currency: string }[];
}

ledgerPages.get("/payments/:id", async (c) => {
  const answer = await c.get("api").get<PaymentDetail>(`/payments/${encodeURIComponent(c.req.param("id"))}`);
  const session = c.get("session");
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Payment" session={session} section="/admin/payments" notice={errorNotice(answer)}><p><a href="/admin/payments">Back to the payments</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const p = answer.body;
  const m = (a: number) => money(a, p.currency);
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Payment ${p.id}`} session={session} section="/admin/payments">
        <Wide label="Payment"><table>
          <tbody>
            <tr><th scope="row">Paid</th><td>{when(p.paid_at)}</td></tr>
            <tr><th scope="row">Source</th><td class="mono">{p.source.type} {p.source.id}</td></tr>
            <tr><th scope="row">Gross (VAT included)</th><td class="amount">{m(p.gross_minor)}</td></tr>
            <tr><th scope="row">Stripe's fee</th><td class="amount">{m(p.fee_minor)}</td></tr>
            <tr><th scope="row">VAT</th><td class="amount">{m(p.tax_minor)}</td></tr>
            <tr><th scope="row">Shipping</th><td class="amount">{m(p.shipping_minor)}</td></tr>
            <tr><th scope="row">What the customer saw</th><td class="amount">{formatMoney(p.presentment.amount_minor, p.presentment.currency, "en")}</td></tr>
            <tr><th scope="row">Refunded</th><td class="amount">{m(p.refunded_minor)}</td></tr>
            <tr><th scope="row">Disputed</th><td class="amount">{m(p.disputed_minor)}</td></tr>
            <tr><th scope="row">Fees Stripe kept on money back</th><td class="amount">{m(p.fees_kept_minor)}</td></tr>
          </tbody>
        </table></Wide>
        <h2>Lines</h2>
        <Wide label="Lines">
          <table>
            <thead><tr><th scope="col">Offer</th><th scope="col">Rule</th><th scope="col">Basis</th><th scope="col" class="amount">Gross</th><th scope="col" class="amount">Fee</th><th scope="col" class="amount">Split</th></tr></thead>
            <tbody>
              {p.lines.map((l) => (
                <tr><th scope="row">{l.offer_id}</th><td>{l.rule_id}@{l.rule_version}</td><td>{l.basis}</td><td class="amount">{m(l.gross_minor)}</td><td class="amount">{m(l.fee_minor)}</td><td class="amount">{m(l.basis_minor)}</td></tr>
              ))}
            </tbody>
          </table>
        </Wide>
        <h2>Shares</h2>
        <Wide label="Shares"><table data-testid="shares">
          <thead><tr><th scope="col">Party</th><th scope="col">Kind</th><th scope="col" class="amount">Share</th></tr></thead>
          <tbody>
            {p.shares.map((s) => (
              <tr><th scope="row">{s.party_id}</th><td>{s.kind}</td><td class="amount">{m(s.amount_minor)}</td></tr>
            ))}
          </tbody>
        </table></Wide>
        <h2>History</h2>
        {p.history.map((t) => (
          <section aria-label={`${t.cause} ${t.transaction_id}`}>
            <h3>
              {t.cause} · {when(t.at)} <span class="mono">{t.stripe_object ?? ""}</span>
            </h3>
            <Wide label="Postings">
              <table>
                <thead><tr><th scope="col">Account</th><th scope="col">Role</th><th scope="col" class="amount">Amount</th></tr></thead>
                <tbody>
                  {t.postings.map((x) => (
                    <tr><th scope="row" class="mono">{x.account}</th><td>{x.role ?? "—"}</td><td class="amount">{formatMoney(x.amount_minor, x.currency, "en")}</td></tr>
                  ))}
                </tbody>
              </table>
            </Wide>
          </section>
        ))}
        {p.disputes.length > 0 ? (
          <>
            <h2>Disputes</h2>
            <ul>
              {p.disputes.map((d) => (
                <li>
                  <span class="mono">{d.id}</span>: {d.status}
                  {d.reason ? ` (${d.reason})` : ""}, {formatMoney(d.amount_minor, d.currency, "en")}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </ConsolePage>
    )}`,
  );
});

ledgerPages.get("/balances", async (c) => {
  const api = c.get("api");
  const [answer, parties] = await Promise.all([api.get<{ balances: Balance[] }>("/balances"), api.get<{ parties: { id: string; name: string }[] }>("/parties")]);
  const names = new Map((parties.ok ? parties.body.parties : []).map((p) => [p.id, p.name]));
  const list = answer.ok ? answer.body.balances : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Balances" session={c.get("session")} section="/admin/balances" notice={answer.ok ? null : errorNotice(answer)}>
        <p>What the cooperative holds for each party, per currency: the sum of its postings (shares, less what refunds and disputes took back, less what was paid out); of it, what is still held and what a payout can pay now.</p>
        {list.length === 0 ? (
          <p>No party holds a balance yet.</p>
        ) : (
          <Wide label="Balances"><table data-testid="balances">
            <thead><tr><th scope="col">Party</th><th scope="col">Kind</th><th scope="col">Currency</th><th scope="col" class="amount">Balance</th><th scope="col" class="amount">Held</th><th scope="col" class="amount">Payable</th><th scope="col" class="amount">Paid out</th></tr></thead>
            <tbody>
              {list.map((b) => (
                <tr>
                  <th scope="row">{names.get(b.party_id) ?? b.party_id} <span class="mono">({b.party_id})</span></th>
                  <td>{b.kind}</td>
                  <td>{b.currency.toUpperCase()}</td>
                  <td class="amount">{money(b.balance_minor, b.currency)}</td>
                  <td class="amount">{b.pending_minor === undefined ? "—" : money(b.pending_minor, b.currency)}</td>
                  <td class="amount">{b.payable_minor === undefined ? "—" : money(b.payable_minor, b.currency)}</td>
                  <td class="amount">{b.paid_minor === undefined ? "—" : money(b.paid_minor, b.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table></Wide>
        )}
      </ConsolePage>
    )}`,
  );
});
