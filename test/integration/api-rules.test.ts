import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { advanceClock, api, deliverAndSettle, insertOffer, putStripeObjects, seedCatalog, setClock } from "./helpers";

const TEN_FIFTEEN_REST = {
  basis: "net",
  lines: [
    { to: "commons", share: "10%" },
    { to: "reserve", share: "15%" },
    { to: "contributors", share: "75%" },
  ],
};

/** The frozen "now" of every test here: a quarter of a second past a whole second. */
const NOW = "2031-03-12T09:00:00.250Z";
/** "Now" as the API rounds it for a version's effective_from: up to the whole second. */
const NOW_ROUNDED_UP = "2031-03-12T09:00:01.000Z";
const NOW_S = Math.floor(Date.parse(NOW) / 1000);

interface RuleView {
  id: string;
  etag: string;
  current: { version: number } | null;
  latest: { version: number; status: string; effective_from: string; content_hash: string };
  versions: { version: number; status: string }[];
}

interface PaymentView {
  rule_version: string;
  shares: { party_id: string; amount_minor: number }[];
}

async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function createTrainingRule(id = "training-split", body: unknown = TEN_FIFTEEN_REST): Promise<RuleView> {
  return json<RuleView>(await api("/rules", { method: "POST", body: { id, scope: { offer_kind: "training" }, version: { reason: "Assemblée du 12 novembre", body } } }), 201);
}

async function viewerToken(): Promise<string> {
  return (await json<{ token: string }>(await api("/tokens", { method: "POST", body: { name: "observer", role: "viewer" } }), 201)).token;
}

/** A paid checkout of `amount_minor` eur (no fee) for the offer selling `price_id`, paid at `created_s`, split. */
async function paid(price_id: string, amount_minor: number, created_s: number): Promise<PaymentView> {
  const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id, fee_minor: 0, created: created_s });
  await putStripeObjects(built);
  await deliverAndSettle(built.event);
  return json<PaymentView>(await api(`/payments/${built.payment_intent.id}`), 200);
}

const byParty = (p: PaymentView) => Object.fromEntries(p.shares.map((s) => [s.party_id, s.amount_minor]));

beforeEach(async () => {
  setClock(NOW);
  await seedCatalog();
});

