// Statements and the accountant's export: a party's statement over a period (JSON, or CSV with
// `Accept: text/csv`), and every posting of a period as CSV, streamed a page at a time.
import { createRoute, z } from "@hono/zod-openapi";
import { accepts } from "hono/accepts";
import { formatMinor, invariant, MAX_PERIOD_DAYS, periodOf, STATEMENT_CAUSES, type CurrencyStatement, type Period } from "../../core";
import { database } from "../../db/client";
import { ledgerExportPage, MAX_STATEMENT_ROWS, partyStatement, type ExportRow } from "../../db/queries/statements";
import { CONTRIBUTOR_ROLES, type ContributorRole } from "../../db/schema";
import { mayExportLedger, mayReadPartyStatement } from "../auth";
import { CSV_CONTENT_TYPE, csvRecord, type CsvField } from "../csv";
import { ApiError } from "../errors";
import { bearer, newRouter, problems, Slug } from "./openapi";

// A plain string here: core's periodOf reads the day, and says what is wrong with a stable code (bad_date…).
const Day = (what: string, example: string) =>
  z.string().openapi({ description: `${what} (YYYY-MM-DD, a UTC day, included)`, format: "date", example });

const PeriodQuery = z.object({
  from: Day("The period's first day", "2026-01-01"),
  to: Day(`The period's last day: on or after \`from\`, at most ${MAX_PERIOD_DAYS} days in all`, "2026-03-31"),
});

