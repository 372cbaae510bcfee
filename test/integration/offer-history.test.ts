// Issue 8.4: offers as they were when paid. An offer is a chain of versions (name, Stripe
// prices, contributors), each in force from its effective_from; a payment is split with the
// offer as it stood when it was paid, however late its event is processed. And issue 7.9 for
// offers: a PATCH needs the ETag it read, and two admins cannot overwrite each other.
import { applyD1Migrations, introspectWorkflowInstance, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { database } from "../../db/client";
import { appendOfferVersion, offerHistory } from "../../db/queries/catalog";
import { buildTrainingPayment, type TrainingPayment } from "../../infra/stripe-emulator/objects";
import { advanceClock, api, deliver, deliverAndSettle, eventStatus, putStripeObjects, seedCatalog, setClock } from "./helpers";

/** The frozen "now" the tests start from: a quarter of a second past a whole second. */
const NOW = "2031-03-12T09:00:00.250Z";
const NOW_S = Math.floor(Date.parse(NOW) / 1000);
const DAY_MS = 86_400_000;

interface OfferView {
  id: string;
  kind: string;
  name: string;
  stripe_price_ids: string[];
  contributors: { party_id: string; weight: number }[];
  version: number;
  effective_from: string;
  etag: string;
  versions: { version: number; status: string; effective_from: string; name: string; stripe_price_ids: string[]; contributors: { party_id: string; weight: number }[]; author: string; reason: string | null }[];
}

interface PaymentView {
  lines: { offer_id: string }[];
  shares: { party_id: string; amount_minor: number }[];
}

async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

async function offer(id: string): Promise<OfferView> {
  return json<OfferView>(await api(`/offers/${id}`), 200);
}

/** PATCH with the ETag that GET gives, as an admin console would. */
async function patchOffer(id: string, body: unknown): Promise<Response> {
  return api(`/offers/${id}`, { method: "PATCH", body, headers: { "if-match": (await offer(id)).etag } });
}

async function payment(id: string): Promise<PaymentView> {
  return json<PaymentView>(await api(`/payments/${id}`), 200);
}

const byParty = (p: PaymentView) => Object.fromEntries(p.shares.map((s) => [s.party_id, s.amount_minor]));

/** A paid checkout of 10001 eur (no fee) for `price_id`, paid at `created_s`. */
function training(price_id: string, created_s: number): TrainingPayment {
  return buildTrainingPayment({ amount_minor: 10001, currency: "eur", price_id, fee_minor: 0, created: created_s });
}

async function paidAndSplit(built: TrainingPayment): Promise<PaymentView> {
  await putStripeObjects(built);
  expect(await deliverAndSettle(built.event)).toMatchObject({ status: "processed" });
  return payment(built.payment_intent.id);
}

/** Retries a parked or failed event by hand and waits for the new run to finish. */
async function retried(eventId: string): Promise<void> {
  await using rerun = await introspectWorkflowInstance(env.SPLIT_PAYMENT, `${eventId}-run2`);
  expect((await api(`/events/${eventId}/retry`, { method: "POST" })).status).toBe(202);
  await rerun.waitForStatus("complete");
}

// The default rule (10% commons, 15% reserve, the rest to contributors, on net) splits 10001 into
// 1000 / 1500 / 7501; training-intro's camille 2 : dominique 1 share 7501 as 5001 / 2500.
const WITH_CAMILLE_AND_DOMINIQUE = { commons: 1000, reserve: 1500, camille: 5001, dominique: 2500 };
const WITH_CAMILLE_AND_SACHA = { commons: 1000, reserve: 1500, camille: 5001, sacha: 2500 };

beforeEach(async () => {
  setClock(NOW);
  await seedCatalog();
});

describe("a payment is split with the offer as it was when it was paid", () => {
  it("a contributor replaced before a late retry: the payment paid while camille and dominique were its contributors is split between them", async () => {
    const built = training("price_training_intro", NOW_S);
    await putStripeObjects(built);
    // Stripe is down for every try of the first run: the event fails, to be retried later.
    await using first = await introspectWorkflowInstance(env.SPLIT_PAYMENT, built.event.id);
    await first.modify(async (m) => {
      await m.disableRetryDelays();
      await m.mockStepError({ name: "take the event in hand, and split a payment" }, new Error("Stripe is down"));
    });
    await deliver(built.event);
    await first.waitForStatus("errored");
    expect((await eventStatus(built.event.id)).status).toBe("failed");

    // Two days later, dominique is replaced by sacha; the change is in force before the retry.
    advanceClock(2 * DAY_MS);
    expect((await patchOffer("training-intro", { contributors: [{ party_id: "camille", weight: 2 }, { party_id: "sacha", weight: 1 }], reason: "Dominique hands over to Sacha" })).status).toBe(200);
    advanceClock(1000);
    expect((await offer("training-intro")).contributors).toEqual([{ party_id: "camille", weight: 2 }, { party_id: "sacha", weight: 1 }]);

    await retried(built.event.id);
    expect(byParty(await payment(built.payment_intent.id))).toEqual(WITH_CAMILLE_AND_DOMINIQUE);
    // A payment made now goes to the new contributors.
    expect(byParty(await paidAndSplit(training("price_training_intro", Math.floor(Date.now() / 1000))))).toEqual(WITH_CAMILLE_AND_SACHA);
  });

  it("a price unknown when paid, given to an offer later together with a new contributor: the offer is the one that took the price, its contributors those it had when paid", async () => {
    const built = training("price_intro_spring", NOW_S);
    await putStripeObjects(built);
    expect(await deliverAndSettle(built.event)).toMatchObject({ status: "parked" });
    expect((await eventStatus(built.event.id)).reason).toMatch(/unknown offer.*price_intro_spring/);

    advanceClock(2 * DAY_MS);
    const changed = await patchOffer("training-intro", { stripe_price_ids: ["price_training_intro", "price_intro_spring"], contributors: [{ party_id: "camille", weight: 2 }, { party_id: "sacha", weight: 1 }] });
    expect(changed.status).toBe(200);
    advanceClock(1000);

    await retried(built.event.id);
    const split = await payment(built.payment_intent.id);
    expect(split.lines.map((l) => l.offer_id)).toEqual(["training-intro"]);
    expect(byParty(split)).toEqual(WITH_CAMILLE_AND_DOMINIQUE);
  });

  it("a price moved from one offer to another at a time T: paid before T goes to the first, paid after T to the second, both processed after T", async () => {
    expect((await api("/offers", { method: "POST", body: { id: "workshop", kind: "training", name: "Workshop", contributors: [{ party_id: "camille", weight: 2 }, { party_id: "sacha", weight: 1 }] } })).status).toBe(201);
    const T = Date.parse(NOW) + 3_600_000 - 250; // 10:00:00.000, an hour from now
    const at = new Date(T).toISOString();
    // While training-intro holds the price at T, workshop cannot take it from T.
    const early = await patchOffer("workshop", { stripe_price_ids: ["price_training_intro"], effective_from: at });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { detail: string }).detail).toMatch(/^price price_training_intro belongs to offer training-intro from 1970-01-01T00:00:00.000Z, while this version would list it from 2031-03-12T10:00:00.000Z/);
    expect((await patchOffer("training-intro", { stripe_price_ids: [], effective_from: at, reason: "sold as a workshop from 10:00" })).status).toBe(200);
    // Nor a minute before T, while training-intro still holds it.
    expect((await patchOffer("workshop", { stripe_price_ids: ["price_training_intro"], effective_from: new Date(T - 60_000).toISOString() })).status).toBe(409);
    expect((await patchOffer("workshop", { stripe_price_ids: ["price_training_intro"], effective_from: at })).status).toBe(200);

    setClock(T + 60_000);
    const before = await paidAndSplit(training("price_training_intro", T / 1000 - 1));
    const after = await paidAndSplit(training("price_training_intro", T / 1000));
    expect(before.lines.map((l) => l.offer_id)).toEqual(["training-intro"]);
    expect(byParty(before)).toEqual(WITH_CAMILLE_AND_DOMINIQUE);
    expect(after.lines.map((l) => l.offer_id)).toEqual(["workshop"]);
    expect(byParty(after)).toEqual(WITH_CAMILLE_AND_SACHA);
  });

  it("a scheduled change does not touch payments made before its time, even when they are processed after it", async () => {
    const T = Date.parse(NOW) - 250 + DAY_MS;
    expect((await patchOffer("training-intro", { contributors: [{ party_id: "camille", weight: 2 }, { party_id: "sacha", weight: 1 }], effective_from: new Date(T).toISOString() })).status).toBe(200);
    // Still the old contributors now, and for a payment made now.
    expect((await offer("training-intro")).contributors).toEqual([{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }]);
    expect(byParty(await paidAndSplit(training("price_training_intro", NOW_S)))).toEqual(WITH_CAMILLE_AND_DOMINIQUE);

    setClock(T + DAY_MS);
    expect(byParty(await paidAndSplit(training("price_training_intro", T / 1000 - 1)))).toEqual(WITH_CAMILLE_AND_DOMINIQUE);
    expect(byParty(await paidAndSplit(training("price_training_intro", T / 1000)))).toEqual(WITH_CAMILLE_AND_SACHA);
  });
});