describe("the governance story, through the API alone", () => {
  it("an admin creates, previews and schedules a rule; both show in the audit log; a viewer reads but cannot change", async () => {
    const created = await createTrainingRule();
    // "Now" is rounded up to the next whole second, Stripe's resolution for payments: until then the version is scheduled.
    const v1Hash = await sha256('{"basis":"net","lines":[{"share":"10%","to":"commons"},{"share":"15%","to":"reserve"},{"share":"75%","to":"contributors"}]}');
    expect(created.latest).toMatchObject({ version: 1, status: "scheduled", effective_from: NOW_ROUNDED_UP, content_hash: `sha256:${v1Hash}` });
    expect(created.current).toBeNull();
    expect(created.etag).toBe(`"v1-${v1Hash.slice(0, 16)}"`);

    const preview = await json<{ basis_minor: number; lines: { path: string; amount_minor: number }[]; shares: { party_id: string; amount_minor: number }[] }>(
      await api("/rules/preview", { method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor: 10001, currency: "eur", offer_id: "training-intro" } }),
      200,
    );
    expect(preview.basis_minor).toBe(10001);
    expect(preview.lines.filter((l) => /^lines\[\d\]$/.test(l.path)).map((l) => l.amount_minor)).toEqual([1000, 1500, 7501]);
    expect(Object.fromEntries(preview.shares.map((s) => [s.party_id, s.amount_minor]))).toEqual({ commons: 1000, reserve: 1500, camille: 5001, dominique: 2500 });

    const read = await api("/rules/training-split");
    const etag = read.headers.get("etag");
    expect(etag).toBe(created.etag);
    const next = { ...TEN_FIFTEEN_REST, lines: [{ to: "commons", share: "12%" }, { to: "reserve", share: "13%" }, { to: "contributors", share: "remaining" }] };
    const tomorrow = "2031-03-13T09:00:00.000Z";
    const scheduled = await json<RuleView>(
      await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": etag ?? "" }, body: { effective_from: tomorrow, reason: "Plus pour le commun", body: next } }),
      201,
    );
    expect(scheduled.versions.map((v) => [v.version, v.status])).toEqual([[1, "scheduled"], [2, "scheduled"]]);
    expect(scheduled.latest).toMatchObject({ version: 2, status: "scheduled", effective_from: tomorrow });

    // Three quarters of a second later version 1 is in force; version 2 still waits for tomorrow.
    advanceClock(750);
    const inForce = await json<RuleView>(await api("/rules/training-split"), 200);
    expect(inForce.current?.version).toBe(1);
    expect(inForce.versions.map((v) => [v.version, v.status])).toEqual([[1, "in_force"], [2, "scheduled"]]);

    const v2Hash = await sha256('{"basis":"net","lines":[{"share":"12%","to":"commons"},{"share":"13%","to":"reserve"},{"share":"remaining","to":"contributors"}]}');
    const audit = await json<{ entries: { action: string; entity_id: string; actor: string; at: string; before: unknown; after: unknown }[] }>(await api("/audit?entity_type=rule&entity_id=training-split"), 200);
    const v1 = { version: 1, effective_from_ms: Date.parse(NOW_ROUNDED_UP), body: TEN_FIFTEEN_REST, content_hash: `sha256:${v1Hash}`, author: "bootstrap", reason: "Assemblée du 12 novembre" };
    expect(audit.entries.map(({ action, actor, at, before, after }) => ({ action, actor, at, before, after }))).toEqual([
      {
        action: "rule.version",
        actor: "bootstrap",
        at: NOW,
        before: { rule_id: "training-split", ...v1, proposal_id: null, created_at_ms: Date.parse(NOW) },
        after: { version: 2, effective_from_ms: Date.parse(tomorrow), body: next, content_hash: `sha256:${v2Hash}`, author: "bootstrap", reason: "Plus pour le commun" },
      },
      { action: "rule.create", actor: "bootstrap", at: NOW, before: null, after: { scope: { offer_kind: "training" }, governance: { notice: "P7D", approvals: 0 }, ...v1 } },
    ]);

    const viewer = await viewerToken();
    expect((await api("/rules/training-split", { token: viewer })).status).toBe(200);
    expect((await api("/rules", { token: viewer })).status).toBe(200);
    expect((await api("/audit", { token: viewer })).status).toBe(200);
    const denied = await api("/rules/training-split/versions", { token: viewer, method: "POST", headers: { "if-match": scheduled.etag }, body: { reason: "x", body: next } });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: "forbidden" });
    expect((await api("/rules", { token: viewer, method: "POST", body: { id: "x", scope: { offer_kind: "hosting" }, version: { reason: "x", body: next } } })).status).toBe(403);
    expect((await api("/parties", { token: viewer, method: "POST", body: { id: "v", kind: "reserve", name: "V" } })).status).toBe(403);
    expect((await api("/tokens", { token: viewer, method: "POST", body: { name: "escalate", role: "admin" } })).status).toBe(403);
    expect((await api("/rules/training-split")).headers.get("etag")).toBe(scheduled.etag);
  });
});

