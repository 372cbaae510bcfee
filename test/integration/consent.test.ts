// Rules changed by consent, through the API and the proposals' workflows. The clock is frozen
// (helpers.ts setClock): a proposal's workflow sleeps its notice (PT1S here) in real time, then
// decides by the frozen clock, so a test acts within the notice for as long as it likes and ends
// the notice by moving the clock; the workflow looks again until it has.
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrainingPayment } from "../../infra/stripe-emulator/objects";
import { settleProposal, sweepConsent } from "../../workflows/consent";
import { allComplete, advanceClock, api, call, deliverAndSettle, putStripeObjects, seedCatalog, setClock } from "./helpers";

const NOW = "2031-03-12T09:00:00.250Z";
const NOW_MS = Date.parse(NOW);
const NOW_S = Math.floor(NOW_MS / 1000);

/** The reserve's share from 15% to 20%, taken from the contributors: the change the issue follows. */
const RESERVE_20 = { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "20%" }, { to: "contributors", share: "remaining" }] };
/** The amendment: the reserve's 3 more points come from the commons, the contributors keep theirs. */
const RESERVE_18_FROM_COMMONS = { basis: "net", lines: [{ to: "commons", share: "7%" }, { to: "reserve", share: "18%" }, { to: "contributors", share: "remaining" }] };

interface Proposal {
  id: string;
  rule_id: string;
  thread_id: string;
  amends: string | null;
  amended_by: string | null;
  status: string;
  notice: string;
  notice_ends: string;
  effective_from: string | null;
  activated_version: number | null;
  held_at: string | null;
  base_version: number;
  affected: { party_id: string; currency: string; now_minor: number; proposed_minor: number; delta_minor: number }[];
  affected_count: number;
  replayed: { since: string; payments: number; complete: boolean };
  approvals: { required: number; given: { by: string; at: string }[] };
  objections: { id: string; party_id: string; reason: string; raised_by: string; standing: boolean; lifted_by: string | null }[];
  in_words: string[];
  current_in_words: string[];
  changes: { change: string; path: string; from?: unknown; to?: unknown }[];
  thread?: { at: string; kind: string; proposal_id: string; actor: string; party_id?: string; objection_id?: string; reason?: string; version?: number }[];
}

async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

/** A paid checkout of `amount_minor` eur, no fee, for the training, paid at `created_s`, split. */
async function paid(amount_minor: number, created_s: number): Promise<{ id: string; rule_version: string; shares: { party_id: string; amount_minor: number }[] }> {
  const built = buildTrainingPayment({ amount_minor, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: created_s });
  await putStripeObjects(built);
  await deliverAndSettle(built.event);
  return json(await api(`/payments/${built.payment_intent.id}`), 200);
}

async function token(role: "admin" | "viewer" | "party", name: string, party_id?: string): Promise<{ id: string; token: string }> {
  return json(await api("/tokens", { method: "POST", body: { name, role, ...(party_id ? { party_id } : {}) } }), 201);
}

async function propose(body: unknown, opts: { token?: string; reason?: string; effective_from?: string; rule?: string } = {}): Promise<Proposal> {
  return json<Proposal>(await api(`/rules/${opts.rule ?? "default"}/proposals`, { method: "POST", token: opts.token, body: { body, reason: opts.reason ?? "More for the reserve", ...(opts.effective_from ? { effective_from: opts.effective_from } : {}) } }), 201);
}

const read = async (id: string, tokenValue?: string) => json<Proposal>(await api(`/proposals/${id}`, { token: tokenValue }), 200);

/** The audit log's proposal entries, newest first: [action, proposal id, actor]. */
async function proposalAudit(): Promise<[string, string, string][]> {
  const audit = await json<{ entries: { action: string; entity_type: string; entity_id: string; actor: string }[] }>(await api("/audit?limit=100"), 200);
  return audit.entries.filter((e) => e.entity_type === "proposal").map((e) => [e.action, e.entity_id, e.actor]);
}

