// Demo data for `npm start`: parties and offers written through the admin API, like an admin
// would, so the audit log shows them and nothing bypasses validation. Safe to run again: what
// exists is kept.
//
// Rules are the exception when `npm start` seeds a few months of demo payments: a payment is
// split by the rule version in force when it was paid, and the API refuses a version in the
// past (rightly). So the seed writes its own first rule versions into the local D1 with a past
// effective_from, audited as demo data by the actor `demo-seed`; the API still refuses a past
// date to everyone. Without that writer (the unit test), rules go through the API, in force now.
import { contentHash } from "../core";
import { monthStartMs, seedDemoPayments, type DemoTarget } from "./demo";
import { poll } from "./scripts/poll";

export const DEMO_RULE = {
  basis: "net",
  lines: [
    { to: "commons", share: "10%" },
    { to: "reserve", share: "15%" },
    { to: "contributors", share: "remaining" },
  ],
} as const;

// Camille and Dominique chose to be named on the public page; Sacha and Alix did not.
const parties = [
  { id: "commons", kind: "commons", name: "Le commun (logiciel libre et contenus CC-BY-SA)" },
  { id: "reserve", kind: "reserve", name: "Réserve impartageable" },
  { id: "camille", kind: "contributor", name: "Camille, facilitatrice", public: true },
  { id: "dominique", kind: "contributor", name: "Dominique, auteur", public: true },
  { id: "sacha", kind: "contributor", name: "Sacha, hébergement" },
  { id: "alix", kind: "contributor", name: "Alix, infogérance" },
];

const offers = [
  {
    id: "training-intro",
    kind: "training",
    name: "Formation : animer une communauté apprenante",
    stripe_price_ids: ["price_training_intro"],
    contributors: [
      { party_id: "camille", weight: 2, role: "facilitator" },
      { party_id: "dominique", weight: 1, role: "author" },
    ],
  },
  {
    id: "hosting-basic",
    kind: "hosting",
    name: "Hébergement : plateforme de formation",
    stripe_price_ids: ["price_hosting_basic"],
    contributors: [{ party_id: "sacha", weight: 1, role: "host" }],
  },
  {
    // A second plan, so that a subscriber moving from one to the other (prorations) can be tried:
    // npm run stripe:trigger -- hosting --price price_hosting_plus --upgrade-from hosting-basic
    id: "hosting-plus",
    kind: "hosting",
    name: "Hébergement : plateforme de formation, infogérée",
    stripe_price_ids: ["price_hosting_plus"],
    contributors: [{ party_id: "alix", weight: 1, role: "host" }],
  },
];

const rules = [{ id: "default", scope: { default: true }, version: { reason: "Demo seed: 10% commons, 15% reserve, the rest to the offer's contributors", body: DEMO_RULE } }];

