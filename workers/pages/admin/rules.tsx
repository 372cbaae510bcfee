// Rules: the list, a new rule, and each rule's editor: its latest body to edit, a preview that
// follows the typing (console.js calls POST /api/v1/rules/preview; without script the Preview
// button posts the form), the what-if replay over recent payments, and the version history
// with what changed from one version to the next. Saving proposes the next version with the
// ETag read when the editor opened: a version saved meanwhile by someone else is a 412.
import { Hono } from "hono";
import { html } from "hono/html";
import { formatMoney } from "../../../core";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field, type Problem, utcFromLocalInput } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

type Scope = { default: true } | { offer_kind: string } | { offer_id: string };

interface VersionView {
  version: number;
  effective_from: string;
  status: "superseded" | "in_force" | "scheduled";
  reason: string;
  author: string;
  content_hash: string;
  created_at: string;
  body: unknown;
}

interface RuleView {
  id: string;
  scope: Scope;
  etag: string;
  current: VersionView | null;
  latest: VersionView;
  versions: VersionView[];
}

interface Preview {
  basis_minor: number;
  shares: { party_id: string; amount_minor: number }[];
  in_words: { en: { sentence: string; rounding: string; fee_policy: string } };
}

interface WhatIf {
  current_version: number | null;
  payments: number;
  totals: { party_id: string; currency: string; now_minor: number; proposed_minor: number; delta_minor: number }[];
  unsplittable: { payment_id: string; reason: string }[];
}

interface Change {
  change: "added" | "removed" | "changed" | "moved";
  path: string;
  from?: unknown;
  to?: unknown;
}

function scopeText(scope: Scope): string {
  return "offer_id" in scope ? `the offer ${scope.offer_id}` : "offer_kind" in scope ? `every ${scope.offer_kind} offer` : "every payment (default)";
}

/** What the editor holds: what was typed (kept across a failed save), and the preview's inputs. */
interface Draft {
  body: string;
  reason: string;
  effective_from: string;
  amount_minor: string;
  fee_minor: string;
  currency: string;
  offer_id: string;
}

const money = (amount: number, currency: string) => formatMoney(amount, currency, "en");