beforeEach(async () => {
  setClock(NOW);
  await seedCatalog();
  // One training paid an hour ago under default@1 (10/15/rest on net, camille 2 : dominique 1):
  // commons 1000, reserve 1500, camille 5000, dominique 2500.
  await paid(10_000, NOW_S - 3600);
  await json(await api("/rules/default", { method: "PATCH", body: { governance: { notice: "PT1S" } } }), 200);
});

describe("a proposal that passes", () => {
  it("is open for its notice with who it affects, then becomes the rule's next version by itself, recorded with its thread", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const proposal = await propose(RESERVE_20, { reason: "Four eyes on the reserve: it must reach six months of costs" });
    // 20% to the reserve on the 10000: reserve 2000 (+500); contributors 7000 → camille 4667 (−333), dominique 2333 (−167); the commons keep 1000.
    expect(proposal).toMatchObject({
      rule_id: "default",
      thread_id: proposal.id,
      amends: null,
      status: "open",
      notice: "PT1S",
      notice_ends: "2031-03-12T09:00:01.250Z",
      effective_from: null,
      base_version: 1,
      affected_count: 3,
      approvals: { required: 0, given: [] },
      objections: [],
      replayed: { since: new Date(NOW_MS - 90 * 86_400_000).toISOString(), payments: 1, complete: true },
    });
    expect(proposal.affected).toEqual([
      { party_id: "camille", currency: "eur", now_minor: 5000, proposed_minor: 4667, delta_minor: -333 },
      { party_id: "dominique", currency: "eur", now_minor: 2500, proposed_minor: 2333, delta_minor: -167 },
      { party_id: "reserve", currency: "eur", now_minor: 1500, proposed_minor: 2000, delta_minor: 500 },
    ]);
    expect(proposal.in_words).toEqual([
      "Splits the net amount: what the customer paid, less tax, shipping and Stripe's fee.",
      "10% to commons.",
      "20% to reserve.",
      "What is left to the offer's contributors, by weight.",
      "Rounding: each part to the cent, the cents left over to the parts that lost most (largest remainder).",
      "When money goes back, the fees Stripe keeps are borne by the parties, in proportion to their shares.",
      "Shares are held for the deployment's usual hold before they can be paid out.",
    ]);
    expect(proposal.current_in_words[2]).toBe("15% to reserve.");
    expect(proposal.changes).toEqual([{ change: "changed", path: "lines[1] (reserve).share", from: "15%", to: "20%" }]);

    advanceClock(2_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "activated", version: 2, effective_from_ms: Date.parse("2031-03-12T09:00:03.000Z") }]);

    const passed = await read(proposal.id);
    expect(passed).toMatchObject({ status: "activated", activated_version: 2 });
    expect(passed.thread?.map((e) => [e.kind, e.actor, e.version ?? null])).toEqual([
      ["proposed", "bootstrap", null],
      ["activated", "consent", 2],
    ]);
    const rule = await json<{ versions: { version: number; effective_from: string; proposal_id: string | null; author: string; reason: string; body: unknown }[] }>(await api("/rules/default"), 200);
    expect(rule.versions.map((v) => [v.version, v.effective_from, v.proposal_id, v.author])).toEqual([
      [1, "1970-01-01T00:00:00.000Z", null, "test"],
      [2, "2031-03-12T09:00:03.000Z", proposal.id, "bootstrap"],
    ]);
    expect(rule.versions[1]?.body).toEqual(RESERVE_20);

    const audit = await json<{ entries: { action: string; entity_type: string; entity_id: string; actor: string; after: { thread?: { kind: string }[]; proposal_id?: string } }[] }>(await api("/audit?limit=20"), 200);
    expect(audit.entries.map((e) => [e.action, e.entity_type, e.entity_id, e.actor])).toEqual([
      ["proposal.activate", "proposal", proposal.id, "consent"],
      ["rule.version", "rule", "default", "consent"],
      ["proposal.create", "proposal", proposal.id, "bootstrap"],
      ["rule.governance", "rule", "default", "bootstrap"],
    ]);
    expect(audit.entries[1]?.after.proposal_id).toBe(proposal.id);
    expect(audit.entries[1]?.after.thread?.map((e) => e.kind)).toEqual(["proposed"]);
  });

  it("settled twice (the workflow, the sweep), writes one version", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const proposal = await propose(RESERVE_20);
    advanceClock(2_000);
    await allComplete(workflows);
    expect(await settleProposal(env, proposal.id, Date.now())).toEqual({ outcome: "already_activated", version: 2 });
    // The minute sweep finds nothing due: the proposal is a version already.
    expect(await sweepConsent(env, Date.now())).toEqual({ settled: 0, deliveries: 0 });
    const versions = await env.DB.prepare("SELECT version, proposal_id FROM rule_versions WHERE rule_id = 'default' ORDER BY version").all();
    expect(versions.results).toEqual([{ version: 1, proposal_id: null }, { version: 2, proposal_id: proposal.id }]);
  });
});