describe("GET /api/v1/offers/{id}", () => {
  it("shows the offer as it is now and its history: superseded, in force and scheduled versions", async () => {
    advanceClock(750); // 09:00:01.000
    expect((await patchOffer("training-intro", { name: "Training, second edition", reason: "renamed" })).status).toBe(200);
    advanceClock(1000);
    const tomorrow = "2031-03-13T09:00:00.000Z";
    const scheduled = await patchOffer("training-intro", { contributors: [{ party_id: "sacha", weight: 1 }], effective_from: tomorrow });
    const view = await json<OfferView>(scheduled, 200);
    expect(scheduled.headers.get("etag")).toBe(view.etag);
    expect(view.etag).toMatch(/^"v3-[0-9a-f]{16}"$/);
    const intro = { id: "training-intro", kind: "training", stripe_price_ids: ["price_training_intro"] };
    const camilleAndDominique = [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }];
    expect(view).toEqual({
      ...intro,
      name: "Training, second edition",
      contributors: camilleAndDominique,
      version: 2,
      effective_from: "2031-03-12T09:00:01.000Z",
      etag: view.etag,
      versions: [
        { version: 1, status: "superseded", effective_from: "1970-01-01T00:00:00.000Z", name: "Training", stripe_price_ids: ["price_training_intro"], contributors: camilleAndDominique, author: "test", reason: null, created_at: "1970-01-01T00:00:00.000Z" },
        { version: 2, status: "in_force", effective_from: "2031-03-12T09:00:01.000Z", name: "Training, second edition", stripe_price_ids: ["price_training_intro"], contributors: camilleAndDominique, author: "bootstrap", reason: "renamed", created_at: "2031-03-12T09:00:01.000Z" },
        { version: 3, status: "scheduled", effective_from: tomorrow, name: "Training, second edition", stripe_price_ids: ["price_training_intro"], contributors: [{ party_id: "sacha", weight: 1 }], author: "bootstrap", reason: null, created_at: "2031-03-12T09:00:02.000Z" },
      ],
    });
    setClock(tomorrow);
    const later = await offer("training-intro");
    expect(later).toMatchObject({ version: 3, contributors: [{ party_id: "sacha", weight: 1 }], etag: view.etag });
    expect(later.versions.map((v) => v.status)).toEqual(["superseded", "superseded", "in_force"]);
    expect(((await json<{ offers: { id: string; version: number }[] }>(await api("/offers"), 200)).offers).map((o) => [o.id, o.version])).toEqual([["hosting-basic", 1], ["training-intro", 3]]);
  });

  it("PATCH refuses an effective_from in the past (beyond a minute of clock skew) or before the latest version, naming the field", async () => {
    const pastRes = await patchOffer("training-intro", { name: "x", effective_from: "2031-03-12T08:58:00.000Z" });
    const past = await json<{ code: string; errors: { path: string }[] }>(pastRes, 400);
    expect(past).toMatchObject({ code: "invalid_request", errors: [{ path: "effective_from", message: "must be now or later" }] });
    // Thirty seconds ago is "now" to a clock a little behind: it takes effect at the next whole second.
    const skewed = await json<OfferView>(await patchOffer("training-intro", { name: "y", effective_from: "2031-03-12T08:59:30.250Z" }), 200);
    expect(skewed.versions.at(-1)?.effective_from).toBe("2031-03-12T09:00:01.000Z");
    expect((await patchOffer("training-intro", { name: "z", effective_from: "2031-03-14T00:00:00.000Z" })).status).toBe(200);
    const beforeLatest = await json<{ errors: { path: string; message: string }[] }>(await patchOffer("training-intro", { name: "w", effective_from: "2031-03-13T00:00:00.000Z" }), 400);
    expect(beforeLatest.errors).toEqual([{ path: "effective_from", message: "must not precede the latest version" }]);
  });
});

