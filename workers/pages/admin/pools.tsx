// Need pools: the list and a new pool; a pool's page on one screen (its members and their needs
// for the period, what the coming close would pay each and why, every change of a need, the
// closed periods, and "Close the current period now"); a closed period's page (income,
// leftover and where it went, each member's need, pay and why). A member signed in with its own
// party token sees its pool and declares its own need. Everything goes through the API.
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import type { Session } from "../../session";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";
import { ProblemList } from "./rules";

type NeedValue = number | "auto";

interface MemberShare {
  party_id: string;
  declared: NeedValue | null;
  cap_minor: number | null;
  need_minor: number;
  paid_minor: number;
  topup_minor: number;
  throttled: boolean;
  why: string;
}

interface Pool {
  id: string;
  name: string;
  period: "month" | "week" | "quarter";
  floor_minor: number | null;
  leftover_to: string | null;
  solidarity: { minimum_minor: number; budget_minor: number } | null;
  members: { party_id: string; joined_at: string }[];
  created_at: string;
}

interface PoolDetail extends Pool {
  balances: { currency: string; balance_minor: number }[];
  needs: { party_id: string; currency: string; need: NeedValue; updated_at: string }[];
  next_close: { period: string; scheduled_at: string; estimates: { period: string; currency: string; income_minor: number; leftover_minor: number; members: MemberShare[]; explanation: string }[] };
  closes: { period: string; currency: string; income_minor: number; leftover_minor: number; closed_at: string }[];
}

interface Period {
  pool_id: string;
  period: string;
  currency: string;
  income_minor: number;
  leftover_minor: number;
  leftover_to: string | null;
  carried_minor: number;
  topups_minor: number;
  members: MemberShare[];
  explanation: string;
  transaction_id: string | null;
  closed_at: string;
  closed_by: string;
}

interface NeedChange {
  party_id: string;
  currency: string;
  from: NeedValue | null;
  to: NeedValue;
  by: string;
  at: string;
}

const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");
const needText = (need: NeedValue | null | undefined, currency: string) => (need === null || need === undefined ? "none declared" : need === "auto" ? "auto" : money(need, currency));
const poolHref = (id: string) => `/admin/pools/${encodeURIComponent(id)}`;
const PERIODS = [
  ["month", "every month"],
  ["week", "every week (ISO, from Monday)"],
  ["quarter", "every quarter"],
] as const;
const isMinor = (s: string | undefined) => s !== undefined && /^\d{1,13}$/.test(s);

export const poolPages = new Hono<ConsoleEnv>();

// ---- the list, and a new pool ---------------------------------------------------------------

type PoolForm = Record<"id" | "name" | "members" | "period" | "floor_minor" | "leftover_to" | "solidarity_minimum_minor" | "solidarity_budget_minor", string>;