describe("POST /api/v1/rules", () => {
  it("rejects a rule that cannot be applied with 422 naming the line", async () => {
    const cases: [unknown, string, string][] = [
      [{ basis: "net", lines: [{ to: "commons", share: "60%" }, { to: "reserve", share: "50%" }] }, "shares_exceed_whole", "lines"],
      [{ basis: "net", lines: [{ to: "commons", share: "remaining" }, { to: "reserve", share: "remaining" }] }, "two_remaining", "lines[1]"],
      [{ basis: "net", lines: [{ to: "nobody", share: "100%" }] }, "unknown_party", "lines[0]"],
      [{ basis: "net", lines: [{ to: "commons", share: { fixed: { usd: 500 } } }, { to: "reserve", share: "remaining" }] }, "fixed_missing_currency", "lines[0]"],
    ];
    for (const [body, code, path] of cases) {
      const res = await api("/rules", { method: "POST", body: { id: "bad", scope: { offer_kind: "hosting" }, version: { reason: "try", body } } });
      const problem = await json<{ code: string; errors: { code: string; path: string }[] }>(res, 422);
      expect(problem.code).toBe("invalid_rule");
      expect(problem.errors[0]?.code, JSON.stringify(problem)).toBe(code);
      expect(problem.errors[0]?.path.startsWith(path), JSON.stringify(problem)).toBe(true);
    }
    expect((await api("/rules/bad")).status).toBe(404);
  });

  it("rejects a contributors line for an offer with no contributors and no fallback, and accepts it with a fallback", async () => {
    // The API itself refuses such an offer while the default rule pays `contributors`
    // without a fallback (see api-catalog); this one predates that rule.
    await insertOffer({ id: "lonely", kind: "hosting", name: "Nobody yet" });
    const res = await api("/rules", { method: "POST", body: { id: "lonely-split", scope: { offer_id: "lonely" }, version: { reason: "x", body: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "contributors", share: "remaining" }] } } } });
    expect((await json<{ errors: { code: string }[] }>(res, 422)).errors[0]?.code).toBe("empty_contributor_pool");
    const withFallback = await api("/rules", { method: "POST", body: { id: "lonely-split", scope: { offer_id: "lonely" }, version: { reason: "x", body: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "contributors", share: "remaining", fallback: "reserve" }] } } } });
    expect(withFallback.status).toBe(201);
  });

  it("takes an effective_from up to a minute in the past as now (clocks differ), and refuses one further back with 400", async () => {
    const at = (msAgo: number) => new Date(Date.parse(NOW) - msAgo).toISOString();
    const skewed = await json<RuleView>(await api("/rules", { method: "POST", body: { id: "skewed", scope: { offer_kind: "hosting" }, version: { effective_from: at(60_000), reason: "x", body: TEN_FIFTEEN_REST } } }), 201);
    expect(skewed.latest.effective_from).toBe(NOW_ROUNDED_UP);
    const late = await api("/rules", { method: "POST", body: { id: "late", scope: { offer_kind: "training" }, version: { effective_from: at(60_001), reason: "x", body: TEN_FIFTEEN_REST } } });
    expect((await json<{ errors: { path: string }[] }>(late, 400)).errors[0]?.path).toBe("version.effective_from");
  });

  it("refuses an effective_from years in the past with 400 naming the field", async () => {
    const res = await api("/rules", { method: "POST", body: { id: "retro", scope: { offer_kind: "hosting" }, version: { effective_from: "2020-01-01T00:00:00Z", reason: "x", body: TEN_FIFTEEN_REST } } });
    expect((await json<{ errors: { path: string }[] }>(res, 400)).errors[0]?.path).toBe("version.effective_from");
  });

  it("refuses a second rule for a scope (409), an unknown offer scope (400) and a malformed scope (400)", async () => {
    await createTrainingRule();
    expect((await api("/rules", { method: "POST", body: { id: "other", scope: { offer_kind: "training" }, version: { reason: "x", body: TEN_FIFTEEN_REST } } })).status).toBe(409);
    expect((await api("/rules", { method: "POST", body: { id: "other", scope: { offer_id: "nope" }, version: { reason: "x", body: TEN_FIFTEEN_REST } } })).status).toBe(400);
    expect((await api("/rules", { method: "POST", body: { id: "other", scope: { everything: true }, version: { reason: "x", body: TEN_FIFTEEN_REST } } })).status).toBe(400);
    expect((await api("/rules/other")).status).toBe(404);
  });
});