describe("two admins do not overwrite each other's offer", () => {
  it("PATCH without If-Match is 428, with a stale ETag 412, and neither writes a version", async () => {
    const stale = (await offer("training-intro")).etag;
    expect(await json(await api("/offers/training-intro", { method: "PATCH", body: { name: "No ETag" } }), 428)).toMatchObject({ code: "precondition_required" });
    expect((await api("/offers/training-intro", { method: "PATCH", body: { name: "First" }, headers: { "if-match": stale } })).status).toBe(200);
    expect(await json(await api("/offers/training-intro", { method: "PATCH", body: { name: "Second" }, headers: { "if-match": stale } }), 412)).toMatchObject({ code: "precondition_failed" });
    expect((await offer("training-intro")).versions.map((v) => v.name)).toEqual(["Training", "First"]);
  });

  it("two PATCHes sent at once with the same ETag: one wins, the other gets 412, and the audit holds the one change with its true before", async () => {
    const { etag } = await offer("training-intro");
    const answers = await Promise.all(
      [[{ party_id: "camille", weight: 1 }], [{ party_id: "sacha", weight: 1 }]].map((contributors) => api("/offers/training-intro", { method: "PATCH", body: { contributors }, headers: { "if-match": etag } })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = (await answers.find((r) => r.status === 200)?.json()) as OfferView;
    const written = winner.versions.at(-1);
    expect((await offer("training-intro")).versions.map((v) => v.contributors)).toEqual([
      [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }],
      written?.contributors,
    ]);
    const audit = (await (await api("/audit?entity_type=offer&entity_id=training-intro")).json()) as { entries: { before: { version: number; contributors: unknown }; after: { version: number; contributors: unknown } }[] };
    expect(audit.entries.map((e) => [e.before.version, e.before.contributors, e.after.version, e.after.contributors])).toEqual([[1, [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }], 2, written?.contributors]]);
  });

  it("a version written after someone else's from the same read writes nothing, not even its audit row", async () => {
    // Both reads before either write: the race the API cannot show reliably, played on the query function.
    const db = database(env.DB);
    const next = (name: string) => ({ version: 2, effective_from_ms: Date.parse(NOW) + 750, name, stripe_price_ids: ["price_training_intro"], contributors: [{ party_id: "camille", weight: 1 }], author: "test", reason: null });
    const audit = (name: string) => ({ actor: "test", action: "offer.update", entity_type: "offer", entity_id: "training-intro", before: { version: 1 }, after: { version: 2, name } }) as const;
    expect(await appendOfferVersion(db, "training-intro", next("First"), audit("First"), 1000)).toBe("appended");
    expect(await appendOfferVersion(db, "training-intro", next("Second"), audit("Second"), 2000)).toBe("stale");
    expect((await offerHistory(db, "training-intro"))?.versions.map((v) => [v.version, v.name, v.contributors])).toEqual([
      [1, "Training", [{ party_id: "camille", weight: 2 }, { party_id: "dominique", weight: 1 }]],
      [2, "First", [{ party_id: "camille", weight: 1 }]],
    ]);
    const rows = await env.DB.prepare("SELECT at_ms FROM audit_log WHERE entity_id = 'training-intro'").all<{ at_ms: number }>();
    expect(rows.results).toEqual([{ at_ms: 1000 }]);
  });

  it("the database refuses a version that lists a price another offer holds at that time, whoever writes it", async () => {
    const db = database(env.DB);
    const taking = { version: 2, effective_from_ms: Date.parse(NOW) + 750, name: "Hosting", stripe_price_ids: ["price_hosting_basic", "price_training_intro"], contributors: [{ party_id: "sacha", weight: 1 }], author: "test", reason: null };
    const audit = { actor: "test", action: "offer.update", entity_type: "offer", entity_id: "hosting-basic", before: null, after: null } as const;
    expect(await appendOfferVersion(db, "hosting-basic", taking, audit, 1000)).toBe("price_taken");
    expect((await offerHistory(db, "hosting-basic"))?.versions.map((v) => v.version)).toEqual([1]);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM audit_log").first<{ n: number }>())?.n).toBe(0);
    // Once training-intro lets it go from a time on, hosting-basic may take it from then.
    const letGo = { version: 2, effective_from_ms: Date.parse(NOW) + 750, name: "Training", stripe_price_ids: [], contributors: [{ party_id: "camille", weight: 1 }], author: "test", reason: null };
    expect(await appendOfferVersion(db, "training-intro", letGo, { ...audit, entity_id: "training-intro" }, 1000)).toBe("appended");
    expect(await appendOfferVersion(db, "hosting-basic", taking, audit, 1000)).toBe("appended");
  });
});