describe("a proposal held by an objection", () => {
  it("objected to by a contributor it affects, held at its notice's end, amended, then passes; the thread keeps every step", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const camille = await token("party", "Camille's token", "camille");
    const first = await propose(RESERVE_20);

    const objected = await json<{ objection: { id: string; party_id: string; reason: string; standing: boolean }; proposal: Proposal }>(
      await api(`/proposals/${first.id}/objections`, { method: "POST", token: camille.token, body: { reason: "My share of a training drops by a fifteenth: take it from elsewhere" } }),
      201,
    );
    expect(objected.objection).toMatchObject({ party_id: "camille", reason: "My share of a training drops by a fifteenth: take it from elsewhere", standing: true });
    expect(objected.proposal.status).toBe("held");
    // A party reads its own amounts and the cooperative's accounts, not another contributor's.
    expect(objected.proposal.affected.map((a) => a.party_id)).toEqual(["camille", "reserve"]);
    expect(objected.proposal.affected_count).toBe(3);

    advanceClock(2_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "held", why: "objection_stands" }]);
    const held = await read(first.id);
    expect(held).toMatchObject({ status: "held", held_at: "2031-03-12T09:00:02.250Z" });
    expect((await json<{ versions: unknown[] }>(await api("/rules/default"), 200)).versions).toHaveLength(1);

    advanceClock(60_000);
    const amended = await json<Proposal>(await api(`/proposals/${first.id}/amendments`, { method: "POST", body: { body: RESERVE_18_FROM_COMMONS, reason: "The reserve's points come from the commons" } }), 201);
    expect(amended).toMatchObject({ thread_id: first.id, amends: first.id, status: "open", notice_ends: "2031-03-12T09:01:03.250Z" });
    expect(amended.affected).toEqual([
      { party_id: "commons", currency: "eur", now_minor: 1000, proposed_minor: 700, delta_minor: -300 },
      { party_id: "reserve", currency: "eur", now_minor: 1500, proposed_minor: 1800, delta_minor: 300 },
    ]);
    expect(await read(first.id)).toMatchObject({ status: "amended", amended_by: amended.id });
    // Camille's objection stays on the proposal it was raised against; the amendment no longer affects her.
    const refused = await api(`/proposals/${amended.id}/objections`, { method: "POST", token: camille.token, body: { reason: "Still against" } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe("not_affected");

    advanceClock(2_000);
    const outputs = await allComplete(workflows);
    expect(outputs).toContainEqual({ outcome: "activated", version: 2, effective_from_ms: Date.parse("2031-03-12T09:01:05.000Z") });
    const passed = await read(amended.id, camille.token);
    expect(passed.status).toBe("activated");
    expect(passed.thread?.map((e) => [e.kind, e.proposal_id, e.party_id ?? null])).toEqual([
      ["proposed", first.id, null],
      ["objected", first.id, "camille"],
      ["held", first.id, null],
      ["amended", amended.id, null],
      ["activated", amended.id, null],
    ]);
    const rule = await json<{ versions: { version: number; body: unknown; proposal_id: string | null }[] }>(await api("/rules/default"), 200);
    expect(rule.versions.at(-1)).toMatchObject({ version: 2, body: RESERVE_18_FROM_COMMONS, proposal_id: amended.id });
    // Every step is in the audit log, by whoever took it.
    expect(await proposalAudit()).toEqual([
      ["proposal.activate", amended.id, "consent"],
      ["proposal.create", amended.id, "bootstrap"],
      ["proposal.amend", first.id, "bootstrap"],
      ["proposal.object", first.id, `token:${camille.id}`],
      ["proposal.create", first.id, "bootstrap"],
    ]);
  });

  it("becomes a version at once when the objection is lifted after the notice, by the objector", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const camille = await token("party", "Camille's token", "camille");
    const dominique = await token("party", "Dominique's token", "dominique");
    const proposal = await propose(RESERVE_20);
    const { objection } = await json<{ objection: { id: string } }>(await api(`/proposals/${proposal.id}/objections`, { method: "POST", token: camille.token, body: { reason: "Not before the next assembly" } }), 201);
    advanceClock(2_000);
    await allComplete(workflows);

    // Only the objector (or an admin) lifts it.
    const notHers = await api(`/proposals/${proposal.id}/objections/${objection.id}`, { method: "DELETE", token: dominique.token });
    expect(notHers.status).toBe(403);
    advanceClock(3_600_000);
    const lifted = await json<Proposal>(await api(`/proposals/${proposal.id}/objections/${objection.id}`, { method: "DELETE", token: camille.token }), 200);
    expect(lifted).toMatchObject({ status: "activated", activated_version: 2 });
    expect(lifted.objections).toMatchObject([{ id: objection.id, standing: false, lifted_by: `token:${camille.id}` }]);
    const rule = await json<{ versions: { version: number; effective_from: string }[] }>(await api("/rules/default"), 200);
    // In force from the moment it was lifted (rounded up to the second), never from the notice's end.
    expect(rule.versions.at(-1)).toMatchObject({ version: 2, effective_from: "2031-03-12T10:00:03.000Z" });
    const again = await api(`/proposals/${proposal.id}/objections/${objection.id}`, { method: "DELETE", token: camille.token });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("proposal_closed");
  });

  it("takes an admin's objection on behalf of an affected party, and refuses one without a party, or for a party it does not affect", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const proposal = await propose(RESERVE_20);
    const noParty = await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "x" } });
    expect(noParty.status).toBe(400);
    const sacha = await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "x", party_id: "sacha" } });
    expect(sacha.status).toBe(403);
    expect(((await sacha.json()) as { code: string; detail: string }).code).toBe("not_affected");
    const noReason = await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "  ", party_id: "dominique" } });
    expect(noReason.status).toBe(400);
    const onBehalf = await json<{ objection: { party_id: string; raised_by: string } }>(await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "Dominique asked me, by phone", party_id: "dominique" } }), 201);
    expect(onBehalf.objection).toMatchObject({ party_id: "dominique", raised_by: "bootstrap" });
    const twice = await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "again", party_id: "dominique" } });
    expect(twice.status).toBe(409);
    const camille = await token("party", "Camille's token", "camille");
    const forAnother = await api(`/proposals/${proposal.id}/objections`, { method: "POST", token: camille.token, body: { reason: "for Dominique", party_id: "dominique" } });
    expect(forAnother.status).toBe(403);
    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    advanceClock(2_000);
    await allComplete(workflows);
  });
});