describe("POST /api/v1/rules/{id}/versions", () => {
  it("needs If-Match (428) and refuses a stale one (412)", async () => {
    const created = await createTrainingRule();
    const body = { reason: "r", body: TEN_FIFTEEN_REST };
    expect((await api("/rules/training-split/versions", { method: "POST", body })).status).toBe(428);
    expect((await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": created.etag }, body })).status).toBe(201);
    const stale = await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": created.etag }, body });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({ code: "precondition_failed" });
  });

  it("accepts If-Match as a list or *, and refuses a weak tag", async () => {
    const created = await createTrainingRule();
    const body = { reason: "r", body: TEN_FIFTEEN_REST };
    const listed = await json<RuleView>(await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": `"v0-other", ${created.etag}` }, body }), 201);
    expect((await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": `W/${listed.etag}` }, body })).status).toBe(412);
    expect((await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": "*" }, body })).status).toBe(201);
  });

  it("answers 404 for a rule that does not exist", async () => {
    expect((await api("/rules/missing/versions", { method: "POST", headers: { "if-match": '"v1"' }, body: { reason: "r", body: TEN_FIFTEEN_REST } })).status).toBe(404);
  });
});

describe("GET /api/v1/rules/{id}/diff", () => {
  it("says what changed line by line, 404 for a version that does not exist, 400 for a malformed one", async () => {
    const created = await createTrainingRule();
    const v2 = { basis: "net", lines: [{ to: "commons", share: "12%" }, { to: "contributors", share: "remaining" }, { to: "reserve", share: "15%" }] };
    await json(await api("/rules/training-split/versions", { method: "POST", headers: { "if-match": created.etag }, body: { reason: "r", body: v2 } }), 201);
    const diff = await json<{ changes: { change: string; path: string; from?: unknown; to?: unknown }[] }>(await api("/rules/training-split/diff?from=1&to=2"), 200);
    expect(diff.changes).toEqual([
      { change: "changed", path: "lines[0] (commons).share", from: "10%", to: "12%" },
      { change: "moved", path: "lines[2] (reserve)", from: 1, to: 2 },
      { change: "moved", path: "lines[1] (contributors)", from: 2, to: 1 },
      { change: "changed", path: "lines[1] (contributors).share", from: "75%", to: "remaining" },
    ]);
    expect((await api("/rules/training-split/diff?from=1&to=9")).status).toBe(404);
    expect((await api("/rules/training-split/diff?from=x&to=2")).status).toBe(400);
  });
});

describe("POST /api/v1/rules/preview", () => {
  it("splits a zero-decimal currency and stores nothing", async () => {
    const res = await json<{ shares: { party_id: string; amount_minor: number }[] }>(
      await api("/rules/preview", { method: "POST", body: { rule: { basis: "gross", lines: [{ to: "commons", share: "1/3" }, { to: "reserve", share: "remaining" }] }, amount_minor: 100, currency: "jpy" } }),
      200,
    );
    expect(res.shares).toEqual([{ party_id: "commons", amount_minor: 33 }, { party_id: "reserve", amount_minor: 67 }]);
    expect(await env.DB.prepare("SELECT (SELECT count(*) FROM postings) AS postings, (SELECT count(*) FROM rule_versions) AS versions, (SELECT count(*) FROM audit_log) AS audit").first()).toEqual({ postings: 0, versions: 1, audit: 0 });
  });

  it("takes the fee off a net basis before splitting", async () => {
    const res = await json<{ basis_minor: number; shares: { party_id: string; amount_minor: number }[] }>(
      await api("/rules/preview", { method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor: 10000, fee_minor: 175, currency: "eur", offer_id: "training-intro" } }),
      200,
    );
    expect(res.basis_minor).toBe(9825);
    // 982.5 / 1473.75 / 7368.75: floors 982 / 1473 / 7368 leave 2 units, to reserve (.75) and contributors (.75);
    // 7369 split 2:1 is 4912.67 / 2456.33 → 4913 / 2456.
    expect(res.shares).toEqual([
      { party_id: "commons", amount_minor: 982 },
      { party_id: "reserve", amount_minor: 1474 },
      { party_id: "camille", amount_minor: 4913 },
      { party_id: "dominique", amount_minor: 2456 },
    ]);
  });

  it("says the rule in plain words for the scope it is given, in English and French", async () => {
    const res = await json<{ in_words: { en: { sentence: string; fee_policy: string }; fr: { sentence: string } } }>(
      await api("/rules/preview", { method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor: 10000, fee_minor: 175, currency: "eur", offer_id: "training-intro", scope: { offer_kind: "training" } } }),
      200,
    );
    expect(res.in_words.en.sentence).toBe("On every training, after Stripe's fee: 10% to the commons, 15% to the reserve, 75% to the training's facilitators and authors by weight.");
    expect(res.in_words.fr.sentence).toBe("Sur chaque formation, après les frais de Stripe\u00a0: 10\u202f% au commun, 15\u202f% à la réserve, 75\u202f% aux personnes qui animent et écrivent la formation, selon leur poids.");
    expect(res.in_words.en.fee_policy).toBe("When money goes back (a refund, a dispute), the fees Stripe keeps are borne by each party in proportion to its share.");
    const offer = await json<{ in_words: { en: { sentence: string } } }>(
      await api("/rules/preview", { method: "POST", body: { rule: { basis: "gross", lines: [{ to: "commons", share: "remaining" }] }, amount_minor: 100, currency: "eur", scope: { offer_id: "training-intro" } } }),
      200,
    );
    expect(offer.in_words.en.sentence).toBe("On every payment for “Training”, before Stripe's fee (the cooperative pays it): the rest to the commons.");
  });

  it("answers 422 when contributors are needed and no offer is named", async () => {
    const res = await api("/rules/preview", { method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor: 100, currency: "eur" } });
    expect(await json<{ code: string; errors: { code: string; path: string }[] }>(res, 422)).toMatchObject({ code: "invalid_rule", errors: [{ code: "empty_contributor_pool", path: "lines[2].to" }] });
  });

  it("answers 400 for a negative or fractional amount, and a fee above the amount", async () => {
    for (const amount_minor of [-1, 1.5, "100"]) {
      expect((await api("/rules/preview", { method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor, currency: "eur" } })).status).toBe(400);
    }
    expect((await api("/rules/preview", { method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor: 10, fee_minor: 11, currency: "eur" } })).status).toBe(400);
  });
});

describe("POST /api/v1/rules/{id}/what-if", () => {
  it("replays a proposal over the last payments of the rule's scope, each party's total now and under the proposal", async () => {
    await paid("price_training_intro", 10000, NOW_S);
    const proposal = { basis: "net", lines: [{ to: "commons", share: "20%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] };
    const res = await json(await api("/rules/default/what-if", { method: "POST", body: { body: proposal, last: 1 } }), 200);
    // Now: 1000 / 1500 / 7500 (5000 : 2500). Proposed: 2000 / 1500 / 6500, and 6500 by 2:1 is
    // 4333.33 / 2166.67 → 4333 / 2167.
    expect(res).toMatchObject({
      payments: 1,
      current_version: 1,
      totals: [
        { party_id: "camille", currency: "eur", now_minor: 5000, proposed_minor: 4333, delta_minor: -667 },
        { party_id: "commons", currency: "eur", now_minor: 1000, proposed_minor: 2000, delta_minor: 1000 },
        { party_id: "dominique", currency: "eur", now_minor: 2500, proposed_minor: 2167, delta_minor: -333 },
        { party_id: "reserve", currency: "eur", now_minor: 1500, proposed_minor: 1500, delta_minor: 0 },
      ],
    });
  });
});

describe("what-if and preview", () => {
  it("are open to viewers, since they store nothing", async () => {
    const viewer = await viewerToken();
    expect((await api("/rules/preview", { token: viewer, method: "POST", body: { rule: TEN_FIFTEEN_REST, amount_minor: 100, currency: "eur", offer_id: "training-intro" } })).status).toBe(200);
    expect((await api("/rules/default/what-if", { token: viewer, method: "POST", body: { body: TEN_FIFTEEN_REST, last: 5 } })).status).toBe(200);
  });

  it("a default rule's what-if leaves out the payments a more specific rule split; that rule's what-if takes the default's payments of its scope", async () => {
    const before = await paid("price_training_intro", 10000, NOW_S - 3600); // default@1: no training rule yet
    await createTrainingRule("training-split", { basis: "net", lines: [{ to: "commons", share: "30%" }, { to: "contributors", share: "remaining" }] });
    advanceClock(60_000);
    const after = await paid("price_training_intro", 20000, NOW_S + 60); // training-split@1
    const hosting = await paid("price_hosting_basic", 30000, NOW_S + 60); // default@1: not a training
    expect([before, after, hosting].map((p) => p.rule_version)).toEqual(["default@1", "training-split@1", "default@1"]);

    const proposal = { basis: "net", lines: [{ to: "commons", share: "20%" }, { to: "contributors", share: "remaining" }] };
    const onDefault = await json(await api("/rules/default/what-if", { method: "POST", body: { body: proposal, last: 500 } }), 200);
    // The 10000 training and the 30000 hosting. Now (10/15/rest): commons 1000 + 3000, reserve 1500 + 4500,
    // camille 5000, dominique 2500, sacha 22500. Proposed: commons 2000 + 6000; 8000 by 2:1 → 5333 / 2667; sacha 24000.
    expect(onDefault).toMatchObject({
      payments: 2,
      totals: [
        { party_id: "camille", now_minor: 5000, proposed_minor: 5333, delta_minor: 333 },
        { party_id: "commons", now_minor: 4000, proposed_minor: 8000, delta_minor: 4000 },
        { party_id: "dominique", now_minor: 2500, proposed_minor: 2667, delta_minor: 167 },
        { party_id: "reserve", now_minor: 6000, proposed_minor: 0, delta_minor: -6000 },
        { party_id: "sacha", now_minor: 22500, proposed_minor: 24000, delta_minor: 1500 },
      ],
    });
    const onTraining = await json(await api("/rules/training-split/what-if", { method: "POST", body: { body: proposal, last: 500 } }), 200);
    // The 10000 and the 20000 training, now under training-split (30/rest): commons 3000 + 6000;
    // 7000 → 4667 / 2333 and 14000 → 9333 / 4667. Proposed (20/rest): 2000 + 4000; 8000 → 5333 / 2667, 16000 → 10667 / 5333.
    expect(onTraining).toMatchObject({
      payments: 2,
      totals: [
        { party_id: "camille", now_minor: 14000, proposed_minor: 16000, delta_minor: 2000 },
        { party_id: "commons", now_minor: 9000, proposed_minor: 6000, delta_minor: -3000 },
        { party_id: "dominique", now_minor: 7000, proposed_minor: 8000, delta_minor: 1000 },
      ],
    });
  });
});

describe("a new version is never retroactive", () => {
  it("a payment made before a version change, processed after it, is split by the version in force when it was paid", async () => {
    const paidAnHourAgo = buildTrainingPayment({ amount_minor: 10000, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: NOW_S - 3600 });
    await putStripeObjects(paidAnHourAgo);

    const etag = (await api("/rules/default")).headers.get("etag") ?? "";
    const v2 = { basis: "net", lines: [{ to: "commons", share: "50%" }, { to: "reserve", share: "remaining" }] };
    await json(await api("/rules/default/versions", { method: "POST", headers: { "if-match": etag }, body: { reason: "Half to the commons", body: v2 } }), 201);
    advanceClock(60_000);

    await deliverAndSettle(paidAnHourAgo.event);
    const old = await json<PaymentView>(await api(`/payments/${paidAnHourAgo.payment_intent.id}`), 200);
    expect(old.rule_version).toBe("default@1");
    expect(byParty(old)).toEqual({ commons: 1000, reserve: 1500, camille: 5000, dominique: 2500 });

    const fresh = await paid("price_training_intro", 10000, NOW_S + 60);
    expect(fresh.rule_version).toBe("default@2");
    expect(byParty(fresh)).toEqual({ commons: 5000, reserve: 5000 });
  });

  it("an offer's rule beats a newer offer-kind rule, which beats a newer default version", async () => {
    const offerRule = { basis: "net", lines: [{ to: "commons", share: "40%" }, { to: "contributors", share: "remaining" }] };
    await json(await api("/rules", { method: "POST", body: { id: "intro-split", scope: { offer_id: "training-intro" }, version: { reason: "offer", body: offerRule } } }), 201);
    await createTrainingRule("training-split", { basis: "net", lines: [{ to: "commons", share: "30%" }, { to: "contributors", share: "remaining" }] });
    const etag = (await api("/rules/default")).headers.get("etag") ?? "";
    await json(await api("/rules/default/versions", { method: "POST", headers: { "if-match": etag }, body: { reason: "newest", body: TEN_FIFTEEN_REST } }), 201);
    advanceClock(60_000);

    const training = await paid("price_training_intro", 10000, NOW_S + 60);
    expect(training.rule_version).toBe("intro-split@1");
    expect(byParty(training)).toEqual({ commons: 4000, camille: 4000, dominique: 2000 });
    const hosting = await paid("price_hosting_basic", 10000, NOW_S + 60);
    expect(hosting.rule_version).toBe("default@2");
    expect(byParty(hosting)).toEqual({ commons: 1000, reserve: 1500, sacha: 7500 });
  });

  it("an offer-kind rule in force splits that kind's payments; the other kind's stay with the default rule", async () => {
    await createTrainingRule("training-split", { basis: "net", lines: [{ to: "commons", share: "30%" }, { to: "contributors", share: "remaining" }] });
    advanceClock(60_000);
    const training = await paid("price_training_intro", 10000, NOW_S + 60);
    expect(training.rule_version).toBe("training-split@1");
    expect(byParty(training)).toEqual({ commons: 3000, camille: 4667, dominique: 2333 });
    expect((await paid("price_hosting_basic", 10000, NOW_S + 60)).rule_version).toBe("default@1");
  });
});