async function poolList(c: ConsoleContext, state: { notice?: Notice | null; problem?: ApiAnswer; values?: Partial<PoolForm> }, status = 200) {
  const session = c.get("session");
  const api = c.get("api");
  const [answer, parties] = await Promise.all([api.get<{ pools: Pool[] }>("/pools"), api.get<{ parties: { id: string; name: string; kind: string }[] }>("/parties")]);
  const v = state.values ?? {};
  const members = (parties.ok ? parties.body.parties : []).filter((p) => p.kind !== "pool");
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Pools" session={session} section="/admin/pools" notice={state.notice ?? (answer.ok ? null : errorNotice(answer))}>
        <p>
          A need pool is a party of its own: a rule line <code>{'{ "to": { "pool": "<id>" } }'}</code> sends its share to the pool, and each close distributes what the pool holds to its members by the needs they declare, never more than a need; what needs leave goes to the reserve or the party the pool names.
        </p>
        {answer.ok && answer.body.pools.length > 0 ? (
          <Wide label="Pools">
            <table data-testid="pools">
              <thead>
                <tr>
                  <th scope="col">Pool</th>
                  <th scope="col">Closes</th>
                  <th scope="col">Members</th>
                  <th scope="col">Leftover to</th>
                </tr>
              </thead>
              <tbody>
                {answer.body.pools.map((p) => (
                  <tr>
                    <th scope="row">
                      <a href={poolHref(p.id)}>{p.name}</a> <span class="mono">({p.id})</span>
                    </th>
                    <td>every {p.period}</td>
                    <td>{p.members.map((m) => m.party_id).join(", ") || "none yet"}</td>
                    <td>{p.leftover_to ?? "the reserve"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        ) : (
          <p>No pool yet.</p>
        )}
        <h2 id="new-pool">A new pool</h2>
        {state.problem ? <ProblemList answer={state.problem} /> : null}
        <form method="post" action="/admin/pools" class="fields" aria-labelledby="new-pool">
          <Csrf session={session} />
          <p>
            <label for="pool-id">Pool id <span class="hint-text">(lower-case letters, digits, - and _; it becomes a party of kind pool)</span></label>
            <input type="text" id="pool-id" name="id" required value={v.id ?? ""} />
          </p>
          <p>
            <label for="pool-name">Name</label>
            <input type="text" id="pool-name" name="name" required value={v.name ?? ""} />
          </p>
          <p>
            <label for="pool-members">Members <span class="hint-text">(party ids, separated by commas: {members.map((m) => m.id).join(", ")})</span></label>
            <input type="text" id="pool-members" name="members" value={v.members ?? ""} />
          </p>
          <PoolSettingsFields values={v} />
          <p>
            <Submit session={session}>Create the pool</Submit>
          </p>
        </form>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

function PoolSettingsFields(props: { values: Partial<PoolForm> }) {
  const v = props.values;
  return (
    <>
      <p>
        <label for="pool-period">Closes</label>
        <select id="pool-period" name="period">
          {PERIODS.map(([value, label]) => (
            <option value={value} selected={(v.period ?? "month") === value}>
              {label}
            </option>
          ))}
        </select>
      </p>
      <p>
        <label for="pool-floor">Floor <span class="hint-text">(minor units: 10000 is 100.00; what a newcomer may ask at first and any member may always ask; empty: the median of what members received)</span></label>
        <input type="number" id="pool-floor" name="floor_minor" min="0" step="1" value={v.floor_minor ?? ""} />
      </p>
      <p>
        <label for="pool-leftover">Leftover to <span class="hint-text">(a party id; empty: the reserve)</span></label>
        <input type="text" id="pool-leftover" name="leftover_to" value={v.leftover_to ?? ""} />
      </p>
      <fieldset class="fields">
        <legend>Solidarity floor (optional)</legend>
        <p>
          <label for="pool-sol-min">Top a member paid less than this up from the reserve <span class="hint-text">(minor units; empty: no solidarity floor)</span></label>
          <input type="number" id="pool-sol-min" name="solidarity_minimum_minor" min="0" step="1" value={v.solidarity_minimum_minor ?? ""} />
        </p>
        <p>
          <label for="pool-sol-budget">At most this from the reserve per close <span class="hint-text">(minor units)</span></label>
          <input type="number" id="pool-sol-budget" name="solidarity_budget_minor" min="0" step="1" value={v.solidarity_budget_minor ?? ""} />
        </p>
      </fieldset>
    </>
  );
}

async function poolFormOf(c: ConsoleContext): Promise<PoolForm> {
  const f = await c.req.parseBody();
  const s = (k: string) => (typeof f[k] === "string" ? (f[k] as string).trim() : "");
  return { id: s("id"), name: s("name"), members: s("members"), period: s("period"), floor_minor: s("floor_minor"), leftover_to: s("leftover_to"), solidarity_minimum_minor: s("solidarity_minimum_minor"), solidarity_budget_minor: s("solidarity_budget_minor") };
}

/** The settings as the API takes them; a number field left empty means null (the default). */
function settingsOf(v: PoolForm) {
  return {
    name: v.name,
    period: v.period || "month",
    floor_minor: v.floor_minor === "" ? null : Number(v.floor_minor),
    leftover_to: v.leftover_to === "" ? null : v.leftover_to,
    solidarity: v.solidarity_minimum_minor === "" ? null : { minimum_minor: Number(v.solidarity_minimum_minor), budget_minor: Number(v.solidarity_budget_minor || "0") },
  };
}

poolPages.get("/pools", (c) => poolList(c, {}));

poolPages.post("/pools", async (c) => {
  const values = await poolFormOf(c);
  const members = values.members.split(/[\s,]+/).filter((m) => m !== "");
  const answer = await c.get("api").send("POST", "/pools", { id: values.id, members, ...settingsOf(values) });
  if (answer.ok) return c.redirect(`${poolHref(values.id)}?done=created`, 303);
  return poolList(c, { notice: { kind: "error", text: `Not created: ${errorNotice(answer).text}` }, problem: answer, values }, answer.status);
});

// ---- a pool, on one screen ------------------------------------------------------------------

function doneNotice(c: ConsoleContext): Notice | null {
  const q = (k: string) => c.req.query(k);
  switch (q("done")) {
    case "created":
      return { kind: "ok", text: "Created. Send it shares with a rule line { \"to\": { \"pool\": id } }." };
    case "settings":
      return { kind: "ok", text: "Settings saved." };
    case "member_added":
      return { kind: "ok", text: `${q("party") ?? "The party"} is a member now.` };
    case "member_removed":
      return { kind: "ok", text: `${q("party") ?? "The party"} is no longer a member; what they were paid stays theirs.` };
    case "need": {
      const currency = /^[a-z]{3}$/.test(q("currency") ?? "") ? (q("currency") as string) : "eur";
      const need = q("need") === "auto" ? "auto (an equal part of what the declared needs leave)" : isMinor(q("need")) ? money(Number(q("need")), currency) : "?";
      const cap = isMinor(q("cap")) ? money(Number(q("cap")), currency) : null;
      const capText = cap === null ? "" : q("throttled") === "1" ? ` It is above what it may rise to this period: it counts as ${cap} at the next close.` : ` It may count for up to ${cap} at the next close.`;
      return { kind: "ok", text: `${q("party") ?? "The member"}'s need is ${need}.${capText}` };
    }
    default:
      return null;
  }
}

function NeedForm(props: { session: Session; pool: string; party: string; currency: string; declared: NeedValue | null | undefined }) {
  const id = `need-${props.party}`;
  return (
    <form method="post" action={`${poolHref(props.pool)}/needs/${encodeURIComponent(props.party)}`} class="actions">
      <Csrf session={props.session} />
      <input type="hidden" name="currency" value={props.currency} />
      <label for={id} class="hint-text">
        Need of {props.party} (minor units)
      </label>
      <input type="number" id={id} name="amount_minor" min="0" step="1" value={typeof props.declared === "number" ? String(props.declared) : ""} />
      <Submit session={props.session} party>
        Set need
      </Submit>
      <Submit session={props.session} party class="secondary" name="auto" value="1">
        Auto
      </Submit>
    </form>
  );
}

async function poolPage(c: ConsoleContext, id: string, state: { notice?: Notice | null; problem?: ApiAnswer; etag?: string }, status = 200) {
  const session = c.get("session");
  const api = c.get("api");
  const role = session.principal.role;
  const me = session.principal.party_id;
  const [answer, needs, parties] = await Promise.all([
    api.get<PoolDetail>(`/pools/${encodeURIComponent(id)}`),
    api.get<{ needs: PoolDetail["needs"]; history: NeedChange[] }>(`/pools/${encodeURIComponent(id)}/needs`),
    role === "party" ? Promise.resolve(null) : api.get<{ parties: { id: string; name: string; kind: string }[] }>("/parties"),
  ]);
  if (!answer.ok) {
    return c.html(html`<!doctype html>${(<ConsolePage title="Pool" session={session} section={role === "party" ? "/admin/me" : "/admin/pools"} notice={errorNotice(answer)}><p><a href={role === "party" ? "/admin/me" : "/admin/pools"}>Back</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : answer.status === 403 ? 403 : 400);
  }
  const pool = answer.body;
  const estimates = pool.next_close.estimates;
  const currency = estimates[0]?.currency ?? pool.balances[0]?.currency ?? "eur";
  const estimateOf = new Map((estimates.find((e) => e.currency === currency)?.members ?? []).map((m) => [m.party_id, m]));
  const declaredOf = new Map(pool.needs.filter((n) => n.currency === currency).map((n) => [n.party_id, n]));
  const canChange = role !== "party";
  const candidates = (parties?.ok ? parties.body.parties : []).filter((p) => p.kind !== "pool" && !pool.members.some((m) => m.party_id === p.id));
  const history = needs.ok ? needs.body.history : [];
  const periods = [...new Map(pool.closes.map((x) => [`${x.period}:${x.currency}`, x])).values()];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Pool ${pool.name}`} session={session} section={role === "party" ? "/admin/me" : "/admin/pools"} notice={state.notice}>
        {state.problem ? <ProblemList answer={state.problem} /> : null}
        <p data-testid="pool-summary">
          The pool <span class="mono">{pool.id}</span> holds the shares that rule lines send it and closes every {pool.period} (UTC). At each close, what it holds is shared among its members in proportion to their declared needs, never more than a need; what the needs leave goes to {pool.leftover_to ?? "the reserve"}. A need may rise from one period to the next only so far (twice what the member received, that plus the leftover, the median, or the floor{pool.floor_minor === null ? "" : ` of ${money(pool.floor_minor, currency)}`}); above it, it counts as that cap and the member is marked throttled.
          {pool.solidarity ? ` A member paid less than ${money(pool.solidarity.minimum_minor, currency)} is topped up from the reserve, up to ${money(pool.solidarity.budget_minor, currency)} per close.` : ""}
        </p>
        <p>
          Holds now: {pool.balances.length === 0 ? money(0, currency) : pool.balances.map((b) => money(b.balance_minor, b.currency)).join(", ")}. The current period, {pool.next_close.period}, closes by itself at {when(pool.next_close.scheduled_at)}.
        </p>

        <h2>Members and their needs for {pool.next_close.period}</h2>
        <Wide label="Members">
          <table data-testid="members">
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Joined</th>
                <th scope="col" class="amount">Declared need</th>
                <th scope="col" class="amount">Counts for at most</th>
                <th scope="col" class="amount">The close would pay now</th>
                <th scope="col">Set the need</th>
                {canChange ? <th scope="col">Membership</th> : null}
              </tr>
            </thead>
            <tbody>
              {pool.members.map((m) => {
                const est = estimateOf.get(m.party_id);
                const declared = declaredOf.get(m.party_id)?.need;
                return (
                  <tr data-member={m.party_id}>
                    <th scope="row">{m.party_id}</th>
                    <td>{when(m.joined_at)}</td>
                    <td class="amount" data-testid="declared">
                      {needText(declared, currency)}
                    </td>
                    <td class="amount">
                      {est?.cap_minor === null || est === undefined ? "no cap" : money(est.cap_minor, currency)}
                      {est?.throttled ? " (throttled)" : ""}
                    </td>
                    <td class="amount">{est ? money(est.paid_minor + est.topup_minor, currency) : "—"}</td>
                    <td>{role !== "party" || m.party_id === me ? <NeedForm session={session} pool={pool.id} party={m.party_id} currency={currency} declared={declared} /> : null}</td>
                    {canChange ? (
                      <td>
                        <form method="post" action={`${poolHref(pool.id)}/members/${encodeURIComponent(m.party_id)}/remove`} class="inline-form">
                          <Csrf session={session} />
                          <Submit session={session} class="secondary">
                            Remove
                          </Submit>
                        </form>
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Wide>
        {canChange ? (
          <form method="post" action={`${poolHref(pool.id)}/members`} class="actions">
            <Csrf session={session} />
            <label for="new-member">Add a member</label>
            <select id="new-member" name="party_id">
              {candidates.map((p) => (
                <option value={p.id}>
                  {p.id}: {p.name}
                </option>
              ))}
            </select>
            <Submit session={session}>Add</Submit>
          </form>
        ) : null}

        <h2>The coming close, if it ran now</h2>
        {estimates.map((e) => (
          <section aria-label={`Estimate in ${e.currency.toUpperCase()}`} data-testid="estimate">
            <p>{e.explanation}</p>
            <ul>
              {e.members.map((m) => (
                <li>
                  <strong>{m.party_id}</strong>: {m.why}
                </li>
              ))}
            </ul>
          </section>
        ))}
        {canChange ? (
          <form method="post" action={`${poolHref(pool.id)}/close`} class="actions">
            <Csrf session={session} />
            <Submit session={session} id="close-now">
              Close the current period now
            </Submit>
            <span class="hint-text">Distributes what the pool holds now, by the needs as they stand; money that arrives later waits for the next close.</span>
          </form>
        ) : null}

        <h2>Closed periods</h2>
        {periods.length === 0 ? (
          <p>No close yet.</p>
        ) : (
          <Wide label="Closed periods">
            <table data-testid="periods">
              <thead>
                <tr>
                  <th scope="col">Period</th>
                  <th scope="col" class="amount">Came in</th>
                  <th scope="col" class="amount">Left over</th>
                  <th scope="col">Closed</th>
                </tr>
              </thead>
              <tbody>
                {periods.map((x) => (
                  <tr>
                    <th scope="row">
                      <a href={`${poolHref(pool.id)}/periods/${encodeURIComponent(x.period)}?currency=${x.currency}`}>
                        {x.period} ({x.currency.toUpperCase()})
                      </a>
                    </th>
                    <td class="amount">{money(x.income_minor, x.currency)}</td>
                    <td class="amount">{money(x.leftover_minor, x.currency)}</td>
                    <td>{when(x.closed_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}

        <h2>Every change of a need</h2>
        {history.length === 0 ? (
          <p>No need declared yet.</p>
        ) : (
          <Wide label="Changes of needs">
            <table data-testid="need-history">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Member</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {history.map((h) => (
                  <tr>
                    <th scope="row">{when(h.at)}</th>
                    <td>{h.party_id}</td>
                    <td>{needText(h.from, h.currency)}</td>
                    <td>{needText(h.to, h.currency)}</td>
                    <td>{h.by}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}

        {canChange ? (
          <>
            <h2 id="settings">Settings</h2>
            <form method="post" action={`${poolHref(pool.id)}/settings`} class="fields" aria-labelledby="settings">
              <Csrf session={session} />
              <input type="hidden" name="etag" value={state.etag ?? answer.etag ?? ""} />
              <p>
                <label for="pool-name">Name</label>
                <input type="text" id="pool-name" name="name" required value={pool.name} />
              </p>
              <PoolSettingsFields
                values={{
                  period: pool.period,
                  floor_minor: pool.floor_minor === null ? "" : String(pool.floor_minor),
                  leftover_to: pool.leftover_to ?? "",
                  solidarity_minimum_minor: pool.solidarity ? String(pool.solidarity.minimum_minor) : "",
                  solidarity_budget_minor: pool.solidarity ? String(pool.solidarity.budget_minor) : "",
                }}
              />
              <p>
                <Submit session={session}>Save the settings</Submit>
              </p>
            </form>
          </>
        ) : null}
      </ConsolePage>
    )}`,
    status as 200,
  );
}

poolPages.get("/pools/:id", (c) => poolPage(c, c.req.param("id"), { notice: doneNotice(c) }));

poolPages.post("/pools/:id/settings", async (c) => {
  const id = c.req.param("id");
  const values = await poolFormOf(c);
  const etag = (await field(c, "etag")) ?? "";
  const answer = await c.get("api").send("PATCH", `/pools/${encodeURIComponent(id)}`, settingsOf(values), { "if-match": etag });
  if (answer.ok) return c.redirect(`${poolHref(id)}?done=settings`, 303);
  const text = answer.status === 412 ? `Not saved: ${errorNotice(answer).text}. The page shows the pool as it is now; change it again.` : `Not saved: ${errorNotice(answer).text}`;
  return poolPage(c, id, { notice: { kind: "error", text }, problem: answer, etag: answer.status === 412 ? undefined : etag }, answer.status);
});

poolPages.post("/pools/:id/members", async (c) => {
  const id = c.req.param("id");
  const party = (await field(c, "party_id")) ?? "";
  const answer = await c.get("api").send("PUT", `/pools/${encodeURIComponent(id)}/members/${encodeURIComponent(party)}`);
  if (answer.ok) return c.redirect(`${poolHref(id)}?done=member_added&party=${encodeURIComponent(party)}`, 303);
  return poolPage(c, id, { notice: { kind: "error", text: `Not added: ${errorNotice(answer).text}` } }, answer.status);
});

poolPages.post("/pools/:id/members/:party/remove", async (c) => {
  const id = c.req.param("id");
  const party = c.req.param("party");
  const answer = await c.get("api").send("DELETE", `/pools/${encodeURIComponent(id)}/members/${encodeURIComponent(party)}`);
  if (answer.ok) return c.redirect(`${poolHref(id)}?done=member_removed&party=${encodeURIComponent(party)}`, 303);
  return poolPage(c, id, { notice: { kind: "error", text: `Not removed: ${errorNotice(answer).text}` } }, answer.status);
});

poolPages.post("/pools/:id/needs/:party", async (c) => {
  const id = c.req.param("id");
  const party = c.req.param("party");
  const auto = (await field(c, "auto")) !== undefined;
  const amount = await field(c, "amount_minor");
  const currency = await field(c, "currency");
  if (!auto && !isMinor(amount)) return poolPage(c, id, { notice: { kind: "error", text: "Not set: give the need in minor units (10000 is 100.00), or choose Auto." } }, 400);
  const answer = await c.get("api").send<{ need: NeedValue; currency: string; cap_minor: number | null; throttled: boolean }>("PUT", `/pools/${encodeURIComponent(id)}/needs/${encodeURIComponent(party)}`, {
    ...(currency ? { currency } : {}),
    ...(auto ? { auto: true } : { amount_minor: Number(amount) }),
  });
  if (!answer.ok) return poolPage(c, id, { notice: { kind: "error", text: `Not set: ${errorNotice(answer).text}` }, problem: answer }, answer.status);
  const r = answer.body;
  const q = new URLSearchParams({ done: "need", party, need: String(r.need), currency: r.currency, ...(r.cap_minor === null ? {} : { cap: String(r.cap_minor) }), throttled: r.throttled ? "1" : "0" });
  return c.redirect(`${poolHref(id)}?${q.toString()}`, 303);
});

poolPages.post("/pools/:id/close", async (c) => {
  const id = c.req.param("id");
  const answer = await c.get("api").send<{ outcome: string; periods: Period[] }>("POST", `/pools/${encodeURIComponent(id)}/close`);
  if (!answer.ok) return poolPage(c, id, { notice: { kind: "error", text: `Not closed: ${errorNotice(answer).text}` } }, answer.status);
  const first = answer.body.periods[0];
  if (!first) return c.redirect(poolHref(id), 303);
  return c.redirect(`${poolHref(id)}/periods/${encodeURIComponent(first.period)}?currency=${first.currency}&done=${answer.body.outcome}`, 303);
});

// ---- a closed period ------------------------------------------------------------------------

poolPages.get("/pools/:id/periods/:period", async (c) => {
  const session = c.get("session");
  const id = c.req.param("id");
  const period = c.req.param("period");
  const currency = c.req.query("currency");
  const query = currency && /^[a-z]{3}$/.test(currency) ? `?currency=${currency}` : "";
  const answer = await c.get("api").get<Period>(`/pools/${encodeURIComponent(id)}/periods/${encodeURIComponent(period)}${query}`);
  const section = session.principal.role === "party" ? "/admin/me" : "/admin/pools";
  if (!answer.ok) {
    return c.html(html`<!doctype html>${(<ConsolePage title={`Pool ${id}, ${period}`} session={session} section={section} notice={errorNotice(answer)}><p><a href={poolHref(id)}>Back to the pool</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : answer.status === 403 ? 403 : 400);
  }
  const p = answer.body;
  const done = c.req.query("done");
  const notice: Notice | null = done === "closed" ? { kind: "ok", text: `Closed: ${p.period} is distributed.` } : done === "already_closed" ? { kind: "ok", text: `${p.period} was closed already: this is what that close did.` } : null;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Pool ${p.pool_id}, period ${p.period}`} session={session} section={section} notice={notice}>
        <p data-testid="explanation">{p.explanation}</p>
        <dl class="facts" data-testid="period-facts">
          <dt>Came in</dt>
          <dd data-income-minor={p.income_minor}>{money(p.income_minor, p.currency)}</dd>
          <dt>Left over</dt>
          <dd data-leftover-minor={p.leftover_minor}>
            {money(p.leftover_minor, p.currency)}
            {p.leftover_minor > 0 ? `, to ${p.leftover_to ?? "the reserve"}` : ""}
          </dd>
          {p.carried_minor !== 0 ? (
            <>
              <dt>Carried to the next period</dt>
              <dd>{money(p.carried_minor, p.currency)}</dd>
            </>
          ) : null}
          {p.topups_minor > 0 ? (
            <>
              <dt>Topped up from the reserve</dt>
              <dd>{money(p.topups_minor, p.currency)}</dd>
            </>
          ) : null}
          <dt>Closed</dt>
          <dd>
            {when(p.closed_at)} by {p.closed_by}
            {p.transaction_id ? (
              <>
                {" "}
                (ledger transaction <span class="mono">{p.transaction_id}</span>)
              </>
            ) : null}
          </dd>
        </dl>
        <Wide label="Each member">
          <table data-testid="distribution">
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col" class="amount">Declared</th>
                <th scope="col" class="amount">Need counted</th>
                <th scope="col" class="amount">Paid</th>
                <th scope="col">Throttled</th>
              </tr>
            </thead>
            <tbody>
              {p.members.map((m) => (
                <tr data-member={m.party_id}>
                  <th scope="row">{m.party_id}</th>
                  <td class="amount">{needText(m.declared, p.currency)}</td>
                  <td class="amount">{money(m.need_minor, p.currency)}</td>
                  <td class="amount" data-paid-minor={m.paid_minor + m.topup_minor}>
                    {money(m.paid_minor, p.currency)}
                    {m.topup_minor > 0 ? ` + ${money(m.topup_minor, p.currency)} from the reserve` : ""}
                  </td>
                  <td>{m.throttled ? `yes: counted at ${m.cap_minor === null ? "its cap" : money(m.cap_minor, p.currency)}` : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
        <h2>Why each got what they got</h2>
        <ul data-testid="why">
          {p.members.map((m) => (
            <li>
              <strong>{m.party_id}</strong>: {m.why}
            </li>
          ))}
        </ul>
        <p>
          <a href={poolHref(p.pool_id)}>Back to the pool</a>
        </p>
      </ConsolePage>
    )}`,
  );
});