describe("a proposal withdrawn", () => {
  it("is closed with its reason, takes nothing more, and never becomes a version; the rule is free for the next proposal", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const proposal = await propose(RESERVE_20);
    const pending = await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_18_FROM_COMMONS, reason: "another" } });
    expect(pending.status).toBe(409);
    expect(((await pending.json()) as { code: string }).code).toBe("proposal_pending");
    const etag = (await api("/rules/default")).headers.get("etag") ?? "";
    const direct = await api("/rules/default/versions", { method: "POST", headers: { "if-match": etag }, body: { reason: "around the proposal", body: RESERVE_18_FROM_COMMONS } });
    expect(direct.status).toBe(409);
    expect(((await direct.json()) as { code: string }).code).toBe("proposal_pending");

    const withdrawn = await json<Proposal>(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: { reason: "We will talk about it at the assembly" } }), 200);
    expect(withdrawn.status).toBe("withdrawn");
    expect(withdrawn.thread?.map((e) => [e.kind, e.reason ?? null])).toEqual([
      ["proposed", "More for the reserve"],
      ["withdrawn", "We will talk about it at the assembly"],
    ]);
    for (const [path, body] of [
      [`/proposals/${proposal.id}/objections`, { reason: "late", party_id: "camille" }],
      [`/proposals/${proposal.id}/approvals`, undefined],
      [`/proposals/${proposal.id}/amendments`, { body: RESERVE_18_FROM_COMMONS, reason: "late" }],
      [`/proposals/${proposal.id}/withdrawal`, {}],
    ] as const) {
      const res = await api(path, { method: "POST", body });
      expect(res.status, path).toBe(409);
      expect(((await res.json()) as { code: string }).code, path).toBe("proposal_closed");
    }
    advanceClock(2_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "closed", status: "withdrawn" }]);
    expect((await json<{ versions: unknown[] }>(await api("/rules/default"), 200)).versions).toHaveLength(1);
    expect((await api("/rules/default/proposals", { method: "POST", body: { body: RESERVE_18_FROM_COMMONS, reason: "next" } })).status).toBe(201);
    advanceClock(2_000);
    await allComplete(workflows);
    expect((await proposalAudit()).filter(([, id]) => id === proposal.id)).toEqual([
      ["proposal.withdraw", proposal.id, "bootstrap"],
      ["proposal.create", proposal.id, "bootstrap"],
    ]);
  });
});