describe("the checks that use offers look at every version that can still split a payment", () => {
  const WITH_FALLBACK = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "contributors", share: "remaining", fallback: "reserve" }] };
  const WITHOUT_FALLBACK = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "contributors", share: "remaining" }] };

  it("a rule that pays contributors without a fallback is refused while a scheduled version of an offer it covers has none", async () => {
    await env.DB.prepare("UPDATE rule_versions SET body = ? WHERE rule_id = 'default'").bind(JSON.stringify(WITH_FALLBACK)).run();
    expect((await patchOffer("hosting-basic", { contributors: [], effective_from: "2031-04-01T00:00:00.000Z" })).status).toBe(200);
    const refused = await json<{ errors: { code: string; message: string }[] }>(await api("/rules", { method: "POST", body: { id: "hosting-split", scope: { offer_kind: "hosting" }, version: { reason: "x", body: WITHOUT_FALLBACK } } }), 422);
    expect(refused.errors).toEqual([
      { path: "lines[1].to", code: "empty_contributor_pool", message: 'offer(s) hosting-basic (version 2) have no contributor with a weight above 0, and this line has no "fallback" party to take its share' },
    ]);
    // Sacha, in force today, was not the problem: the training rule covers no such version and is accepted.
    expect((await api("/rules", { method: "POST", body: { id: "training-split", scope: { offer_kind: "training" }, version: { reason: "x", body: WITHOUT_FALLBACK } } })).status).toBe(201);
  });

  it("an offer may lose its contributors from the time a rule version with a fallback takes over, not before", async () => {
    const T = "2031-04-01T00:00:00.000Z";
    const etag = (await api("/rules/default")).headers.get("etag") ?? "";
    expect((await api("/rules/default/versions", { method: "POST", body: { effective_from: T, reason: "a fallback for offers without contributors", body: WITH_FALLBACK }, headers: { "if-match": etag } })).status).toBe(201);
    const now = await patchOffer("hosting-basic", { contributors: [] });
    expect(now.status).toBe(422);
    expect(((await now.json()) as { detail: string }).detail).toMatch(/rule default version 1 sends lines\[2\]\.to to contributors without a fallback/);
    expect((await patchOffer("hosting-basic", { contributors: [], effective_from: "2031-03-31T23:59:59.000Z" })).status).toBe(422);
    expect((await patchOffer("hosting-basic", { contributors: [], effective_from: T })).status).toBe(200);
  });
});

