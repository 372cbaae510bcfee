// Rules changed by consent: the proposals (open first), and each proposal's page: where it
// stands, the rule in plain words before and after and what changes, who it affects and by how
// much, its objections and approvals, and its thread. Admins amend, approve and withdraw, and
// object on a party's behalf; a party signed in with its own token objects and lifts its
// objection. Proposing is on a rule's page (rules.tsx). Everything goes through the API.
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import type { Session } from "../../session";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field, utcFromLocalInput } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";
import { Diff, ProblemList, type Change } from "./rules";

export interface ProposalView {
  id: string;
  rule_id: string;
  thread_id: string;
  amends: string | null;
  amended_by: string | null;
  status: "open" | "held" | "awaiting_approvals" | "due" | "activated" | "amended" | "withdrawn";
  reason: string;
  proposer: string;
  created_at: string;
  notice: string;
  notice_ends: string;
  effective_from: string | null;
  activated_version: number | null;
  closed_at: string | null;
  closed_by: string | null;
  close_reason: string | null;
  hold_reason: string | null;
  held_at: string | null;
  base_version: number;
  in_words: string[];
  current_in_words: string[];
  changes: Change[];
  approvals: { required: number; given: { by: string; at: string }[] };
  objections: { id: string; party_id: string; reason: string; raised_by: string; raised_at: string; standing: boolean; lifted_at: string | null; lifted_by: string | null }[];
  affected: { party_id: string; currency: string; now_minor: number; proposed_minor: number; delta_minor: number }[];
  affected_count: number;
  replayed: { since: string; payments: number; complete: boolean };
  body: unknown;
  thread?: { at: string; kind: string; proposal_id: string; actor: string; party_id?: string; objection_id?: string; reason?: string; version?: number }[];
}

const CLOSED = new Set(["activated", "amended", "withdrawn"]);
const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");
const signed = (amount: number, currency: string) => `${amount > 0 ? "+" : ""}${money(amount, currency)}`;
const href = (id: string) => `/admin/proposals/${encodeURIComponent(id)}`;

const STATUS_WORDS: Record<ProposalView["status"], string> = {
  open: "open: the notice runs, nothing holds it",
  held: "held",
  awaiting_approvals: "awaiting approvals: the notice is over, nobody objects",
  due: "due: it is becoming a version",
  activated: "activated",
  amended: "amended",
  withdrawn: "withdrawn",
};

const THREAD_WORDS: Record<string, string> = {
  proposed: "proposed",
  amended: "amended",
  objected: "objected",
  objection_lifted: "lifted an objection",
  approved: "approved",
  held: "held at the notice's end",
  withdrawn: "withdrew it",
  activated: "became a version",
};

/** Object (or lift one's standing objection): an admin names the party it speaks for; a party speaks for itself. */
export function ObjectForm(props: { session: Session; proposal: ProposalView; me?: string; standing?: ProposalView["objections"][number]; back?: string }) {
  const { session, proposal: p } = props;
  if (CLOSED.has(p.status)) return null;
  const party = session.principal.role === "party";
  if (party && props.standing) {
    return (
      <form method="post" action={`${href(p.id)}/objections/${encodeURIComponent(props.standing.id)}/lift`} class="actions">
        <Csrf session={session} />
        {props.back ? <input type="hidden" name="back" value={props.back} /> : null}
        <span>You object: “{props.standing.reason}”.</span>
        <Submit session={session} party class="secondary">
          Lift my objection
        </Submit>
      </form>
    );
  }
  const parties = [...new Set(p.affected.map((a) => a.party_id))];
  if (!party && parties.length === 0) return <p>It changes no party's amounts over the payments replayed: there is nobody to object on behalf of.</p>;
  const idFor = (what: string) => `${what}-${p.id}`;
  return (
    <form method="post" action={`${href(p.id)}/objections`} class="fields">
      <Csrf session={session} />
      {props.back ? <input type="hidden" name="back" value={props.back} /> : null}
      {party ? null : (
        <p>
          <label for={idFor("party_id")}>On behalf of</label>
          <select id={idFor("party_id")} name="party_id" required>
            {parties.map((id) => (
              <option value={id}>{id}</option>
            ))}
          </select>
        </p>
      )}
      <p>
        <label for={idFor("objection")}>Why you object <span class="hint-text">(a reasoned objection holds the proposal until it is lifted)</span></label>
        <input type="text" id={idFor("objection")} name="reason" required maxlength={2000} />
      </p>
      <p>
        <Submit session={session} party>
          Object
        </Submit>
      </p>
    </form>
  );
}

