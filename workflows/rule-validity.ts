// Whether a rule body can be applied to what exists now: its parties and pools, the offers its
// scope covers (with their contributors), the deployment's currencies, the fee bearers. The
// admin API checks a body with it when saved; a proposal's activation checks it again, since
// the catalog may have changed during the notice.
import { validateRule, type ValidateRuleResult } from "../core";
import type { Db } from "../db/client";
import { allPartyIds, contributorPools } from "../db/queries/catalog";
import { feeBearers } from "../db/queries/ledger";
import { allPoolIds } from "../db/queries/pools";
import type { RuleScope } from "../db/queries/rules";
import { settlementCurrencies, type Env } from "./env";

export async function checkRuleBody(db: Db, env: Pick<Env, "CURRENCIES">, body: unknown, scope: RuleScope): Promise<ValidateRuleResult> {
  const [partyIds, poolIds, pools, bearers] = await Promise.all([
    allPartyIds(db),
    allPoolIds(db),
    contributorPools(db, "offer_id" in scope ? { offer_id: scope.offer_id } : "offer_kind" in scope ? { kind: scope.offer_kind } : {}),
    feeBearers(db),
  ]);
  // A pool is a party of its own, but a rule names it as one: { "pool": id }.
  const needPools = new Set(poolIds);
  return validateRule(body, {
    parties: new Set(partyIds.filter((id) => !needPools.has(id))),
    pools: needPools,
    contributorPools: pools,
    currencies: settlementCurrencies(env),
    feeBearers: { reserve: bearers.reserve !== null, commons: bearers.commons !== null },
  });
}