describe("migration 0006", () => {
  it("makes the offers, prices and contributors that existed version 1 of each offer, in force from the beginning", async () => {
    await reset();
    const before = env.TEST_MIGRATIONS.filter((m) => m.name < "0006");
    expect(before.map((m) => m.name)).toEqual(["0000_init.sql", "0001_event_rule_override.sql", "0002_event_due.sql", "0003_payment_tax_and_stripe_ids.sql", "0004_money_back.sql", "0005_party_revision.sql"]);
    await applyD1Migrations(env.DB, before);
    await env.DB.batch([
      env.DB.prepare("INSERT INTO parties (id, kind, name, created_at_ms) VALUES ('camille', 'contributor', 'Camille', 0), ('dominique', 'contributor', 'Dominique', 0)"),
      env.DB.prepare("INSERT INTO offers (id, kind, name, created_at_ms) VALUES ('legacy', 'training', 'Legacy training', 123), ('bare', 'hosting', 'Bare hosting', 456)"),
      env.DB.prepare("INSERT INTO offer_prices (price_id, offer_id) VALUES ('price_legacy_b', 'legacy'), ('price_legacy_a', 'legacy')"),
      env.DB.prepare("INSERT INTO offer_contributors (offer_id, party_id, weight, position) VALUES ('legacy', 'dominique', 1, 1), ('legacy', 'camille', 3, 0)"),
    ]);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

    const legacy = await offer("legacy");
    expect(legacy).toMatchObject({ name: "Legacy training", stripe_price_ids: ["price_legacy_a", "price_legacy_b"], contributors: [{ party_id: "camille", weight: 3 }, { party_id: "dominique", weight: 1 }], version: 1 });
    expect(legacy.versions).toEqual([
      { version: 1, status: "in_force", effective_from: "1970-01-01T00:00:00.000Z", name: "Legacy training", stripe_price_ids: ["price_legacy_a", "price_legacy_b"], contributors: [{ party_id: "camille", weight: 3 }, { party_id: "dominique", weight: 1 }], author: "migration", reason: "the offer as it stood when offers got versions", created_at: "1970-01-01T00:00:00.123Z" },
    ]);
    expect(await offer("bare")).toMatchObject({ name: "Bare hosting", stripe_price_ids: [], contributors: [], version: 1 });
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE name IN ('offer_prices', 'offer_contributors', 'offer_version_prices_one_offer_at_a_time') ORDER BY name").all<{ name: string }>();
    expect(tables.results).toEqual([{ name: "offer_version_prices_one_offer_at_a_time" }]);
  });
});