/** A party reads the proposals that affect it (its own amounts, or its objections); admins and viewers, all. */
function concerns(session: Session, p: ProposalView): boolean {
  if (session.principal.role !== "party") return true;
  const me = session.principal.party_id;
  return p.affected.some((a) => a.party_id === me) || p.objections.some((o) => o.party_id === me);
}

function ProposalRows(props: { list: ProposalView[]; label: string; testid: string }) {
  return (
    <Wide label={props.label}>
      <table data-testid={props.testid}>
        <thead>
          <tr>
            <th scope="col">Proposal</th>
            <th scope="col">Rule</th>
            <th scope="col">Status</th>
            <th scope="col">Notice ends</th>
            <th scope="col">Objections</th>
            <th scope="col">Approvals</th>
          </tr>
        </thead>
        <tbody>
          {props.list.map((p) => (
            <tr data-proposal={p.id}>
              <th scope="row">
                <a href={href(p.id)}>{p.reason}</a>
              </th>
              <td>{p.rule_id}</td>
              <td>{p.status.replace("_", " ")}</td>
              <td>{when(p.notice_ends)}</td>
              <td>{p.objections.filter((o) => o.standing).length} standing</td>
              <td>
                {p.approvals.given.length} of {p.approvals.required}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Wide>
  );
}

export const proposalPages = new Hono<ConsoleEnv>();

proposalPages.get("/proposals", async (c) => {
  const api = c.get("api");
  const session = c.get("session");
  const [open, all] = await Promise.all([api.get<{ proposals: ProposalView[] }>("/proposals?status=open&limit=100"), api.get<{ proposals: ProposalView[] }>("/proposals?limit=100")]);
  const openList = (open.ok ? open.body.proposals : []).filter((p) => concerns(session, p));
  const closedList = (all.ok ? all.body.proposals : []).filter((p) => CLOSED.has(p.status) && concerns(session, p));
  const failed = [open, all].find((a) => !a.ok);
  const party = session.principal.role === "party";
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Proposals" session={session} section="/admin/proposals" notice={failed ? errorNotice(failed) : null}>
        <p>
          {party
            ? "The changes to the split rules that would change what you receive. Each is open to objections for its notice; it becomes the rule's next version unless an objection stands."
            : "A change to a rule by consent: open to objections from the parties it affects for the rule's notice, then the rule's next version unless an objection stands or approvals are missing. Propose one from a rule's page."}
        </p>
        <h2>Open</h2>
        {openList.length === 0 ? <p>No proposal is open.</p> : <ProposalRows list={openList} label="Open proposals" testid="open-proposals" />}
        <h2>Closed</h2>
        {closedList.length === 0 ? <p>None yet.</p> : <ProposalRows list={closedList} label="Closed proposals" testid="closed-proposals" />}
      </ConsolePage>
    )}`,
  );
});

const DONE: Record<string, string> = {
  objected: "Your objection is recorded: it holds the proposal until it is lifted.",
  lifted: "The objection is lifted.",
  approved: "Approved.",
  withdrawn: "Withdrawn: the proposal is closed.",
  amended: "Amended: this is the new proposal, with its own notice from now.",
  proposed: "Proposed: its notice runs.",
};

/** What the admin typed into the amendment form, kept across a refusal. */
interface AmendDraft {
  body: string;
  reason: string;
  effective_from: string;
}

async function proposalPage(c: ConsoleContext, id: string, state: { notice?: Notice | null; problem?: ApiAnswer; draft?: AmendDraft }, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<ProposalView>(`/proposals/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    return c.html(html`<!doctype html>${(<ConsolePage title="Proposal" session={session} section="/admin/proposals" notice={errorNotice(answer)}><p><a href="/admin/proposals">Back to the proposals</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  }
  const p = answer.body;
  const role = session.principal.role;
  const me = session.principal.party_id;
  const closed = CLOSED.has(p.status);
  const action = (what: string) => `${href(p.id)}/${what}`;
  const draft = state.draft ?? { body: JSON.stringify(p.body, null, 2), reason: "", effective_from: "" };
  const standingMine = p.objections.find((o) => o.party_id === me && o.standing);
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Proposal: ${p.reason}`} session={session} section="/admin/proposals" notice={state.notice}>
        {state.problem ? <ProblemList answer={state.problem} /> : null}
        <dl class="facts" data-testid="proposal-facts">
          <dt>Status</dt>
          <dd data-testid="status" data-status={p.status}>
            {STATUS_WORDS[p.status]}
            {p.status === "held" ? (p.hold_reason ? `: ${p.hold_reason}` : p.objections.some((o) => o.standing) ? ": an objection stands" : "") : ""}
            {p.activated_version !== null ? ` as version ${p.activated_version}` : ""}
            {p.amended_by ? (
              <>
                {" "}
                by <a href={href(p.amended_by)}>the amendment</a>
              </>
            ) : null}
          </dd>
          <dt>Rule</dt>
          <dd>
            {role === "party" ? p.rule_id : <a href={`/admin/rules/${encodeURIComponent(p.rule_id)}`}>{p.rule_id}</a>}, changing version {p.base_version}
          </dd>
          <dt>Proposed</dt>
          <dd>
            by {p.proposer}, {when(p.created_at)}
            {p.amends ? (
              <>
                , amending <a href={href(p.amends)}>the proposal before</a>
              </>
            ) : null}
          </dd>
          <dt>Notice</dt>
          <dd data-testid="notice-ends">
            {p.notice}, ends {when(p.notice_ends)}
            {p.held_at ? `; held since ${when(p.held_at)}` : ""}
          </dd>
          <dt>Takes effect</dt>
          <dd>{p.effective_from ? `from ${when(p.effective_from)}, if it passes` : "as soon as it passes"}</dd>
          {p.closed_at ? (
            <>
              <dt>Closed</dt>
              <dd>
                {when(p.closed_at)}
                {p.closed_by ? ` by ${p.closed_by}` : ""}
                {p.close_reason ? `: ${p.close_reason}` : ""}
              </dd>
            </>
          ) : null}
        </dl>

        <h2>The rule, in plain words</h2>
        <div class="compare">
          <section aria-labelledby="words-now">
            <h3 id="words-now">Version {p.base_version}, the one it changes</h3>
            <ul data-testid="current-in-words">
              {p.current_in_words.map((s) => (
                <li>{s}</li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="words-proposed">
            <h3 id="words-proposed">Proposed</h3>
            <ul data-testid="in-words">
              {p.in_words.map((s) => (
                <li>{s}</li>
              ))}
            </ul>
          </section>
        </div>
        <h3>What changes</h3>
        <Diff changes={p.changes} />
        <details>
          <summary>The proposed rule as JSON</summary>
          <pre>{JSON.stringify(p.body, null, 2)}</pre>
        </details>

        <h2>Who it affects</h2>
        <p>
          Replayed over {p.replayed.payments} payment(s) since {when(p.replayed.since)}
          {p.replayed.complete ? "" : " (the newest only: there were more)"}: {p.affected_count} part{p.affected_count === 1 ? "y" : "ies"} would receive a different amount
          {role === "party" ? "; you see your own amounts and the cooperative's accounts" : ""}.
        </p>
        {p.affected.length > 0 ? (
          <Wide label="Affected parties">
            <table data-testid="affected">
              <thead>
                <tr>
                  <th scope="col">Party</th>
                  <th scope="col" class="amount">Now</th>
                  <th scope="col" class="amount">Under the proposal</th>
                  <th scope="col" class="amount">Difference</th>
                </tr>
              </thead>
              <tbody>
                {p.affected.map((a) => (
                  <tr data-party={a.party_id}>
                    <th scope="row">{a.party_id}</th>
                    <td class="amount">{money(a.now_minor, a.currency)}</td>
                    <td class="amount">{money(a.proposed_minor, a.currency)}</td>
                    <td class="amount" data-delta-minor={a.delta_minor}>
                      {signed(a.delta_minor, a.currency)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        ) : null}

        <h2>Objections</h2>
        {p.objections.length === 0 ? (
          <p>Nobody objects.</p>
        ) : (
          <Wide label="Objections">
            <table data-testid="objections">
              <thead>
                <tr>
                  <th scope="col">Party</th>
                  <th scope="col">Why</th>
                  <th scope="col">Raised</th>
                  <th scope="col">Stands</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {p.objections.map((o) => (
                  <tr data-objection={o.id} data-standing={String(o.standing)}>
                    <th scope="row">{o.party_id}</th>
                    <td>{o.reason}</td>
                    <td>
                      {when(o.raised_at)} by {o.raised_by}
                    </td>
                    <td>{o.standing ? "yes" : `lifted ${when(o.lifted_at)} by ${o.lifted_by ?? "?"}`}</td>
                    <td>
                      {o.standing && !closed && (role !== "party" || o.party_id === me) ? (
                        <form method="post" action={action(`objections/${encodeURIComponent(o.id)}/lift`)} class="inline-form">
                          <Csrf session={session} />
                          <Submit session={session} party class="secondary">
                            Lift
                          </Submit>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
        {!closed && !(role === "party" && standingMine) && (role !== "party" || p.affected.some((a) => a.party_id === me)) ? (
          <section aria-labelledby="object-title">
            <h3 id="object-title">{role === "party" ? "Object" : "Object on a party's behalf"}</h3>
            <ObjectForm session={session} proposal={p} />
          </section>
        ) : null}

        <h2>Approvals</h2>
        <p data-testid="approvals">
          {p.approvals.required === 0 ? "No admin approval is asked: consent is enough." : `${p.approvals.given.length} of ${p.approvals.required} admin approval(s) given.`}
          {p.approvals.given.length > 0 ? ` ${p.approvals.given.map((g) => `${g.by} (${when(g.at)})`).join(", ")}.` : ""}
        </p>
        {!closed && role !== "party" ? (
          <form method="post" action={action("approve")} class="actions">
            <Csrf session={session} />
            <Submit session={session}>Approve</Submit>
            <span class="hint-text">Nobody approves a proposal in a thread they proposed in.</span>
          </form>
        ) : null}

        <h2>Thread</h2>
        <ol data-testid="thread">
          {(p.thread ?? []).map((e) => (
            <li data-kind={e.kind}>
              {when(e.at)}: {e.actor} {THREAD_WORDS[e.kind] ?? e.kind}
              {e.party_id ? ` for ${e.party_id}` : ""}
              {e.version !== undefined ? ` (version ${e.version})` : ""}
              {e.proposal_id !== p.id ? (
                <>
                  {" "}
                  (<a href={href(e.proposal_id)}>{e.proposal_id}</a>)
                </>
              ) : null}
              {e.reason ? `: “${e.reason}”` : ""}
            </li>
          ))}
        </ol>

        {!closed && role !== "party" ? (
          <>
            <h2>Amend</h2>
            <form method="post" action={action("amend")} class="fields">
              <Csrf session={session} />
              <p>
                <label for="amend-body">The amended rule (JSON)</label>
                <textarea id="amend-body" name="body" rows={12} spellcheck={false}>
                  {draft.body}
                </textarea>
              </p>
              <p>
                <label for="amend-reason">Why this amendment</label>
                <input type="text" id="amend-reason" name="reason" required maxlength={2000} value={draft.reason} />
              </p>
              <p>
                <label for="amend-effective">Takes effect from <span class="hint-text">(UTC; as soon as it passes if empty; never before its notice ends)</span></label>
                <input type="datetime-local" id="amend-effective" name="effective_from" value={draft.effective_from} />
              </p>
              <p>
                <Submit session={session}>Amend: a new proposal, its notice from now</Submit>
              </p>
            </form>
            <h2>Withdraw</h2>
            <form method="post" action={action("withdraw")} class="fields">
              <Csrf session={session} />
              <p>
                <label for="withdraw-reason">Why <span class="hint-text">(optional)</span></label>
                <input type="text" id="withdraw-reason" name="reason" maxlength={2000} />
              </p>
              <p>
                <Submit session={session} class="secondary">
                  Withdraw for good
                </Submit>
              </p>
            </form>
          </>
        ) : null}
        <p>
          <a href="/admin/proposals">All proposals</a>
        </p>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

proposalPages.get("/proposals/:id", (c) => {
  const done = DONE[c.req.query("done") ?? ""];
  return proposalPage(c, c.req.param("id"), { notice: done ? { kind: "ok", text: done } : null });
});

/** Where a form returns: the proposal's page, or the party's account it was sent from. */
async function back(c: ConsoleContext, id: string, done: string): Promise<Response> {
  const from = await field(c, "back");
  return c.redirect(from === "/admin/me" ? `/admin/me?done=${done}` : `${href(id)}?done=${done}`, 303);
}

async function refused(c: ConsoleContext, id: string, answer: ApiAnswer, what: string, draft?: AmendDraft): Promise<Response> {
  return proposalPage(c, id, { notice: { kind: "error", text: `${what}: ${errorNotice(answer).text}` }, problem: answer, draft }, answer.status);
}

proposalPages.post("/proposals/:id/objections", async (c) => {
  const id = c.req.param("id");
  const party_id = await field(c, "party_id");
  const answer = await c.get("api").send("POST", `/proposals/${encodeURIComponent(id)}/objections`, { reason: (await field(c, "reason")) ?? "", ...(party_id ? { party_id } : {}) });
  return answer.ok ? back(c, id, "objected") : refused(c, id, answer, "No objection recorded");
});

proposalPages.post("/proposals/:id/objections/:objection/lift", async (c) => {
  const id = c.req.param("id");
  const answer = await c.get("api").send("DELETE", `/proposals/${encodeURIComponent(id)}/objections/${encodeURIComponent(c.req.param("objection"))}`);
  return answer.ok ? back(c, id, "lifted") : refused(c, id, answer, "Not lifted");
});

proposalPages.post("/proposals/:id/approve", async (c) => {
  const id = c.req.param("id");
  const answer = await c.get("api").send("POST", `/proposals/${encodeURIComponent(id)}/approvals`);
  return answer.ok ? back(c, id, "approved") : refused(c, id, answer, "Not approved");
});

proposalPages.post("/proposals/:id/withdraw", async (c) => {
  const id = c.req.param("id");
  const reason = await field(c, "reason");
  const answer = await c.get("api").send("POST", `/proposals/${encodeURIComponent(id)}/withdrawal`, reason ? { reason } : {});
  return answer.ok ? back(c, id, "withdrawn") : refused(c, id, answer, "Not withdrawn");
});

proposalPages.post("/proposals/:id/amend", async (c) => {
  const id = c.req.param("id");
  const form = await c.req.parseBody();
  const s = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");
  const draft: AmendDraft = { body: s("body"), reason: s("reason"), effective_from: s("effective_from") };
  let body: unknown;
  try {
    body = JSON.parse(draft.body);
  } catch (error) {
    return proposalPage(c, id, { notice: { kind: "error", text: `Not amended: the rule is not valid JSON: ${error instanceof Error ? error.message : String(error)}` }, draft }, 400);
  }
  const effective_from = utcFromLocalInput(draft.effective_from.trim() || undefined);
  const answer = await c.get("api").send<ProposalView>("POST", `/proposals/${encodeURIComponent(id)}/amendments`, { body, reason: draft.reason.trim(), ...(effective_from ? { effective_from } : {}) });
  if (answer.ok) return c.redirect(`${href(answer.body.id)}?done=amended`, 303);
  return refused(c, id, answer, "Not amended", draft);
});