function ProblemList(props: { answer: ApiAnswer }) {
  const errors = (props.answer.body as Problem | null)?.errors ?? [];
  if (errors.length === 0) return null;
  return (
    <ul class="problems" data-testid="problems">
      {errors.map((e) => (
        <li>
          <code>{e.path}</code>: {e.message}
          {e.code ? <span class="hint-text"> ({e.code})</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** The preview's content; console.js draws the same, from the same API, as the admin types. */
function PreviewResult(props: { answer: ApiAnswer<Preview> | null; currency: string; note?: string }) {
  if (props.note) return <p class="problem">{props.note}</p>;
  if (!props.answer) return <p>Type in the rule, or choose an amount, to see how it splits.</p>;
  if (!props.answer.ok) {
    return (
      <>
        <p class="problem">{(props.answer.body as unknown as Problem).detail}</p>
        <ProblemList answer={props.answer} />
      </>
    );
  }
  const p = props.answer.body;
  return (
    <>
      <p data-testid="preview-words">{p.in_words.en.sentence}</p>
      <table data-testid="preview-shares">
        <caption>Split of {money(p.basis_minor, props.currency)}</caption>
        <thead>
          <tr>
            <th scope="col">Party</th>
            <th scope="col" class="amount">Share</th>
          </tr>
        </thead>
        <tbody>
          {p.shares.map((s) => (
            <tr data-party={s.party_id}>
              <th scope="row">{s.party_id}</th>
              <td class="amount" data-amount-minor={s.amount_minor}>
                {money(s.amount_minor, props.currency)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function WhatIfResult(props: { answer: ApiAnswer<WhatIf> }) {
  if (!props.answer.ok) return <p class="problem">{(props.answer.body as unknown as Problem).detail}</p>;
  const w = props.answer.body;
  return (
    <section aria-labelledby="whatif-title" data-testid="what-if">
      <h2 id="whatif-title">What if: the proposal over the last {w.payments} payment(s)</h2>
      <Wide label="What if"><table>
        <thead>
          <tr>
            <th scope="col">Party</th>
            <th scope="col" class="amount">Now (version {w.current_version ?? "—"})</th>
            <th scope="col" class="amount">Proposed</th>
            <th scope="col" class="amount">Difference</th>
          </tr>
        </thead>
        <tbody>
          {w.totals.map((t) => (
            <tr>
              <th scope="row">{t.party_id}</th>
              <td class="amount">{money(t.now_minor, t.currency)}</td>
              <td class="amount">{money(t.proposed_minor, t.currency)}</td>
              <td class="amount">{money(t.delta_minor, t.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table></Wide>
      {w.unsplittable.length > 0 ? <p>{w.unsplittable.length} payment(s) could not be replayed: {w.unsplittable.map((u) => u.reason).join("; ")}</p> : null}
    </section>
  );
}

function show(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}

function Diff(props: { changes: Change[] }) {
  if (props.changes.length === 0) return <p>Nothing changed but the dates and reason.</p>;
  return (
    <ul data-testid="diff">
      {props.changes.map((ch) => (
        <li class={ch.change === "added" ? "diff-added" : ch.change === "removed" ? "diff-removed" : undefined}>
          {ch.change} <code>{ch.path}</code>
          {ch.change === "changed" ? `: ${show(ch.from)} → ${show(ch.to)}` : ch.change === "moved" ? `: from position ${show(ch.from)} to ${show(ch.to)}` : ch.change === "added" ? `: ${show(ch.to)}` : `: ${show(ch.from)}`}
        </li>
      ))}
    </ul>
  );
}

export const rulePages = new Hono<ConsoleEnv>();

rulePages.get("/rules", async (c) => {
  const answer = await c.get("api").get<{ rules: RuleView[] }>("/rules");
  const session = c.get("session");
  const rules = answer.ok ? answer.body.rules : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Rules" session={session} section="/admin/rules" notice={answer.ok ? null : errorNotice(answer)}>
        <p>Each rule has a scope and a chain of versions; a payment is split by the most specific rule with a version in force when it was paid.</p>
        <Wide label="Rules"><table data-testid="rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Scope</th>
              <th scope="col">In force</th>
              <th scope="col">Latest</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr>
                <th scope="row">
                  <a href={`/admin/rules/${encodeURIComponent(r.id)}`}>{r.id}</a>
                </th>
                <td>{scopeText(r.scope)}</td>
                <td>{r.current ? `version ${r.current.version} since ${when(r.current.effective_from)}` : "none yet"}</td>
                <td>
                  version {r.latest.version} ({r.latest.status.replace("_", " ")})
                </td>
              </tr>
            ))}
          </tbody>
        </table></Wide>
        <p>
          <a href="/admin/rules/new">New rule</a>
        </p>
      </ConsolePage>
    )}`,
  );
});

const EMPTY_RULE = JSON.stringify({ basis: "net", lines: [{ to: "commons", share: "10%" }, { to: "reserve", share: "15%" }, { to: "contributors", share: "remaining" }] }, null, 2);

function NewRuleForm(props: { c: ConsoleContext; notice?: Notice | null; answer?: ApiAnswer; values?: Record<string, string> }) {
  const session = props.c.get("session");
  const v = props.values ?? {};
  return (
    <ConsolePage title="New rule" session={session} section="/admin/rules" notice={props.notice}>
      {props.answer ? <ProblemList answer={props.answer} /> : null}
      <form method="post" action="/admin/rules/new" class="fields">
        <Csrf session={session} />
        <p>
          <label for="id">Rule id <span class="hint-text">(lower-case letters, digits, - and _)</span></label>
          <input type="text" id="id" name="id" required value={v.id ?? ""} />
        </p>
        <p>
          <label for="scope">Scope</label>
          <select id="scope" name="scope">
            {[
              ["default", "Every payment (default)"],
              ["offer_kind:training", "Every training"],
              ["offer_kind:hosting", "Every hosting offer"],
            ].map(([value, label]) => (
              <option value={value} selected={v.scope === value}>
                {label}
              </option>
            ))}
          </select>
        </p>
        <p>
          <label for="offer_id">Or one offer <span class="hint-text">(an offer id; overrides the scope above)</span></label>
          <input type="text" id="offer_id" name="offer_id" value={v.offer_id ?? ""} />
        </p>
        <p>
          <label for="rule-body">The rule (JSON)</label>
          <textarea id="rule-body" name="body" rows={12} spellcheck={false}>
            {v.body ?? EMPTY_RULE}
          </textarea>
        </p>
        <p>
          <label for="effective_from">In force from <span class="hint-text">(UTC; now if empty; never in the past)</span></label>
          <input type="datetime-local" id="effective_from" name="effective_from" value={v.effective_from ?? ""} />
        </p>
        <p>
          <label for="reason">Why</label>
          <input type="text" id="reason" name="reason" required value={v.reason ?? ""} />
        </p>
        <p>
          <Submit session={session}>Create the rule</Submit>
        </p>
      </form>
    </ConsolePage>
  );
}

rulePages.get("/rules/new", (c) => c.html(html`<!doctype html>${(<NewRuleForm c={c} />)}`));

rulePages.post("/rules/new", async (c) => {
  const values = Object.fromEntries(await Promise.all(["id", "scope", "offer_id", "body", "effective_from", "reason"].map(async (k) => [k, (await field(c, k)) ?? ""] as const)));
  let body: unknown;
  try {
    body = JSON.parse(values.body ?? "");
  } catch (error) {
    return c.html(html`<!doctype html>${(<NewRuleForm c={c} values={values} notice={{ kind: "error", text: `The rule is not valid JSON: ${error instanceof Error ? error.message : String(error)}` }} />)}`, 400);
  }
  const scope = values.offer_id ? { offer_id: values.offer_id } : values.scope?.startsWith("offer_kind:") ? { offer_kind: values.scope.slice("offer_kind:".length) } : { default: true };
  const answer = await c.get("api").send("POST", "/rules", { id: values.id, scope, version: { reason: values.reason, effective_from: utcFromLocalInput(values.effective_from || undefined), body } });
  if (answer.ok) return c.redirect(`/admin/rules/${encodeURIComponent(values.id ?? "")}?done=created`, 303);
  return c.html(html`<!doctype html>${(<NewRuleForm c={c} values={values} notice={errorNotice(answer)} answer={answer} />)}`, answer.status as 400);
});

/** The editor page, with whatever the admin did last: a preview, a what-if, a failed save. */
async function editor(c: ConsoleContext, id: string, state: { draft?: Draft; notice?: Notice | null; preview?: ApiAnswer<Preview> | null; previewNote?: string; whatIf?: ApiAnswer<WhatIf>; saveProblem?: ApiAnswer; etag?: string }, status = 200) {
  const api = c.get("api");
  const session = c.get("session");
  const [answer, offers] = await Promise.all([api.get<RuleView>(`/rules/${encodeURIComponent(id)}`), api.get<{ offers: { id: string; name: string; kind: string }[] }>("/offers")]);
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Rule" session={session} section="/admin/rules" notice={errorNotice(answer)}><p><a href="/admin/rules">Back to the rules</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const rule = answer.body;
  const offerList = offers.ok ? offers.body.offers : [];
  const scopedOffers = offerList.filter((o) => ("offer_id" in rule.scope ? o.id === rule.scope.offer_id : "offer_kind" in rule.scope ? o.kind === rule.scope.offer_kind : true));
  const draft: Draft = state.draft ?? {
    body: JSON.stringify(rule.latest.body, null, 2),
    reason: "",
    effective_from: "",
    amount_minor: "10000",
    fee_minor: "175",
    currency: "eur",
    offer_id: scopedOffers[0]?.id ?? "",
  };
  // The first preview is drawn on the server, so the page shows one without script.
  const preview = state.preview !== undefined ? state.preview : await previewOf(c, draft, rule.scope).then((r) => r.answer);
  // Diffs of the last versions, each from the one before.
  const recent = rule.versions.filter((v) => v.version > 1).slice(-10);
  const diffs = new Map(
    await Promise.all(recent.map(async (v) => [v.version, await api.get<{ changes: Change[] }>(`/rules/${encodeURIComponent(id)}/diff?from=${v.version - 1}&to=${v.version}`)] as const)),
  );
  const action = (what: string) => `/admin/rules/${encodeURIComponent(id)}/${what}`;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Rule ${rule.id}`} session={session} section="/admin/rules" notice={state.notice} scripts>
        <p>
          Splits {scopeText(rule.scope)}. In force: {rule.current ? `version ${rule.current.version}, since ${when(rule.current.effective_from)}` : "none yet"}. Latest: version {rule.latest.version}.
        </p>
        {state.saveProblem ? <ProblemList answer={state.saveProblem} /> : null}
        <form method="post" action={action("versions")} data-rule-editor data-scope={JSON.stringify(rule.scope)} class="editor">
          <div class="fields">
            <Csrf session={session} />
            <input type="hidden" name="etag" value={state.etag ?? rule.etag} />
            <p>
              <label for="rule-body">
                The rule (JSON) <span class="hint-text">(the language is in core/README.md and in /docs, schema RuleBody)</span>
              </label>
              <textarea id="rule-body" name="body" rows={16} spellcheck={false} data-testid="rule-body">
                {draft.body}
              </textarea>
            </p>
            <p>
              <label for="effective_from">In force from <span class="hint-text">(UTC; now if empty; never in the past)</span></label>
              <input type="datetime-local" id="effective_from" name="effective_from" value={draft.effective_from} />
            </p>
            <p>
              <label for="reason">Why this change</label>
              <input type="text" id="reason" name="reason" value={draft.reason} />
            </p>
            <div class="actions">
              <Submit session={session} id="save">
                Save as version {rule.latest.version + 1}
              </Submit>
              <Submit session={session} class="secondary" formaction={action("preview")} computes>
                Preview
              </Submit>
              <Submit session={session} class="secondary" formaction={action("what-if")} computes>
                Replay over recent payments
              </Submit>
            </div>
          </div>
          <div>
            <fieldset class="fields">
              <legend>Preview on an amount</legend>
              <p>
                <label for="amount_minor">Amount paid <span class="hint-text">(minor units: 10000 is 100.00)</span></label>
                <input type="number" id="amount_minor" name="amount_minor" min="0" step="1" value={draft.amount_minor} />
              </p>
              <p>
                <label for="fee_minor">Stripe's fee <span class="hint-text">(minor units)</span></label>
                <input type="number" id="fee_minor" name="fee_minor" min="0" step="1" value={draft.fee_minor} />
              </p>
              <p>
                <label for="currency">Currency</label>
                <input type="text" id="currency" name="currency" value={draft.currency} maxlength={3} />
              </p>
              <p>
                <label for="offer_id">Contributors of the offer</label>
                <select id="offer_id" name="offer_id">
                  <option value="">none</option>
                  {offerList.map((o) => (
                    <option value={o.id} selected={o.id === draft.offer_id}>
                      {o.id}: {o.name}
                    </option>
                  ))}
                </select>
              </p>
            </fieldset>
            <section id="preview" class="preview" aria-live="polite" aria-labelledby="preview-title" data-testid="preview">
              <h2 id="preview-title">Preview</h2>
              <div id="preview-body">
                <PreviewResult answer={preview} currency={draft.currency} note={state.previewNote} />
              </div>
            </section>
          </div>
        </form>
        {state.whatIf ? <WhatIfResult answer={state.whatIf} /> : null}
        <h2>Versions</h2>
        <Wide label="Versions">
          <table data-testid="versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">In force from</th>
                <th scope="col">By</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {[...rule.versions].reverse().map((v) => (
                <tr data-version={v.version}>
                  <th scope="row">{v.version}</th>
                  <td>{v.status.replace("_", " ")}</td>
                  <td>{when(v.effective_from)}</td>
                  <td>{v.author}</td>
                  <td>{v.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
        {[...rule.versions].reverse().map((v) => {
          const diff = diffs.get(v.version);
          return (
            <details>
              <summary>
                Version {v.version}
                {diff ? ` and what changed from version ${v.version - 1}` : ""}
              </summary>
              {diff ? diff.ok ? <Diff changes={diff.body.changes} /> : <p class="problem">{(diff.body as unknown as Problem).detail}</p> : null}
              <pre>{JSON.stringify(v.body, null, 2)}</pre>
            </details>
          );
        })}
      </ConsolePage>
    )}`,
    status as 200,
  );
}

async function draftOf(c: ConsoleContext): Promise<Draft> {
  const f = await c.req.parseBody();
  const s = (k: string) => (typeof f[k] === "string" ? (f[k] as string) : "");
  return { body: s("body"), reason: s("reason"), effective_from: s("effective_from"), amount_minor: s("amount_minor") || "10000", fee_minor: s("fee_minor") || "0", currency: s("currency") || "eur", offer_id: s("offer_id") };
}

async function previewOf(c: ConsoleContext, draft: Draft, scope: Scope): Promise<{ answer: ApiAnswer<Preview> | null; note?: string }> {
  let rule: unknown;
  try {
    rule = JSON.parse(draft.body);
  } catch (error) {
    return { answer: null, note: `The rule is not valid JSON yet: ${error instanceof Error ? error.message : String(error)}` };
  }
  const body: Record<string, unknown> = { rule, amount_minor: Number(draft.amount_minor), fee_minor: Number(draft.fee_minor || "0"), currency: draft.currency, scope };
  if (draft.offer_id) body.offer_id = draft.offer_id;
  return { answer: await c.get("api").send<Preview>("POST", "/rules/preview", body) };
}

rulePages.get("/rules/:id", async (c) => {
  const done = c.req.query("done");
  const notice: Notice | null = done === "saved" ? { kind: "ok", text: `Saved: version ${c.req.query("version") ?? ""} is the rule's latest.` } : done === "created" ? { kind: "ok", text: "Created, with version 1." } : null;
  return editor(c, c.req.param("id"), { notice });
});

rulePages.post("/rules/:id/preview", async (c) => {
  const id = c.req.param("id");
  const draft = await draftOf(c);
  const rule = await c.get("api").get<RuleView>(`/rules/${encodeURIComponent(id)}`);
  const { answer, note } = await previewOf(c, draft, rule.ok ? rule.body.scope : { default: true });
  return editor(c, id, { draft, preview: answer, previewNote: note, etag: (await field(c, "etag")) ?? undefined });
});

rulePages.post("/rules/:id/what-if", async (c) => {
  const id = c.req.param("id");
  const draft = await draftOf(c);
  let body: unknown;
  try {
    body = JSON.parse(draft.body);
  } catch (error) {
    return editor(c, id, { draft, notice: { kind: "error", text: `The rule is not valid JSON: ${error instanceof Error ? error.message : String(error)}` } }, 400);
  }
  const whatIf = await c.get("api").send<WhatIf>("POST", `/rules/${encodeURIComponent(id)}/what-if`, { body, last: 50 });
  return editor(c, id, { draft, whatIf, notice: whatIf.ok ? null : errorNotice(whatIf), etag: (await field(c, "etag")) ?? undefined }, whatIf.ok ? 200 : whatIf.status);
});

rulePages.post("/rules/:id/versions", async (c) => {
  const id = c.req.param("id");
  const draft = await draftOf(c);
  const etag = (await field(c, "etag")) ?? "";
  let body: unknown;
  try {
    body = JSON.parse(draft.body);
  } catch (error) {
    return editor(c, id, { draft, etag, notice: { kind: "error", text: `Not saved: the rule is not valid JSON: ${error instanceof Error ? error.message : String(error)}` } }, 400);
  }
  const answer = await c.get("api").send<RuleView>("POST", `/rules/${encodeURIComponent(id)}/versions`, { reason: draft.reason, effective_from: utcFromLocalInput(draft.effective_from || undefined), body }, { "if-match": etag });
  if (answer.ok) return c.redirect(`/admin/rules/${encodeURIComponent(id)}?done=saved&version=${answer.body.latest.version}`, 303);
  const notice: Notice = answer.status === 412 ? { kind: "error", text: `Not saved: ${problemDetail(answer)} Your text is kept below; read the new version, then save again.` } : { kind: "error", text: `Not saved: ${problemDetail(answer)}` };
  // After a 412 the editor takes the new ETag: the admin has now seen the other version in the history.
  return editor(c, id, { draft, notice, saveProblem: answer, etag: answer.status === 412 ? undefined : etag }, answer.status);
});

function problemDetail(answer: ApiAnswer): string {
  return (answer.body as Problem | null)?.detail ?? `the API answered ${answer.status}`;
}
