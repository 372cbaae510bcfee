import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "../../workers/app";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { database } from "../../db/client";
import { getParty, updatePartyIfUnchanged } from "../../db/queries/catalog";
import { advanceClock, api, call, deliverAndSettle, insertOffer, putStripeObjects, seedCatalog, setClock } from "./helpers";

interface OfferView {
  version: number;
  etag: string;
  contributors: { party_id: string; weight: number }[];
  versions: { version: number; status: string }[];
}

/** PATCH with the ETag that GET gives, as an admin console would. */
async function patchOffer(id: string, body: unknown): Promise<Response> {
  const etag = (await api(`/offers/${id}`)).headers.get("etag") ?? "";
  return api(`/offers/${id}`, { method: "PATCH", body, headers: { "if-match": etag } });
}

describe("authentication", () => {
  it("answers 401 without a bearer token", async () => {
    const res = await call("/api/v1/parties");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
  });

  it("answers 401 with a wrong token", async () => {
    expect((await api("/parties", { token: "nope" })).status).toBe(401);
    expect((await api("/balances", { token: `${env.ADMIN_TOKEN}x` })).status).toBe(401);
  });

  it("refuses to serve when a secret is missing, naming it", async () => {
    const res = await app.request("/health", {}, { ...env, STRIPE_WEBHOOK_SECRET: "" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/STRIPE_WEBHOOK_SECRET/);
  });
});

describe("/api/v1/parties", () => {
  it("creates a party and lists it", async () => {
    const res = await api("/parties", { method: "POST", body: { id: "ateliers-libres", kind: "contributor", name: "Ateliers libres" } });
    expect(res.status).toBe(201);
    expect(await (await api("/parties")).json()).toEqual({ parties: [{ id: "ateliers-libres", kind: "contributor", name: "Ateliers libres", public: false, stripe_account_id: null, payout_minimum_minor: 0 }] });
    expect(await (await api("/parties/ateliers-libres")).json()).toEqual({ id: "ateliers-libres", kind: "contributor", name: "Ateliers libres", public: false, stripe_account_id: null, payout_minimum_minor: 0 });
  });

  it("answers 409 for an id that exists", async () => {
    expect((await api("/parties", { method: "POST", body: { id: "twice", kind: "reserve", name: "Twice" } })).status).toBe(201);
    const res = await api("/parties", { method: "POST", body: { id: "twice", kind: "reserve", name: "Twice" } });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: "conflict" });
  });

  it("answers 400 naming the field for a bad kind", async () => {
    const res = await api("/parties", { method: "POST", body: { id: "x", kind: "banker", name: "X" } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(body.code).toBe("invalid_request");
    expect(body.errors.map((e) => e.path)).toContain("kind");
  });

  it("answers 400 for malformed JSON and 415 without a JSON content type", async () => {
    const bad = await call("/api/v1/parties", { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" }, body: "{" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "malformed_json" });
    const plain = await call("/api/v1/parties", { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` }, body: "id=x" });
    expect(plain.status).toBe(415);
  });

  it("answers 404 for a party that does not exist", async () => {
    expect((await api("/parties/nobody")).status).toBe(404);
  });
});

describe("/api/v1/offers", () => {
  it("creates an offer at version 1, in force from the next whole second, and shows it with its history and ETag", async () => {
    setClock("2031-03-12T09:00:00.250Z");
    expect((await api("/parties", { method: "POST", body: { id: "lou", kind: "contributor", name: "Lou" } })).status).toBe(201);
    const offer = { id: "mooc-commons", kind: "training", name: "MOOC", stripe_price_ids: ["price_mooc"], contributors: [{ party_id: "lou", weight: 3 }] };
    const res = await api("/offers", { method: "POST", body: { ...offer, reason: "Launch" } });
    expect(res.status).toBe(201);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"v1-[0-9a-f]{16}"$/);
    const version = { version: 1, effective_from: "2031-03-12T09:00:01.000Z", name: "MOOC", stripe_price_ids: ["price_mooc"], contributors: [{ party_id: "lou", weight: 3 }], author: "bootstrap", reason: "Launch", created_at: "2031-03-12T09:00:00.250Z" };
    // Before version 1 takes effect, a payment made now would still be resolved with it: so is the offer shown.
    expect(await res.json()).toEqual({ ...offer, version: 1, effective_from: "2031-03-12T09:00:01.000Z", etag, versions: [{ ...version, status: "scheduled" }] });
    advanceClock(750);
    const read = await api("/offers/mooc-commons");
    expect(read.headers.get("etag")).toBe(etag);
    expect(await read.json()).toEqual({ ...offer, version: 1, effective_from: "2031-03-12T09:00:01.000Z", etag, versions: [{ ...version, status: "in_force" }] });
    expect(await (await api("/offers")).json()).toEqual({ offers: [{ ...offer, version: 1, effective_from: "2031-03-12T09:00:01.000Z" }] });
  });

  it("answers 400 naming the contributor that is not a party", async () => {
    const res = await api("/offers", { method: "POST", body: { id: "ghost-offer", kind: "hosting", name: "Ghost", contributors: [{ party_id: "ghost", weight: 1 }] } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe("contributors.0.party_id");
  });

  it("answers 400 for a weight that is not a positive integer", async () => {
    const res = await api("/offers", { method: "POST", body: { id: "w", kind: "hosting", name: "W", contributors: [{ party_id: "x", weight: 0.5 }] } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain("contributors.0.weight");
  });

  it("keeps each contributor's role, when given, in the offer now, its history, the list and the audit log; a contributor without one has no role field", async () => {
    setClock("2031-03-12T09:00:00.250Z");
    await seedCatalog();
    const contributors = [{ party_id: "camille", weight: 2, role: "facilitator" }, { party_id: "dominique", weight: 1, role: "author" }, { party_id: "sacha", weight: 1 }];
    const created = await api("/offers", { method: "POST", body: { id: "workshop", kind: "training", name: "Workshop", contributors } });
    expect(created.status).toBe(201);
    expect(((await created.json()) as OfferView).contributors).toEqual(contributors);
    advanceClock(1_000);
    const offer = (await (await api("/offers/workshop")).json()) as { contributors: unknown; versions: { contributors: unknown }[] };
    expect(offer.contributors).toEqual(contributors);
    expect(offer.versions.map((v) => v.contributors)).toEqual([contributors]);
    const listed = (await (await api("/offers")).json()) as { offers: { id: string; contributors: unknown }[] };
    expect(listed.offers.find((o) => o.id === "workshop")?.contributors).toEqual(contributors);
    expect(listed.offers.find((o) => o.id === "training-intro")?.contributors).toEqual([{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }]);

    // A role changed is a new version, as any change of contributors; the one before keeps its roles.
    const changed = [{ party_id: "camille", weight: 2, role: "author" }, { party_id: "sacha", weight: 1, role: "host" }];
    expect((await patchOffer("workshop", { contributors: changed })).status).toBe(200);
    advanceClock(1_000);
    const after = (await (await api("/offers/workshop")).json()) as { contributors: unknown; versions: { contributors: unknown }[] };
    expect(after.contributors).toEqual(changed);
    expect(after.versions.map((v) => v.contributors)).toEqual([contributors, changed]);
    const audit = (await (await api("/audit?entity_type=offer&entity_id=workshop")).json()) as { entries: { action: string; after: { contributors: unknown } }[] };
    expect(audit.entries.map((e) => [e.action, e.after.contributors])).toEqual([["offer.update", changed], ["offer.create", contributors]]);
  });

  it("answers 400 naming the field for a role that is not facilitator, author or host", async () => {
    await seedCatalog();
    const res = await api("/offers", { method: "POST", body: { id: "w", kind: "training", name: "W", contributors: [{ party_id: "camille", weight: 1, role: "treasurer" }] } });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors.map((e) => e.path)).toEqual(["contributors.0.role"]);
    expect((await patchOffer("training-intro", { contributors: [{ party_id: "camille", weight: 1, role: null }] })).status).toBe(400);
  });

  it("answers 409 when a price already belongs to another offer", async () => {
    expect((await api("/offers", { method: "POST", body: { id: "first-owner", kind: "hosting", name: "A", stripe_price_ids: ["price_shared"] } })).status).toBe(201);
    const res = await api("/offers", { method: "POST", body: { id: "second-owner", kind: "hosting", name: "B", stripe_price_ids: ["price_shared"] } });
    expect(res.status).toBe(409);
    expect((await api("/offers/second-owner")).status).toBe(404);
  });
});

describe("reads of the ledger", () => {
  it("answer 404 with a problem for an unknown event or payment, 400 for a malformed id", async () => {
    expect((await api("/events/evt_unknown")).status).toBe(404);
    expect((await api("/payments/pi_unknown")).status).toBe(404);
    const bad = await api("/payments/not-a-payment");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_request" });
  });

  it("answer no balances and a passing ledger check on an empty ledger", async () => {
    expect(await (await api("/balances")).json()).toEqual({ balances: [] });
    expect(await (await api("/ledger/check")).json()).toEqual({ ok: true, transactions: 0, postings: 0, imbalances: [] });
  });

  it("derive each party's balance from the postings of two payments", async () => {
    await seedCatalog();
    for (const amount_minor of [10001, 2500]) {
      const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro", fee_minor: 100 });
      await putStripeObjects(built);
      await deliverAndSettle(built.event);
    }
    const balances = (await (await api("/balances")).json()) as { balances: { party_id: string; kind: string; currency: string; balance_minor: number }[] };
    // Nets 9901 and 2400. 9901: 990.1 / 1485.15 / 7425.75 → 990 / 1485 / 7426, and 7426 by 2:1 is
    // 4950.67 / 2475.33 → 4951 / 2475. 2400: 240 / 360 / 1800 → 1200 / 600.
    const expected = { commons: 990 + 240, reserve: 1485 + 360, camille: 4951 + 1200, dominique: 2475 + 600 };
    expect(Object.fromEntries(balances.balances.map((b) => [`${b.party_id} ${b.kind} ${b.currency}`, b.balance_minor]))).toEqual({
      "commons commons eur": expected.commons,
      "reserve reserve eur": expected.reserve,
      "camille contributor eur": expected.camille,
      "dominique contributor eur": expected.dominique,
    });
    // The same sums, straight from the postings.
    const sums = await env.DB.prepare("SELECT substr(account, 7) AS party_id, sum(amount_minor) AS s FROM postings WHERE account LIKE 'party:%' AND currency = 'eur' GROUP BY account").all<{ party_id: string; s: number }>();
    expect(Object.fromEntries(sums.results.map((row) => [row.party_id, row.s]))).toEqual(expected);
  });

  it("report a payment whose party postings do not sum to its basis", async () => {
    await env.DB.batch([
      env.DB.prepare("INSERT INTO ledger_transactions (id, kind, idempotency_key, event_id, description, created_at_ms) VALUES ('txn_pay_pi_short', 'payment', 'payment:pi_short', 'evt_y', 'short on purpose', 0)"),
      env.DB.prepare("INSERT INTO payments (id, source_type, source_id, event_id, transaction_id, currency, gross_minor, fee_minor, net_minor, presentment_currency, presentment_amount_minor, paid_at_s, created_at_ms) VALUES ('pi_short', 'invoice', 'in_short', 'evt_y', 'txn_pay_pi_short', 'eur', 100, 0, 100, 'eur', 100, 0, 0)"),
      env.DB.prepare("INSERT INTO payment_lines (payment_id, line_no, offer_id, rule_id, rule_version, basis, gross_minor, fee_minor, basis_minor) VALUES ('pi_short', 0, 'x', 'default', 1, 'gross', 100, 0, 100)"),
      env.DB.prepare("INSERT INTO postings (transaction_id, account, amount_minor, currency) VALUES ('txn_pay_pi_short', 'stripe:customers', -100, 'eur'), ('txn_pay_pi_short', 'party:commons', 90, 'eur'), ('txn_pay_pi_short', 'coop:somewhere', 10, 'eur')"),
    ]);
    // It sums to zero (the missing 10 went elsewhere), so only the shares-versus-basis check fails.
    expect(await (await api("/ledger/check")).json()).toEqual({
      ok: false,
      transactions: 1,
      postings: 3,
      imbalances: [{ transaction_id: "txn_pay_pi_short", currency: "eur", invariant: "shares_equal_basis", sum_minor: 90, expected_minor: 100 }],
    });
  });

  it("report a transaction that does not sum to zero", async () => {
    await env.DB.batch([
      env.DB.prepare("INSERT INTO ledger_transactions (id, kind, idempotency_key, event_id, description, created_at_ms) VALUES ('txn_broken', 'payment', 'payment:broken', 'evt_x', 'broken on purpose', 0)"),
      env.DB.prepare("INSERT INTO postings (transaction_id, account, amount_minor, currency) VALUES ('txn_broken', 'party:commons', 5, 'eur')"),
    ]);
    expect(await (await api("/ledger/check")).json()).toEqual({
      ok: false,
      transactions: 1,
      postings: 1,
      imbalances: [{ transaction_id: "txn_broken", currency: "eur", invariant: "sums_to_zero", sum_minor: 5, expected_minor: 0 }],
    });
  });
});

describe("unknown routes", () => {
  it("answer 404 with an application/problem+json body", async () => {
    const res = await call("/nowhere");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/problem\+json/);
  });
});

describe("changing offers and parties", () => {
  it("PATCH /offers/{id} replaces contributors and prices as version 2, and the audit log keeps before and after", async () => {
    setClock("2031-03-12T09:00:00.250Z");
    await seedCatalog();
    const res = await patchOffer("training-intro", { contributors: [{ party_id: "camille", weight: 1 }, { party_id: "sacha", weight: 1 }], stripe_price_ids: ["price_training_intro", "price_training_intro_v2"], reason: "Sacha co-facilitates" });
    expect(res.status).toBe(200);
    advanceClock(750);
    const offer = (await (await api("/offers/training-intro")).json()) as OfferView;
    expect(offer).toMatchObject({ version: 2, contributors: [{ party_id: "camille", weight: 1 }, { party_id: "sacha", weight: 1 }], stripe_price_ids: ["price_training_intro", "price_training_intro_v2"] });
    const audit = (await (await api("/audit?entity_type=offer&entity_id=training-intro")).json()) as { entries: { action: string; before: unknown; after: unknown }[] };
    expect(audit.entries.map(({ action, before, after }) => ({ action, before, after }))).toEqual([
      {
        action: "offer.update",
        before: { id: "training-intro", kind: "training", version: 1, effective_from: "1970-01-01T00:00:00.000Z", name: "Training", stripe_price_ids: ["price_training_intro"], contributors: [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }], reason: null },
        after: {
          id: "training-intro",
          kind: "training",
          version: 2,
          effective_from: "2031-03-12T09:00:01.000Z",
          name: "Training",
          stripe_price_ids: ["price_training_intro", "price_training_intro_v2"],
          contributors: [{ party_id: "camille", weight: 1 }, { party_id: "sacha", weight: 1 }],
          reason: "Sacha co-facilitates",
        },
      },
    ]);
  });

  it("PATCH of the contributors alone keeps the offer's name and prices", async () => {
    setClock("2031-03-12T09:00:00.250Z");
    await seedCatalog();
    expect((await patchOffer("training-intro", { contributors: [{ party_id: "sacha", weight: 1 }] })).status).toBe(200);
    advanceClock(750);
    expect(await (await api("/offers/training-intro")).json()).toMatchObject({ id: "training-intro", kind: "training", name: "Training", stripe_price_ids: ["price_training_intro"], contributors: [{ party_id: "sacha", weight: 1 }], version: 2 });
  });

  it("PATCH of the name alone of an offer without contributors is accepted, even under a rule that pays contributors", async () => {
    setClock("2031-03-12T09:00:00.250Z");
    await seedCatalog();
    // Written straight to D1: the API would refuse it under the default rule, which pays `contributors` without a fallback.
    await insertOffer({ id: "no-one", kind: "training", name: "No one" });
    expect((await patchOffer("no-one", { name: "No one yet" })).status).toBe(200);
    advanceClock(750);
    expect(await (await api("/offers/no-one")).json()).toMatchObject({ id: "no-one", kind: "training", name: "No one yet", stripe_price_ids: [], contributors: [], version: 2 });
  });

  it("refuses an offer without contributors while a rule covering it pays `contributors` without a fallback", async () => {
    await seedCatalog();
    const created = await api("/offers", { method: "POST", body: { id: "no-one", kind: "training", name: "No one" } });
    expect(created.status).toBe(422);
    expect(((await created.json()) as { detail: string }).detail).toMatch(/rule default version 1/);
    expect((await api("/offers/no-one")).status).toBe(404);
    const emptied = await patchOffer("hosting-basic", { contributors: [] });
    expect(emptied.status).toBe(422);
    expect(((await (await api("/offers/hosting-basic")).json()) as OfferView).versions).toHaveLength(1);
  });

  it("PATCH answers 404 for an unknown offer or party, 400 for an unknown field or nothing to change, 409 for a price of another offer", async () => {
    await seedCatalog();
    expect((await api("/offers/nope", { method: "PATCH", body: { name: "x" }, headers: { "if-match": "*" } })).status).toBe(404);
    expect((await api("/parties/nope", { method: "PATCH", body: { name: "x" }, headers: { "if-match": "*" } })).status).toBe(404);
    expect((await patchOffer("training-intro", { kind: "hosting" })).status).toBe(400);
    const nothing = await patchOffer("training-intro", { reason: "just because" });
    expect(nothing.status).toBe(400);
    expect(((await nothing.json()) as { detail: string }).detail).toMatch(/at least one of name, stripe_price_ids, contributors/);
    const taken = await patchOffer("training-intro", { stripe_price_ids: ["price_hosting_basic"] });
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { detail: string }).detail).toMatch(/^price price_hosting_basic belongs to offer hosting-basic from 1970-01-01T00:00:00.000Z, while this version would list it from/);
    expect((await patchOffer("training-intro", { stripe_price_ids: ["price_a", "price_a"] })).status).toBe(400);
  });

  it("PATCH /parties/{id} renames a party with the ETag of GET, audited, and answers the new ETag", async () => {
    await seedCatalog();
    const read = await api("/parties/sacha");
    const etag = read.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"v1-[0-9a-f]{16}"$/);
    const res = await api("/parties/sacha", { method: "PATCH", body: { name: "Sacha, hébergeuse" }, headers: { "if-match": etag } });
    expect(await res.json()).toEqual({ id: "sacha", kind: "contributor", name: "Sacha, hébergeuse", public: false, stripe_account_id: null, payout_minimum_minor: 0 });
    const next = res.headers.get("etag");
    expect(next).toMatch(/^"v2-[0-9a-f]{16}"$/);
    expect((await api("/parties/sacha")).headers.get("etag")).toBe(next);
    const audit = (await (await api("/audit?entity_type=party&entity_id=sacha")).json()) as { entries: { action: string; before: unknown; after: unknown }[] };
    expect(audit.entries.map(({ action, before, after }) => ({ action, before, after }))).toEqual([
      { action: "party.update", before: { id: "sacha", kind: "contributor", name: "Sacha", public: false, stripe_account_id: null, payout_minimum_minor: 0 }, after: { id: "sacha", kind: "contributor", name: "Sacha, hébergeuse", public: false, stripe_account_id: null, payout_minimum_minor: 0 } },
    ]);
  });

  it("PATCH /parties/{id} answers 428 without If-Match and 412 with a stale ETag, and changes nothing", async () => {
    await seedCatalog();
    const stale = (await api("/parties/sacha")).headers.get("etag") ?? "";
    const missing = await api("/parties/sacha", { method: "PATCH", body: { name: "Nobody asked" } });
    expect(missing.status).toBe(428);
    expect(await missing.json()).toMatchObject({ code: "precondition_required" });
    expect((await api("/parties/sacha", { method: "PATCH", body: { name: "First" }, headers: { "if-match": stale } })).status).toBe(200);
    const late = await api("/parties/sacha", { method: "PATCH", body: { kind: "reserve" }, headers: { "if-match": stale } });
    expect(late.status).toBe(412);
    expect(await late.json()).toMatchObject({ code: "precondition_failed" });
    expect(await (await api("/parties/sacha")).json()).toEqual({ id: "sacha", kind: "contributor", name: "First", public: false, stripe_account_id: null, payout_minimum_minor: 0 });
    expect(((await (await api("/audit?entity_type=party&entity_id=sacha")).json()) as { entries: unknown[] }).entries).toHaveLength(1);
  });

  it("two PATCHes of a party sent at once with the same ETag: one wins, the other gets 412, and the audit holds the one change with its true before", async () => {
    await seedCatalog();
    const etag = (await api("/parties/sacha")).headers.get("etag") ?? "";
    const answers = await Promise.all(["Sacha A", "Sacha B"].map((name) => api("/parties/sacha", { method: "PATCH", body: { name }, headers: { "if-match": etag } })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = (await answers.find((r) => r.status === 200)?.json()) as { name: string };
    expect(await (await api("/parties/sacha")).json()).toEqual({ id: "sacha", kind: "contributor", name: winner.name, public: false, stripe_account_id: null, payout_minimum_minor: 0 });
    const audit = (await (await api("/audit?entity_type=party&entity_id=sacha")).json()) as { entries: { before: unknown; after: unknown }[] };
    expect(audit.entries.map(({ before, after }) => ({ before, after }))).toEqual([
      { before: { id: "sacha", kind: "contributor", name: "Sacha", public: false, stripe_account_id: null, payout_minimum_minor: 0 }, after: { id: "sacha", kind: "contributor", name: winner.name, public: false, stripe_account_id: null, payout_minimum_minor: 0 } },
    ]);
  });

  it("a party is not public until it says so: POST may set it, PATCH changes it alone, audited, and a non-boolean is a 400", async () => {
    expect((await api("/parties", { method: "POST", body: { id: "lou", kind: "contributor", name: "Lou", public: true } })).status).toBe(201);
    expect((await api("/parties", { method: "POST", body: { id: "noa", kind: "contributor", name: "Noa" } })).status).toBe(201);
    expect(await (await api("/parties")).json()).toEqual({
      parties: [
        { id: "lou", kind: "contributor", name: "Lou", public: true, stripe_account_id: null, payout_minimum_minor: 0 },
        { id: "noa", kind: "contributor", name: "Noa", public: false, stripe_account_id: null, payout_minimum_minor: 0 },
      ],
    });
    const etag = (await api("/parties/noa")).headers.get("etag") ?? "";
    const res = await api("/parties/noa", { method: "PATCH", body: { public: true }, headers: { "if-match": etag } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "noa", kind: "contributor", name: "Noa", public: true, stripe_account_id: null, payout_minimum_minor: 0 });
    expect(res.headers.get("etag")).not.toBe(etag);
    const audit = (await (await api("/audit?entity_type=party&entity_id=noa")).json()) as { entries: { action: string; before: unknown; after: unknown }[] };
    expect(audit.entries[0]).toMatchObject({ action: "party.update", before: { public: false }, after: { public: true } });
    const bad = await api("/parties/noa", { method: "PATCH", body: { public: "yes" }, headers: { "if-match": res.headers.get("etag") ?? "" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["public"]);
  });

  it("a party change written after someone else's, from the same read, writes neither the change nor its audit row", async () => {
    await seedCatalog();
    // The race the API cannot show reliably (both reads before either write), played step by step on the query function.
    const db = database(env.DB);
    const read = await getParty(db, "sacha");
    if (!read) throw new Error("sacha was seeded");
    const change = (name: string) => ({ actor: "test", action: "party.update", entity_type: "party", entity_id: "sacha", before: read.party, after: { ...read.party, name } }) as const;
    expect(await updatePartyIfUnchanged(db, read, { ...read.party, name: "First" }, change("First"), 1000)).toBe(true);
    expect(await updatePartyIfUnchanged(db, read, { ...read.party, name: "Second" }, change("Second"), 2000)).toBe(false);
    expect(await getParty(db, "sacha")).toEqual({ party: { id: "sacha", kind: "contributor", name: "First", public: false, stripe_account_id: null, payout_minimum_minor: 0 }, revision: 2 });
    const rows = await env.DB.prepare("SELECT at_ms, after FROM audit_log WHERE entity_id = 'sacha'").all<{ at_ms: number; after: string }>();
    expect(rows.results).toEqual([{ at_ms: 1000, after: JSON.stringify({ id: "sacha", kind: "contributor", name: "First", public: false, stripe_account_id: null, payout_minimum_minor: 0 }) }]);
  });
});