describe("approvals", () => {
  it("a rule that asks for one approval waits for another admin's; its proposer's own approval is refused", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    await json(await api("/rules/default", { method: "PATCH", body: { governance: { approvals: 1 } } }), 200);
    const alice = await token("admin", "Alice, treasurer");
    const viewer = await token("viewer", "Observer");
    const proposal = await propose(RESERVE_20, { token: alice.token });
    expect(proposal.approvals).toEqual({ required: 1, given: [] });

    advanceClock(2_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "held", why: "approvals_missing" }]);
    expect((await read(proposal.id)).status).toBe("awaiting_approvals");

    const own = await api(`/proposals/${proposal.id}/approvals`, { method: "POST", token: alice.token });
    expect(own.status).toBe(403);
    expect(await own.json()).toMatchObject({ code: "self_approval", detail: `token:${alice.id} proposed this proposal: nobody approves their own proposal; another admin must` });
    expect((await api(`/proposals/${proposal.id}/approvals`, { method: "POST", token: viewer.token })).status).toBe(403);

    advanceClock(60_000);
    const approved = await json<Proposal>(await api(`/proposals/${proposal.id}/approvals`, { method: "POST" }), 201);
    expect(approved).toMatchObject({ status: "activated", activated_version: 2, approvals: { required: 1, given: [{ by: "bootstrap", at: "2031-03-12T09:01:02.250Z" }] } });
    expect(approved.thread?.map((e) => e.kind)).toEqual(["proposed", "held", "approved", "activated"]);
  });

  it("an approval given during the notice counts at its end; nobody approves a thread they proposed in, nor twice", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    await json(await api("/rules/default", { method: "PATCH", body: { governance: { approvals: 1 } } }), 200);
    const alice = await token("admin", "Alice");
    const bob = await token("admin", "Bob");
    const first = await propose(RESERVE_20, { token: alice.token });
    const amended = await json<Proposal>(await api(`/proposals/${first.id}/amendments`, { method: "POST", token: bob.token, body: { body: RESERVE_18_FROM_COMMONS, reason: "from the commons" } }), 201);
    // Alice proposed the thread, Bob its amendment: neither approves it.
    for (const who of [alice, bob]) {
      const res = await api(`/proposals/${amended.id}/approvals`, { method: "POST", token: who.token });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("self_approval");
    }
    expect((await json<Proposal>(await api(`/proposals/${amended.id}/approvals`, { method: "POST" }), 201)).status).toBe("open");
    const twice = await api(`/proposals/${amended.id}/approvals`, { method: "POST" });
    expect(twice.status).toBe(409);
    advanceClock(2_000);
    expect(await allComplete(workflows)).toContainEqual({ outcome: "activated", version: 2, effective_from_ms: Date.parse("2031-03-12T09:00:03.000Z") });
  });
});

