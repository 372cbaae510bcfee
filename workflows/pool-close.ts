// Closing a need pool's period: what its account holds is distributed to its members by their
// declared needs (core/pools.ts), the leftover to the reserve or the party the pool names, the
// solidarity top-ups from the reserve; one ledger transaction per currency, written with the
// close's record in one batch. A close asked twice, or interrupted and run again, distributes
// once: a close is keyed by pool, period and currency, and two closes that read the same
// balance cannot both be written (a seq per pool and currency).
//
// Scheduled: every day at 00:15 UTC, each pool whose last period has ended and is not closed
// gets a workflow instance (one per pool and period, pool-close-workflow.ts) that runs the close
// as a durable step.
// An admin may also close the current period at once (POST /api/v1/pools/{id}/close); money
// that arrives after a close waits for the next one.
import { partyAccount, poolPeriodBounds, poolPeriodOf, planClose, previousPoolPeriod, type ClosePlan, type LastPeriod, type PoolPeriod } from "../core";

import { chunked, database, type Db } from "../db/client";
import { feeBearers } from "../db/queries/ledger";
import { balancesOf, getPool, lastClose, latestClosedEnd, listPools, needsOf, writeClose, type CloseRecord, type Pool } from "../db/queries/pools";
import type { Env } from "./env";
import { INSTANCE_ALREADY_EXISTS, settlementCurrencies } from "./env";

/** The daily cron that closes ended periods (wrangler.toml). */
export const POOL_CLOSE_CRON = "15 0 * * *";

export type CloseOutcome =
  | { outcome: "closed"; period: string; currencies: string[] }
  | { outcome: "already_closed"; period: string }
  | { outcome: "superseded"; period: string; reason: string }
  | { outcome: "refused"; period: string; reason: string };

export class PoolCloseError extends Error {
  constructor(
    readonly code: "no_leftover_party" | "unknown_pool" | "bad_period",
    message: string,
  ) {
    super(message);
  }
}

const MAX_CONTENDED_TRIES = 5;

/**
 * Closes `period` of a pool in every currency its account holds money in or a member declared a
 * need in (the deployment's first currency when none). Refused ("superseded") when the pool has
 * already closed a period ending later: that close distributed this period's money.
 */
export async function closePoolPeriod(env: Env, poolId: string, period: string, actor: string, nowMs = Date.now()): Promise<CloseOutcome> {
  const db = database(env.DB);
  const pool = await getPool(db, poolId);
  if (!pool) throw new PoolCloseError("unknown_pool", `no pool ${poolId}`);
  const bounds = poolPeriodBounds(pool.period, period);
  if (bounds === null) throw new PoolCloseError("bad_period", `${period} is not a ${pool.period} of this pool (e.g. ${poolPeriodOf(pool.period, nowMs)})`);
  if (bounds.start_ms > nowMs) throw new PoolCloseError("bad_period", `${period} has not started yet`);
  const [balances, needs, bearers, latestEnd] = await Promise.all([balancesOf(db, pool.id), needsOf(db, pool.id), feeBearers(db), latestClosedEnd(db, pool.id)]);
  if (latestEnd > bounds.end_ms) return { outcome: "superseded", period, reason: "the pool has closed a later period, which distributed this one's money" };
  const currencies = new Set([...balances.keys(), ...needs.map((n) => n.currency)]);
  if (currencies.size === 0) currencies.add(settlementCurrencies(env)[0] ?? "eur");
  const closed: string[] = [];
  for (const currency of [...currencies].sort()) {
    for (let attempt = 1; ; attempt++) {
      const outcome = await closeOneCurrency(db, pool, period, bounds.end_ms, currency, bearers.reserve, actor, nowMs);
      if (outcome === "written") closed.push(currency);
      if (outcome !== "contended") break;
      if (attempt >= MAX_CONTENDED_TRIES) throw new Error(`pool ${pool.id}: another close kept writing first; try again`);
    }
  }
  return closed.length === 0 ? { outcome: "already_closed", period } : { outcome: "closed", period, currencies: closed };
}