/** The period the query names, or a 400 naming the field at fault (`errors[].code`: bad_date, from_after_to, period_too_long). */
function periodOrThrow(query: { from: string; to: string }): Period {
  const parsed = periodOf(query.from, query.to);
  if (parsed.ok) return parsed.period;
  throw new ApiError("invalid_request", `invalid query: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, parsed.errors.map((e) => ({ path: e.path, message: e.message, code: e.code })));
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---- a party's statement -------------------------------------------------------------------

const StatementLineSchema = z
  .object({
    at: z.string().openapi({ description: "When it was booked on the ledger (ISO 8601)" }),
    transaction_id: z.string(),
    cause: z.enum(STATEMENT_CAUSES).openapi({
      description:
        "What moved the balance: `payment` (a share of a payment, one line per line of the payment that gave something), `refund`, `refund_failed`, `dispute_withdrawn`, `dispute_reinstated` (a share taken back or put back), `fee_kept` (the party's part of the fee Stripe keeps on money going back), `dispute_fee`, `payout` (a Stripe transfer to the party), `payout_manual` (a payment recorded by an admin)",
    }),
    amount_minor: z.number().int().openapi({ description: "+ credited to the party, − debited, in minor units" }),
    balance_minor: z.number().int().openapi({ description: "The balance after this line" }),
    payment_id: z.string().nullable().openapi({ description: "The payment (payment intent) it is on; null for a payout" }),
    stripe_object: z.string().nullable().openapi({ description: "The Stripe object behind it: the payment intent, the refund (re_…), the dispute's balance transaction (txn_…), the transfer (tr_…); null for a manual payout" }),
    payment_line_no: z.number().int().nullable().openapi({ description: "On a payment's line: which line of the payment, from 0 (its place in `lines` of GET /payments/{id}); null otherwise" }),
    offer_id: z.string().nullable(),
    offer_name: z.string().nullable().openapi({ description: "The offer's name in the version the payment was split with" }),
    contributor_role: z.enum(CONTRIBUTOR_ROLES).nullable().openapi({ description: "The party's role among that offer version's contributors; null when none was given, or for a party that is not one of them (the commons, the reserve)" }),
    rule_id: z.string().nullable(),
    rule_version: z.number().int().nullable(),
    description: z.string().openapi({ description: "The ledger transaction's description (a manual payout's reference)" }),
  })
  .openapi("StatementLine");

const CurrencyStatementSchema = z
  .object({
    currency: z.string(),
    opening_balance_minor: z.number().int().openapi({ description: "What the cooperative held for the party at the start of `from` (00:00 UTC)" }),
    lines: z.array(StatementLineSchema),
    closing_balance_minor: z.number().int().openapi({ description: "At the end of `to` (24:00 UTC): always the opening balance plus the lines" }),
  })
  .openapi("CurrencyStatement");

const StatementSchema = z
  .object({
    party_id: z.string(),
    from: z.string(),
    to: z.string(),
    currencies: z.array(CurrencyStatementSchema).openapi({ description: "One statement per currency the party had a balance in at the start or a line in during the period, by currency code; empty when neither" }),
  })
  .openapi("Statement", {
    description:
      "What the cooperative holds for a party (its `party:<id>` account), from `from` to `to` (whole UTC days), per currency: the opening balance, one line per movement in the order it was booked, the closing balance. Opening plus the lines is the closing, always.",
  });

type StatementView = z.infer<typeof StatementSchema>;

function statementView(partyId: string, period: Period, currencies: CurrencyStatement[]): StatementView {
  return {
    party_id: partyId,
    from: period.from,
    to: period.to,
    currencies: currencies.map((s) => ({
      currency: s.currency,
      opening_balance_minor: s.opening_balance_minor,
      lines: s.lines.map((l) => ({
        at: iso(l.at_ms),
        transaction_id: l.transaction_id,
        cause: l.cause,
        amount_minor: l.amount_minor,
        balance_minor: l.balance_minor,
        payment_id: l.payment_id,
        stripe_object: l.stripe_object,
        payment_line_no: l.payment_line_no,
        offer_id: l.offer_id,
        offer_name: l.offer_name,
        // Read from offer_version_contributors.role, which only the API's enum writes.
        contributor_role: l.contributor_role as ContributorRole | null,
        rule_id: l.rule_id,
        rule_version: l.rule_version,
        description: l.description,
      })),
      closing_balance_minor: s.closing_balance_minor,
    })),
  };
}

const STATEMENT_COLUMNS = [
  "party_id", "currency", "at", "cause", "amount_minor", "amount", "balance_minor", "balance", "transaction_id", "payment_id", "stripe_object",
  "payment_line_no", "offer_id", "offer_name", "contributor_role", "rule_id", "rule_version", "description",
] as const;

/**
 * The statement as CSV: a header, then per currency an `opening_balance` row (the balance at
 * 00:00 UTC of `from`), a row per line, and a `closing_balance` row (at the end of `to`). The
 * balance rows leave the amount empty, so the amount column sums to what moved in the period.
 */
function statementCsv(view: StatementView): string {
  const rows: CsvField[][] = [[...STATEMENT_COLUMNS]];
  for (const s of view.currencies) {
    const money = (minor: number): [number, string] => [minor, formatMinor(minor, s.currency)];
    const balanceRow = (at: string, cause: string, minor: number): CsvField[] => [view.party_id, s.currency, at, cause, null, null, ...money(minor), null, null, null, null, null, null, null, null, null, null];
    rows.push(balanceRow(`${view.from}T00:00:00.000Z`, "opening_balance", s.opening_balance_minor));
    for (const l of s.lines) {
      rows.push([
        view.party_id, s.currency, l.at, l.cause, ...money(l.amount_minor), ...money(l.balance_minor), l.transaction_id, l.payment_id, l.stripe_object,
        l.payment_line_no, l.offer_id, l.offer_name, l.contributor_role, l.rule_id, l.rule_version, l.description,
      ]);
    }
    rows.push(balanceRow(`${view.to}T23:59:59.999Z`, "closing_balance", s.closing_balance_minor));
  }
  return rows.map(csvRecord).join("");
}

const STATEMENT_CSV_EXAMPLE =
  "party_id,currency,at,cause,amount_minor,amount,balance_minor,balance,transaction_id,payment_id,stripe_object,payment_line_no,offer_id,offer_name,contributor_role,rule_id,rule_version,description\r\n" +
  "camille,eur,2026-03-01T00:00:00.000Z,opening_balance,,,0,0.00,,,,,,,,,,\r\n" +
  "camille,eur,2026-03-02T09:00:00.000Z,payment,9837,98.37,9837,98.37,txn_pay_pi_1,pi_1,pi_1,0,training-intro,Training,facilitator,default,1,checkout.session cs_1\r\n" +
  "camille,eur,2026-03-31T23:59:59.999Z,closing_balance,,,9837,98.37,,,,,,,,,,\r\n";

export const statements = newRouter();

statements.openapi(
  createRoute({
    method: "get",
    path: "/parties/{id}/statement",
    operationId: "getPartyStatement",
    summary: "Get a party's statement over a period",
    tags: ["parties"],
    security: bearer,
    description:
      "What the cooperative holds for a party over whole UTC days, per currency: opening balance, lines, closing balance (opening plus the lines is the closing). " +
      "Lines are dated when they were booked on the ledger, so a period that is over never changes. " +
      "JSON by default; `Accept: text/csv` gives the same as CSV (a header, then per currency an `opening_balance` row, a row per line and a `closing_balance` row; the balance rows leave the amount empty). " +
      `At most ${MAX_STATEMENT_ROWS} postings and payment lines: above, 422 \`limit_exceeded\` (ask for a shorter period).`,
    request: { params: z.object({ id: Slug.openapi({ param: { name: "id", in: "path" }, example: "camille" }) }), query: PeriodQuery },
    responses: {
      200: {
        description: "The party's statement, as JSON or (Accept: text/csv) CSV",
        content: {
          "application/json": { schema: StatementSchema },
          "text/csv": { schema: z.string().openapi({ description: "One record per row, RFC 4180, UTF-8, with a header", example: STATEMENT_CSV_EXAMPLE }) },
        },
      },
      ...problems(400, 401, 403, 404, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const period = periodOrThrow(c.req.valid("query"));
    if (!mayReadPartyStatement(c.get("principal"), id)) throw new ApiError("forbidden", `this token may not read party ${id}'s statement`);
    const result = await partyStatement(database(c.env.DB), id, period);
    if (!result.found) throw new ApiError("not_found", `no party ${id}`);
    if (result.too_large) throw new ApiError("limit_exceeded", `party ${id} has more than ${MAX_STATEMENT_ROWS} postings or payment lines from ${period.from} to ${period.to}: ask for a shorter period`);
    const view = statementView(id, period, result.currencies);
    if (accepts(c, { header: "Accept", supports: ["application/json", "text/csv"], default: "application/json" }) === "text/csv") {
      return c.body(statementCsv(view), 200, { "content-type": CSV_CONTENT_TYPE, "content-disposition": `attachment; filename="statement-${id}-${period.from}-${period.to}.csv"` }) as never;
    }
    return c.json(view, 200);
  },
);

// ---- the accountant's export ---------------------------------------------------------------

/** Postings read per query: what the export holds in memory at once, whatever the period. */
export const EXPORT_PAGE_SIZE = 500;

const EXPORT_COLUMNS = [
  "posting_id", "transaction_id", "kind", "created_at", "account", "role", "amount_minor", "amount", "currency", "stripe_object", "payment_id", "event_id", "description",
] as const;

function exportRecord(r: ExportRow): string {
  return csvRecord([
    r.posting_id, r.transaction_id, r.kind, iso(r.created_at_ms), r.account, r.role, r.amount_minor, formatMinor(r.amount_minor, r.currency), r.currency, r.stripe_object, r.payment_id, r.event_id, r.description,
  ]);
}

/**
 * Every posting `readPage` gives, as CSV with a header, read a page at a time as the reader
 * pulls: a page is read only when the one before has been taken (high-water mark 0), so memory
 * holds one page, whatever the period. Pages follow postings.id (keyset): each starts after the
 * last id of the one before, and a page shorter than `pageSize` is the last.
 */
export function ledgerExportCsv(readPage: (after_id: number, limit: number) => Promise<ExportRow[]>, pageSize = EXPORT_PAGE_SIZE): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after_id = 0;
  let header = csvRecord([...EXPORT_COLUMNS]);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const rows = await readPage(after_id, pageSize);
        invariant(rows.length <= pageSize, `a page of ${rows.length} postings, more than ${pageSize}`);
        let text = header;
        header = "";
        for (const row of rows) {
          invariant(row.posting_id > after_id, "the export's pages are not in the order of postings.id");
          after_id = row.posting_id;
          text += exportRecord(row);
        }
        if (text.length > 0) controller.enqueue(encoder.encode(text));
        if (rows.length < pageSize) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

const EXPORT_CSV_EXAMPLE =
  "posting_id,transaction_id,kind,created_at,account,role,amount_minor,amount,currency,stripe_object,payment_id,event_id,description\r\n" +
  "1,txn_pay_pi_1,payment,2026-03-02T09:00:00.000Z,stripe:customers,customer,-20000,-200.00,eur,pi_1,pi_1,evt_1,checkout.session cs_1\r\n" +
  "2,txn_pay_pi_1,payment,2026-03-02T09:00:00.000Z,stripe:fees,fee,325,3.25,eur,pi_1,pi_1,evt_1,checkout.session cs_1\r\n";

statements.openapi(
  createRoute({
    method: "get",
    path: "/ledger/export",
    operationId: "exportLedger",
    summary: "Export every posting of a period as CSV",
    tags: ["ledger"],
    security: bearer,
    description:
      "Every posting of the transactions booked from `from` to `to` (whole UTC days), one CSV record per posting in the order they were written, for an accountant: " +
      `${EXPORT_COLUMNS.map((c) => `\`${c}\``).join(", ")}. \`amount\` is \`amount_minor\` as a decimal in the currency's unit. ` +
      `Streamed: read ${EXPORT_PAGE_SIZE} postings at a time, so any period is exported in the same memory. Each transaction sums to zero per currency, and so does the whole file. ` +
      "A failure while streaming ends the response early (the body is cut short, never completed): read the file again.",
    request: { query: PeriodQuery },
    responses: {
      200: { description: "The postings, RFC 4180, UTF-8, with a header", content: { "text/csv": { schema: z.string().openapi({ example: EXPORT_CSV_EXAMPLE }) } } },
      ...problems(400, 401, 403),
    },
  }),
  async (c) => {
    const period = periodOrThrow(c.req.valid("query"));
    if (!mayExportLedger(c.get("principal"))) throw new ApiError("forbidden", "this token may not export the ledger");
    const db = database(c.env.DB);
    const stream = ledgerExportCsv((after_id, limit) => ledgerExportPage(db, period, after_id, limit));
    return c.body(stream, 200, { "content-type": CSV_CONTENT_TYPE, "content-disposition": `attachment; filename="ledger-${period.from}-${period.to}.csv"` }) as never;
  },
);