/** The demo's rule history, written with past dates (see above): months before the current one. */
const DEMO_RULE_HISTORY = [
  {
    id: "default",
    scope: { default: true },
    versions: [
      { months_ago: 3, reason: "Demo data: the founding assembly's rule, 10% to the commons and 10% to the reserve", body: { basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "10%" }, { to: "contributors", share: "remaining" }] } },
      { months_ago: 1, reason: "Demo data: the assembly raised the reserve to 15%, for legal help and hard times", body: DEMO_RULE },
    ],
  },
  { id: "trainings", scope: { offer_kind: "training" }, versions: [{ months_ago: 3, reason: "Demo data: trainings have their own rule, so that it can change apart from hosting", body: DEMO_RULE }] },
] as const;

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The SQL that writes the demo's rule history, each version and its audit entry, as `demo-seed`. */
export async function demoRulesSql(nowMs: number): Promise<string> {
  const statements: string[] = [];
  for (const rule of DEMO_RULE_HISTORY) {
    const [kind, value] = "offer_kind" in rule.scope ? ["offer_kind", rule.scope.offer_kind] : ["default", ""];
    statements.push(`INSERT INTO rules (id, scope_kind, scope_value, created_at_ms) VALUES (${sqlText(rule.id)}, ${sqlText(kind)}, ${sqlText(value)}, ${nowMs});`);
    let before: unknown = null;
    for (const [i, v] of rule.versions.entries()) {
      const version = { version: i + 1, effective_from_ms: monthStartMs(nowMs, v.months_ago), body: v.body, content_hash: await contentHash(v.body), author: "demo-seed", reason: v.reason };
      statements.push(
        `INSERT INTO rule_versions (rule_id, version, effective_from_ms, body, content_hash, author, reason, created_at_ms) VALUES (${sqlText(rule.id)}, ${version.version}, ${version.effective_from_ms}, ${sqlText(JSON.stringify(v.body))}, ${sqlText(version.content_hash)}, 'demo-seed', ${sqlText(v.reason)}, ${nowMs});`,
      );
      const after = { ...(i === 0 ? { scope: rule.scope } : {}), ...version, demo: "written by npm start's seed with a past effective_from, for demo payments; the API refuses a past date" };
      statements.push(
        `INSERT INTO audit_log (at_ms, actor, action, entity_type, entity_id, before, after) VALUES (${nowMs}, 'demo-seed', ${sqlText(i === 0 ? "rule.create" : "rule.version")}, 'rule', ${sqlText(rule.id)}, ${before === null ? "NULL" : sqlText(JSON.stringify(before))}, ${sqlText(JSON.stringify(after))});`,
      );
      before = version;
    }
  }
  return `${statements.join("\n")}\n`;
}

export interface SeedOptions {
  /** Runs SQL on the local D1 (npm start: wrangler d1 execute --local): the demo's rule history, with past dates. */
  sql?: (statements: string) => Promise<void>;
  /** Where to send demo payments, a refund and a dispute (npm start), and when "now" is. */
  demo?: Omit<DemoTarget, "api" | "adminToken">;
}

export async function seed(apiBase: string, adminToken: string, log: (line: string) => void, opts: SeedOptions = {}): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${apiBase}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status === 409) return "kept";
    if (!res.ok) throw new Error(`seeding ${path} failed: ${res.status} ${await res.text()}`);
    return "created";
  };
  for (const p of parties) log(`party ${p.id}: ${await post("/parties", p)}`);
  for (const o of offers) log(`offer ${o.id}: ${await post("/offers", o)}`);
  if (opts.sql) {
    const exists = await fetch(`${apiBase}/api/v1/rules/default`, { headers: { authorization: `Bearer ${adminToken}` } });
    if (exists.status === 404) {
      await opts.sql(await demoRulesSql(opts.demo?.nowMs ?? Date.now()));
      for (const r of DEMO_RULE_HISTORY) log(`rule ${r.id}: created with ${r.versions.length} version(s) in force since past months (demo data, audited as demo-seed)`);
    } else {
      for (const r of DEMO_RULE_HISTORY) log(`rule ${r.id}: kept`);
    }
  } else {
    for (const r of rules) log(`rule ${r.id}: ${await post("/rules", r)}`);
    await untilRulesInForce(apiBase, adminToken);
  }
  if (opts.demo) await seedDemoPayments({ ...opts.demo, api: apiBase, adminToken }, log);
}

/**
 * A new rule takes effect at the next whole second (Stripe stamps payments in seconds);
 * wait for it, so that a payment triggered right after the start has a rule in force.
 */
async function untilRulesInForce(apiBase: string, adminToken: string): Promise<void> {
  for (const r of rules) {
    await poll(`rule ${r.id} to be in force`, async () => {
      const res = await fetch(`${apiBase}/api/v1/rules/${r.id}`, { headers: { authorization: `Bearer ${adminToken}` } });
      if (!res.ok) throw new Error(`GET /api/v1/rules/${r.id} answered ${res.status}`);
      return ((await res.json()) as { current: unknown }).current !== null ? true : undefined;
    }, { timeoutMs: 5_000, everyMs: 250 });
  }
}
