// A year of payments written straight into the local D1's SQLite file (wrangler dev stopped), as
// fast as one SQLite transaction goes: each payment split by core/ with the demo rule and its
// postings made by core/ledger.ts, so that the ledger check holds on the result. A day's
// payments are spread over the day; the last of them is an hour before now.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { paymentPostings, parseRule, splitPayment, sumByParty, type Rule } from "../core";
import { DEMO_RULE } from "../infra/seed";

const DAY_MS = 86_400_000;
const HOLD_DAYS = 14;

/** The D1 database of a wrangler state folder (`--persist-to`): miniflare keeps it as one SQLite file. */
export function d1File(state: string): string {
  const dir = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.length}: ${files.join(", ")}`);
  return join(dir, files[0] as string);
}

/** The demo offers (infra/seed.ts): who shares each one's contributors' part. */
const OFFERS = [
  { offer_id: "training-intro", price_id: "price_training_intro", contributors: [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }] },
  { offer_id: "hosting-basic", price_id: "price_hosting_basic", contributors: [{ party_id: "sacha", weight: 1 }] },
];

export interface Filled {
  payments: number;
  postings_added: number;
  /** Postings in the database afterwards, the bench's earlier ones included. */
  postings_total: number;
  from_ms: number;
  until_ms: number;
  seconds: number;
}

/**
 * Adds payments until at least `postings` postings were added. Amounts from 20.00 to 500.00 €
 * with Stripe's usual fee (1.5% + 0.25 €); one payment in three is hosting.
 */
export function fillLedger(file: string, postings: number, nowMs: number, progress: (line: string) => void): Filled {
  const started = performance.now();
  const parsed = parseRule(DEMO_RULE);
  if (!parsed.ok) throw new Error(`the demo rule does not parse: ${parsed.errors[0]?.message}`);
  const rule: Rule = parsed.rule;
  const db = new DatabaseSync(file);
  try {
    const missing = ["commons", "reserve", ...OFFERS.flatMap((o) => o.contributors.map((c) => c.party_id))].filter((id) => !db.prepare("select 1 from parties where id = ?").get(id));
    if (missing.length > 0) throw new Error(`the demo parties are not in ${file}: ${missing.join(", ")} (is it the seeded stack's database?)`);
    const insertTransaction = db.prepare(
      "insert into ledger_transactions (id, kind, idempotency_key, event_id, description, available_at_ms, stripe_created_s, created_at_ms) values (?, 'payment', ?, ?, ?, ?, ?, ?)",
    );
    const insertPayment = db.prepare(
      `insert into payments (id, source_type, source_id, event_id, transaction_id, currency, gross_minor, fee_minor, net_minor, presentment_currency, presentment_amount_minor,
        charge_amount_minor, tax_minor, shipping_minor, charge_id, balance_transaction_id, exchange_rate, paid_at_s, created_at_ms)
       values (?, 'checkout.session', ?, ?, ?, 'eur', ?, ?, ?, 'eur', ?, ?, 0, 0, ?, ?, null, ?, ?)`,
    );
    const insertLine = db.prepare(
      `insert into payment_lines (payment_id, line_no, offer_id, price_id, rule_id, rule_version, basis, weight_minor, gross_minor, fee_minor, basis_minor, parts, fee_policy)
       values (?, 0, ?, ?, 'default', 1, 'net', ?, ?, ?, ?, ?, 'proportional')`,
    );
    const insertPosting = db.prepare("insert into postings (transaction_id, account, amount_minor, currency, role) values (?, ?, ?, 'eur', ?)");
    // Roughly 5.5 postings a payment: the count is topped up after a first estimate.
    const estimate = Math.ceil(postings / 5.5);
    const spanMs = 365 * DAY_MS;
    const untilMs = nowMs - 3_600_000;
    const fromMs = untilMs - spanMs;
    let added = 0;
    let payments = 0;
    db.exec("begin");
    for (let i = 0; added < postings; i++) {
      const offer = OFFERS[i % 3 === 2 ? 1 : 0] as (typeof OFFERS)[number];
      const gross = 2_000 + ((i * 7_919) % 48_000);
      const fee = Math.round(gross * 0.015) + 25;
      const split = splitPayment({ currency: "eur", gross_minor: gross, fee_minor: fee, lines: [{ key: "0", weight_minor: gross, rule, contributors: offer.contributors }] });
      if (!split.ok) throw new Error(`payment ${i} does not split: ${split.error.message}`);
      const line = split.value.lines[0];
      if (!line) throw new Error(`payment ${i} has no line`);
      const paidMs = fromMs + Math.floor((i / Math.max(estimate, i + 1)) * spanMs);
      const pi = `pi_fill${String(i).padStart(8, "0")}`;
      const txn = `txn_pay_${pi}`;
      insertTransaction.run(txn, `payment:${pi}`, `evt_fill${i}`, `checkout.session cs_fill${i}`, paidMs + HOLD_DAYS * DAY_MS, Math.floor(paidMs / 1000), paidMs + 2_000);
      insertPayment.run(pi, `cs_fill${i}`, `evt_fill${i}`, txn, gross, fee, gross - fee, gross, gross, `ch_fill${i}`, `txn_fill${i}`, Math.floor(paidMs / 1000), paidMs + 2_000);
      insertLine.run(pi, offer.offer_id, offer.price_id, gross, line.gross_minor, line.fee_minor, line.basis_minor, JSON.stringify(sumByParty(line.parts)));
      for (const p of paymentPostings(split.value)) {
        insertPosting.run(txn, p.account, p.amount_minor, p.role);
        added++;
      }
      payments++;
      if (payments % 50_000 === 0) progress(`queries: ${added.toLocaleString("en")} postings written`);
    }
    db.exec("commit");
    const total = Number((db.prepare("select count(*) as n from postings").get() as { n: number }).n);
    return { payments, postings_added: added, postings_total: total, from_ms: fromMs, until_ms: untilMs, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}
