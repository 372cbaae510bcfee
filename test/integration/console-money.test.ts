// The console's money pages: a party's connected account and payout minimum, payout runs (one
// started, its transfers, a payment due by hand recorded), statements and the ledger export as
// CSV passed on from the API, reconciliation of a day, and outgoing webhook endpoints with their
// deliveries. Each as an admin (the data shown, the action done, POST-redirect-GET) and as a
// viewer (the buttons disabled, a forced post answered 403 with nothing changed).
// 100.00 € paid with a fee of 1.75 € gives, under the default rule on net (9,825), commons 982,
// reserve 1,474, camille 4,913 and dominique 2,456 (training-intro's contributors, 2:1).
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildConnectedAccount, buildTrainingPayment, stripeId, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import { hiddenValue, page, post, signIn, type ConsoleSession } from "./console-session";
import { advanceClock, api, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

const DAY_MS = 86_400_000;
/** Monday 2 March 2026, 10:00 UTC. */
const T0 = "2026-03-02T10:00:00Z";

async function viewer(): Promise<ConsoleSession> {
  const made = (await (await api("/tokens", { method: "POST", body: { name: "auditor", role: "viewer" } })).json()) as { token: string };
  return signIn(made.token);
}

async function admin(): Promise<ConsoleSession> {
  return signIn(env.ADMIN_TOKEN);
}

/** 100.00 € for training-intro paid at `at_s`, split and posted. */
async function paid(at_s: number): Promise<TrainingPayment> {
  const built = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", created: at_s });
  await putStripeObjects(built);
  expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed", posted: true });
  return built;
}

async function text(res: Response, status: number): Promise<string> {
  const body = await res.text();
  expect(res.status, body.slice(0, 2000)).toBe(status);
  return body;
}

/** A disabled submit button with this text, as a viewer's page has it. */
const disabledButton = (label: string) => new RegExp(`<button type="submit"[^>]* disabled="" aria-describedby="viewer-note">${label}`);

beforeEach(async () => {
  await seedCatalog();
});

describe("a party's payouts settings at the console", () => {
  it("sets the connected account and the payout minimum with the ETag read, names a wrong account, and links the statement", async () => {
    const who = await admin();
    const form = await text(await page("/admin/parties/camille", who), 200);
    expect(form).toContain('<a href="/admin/parties/camille/statement">Its statement</a>');
    expect(form).toContain('name="stripe_account_id" value=""');
    const fields = { etag: hiddenValue(form, "etag"), kind: "contributor", name: "Camille", public_shown: "true", stripe_account_id: "acct_1Camille", payout_minimum_minor: "5000" };

    const wrong = await text(await post("/admin/parties/camille", who, { ...fields, stripe_account_id: "FR7630006000011234567890189" }), 400);
    expect(wrong).toContain("<code>stripe_account_id</code>: a Stripe connected account id (acct_…)");
    const saved = await post("/admin/parties/camille", who, fields);
    expect([saved.status, saved.headers.get("location")]).toEqual([303, "/admin/parties/camille?done=saved"]);
    expect(await (await api("/parties/camille")).json()).toEqual({ id: "camille", kind: "contributor", name: "Camille", public: false, stripe_account_id: "acct_1Camille", payout_minimum_minor: 5000 });
    const after = await text(await page("/admin/parties/camille?done=saved", who), 200);
    expect(after).toContain('name="stripe_account_id" value="acct_1Camille"');
    expect(after).toContain('name="payout_minimum_minor" value="5000"');

    // Emptied, the account is gone: the party is paid by hand.
    const cleared = await post("/admin/parties/camille", who, { ...fields, etag: hiddenValue(after, "etag"), stripe_account_id: "" });
    expect(cleared.status).toBe(303);
    expect(await (await api("/parties/camille")).json()).toMatchObject({ stripe_account_id: null, payout_minimum_minor: 5000 });
  });

  it("shows a viewer the settings with Save disabled, and refuses the viewer's post", async () => {
    const who = await viewer();
    const form = await text(await page("/admin/parties/camille", who), 200);
    expect(form).toMatch(disabledButton("Save the party"));
    const refused = await post("/admin/parties/camille", who, { etag: hiddenValue(form, "etag"), kind: "contributor", name: "Camille", stripe_account_id: "acct_1Camille", payout_minimum_minor: "1" });
    expect(refused.status).toBe(403);
    expect(await (await api("/parties/camille")).json()).toMatchObject({ stripe_account_id: null, payout_minimum_minor: 0 });
  });
});

describe("payout runs at the console", () => {
  /** Camille with a connected account (the emulator's, fresh), Dominique without: paid 100.00 € 15 days ago. */
  async function payable(): Promise<string> {
    const account = stripeId("acct_", 16);
    const res = await env.STRIPE_API.fetch("http://stripe.emulator/_emulator/objects", { method: "POST", headers: { authorization: "Bearer sk_test_local", "content-type": "application/json" }, body: JSON.stringify([buildConnectedAccount({ id: account })]) });
    expect(res.status).toBe(200);
    await env.DB.prepare("UPDATE parties SET stripe_account_id = ? WHERE id = 'camille'").bind(account).run();
    setClock(T0);
    await paid(Date.parse(T0) / 1000);
    advanceClock(15 * DAY_MS);
    return account;
  }

  it("starts a run, links it, shows each transfer and the payment due by hand, and records that payment against the run", async () => {
    const account = await payable();
    const who = await admin();
    expect(await text(await page("/admin/payouts", who), 200)).toContain("No payout run yet.");
    const balances = await text(await page("/admin/balances", who), 200);
    expect(balances).toMatch(/<th scope="col" class="amount">Held<\/th><th scope="col" class="amount">Payable<\/th><th scope="col" class="amount">Paid out<\/th>/);

    await using introspector = await introspectWorkflow(env.PAYOUT);
    const started = await post("/admin/payouts/run", who, {});
    expect(started.status).toBe(303);
    const location = started.headers.get("location") ?? "";
    const runId = /^\/admin\/payouts\?done=started&run=(po_[A-Za-z0-9_]+)$/.exec(location)?.[1] ?? "";
    expect(runId).not.toBe("");
    const [instance] = await introspector.get();
    await instance!.waitForStatus("complete");

    const list = await text(await page(location, who), 200);
    expect(list).toContain(`Payout run ${runId} started: its transfers are made in the background.`);
    expect(list).toContain(`<a href="/admin/payouts/${runId}">Open run ${runId}</a>`);
    expect(list).toContain(`<tr data-run="${runId}"><th scope="row" class="mono"><a href="/admin/payouts/${runId}">${runId}</a></th><td>completed</td>`);
    expect(list).toContain("1 paid, 1 due by hand");

    const run = await text(await page(`/admin/payouts/${runId}`, who), 200);
    expect(run).toContain(`<h1>Payout run ${runId}</h1>`);
    expect(run).toContain('<span data-testid="run-status">Completed</span>');
    const transfer = ((await (await api(`/payouts/${runId}`)).json()) as { items: { party_id: string; transfer_id: string | null }[] }).items.find((i) => i.party_id === "camille")?.transfer_id ?? "";
    expect(transfer).toMatch(/^tr_/);
    expect(run).toContain(`<tr data-item="camille:eur"><th scope="row"><a href="/admin/parties/camille">camille</a></th><td class="amount">€49.13</td><td>Stripe transfer</td><td><span class="status paid">paid</span></td><td class="mono">${account}</td><td class="mono">${transfer}</td>`);
    expect(run).toContain('<tr data-item="dominique:eur"><th scope="row"><a href="/admin/parties/dominique">dominique</a></th><td class="amount">€24.56</td><td>by hand</td><td><span class="status manual_due">due by hand</span></td>');
    expect(run).toContain(`<form method="post" action="/admin/payouts/${runId}/manual" class="fields" data-testid="manual-dominique-eur">`);
    expect(run).not.toContain('data-testid="manual-camille-eur"');

    const recorded = await post(`/admin/payouts/${runId}/manual`, who, { party_id: "dominique", currency: "eur", amount_minor: "2456", reference: "virement 2026-03-17" });
    expect([recorded.status, recorded.headers.get("location")]).toEqual([303, `/admin/payouts/${runId}?done=recorded&party=dominique`]);
    const after = await text(await page(`/admin/payouts/${runId}?done=recorded&party=dominique`, who), 200);
    expect(after).toContain("Payment by hand to dominique recorded.");
    expect(after).toContain('<span class="status manual_paid">paid by hand</span></td><td class="mono">—</td><td class="mono">—</td><td>virement 2026-03-17</td>');
    expect(after).not.toContain('data-testid="manual-dominique-eur"');
    expect(((await (await api(`/payouts/${runId}`)).json()) as { items: { party_id: string; status: string }[] }).items.map((i) => [i.party_id, i.status])).toEqual([
      ["camille", "paid"],
      ["dominique", "manual_paid"],
    ]);

    // Recorded already: the API's 409 on the run's page, nothing posted twice.
    const again = await text(await post(`/admin/payouts/${runId}/manual`, who, { party_id: "dominique", currency: "eur", amount_minor: "2456", reference: "again" }), 409);
    expect(again).toContain(`was recorded already`);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'payout_manual'").first<{ n: number }>())?.n).toBe(1);
  });

  it("says which run is going when one is, and refuses a payment by hand above what is payable", async () => {
    await payable();
    await env.DB.prepare("INSERT INTO payout_runs (id, status, started_by, started_at_ms) VALUES ('po_going', 'running', 'test', ?)").bind(Date.now()).run();
    const who = await admin();
    const busy = await text(await post("/admin/payouts/run", who, {}), 409);
    expect(busy).toContain("payout run po_going is running");
    const tooMuch = await text(await post("/admin/payouts/manual", who, { party_id: "dominique", currency: "eur", amount_minor: "2457", reference: "virement" }), 422);
    expect(tooMuch).toContain("party dominique can be paid at most 2456 eur now");
    const recorded = await post("/admin/payouts/manual", who, { party_id: "dominique", currency: "EUR", amount_minor: "2000", reference: "virement" });
    expect([recorded.status, recorded.headers.get("location")]).toEqual([303, "/admin/payouts?done=recorded"]);
    expect(await text(await page("/admin/payouts?done=recorded", who), 200)).toContain("Payment by hand recorded.");
    const dominique = ((await (await api("/balances")).json()) as { balances: { party_id: string; payable_minor: number; paid_minor: number }[] }).balances.find((b) => b.party_id === "dominique");
    expect(dominique).toMatchObject({ payable_minor: 456, paid_minor: 2000 });
  });

  it("shows a viewer the runs and a run's items with every button disabled, and changes nothing on a forced post", async () => {
    await payable();
    await env.DB.prepare("UPDATE parties SET stripe_account_id = NULL WHERE id = 'camille'").run();
    await using introspector = await introspectWorkflow(env.PAYOUT);
    const run_id = ((await (await api("/payouts/run", { method: "POST" })).json()) as { run_id: string }).run_id;
    const [instance] = await introspector.get();
    await instance!.waitForStatus("complete");

    const who = await viewer();
    const list = await text(await page("/admin/payouts", who), 200);
    expect(list).toMatch(disabledButton("Start a payout run"));
    expect(list).toMatch(disabledButton("Record the payment"));
    const run = await text(await page(`/admin/payouts/${run_id}`, who), 200);
    expect(run).toMatch(disabledButton("Record the payment<span class=\"visually-hidden\"> to camille in EUR</span>"));
    expect(run).toMatch(disabledButton("Record the payment<span class=\"visually-hidden\"> to dominique in EUR</span>"));

    expect((await post("/admin/payouts/run", who, {})).status).toBe(403);
    expect((await post(`/admin/payouts/${run_id}/manual`, who, { party_id: "dominique", currency: "eur", amount_minor: "2456", reference: "viewer" })).status).toBe(403);
    expect((await post("/admin/payouts/manual", who, { party_id: "dominique", currency: "eur", amount_minor: "1", reference: "viewer" })).status).toBe(403);
    expect(((await (await api("/payouts")).json()) as { runs: unknown[] }).runs).toHaveLength(1);
    expect(((await (await api(`/payouts/${run_id}`)).json()) as { items: { status: string }[] }).items.map((i) => i.status)).toEqual(["manual_due", "manual_due"]);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'payout_manual'").first<{ n: number }>())?.n).toBe(0);
  });

  it("answers 404 for a run that does not exist", async () => {
    const who = await admin();
    expect(await text(await page("/admin/payouts/po_nothing", who), 404)).toContain("no payout run po_nothing");
  });
});

describe("statements and the export at the console", () => {
  it("shows a party's statement over a period, with its lines' causes and Stripe objects, and passes its CSV on as a download", async () => {
    setClock("2026-03-10T09:00:00Z");
    const payment = await paid(Date.parse("2026-03-10T08:00:00Z") / 1000);
    const pi = payment.payment_intent.id;
    setClock("2026-04-02T09:00:00Z");
    for (const who of [await admin(), await viewer()]) {
      const html = await text(await page("/admin/parties/camille/statement?from=2026-03-01&to=2026-03-31", who), 200);
      expect(html).toContain("<h1>Statement of camille</h1>");
      expect(html).toContain('<td class="amount" data-testid="opening">€0.00</td>');
      expect(html).toMatch(new RegExp(`<td>payment</td><td class="amount">€49.13</td><td class="amount">€49.13</td><td class="mono">${pi}</td><td class="mono"><a href="/admin/payments/${pi}">${pi}</a></td><td>Training</td>`));
      expect(html).toContain('<td class="amount" data-testid="closing">€49.13</td>');
      expect(html).toContain('<a href="/admin/parties/camille/statement.csv?from=2026-03-01&amp;to=2026-03-31" download="" data-testid="statement-csv">');

      const csv = await page("/admin/parties/camille/statement.csv?from=2026-03-01&to=2026-03-31", who);
      expect(csv.status).toBe(200);
      expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
      expect(csv.headers.get("content-disposition")).toBe('attachment; filename="statement-camille-2026-03-01-2026-03-31.csv"');
      expect(csv.headers.get("cache-control")).toBe("no-store");
      const rows = (await csv.text()).split("\r\n");
      expect(rows[0]).toBe("party_id,currency,at,cause,amount_minor,amount,balance_minor,balance,transaction_id,payment_id,stripe_object,payment_line_no,offer_id,offer_name,contributor_role,rule_id,rule_version,description");
      expect(rows[1]).toBe("camille,eur,2026-03-01T00:00:00.000Z,opening_balance,,,0,0.00,,,,,,,,,,");
      expect(rows[2]).toMatch(new RegExp(`^camille,eur,2026-03-10T09:00:00\\.000Z,payment,4913,49\\.13,4913,49\\.13,[^,]+,${pi},${pi},0,training-intro,Training,,default,1,`));
      expect(rows[3]).toBe("camille,eur,2026-03-31T23:59:59.999Z,closing_balance,,,4913,49.13,,,,,,,,,,");
      expect(rows.slice(4)).toEqual([""]);
    }
  });

  it("picks the party and period from the export page, and says what is wrong with a period instead of a file", async () => {
    const who = await admin();
    const exportPage = await text(await page("/admin/export", who), 200);
    expect(exportPage).toContain('<option value="camille">Camille (camille)</option>');
    expect(exportPage).toContain('<form method="get" action="/admin/export/ledger.csv" class="fields">');
    const picked = await page("/admin/statement?party=camille&from=2026-03-01&to=2026-03-31", who);
    expect([picked.status, picked.headers.get("location")]).toEqual([303, "/admin/parties/camille/statement?from=2026-03-01&to=2026-03-31"]);

    const backwards = await text(await page("/admin/export/ledger.csv?from=2026-03-31&to=2026-03-01", who), 400);
    expect(backwards).toContain("No CSV: invalid query: to:");
    const noParty = await text(await page("/admin/parties/nobody/statement.csv?from=2026-03-01&to=2026-03-31", who), 404);
    expect(noParty).toContain("No CSV: no party nobody");
    expect(await text(await page("/admin/parties/nobody/statement?from=2026-03-01&to=2026-03-31", who), 404)).toContain("no party nobody");
  });

  it("passes the ledger's export on as CSV, every posting of the period", async () => {
    setClock("2026-03-10T09:00:00Z");
    const payment = await paid(Date.parse("2026-03-10T08:00:00Z") / 1000);
    const who = await viewer();
    const res = await page("/admin/export/ledger.csv?from=2026-03-10&to=2026-03-10", who);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="ledger-2026-03-10-2026-03-10.csv"');
    const rows = (await res.text()).split("\r\n").filter(Boolean);
    expect(rows[0]).toBe("posting_id,transaction_id,kind,created_at,account,role,amount_minor,amount,currency,stripe_object,payment_id,event_id,description");
    const postings = (await env.DB.prepare("SELECT count(*) AS n FROM postings").first<{ n: number }>())?.n ?? 0;
    expect(postings).toBeGreaterThan(4);
    expect(rows).toHaveLength(1 + postings);
    expect(rows.filter((r) => r.includes(",party:camille,")).map((r) => r.split(",").slice(4, 9))).toEqual([["party:camille", "share", "4913", "49.13", "eur"]]);
    expect(rows.every((r, i) => i === 0 || r.includes(payment.payment_intent.id))).toBe(true);
    expect((await page("/admin/export/ledger.csv?from=2026-03-11&to=2026-03-11", who).then((r) => r.text())).split("\r\n")).toEqual([rows[0], ""]);
  });
});

describe("reconciliation at the console", () => {
  /** A day of its own at the shared emulator: one payment on the ledger, one Stripe charged that never reached it. */
  const DAY = "2027-10-13";

  it("reconciles a day, shows its differences with what to do, and lists the day", async () => {
    setClock(`${DAY}T09:00:00Z`);
    await paid(Date.parse(`${DAY}T10:00:00Z`) / 1000);
    const lost = buildTrainingPayment({ amount_minor: 25_000, currency: "eur", price_id: "price_training_intro", created: Date.parse(`${DAY}T11:00:00Z`) / 1000 });
    await putStripeObjects(lost);
    setClock("2027-10-14T12:00:00Z");
    const who = await admin();
    expect(await text(await page("/admin/reconciliation", who), 200)).toContain("No day was reconciled yet.");

    await using introspector = await introspectWorkflow(env.RECONCILE);
    const started = await post("/admin/reconciliation/run", who, { date: DAY });
    expect([started.status, started.headers.get("location")]).toEqual([303, `/admin/reconciliation/${DAY}?done=started`]);
    const [instance] = await introspector.get();
    await instance!.waitForStatus("complete");

    const day = await text(await page(`/admin/reconciliation/${DAY}?done=started`, who), 200);
    expect(day).toContain(`<h1>Reconciliation of ${DAY}</h1>`);
    expect(day).toMatch(new RegExp(`Reconciliation of ${DAY} started \\(\\S+\\): reload to follow it.`));
    expect(day).toContain('<strong data-testid="outcome">1 difference(s)</strong>');
    expect(day).toContain(`<th scope="row">missing in ledger</th><td class="mono">${lost.charge.id}</td><td class="mono">—</td><td class="amount">€250.00</td><td class="amount">—</td>`);
    expect(day).toContain(`Stripe received 250.00 EUR (balance transaction ${lost.balance_transaction.id}, ${lost.charge.id}) and the ledger has no payment for it.`);
    expect(day).toContain('<tr><th scope="row">Matched</th><td>1</td></tr>');

    const list = await text(await page("/admin/reconciliation", who), 200);
    expect(list).toContain(`<tr data-day="${DAY}"><th scope="row"><a href="/admin/reconciliation/${DAY}">${DAY}</a></th><td><span class="status completed">1 difference(s)</span></td><td>1</td>`);
    expect(await (await api("/reconciliation")).json()).toMatchObject({ days: [{ date: DAY, status: "completed", clean: false, matched: 1, differences_total: 1 }] });
  });

  it("says why a day cannot be reconciled, and that a day never ran", async () => {
    setClock("2027-10-14T12:00:00Z");
    const who = await admin();
    const notOver = await text(await post("/admin/reconciliation/run", who, { date: "2027-10-14" }), 400);
    expect(notOver).toContain('role="alert"');
    expect(await text(await page("/admin/reconciliation/2027-10-01", who), 404)).toContain("2027-10-01 was never reconciled");
    expect(await text(await page("/admin/reconciliation/yesterday", who), 404)).toContain("yesterday is not a day (YYYY-MM-DD)");
  });

  it("shows a viewer the days with Reconcile disabled, and runs nothing on a forced post", async () => {
    setClock("2027-10-14T12:00:00Z");
    const who = await viewer();
    expect(await text(await page("/admin/reconciliation", who), 200)).toMatch(disabledButton("Reconcile the day"));
    expect((await post("/admin/reconciliation/run", who, { date: DAY })).status).toBe(403);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM reconciliations").first<{ n: number }>())?.n).toBe(0);
  });
});

describe("outgoing webhook endpoints at the console", () => {
  it("adds an endpoint with its secret shown once, lists it, shows its deliveries with every attempt, and deletes it", async () => {
    const who = await admin();
    const made = await post("/admin/webhooks", who, { url: "https://sink.test/hooks/console", events: ["proposal.created", "proposal.activated"], description: "the chat" });
    const html = await text(made, 201);
    const secret = /<p class="secret" data-testid="secret">(whsec_[^<]+)<\/p>/.exec(html)?.[1] ?? "";
    expect(secret).not.toBe("");
    const [endpoint] = ((await (await api("/webhook-endpoints")).json()) as { endpoints: { id: string; url: string; events: string[]; description: string | null }[] }).endpoints;
    expect(endpoint).toMatchObject({ url: "https://sink.test/hooks/console", events: ["proposal.created", "proposal.activated"], description: "the chat" });
    const id = endpoint?.id ?? "";

    const list = await text(await page("/admin/webhooks", who), 200);
    expect(list).toContain(`<tr data-endpoint="${id}"><th scope="row" class="mono"><a href="/admin/webhooks/${id}">${id}</a></th><td class="mono">https://sink.test/hooks/console</td><td>proposal.created, proposal.activated</td><td>every party</td><td>the chat</td>`);
    expect(list).not.toContain(secret);

    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, proposal_id, payload, status, attempts, created_at_ms, updated_at_ms) VALUES ('whd_000000000000000000000001', ?, 'pev_1', 'proposal.created', 'prop_1', '{\"type\":\"proposal.created\"}', 'pending', 1, ?, ?)").bind(id, now, now),
      env.DB.prepare("INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at_ms, status_code, error, duration_ms) VALUES ('whd_000000000000000000000001', 1, ?, 500, NULL, 42)").bind(now),
    ]);
    const deliveries = await text(await page(`/admin/webhooks/${id}`, who), 200);
    expect(deliveries).toContain(`<h1>Webhook endpoint ${id}</h1>`);
    expect(deliveries).toContain('<tr data-delivery="whd_000000000000000000000001"><th scope="row" class="mono">whd_000000000000000000000001</th><td>proposal.created</td><td class="mono">prop_1</td><td><span class="status pending">pending</span></td>');
    expect(deliveries).toMatch(/<li>\d{4}-\d{2}-\d{2} [\d:]{8} UTC: HTTP 500, 42 ms<\/li>/);
    expect(deliveries).toContain("<pre>{&quot;type&quot;:&quot;proposal.created&quot;}</pre>");

    const deleted = await post(`/admin/webhooks/${id}/delete`, who, {});
    expect([deleted.status, deleted.headers.get("location")]).toEqual([303, "/admin/webhooks?done=deleted"]);
    const after = await text(await page("/admin/webhooks?done=deleted", who), 200);
    expect(after).toContain("Endpoint deleted: nothing more is sent to it; its deliveries stay readable.");
    expect(after).toContain("No endpoint listens now.");
    expect(await text(await page("/admin/webhooks?deleted=true", who), 200)).toMatch(new RegExp(`<tr data-endpoint="${id}">.*deleted \\d{4}-`));
  });

  it("names what is wrong with an endpoint and keeps nothing", async () => {
    const who = await admin();
    const html = await text(await post("/admin/webhooks", who, { url: "http://chat.example.coop/hook", events: [] }), 400);
    expect(html).toContain("<code>url</code>: an https URL (http only for localhost)");
    expect(html).toContain("<code>events</code>");
    expect(((await (await api("/webhook-endpoints")).json()) as { endpoints: unknown[] }).endpoints).toEqual([]);
  });

  it("shows a viewer the endpoints with Add and Delete disabled, and refuses the viewer's posts", async () => {
    const made = (await (await api("/webhook-endpoints", { method: "POST", body: { url: "https://sink.test/hooks/viewer", events: ["proposal.created"] } })).json()) as { id: string };
    const who = await viewer();
    const list = await text(await page("/admin/webhooks", who), 200);
    expect(list).toMatch(disabledButton("Add the endpoint"));
    expect(list).toMatch(disabledButton("Delete"));
    expect((await post("/admin/webhooks", who, { url: "https://sink.test/hooks/other", events: ["proposal.created"] })).status).toBe(403);
    expect((await post(`/admin/webhooks/${made.id}/delete`, who, {})).status).toBe(403);
    expect(((await (await api("/webhook-endpoints")).json()) as { endpoints: { id: string; disabled_at: string | null }[] }).endpoints).toMatchObject([{ id: made.id, disabled_at: null }]);
  });
});