async function closeOneCurrency(db: Db, pool: Pool, period: string, periodEndMs: number, currency: string, reserve: string | null, actor: string, nowMs: number): Promise<"written" | "closed" | "contended"> {
  // Read everything again: a contended close saw a balance another close has since distributed.
  const [balances, needs, last, reserveBalances] = await Promise.all([
    balancesOf(db, pool.id),
    needsOf(db, pool.id),
    lastClose(db, pool.id, currency),
    reserve === null ? Promise.resolve(new Map<string, number>()) : balancesOf(db, reserve),
  ]);
  const income_minor = balances.get(currency) ?? 0;
  const declared = new Map(needs.filter((n) => n.currency === currency).map((n) => [n.party_id, n.need]));
  const lastPeriod: LastPeriod | null =
    last === null ? null : { received: new Map(last.members.map((m) => [m.partyId, m.paidMinor + m.topupMinor])), leftover_minor: last.close.leftoverMinor };
  const solidarity =
    pool.solidarity_minimum_minor === null || reserve === null
      ? undefined
      : { minimum_minor: pool.solidarity_minimum_minor, budget_minor: Math.max(0, Math.min(pool.solidarity_budget_minor, reserveBalances.get(currency) ?? 0)) };
  const plan = planClose({
    income_minor,
    members: pool.members.map((m) => ({ party_id: m.party_id, declared: declared.get(m.party_id) ?? null })),
    last: lastPeriod,
    floor_minor: pool.floor_minor,
    ...(solidarity === undefined ? {} : { solidarity }),
  });
  const leftoverTo = pool.leftover_to ?? reserve;
  if (plan.leftover_minor > 0 && leftoverTo === null) {
    throw new PoolCloseError("no_leftover_party", `pool ${pool.id} leaves ${plan.leftover_minor} ${currency} over and names no party for it, and there is not exactly one reserve party`);
  }
  const key = `pool_close:${pool.id}:${period}:${currency}`;
  const postings = closePostings(pool.id, currency, plan, leftoverTo, reserve);
  const record: CloseRecord = {
    close: {
      poolId: pool.id,
      period,
      currency,
      seq: (last?.close.seq ?? 0) + 1,
      periodEndMs,
      incomeMinor: plan.income_minor,
      leftoverMinor: plan.leftover_minor,
      leftoverTo: plan.leftover_minor > 0 ? leftoverTo : null,
      carriedMinor: plan.carried_minor,
      topupsMinor: plan.topups_minor,
      closedBy: actor,
      closedAtMs: nowMs,
    },
    members: plan.members.map((m) => ({
      partyId: m.party_id,
      declaredMinor: typeof m.declared === "number" ? m.declared : null,
      declaredAuto: m.declared === "auto",
      capMinor: m.cap_minor,
      needMinor: m.need_minor,
      paidMinor: m.paid_minor,
      topupMinor: m.topup_minor,
      throttled: m.throttled,
    })),
    transaction: postings.length === 0 ? null : { id: `txn_${key.replaceAll(/[^A-Za-z0-9_.@-]/g, "_")}`, key, description: `close of pool ${pool.id} for ${period} in ${currency}`, postings },
    audit: { actor, action: "pool.close", entity_type: "pool", entity_id: pool.id, before: null, after: { period, currency, income_minor: plan.income_minor, leftover_minor: plan.leftover_minor, topups_minor: plan.topups_minor } },
  };
  return writeClose(db, record, nowMs);
}

/** The close's postings: out of the pool to its members and the leftover's party; top-ups out of the reserve. */
function closePostings(poolId: string, currency: string, plan: ClosePlan, leftoverTo: string | null, reserve: string | null) {
  const out: { account: string; amount_minor: number; currency: string; role: string }[] = [];
  const add = (party: string, amount_minor: number, role: string) => {
    if (amount_minor !== 0) out.push({ account: partyAccount(party), amount_minor, currency, role });
  };
  const distributed = plan.income_minor - plan.carried_minor;
  add(poolId, -distributed, "pool_close");
  for (const m of plan.members) add(m.party_id, m.paid_minor, "pool_share");
  if (leftoverTo !== null) add(leftoverTo, plan.leftover_minor, "pool_leftover");
  if (plan.topups_minor > 0 && reserve !== null) {
    add(reserve, -plan.topups_minor, "solidarity");
    for (const m of plan.members) add(m.party_id, m.topup_minor, "solidarity");
  }
  return out;
}

/** Every pool whose last ended period is not closed, with that period: what the daily cron closes. */
export async function duePoolCloses(env: Env, nowMs = Date.now()): Promise<{ pool_id: string; period: string }[]> {
  const db = database(env.DB);
  const due: { pool_id: string; period: string }[] = [];
  for (const pool of await listPools(db)) {
    const period = previousPoolPeriod(pool.period, nowMs);
    const bounds = poolPeriodBounds(pool.period, period);
    if (bounds === null || bounds.end_ms <= pool.created_at_ms) continue;
    if ((await latestClosedEnd(db, pool.id)) >= bounds.end_ms) continue;
    due.push({ pool_id: pool.id, period });
  }
  return due;
}

/** createBatch takes at most 100 instances. */
const CREATE_BATCH_MAX = 100;

/** A workflow instance id for a pool's period: letters, digits, `-` and `_` only, at most 100. */
export function poolCloseInstanceId(poolId: string, period: string): string {
  return `pool-${poolId.replaceAll(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}-${period}`.slice(0, 100);
}

/** The daily cron: one workflow instance per due close (an instance that exists already is left alone). */
export async function startDuePoolCloses(env: Env, nowMs = Date.now()): Promise<number> {
  const due = await duePoolCloses(env, nowMs);
  let started = 0;
  for (const chunk of chunked(due, CREATE_BATCH_MAX)) {
    const result = await env.POOL_CLOSE.createBatch({ instances: chunk.map((d) => ({ id: poolCloseInstanceId(d.pool_id, d.period), params: d })) });
    const refused = result.errors.filter((e) => e.code !== INSTANCE_ALREADY_EXISTS);
    if (refused.length > 0) throw new Error(`Workflows refused ${refused.length} pool close(s): ${refused.map((e) => `${e.id} (${e.code}): ${e.message}`).join("; ")}`);
    started += chunk.length - result.errors.length;
  }
  return started;
}