describe("a proposal that affects nobody", () => {
  it("changes no share over the last 90 days: nobody is affected, nobody may object, and it passes", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const longerHold = { ...RESERVE_20, lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }], hold_days: 30 };
    const proposal = await propose(longerHold, { reason: "Hold shares 30 days: disputes come late" });
    expect(proposal).toMatchObject({ affected: [], affected_count: 0, replayed: { payments: 1, complete: true } });
    expect(proposal.changes).toEqual([{ change: "changed", path: "hold_days", from: null, to: 30 }]);
    expect(proposal.in_words.at(-1)).toBe("Shares are held 30 days before they can be paid out.");
    const camille = await token("party", "Camille's token", "camille");
    for (const res of [
      await api(`/proposals/${proposal.id}/objections`, { method: "POST", token: camille.token, body: { reason: "I want my money sooner" } }),
      await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "on her behalf", party_id: "camille" } }),
    ]) {
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("not_affected");
    }
    advanceClock(2_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "activated", version: 2, effective_from_ms: Date.parse("2031-03-12T09:00:03.000Z") }]);
  });
});

describe("nothing retroactive: the notice period crossing payments", () => {
  it("a payment made during the notice, or after it but before the proposal became a version, is split by the version in force when it was paid, however late it is processed", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const halfHalf = { basis: "net", lines: [{ to: "commons", share: "50%" }, { to: "reserve", share: "remaining" }] };
    const proposal = await propose(halfHalf);
    const duringNotice = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: NOW_S });
    const afterNoticeBeforeVersion = buildTrainingPayment({ amount_minor: 10_000, currency: "eur", price_id: "price_training_intro", fee_minor: 0, created: NOW_S + 5 });
    await putStripeObjects(duringNotice);
    await putStripeObjects(afterNoticeBeforeVersion);

    // The notice ended at 09:00:01.250; the workflow makes it a version at 09:00:05.250, in force from 09:00:06.
    advanceClock(5_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "activated", version: 2, effective_from_ms: Date.parse("2031-03-12T09:00:06.000Z") }]);
    expect((await read(proposal.id)).status).toBe("activated");

    advanceClock(3_600_000);
    for (const late of [duringNotice, afterNoticeBeforeVersion]) {
      await deliverAndSettle(late.event);
      const payment = await json<{ rule_version: string; shares: { party_id: string; amount_minor: number }[] }>(await api(`/payments/${late.payment_intent.id}`), 200);
      expect(payment.rule_version).toBe("default@1");
      expect(Object.fromEntries(payment.shares.map((s) => [s.party_id, s.amount_minor]))).toEqual({ commons: 1000, reserve: 1500, camille: 5000, dominique: 2500 });
    }
    const fromTheVersion = await paid(10_000, NOW_S + 6);
    expect(fromTheVersion.rule_version).toBe("default@2");
    expect(Object.fromEntries(fromTheVersion.shares.map((s) => [s.party_id, s.amount_minor]))).toEqual({ commons: 5000, reserve: 5000 });
  });

  it("a proposal asked to take effect later becomes a scheduled version when it passes: payments before that date keep the old one", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const halfHalf = { basis: "net", lines: [{ to: "commons", share: "50%" }, { to: "reserve", share: "remaining" }] };
    const tooEarly = await api("/rules/default/proposals", { method: "POST", body: { body: halfHalf, reason: "x", effective_from: "2031-03-12T09:00:01.000Z" } });
    expect(tooEarly.status).toBe(400);
    expect(((await tooEarly.json()) as { errors: { path: string; code: string }[] }).errors).toEqual([expect.objectContaining({ path: "effective_from", code: "before_notice_ends" })]);
    const proposal = await propose(halfHalf, { effective_from: "2031-03-13T00:00:00Z" });
    expect(proposal.effective_from).toBe("2031-03-13T00:00:00.000Z");
    advanceClock(2_000);
    expect(await allComplete(workflows)).toEqual([{ outcome: "activated", version: 2, effective_from_ms: Date.parse("2031-03-13T00:00:00.000Z") }]);
    const rule = await json<{ current: { version: number }; versions: { version: number; status: string }[] }>(await api("/rules/default"), 200);
    expect(rule.current.version).toBe(1);
    expect(rule.versions.map((v) => [v.version, v.status])).toEqual([[1, "in_force"], [2, "scheduled"]]);
    expect((await paid(10_000, Date.parse("2031-03-12T23:59:59Z") / 1000)).rule_version).toBe("default@1");
    expect((await paid(10_000, Date.parse("2031-03-13T00:00:00Z") / 1000)).rule_version).toBe("default@2");
  });
});

