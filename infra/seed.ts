// Demo data for `npm start`: written through the admin API, like an admin would, so the
// audit log shows it and nothing bypasses validation. Safe to run again: what exists is kept.
import { poll } from "./scripts/poll";

export const DEMO_RULE = {
  basis: "net",
  lines: [
    { to: "commons", share: "10%" },
    { to: "reserve", share: "15%" },
    { to: "contributors", share: "remaining" },
  ],
} as const;

const parties = [
  { id: "commons", kind: "commons", name: "Le commun (logiciel libre et contenus CC-BY-SA)" },
  { id: "reserve", kind: "reserve", name: "Réserve impartageable" },
  { id: "camille", kind: "contributor", name: "Camille, facilitatrice" },
  { id: "dominique", kind: "contributor", name: "Dominique, auteur" },
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

export async function seed(apiBase: string, adminToken: string, log: (line: string) => void): Promise<void> {
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
  for (const r of rules) log(`rule ${r.id}: ${await post("/rules", r)}`);
  await untilRulesInForce(apiBase, adminToken);
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