describe("governance", () => {
  it("is P7D and no approval by default, set when a rule is made or by PATCH, and a notice that is not an ISO 8601 duration of weeks to seconds is a 400", async () => {
    const made = await json<{ governance: unknown }>(await api("/rules", { method: "POST", body: { id: "training-split", scope: { offer_kind: "training" }, version: { reason: "r", body: RESERVE_20 } } }), 201);
    expect(made.governance).toEqual({ notice: "P7D", approvals: 0 });
    const fast = await json<{ governance: unknown }>(await api("/rules", { method: "POST", body: { id: "hosting-split", scope: { offer_kind: "hosting" }, governance: { notice: "PT3S", approvals: 2 }, version: { reason: "r", body: RESERVE_20 } } }), 201);
    expect(fast.governance).toEqual({ notice: "PT3S", approvals: 2 });
    const patched = await json<{ governance: unknown }>(await api("/rules/training-split", { method: "PATCH", body: { governance: { notice: "P2W" } } }), 200);
    expect(patched.governance).toEqual({ notice: "P2W", approvals: 0 });
    for (const [notice, code] of [["P1M", "bad_duration"], ["7 days", "bad_duration"], ["P", "bad_duration"], ["PT", "bad_duration"], ["p7d", "bad_duration"], ["P1.5D", "bad_duration"], ["PT0S", "duration_out_of_range"], ["P366D", "duration_out_of_range"]] as const) {
      const res = await api("/rules/training-split", { method: "PATCH", body: { governance: { notice } } });
      expect(res.status, notice).toBe(400);
      expect(((await res.json()) as { code: string; errors: { path: string; code: string }[] }).errors, notice).toEqual([expect.objectContaining({ path: "governance.notice", code })]);
    }
    expect((await api("/rules/training-split", { method: "PATCH", body: { governance: { approvals: -1 } } })).status).toBe(400);
    expect((await api("/rules/training-split", { method: "PATCH", body: { governance: { notice: "P7D", quorum: 3 } } })).status).toBe(400);
    expect((await api("/rules/nope", { method: "PATCH", body: { governance: { notice: "P7D" } } })).status).toBe(404);
    const viewer = await token("viewer", "Observer");
    expect((await api("/rules/training-split", { method: "PATCH", token: viewer.token, body: { governance: { notice: "PT1S" } } })).status).toBe(403);
  });

  it("refuses a proposal for an unknown rule (404), that cannot be applied (422), or that changes nothing (409)", async () => {
    expect((await api("/rules/nope/proposals", { method: "POST", body: { body: RESERVE_20, reason: "x" } })).status).toBe(404);
    const bad = await api("/rules/default/proposals", { method: "POST", body: { body: { basis: "net", lines: [{ to: "ghost", share: "remaining" }] }, reason: "x" } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { code: string }).code).toBe("invalid_rule");
    const same = await api("/rules/default/proposals", { method: "POST", body: { body: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] }, reason: "x" } });
    expect(same.status).toBe(409);
    expect((await api("/proposals/prop_0123456789abcdef")).status).toBe(404);
    expect((await api("/proposals/not-an-id")).status).toBe(400);
  });
});

describe("who may do what", () => {
  it("a party token reads proposals and objects for itself; it proposes, amends, approves and withdraws nothing", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const camille = await token("party", "Camille's token", "camille");
    const proposal = await propose(RESERVE_20);
    expect((await json<{ proposals: Proposal[] }>(await api("/proposals?status=open", { token: camille.token }), 200)).proposals.map((p) => p.id)).toEqual([proposal.id]);
    for (const [method, path, body] of [
      ["POST", "/rules/default/proposals", { body: RESERVE_20, reason: "x" }],
      ["POST", `/proposals/${proposal.id}/amendments`, { body: RESERVE_18_FROM_COMMONS, reason: "x" }],
      ["POST", `/proposals/${proposal.id}/approvals`, {}],
      ["POST", `/proposals/${proposal.id}/withdrawal`, {}],
      ["PATCH", "/rules/default", { governance: { notice: "PT1S" } }],
      ["GET", "/webhook-endpoints", undefined],
    ] as const) {
      expect((await api(path, { method, token: camille.token, body })).status, `${method} ${path}`).toBe(403);
    }
    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    advanceClock(2_000);
    await allComplete(workflows);
  });
});

describe("GET /api/v1/public/proposals", () => {
  it("is read without a token: open proposals, where they stand, in plain words, with counts, and no contributor's amounts", async () => {
    await using workflows = await introspectWorkflow(env.PROPOSAL);
    const proposal = await propose(RESERVE_20);
    await json(await api(`/proposals/${proposal.id}/objections`, { method: "POST", body: { reason: "too fast", party_id: "camille" } }), 201);
    const res = await call("/api/v1/public/proposals");
    const listed = await json<{ proposals: Record<string, unknown>[] }>(res, 200);
    expect(listed.proposals).toHaveLength(1);
    expect(listed.proposals[0]).toMatchObject({
      id: proposal.id,
      rule_id: "default",
      status: "held",
      reason: "More for the reserve",
      notice_ends: "2031-03-12T09:00:01.250Z",
      approvals: { required: 0, given: 0 },
      objections: { standing: 1, lifted: 0 },
      affected_count: 3,
      affected: [{ party_id: "reserve", currency: "eur", now_minor: 1500, proposed_minor: 2000, delta_minor: 500 }],
      changes: [{ change: "changed", path: "lines[1] (reserve).share", from: "15%", to: "20%" }],
    });
    expect(listed.proposals[0]?.["steps"]).toEqual([
      { at: "2031-03-12T09:00:00.250Z", kind: "proposed", proposal_id: proposal.id },
      { at: "2031-03-12T09:00:00.250Z", kind: "objected", proposal_id: proposal.id },
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/camille|dominique|too fast/);
    expect((await call("/api/v1/public/proposals", { method: "POST" })).status).toBe(401);
    expect((await call("/api/v1/public/proposals?status=bogus")).status).toBe(400);
    await json(await api(`/proposals/${proposal.id}/withdrawal`, { method: "POST", body: {} }), 200);
    expect((await json<{ proposals: unknown[] }>(await call("/api/v1/public/proposals"), 200)).proposals).toEqual([]);
    expect((await json<{ proposals: { status: string }[] }>(await call("/api/v1/public/proposals?status=all"), 200)).proposals.map((p) => p.status)).toEqual(["withdrawn"]);
    advanceClock(2_000);
    await allComplete(workflows);
  });
});
