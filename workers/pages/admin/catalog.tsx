// Parties and offers: lists, creation, and changes with the ETag read when the form opened.
import { Hono } from "hono";
import { html } from "hono/html";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field, type Problem, utcFromLocalInput } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

interface Party {
  id: string;
  kind: "commons" | "reserve" | "contributor" | "pool";
  name: string;
  public: boolean;
}

interface OfferVersion {
  version: number;
  status: string;
  effective_from: string;
  name: string;
  stripe_price_ids: string[];
  contributors: { party_id: string; weight: number }[];
  author: string;
  reason: string | null;
}

interface Offer {
  id: string;
  kind: string;
  name: string;
  stripe_price_ids: string[];
  contributors: { party_id: string; weight: number }[];
  version: number;
  effective_from: string;
  etag?: string;
  versions?: OfferVersion[];
}

const KINDS = ["commons", "reserve", "contributor"] as const;

function Problems(props: { answer?: ApiAnswer }) {
  const errors = (props.answer?.body as Problem | null)?.errors ?? [];
  return errors.length === 0 ? null : (
    <ul data-testid="problems">
      {errors.map((e) => (
        <li>
          <code>{e.path}</code>: {e.message}
        </li>
      ))}
    </ul>
  );
}

export const catalogPages = new Hono<ConsoleEnv>();

// ---- parties -----------------------------------------------------------------------------

async function partiesPage(c: ConsoleContext, notice: Notice | null, failed?: ApiAnswer, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<{ parties: Party[] }>("/parties");
  const list = answer.ok ? answer.body.parties : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Parties" session={session} section="/admin/parties" notice={notice ?? (answer.ok ? null : errorNotice(answer))}>
        <p>Who receives shares. A contributor is named on the public page only when marked public. Need pools are parties too, made with POST /api/v1/pools.</p>
        <Wide label="Parties"><table data-testid="parties">
          <thead>
            <tr>
              <th scope="col">Party</th>
              <th scope="col">Kind</th>
              <th scope="col">Name</th>
              <th scope="col">Public</th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr>
                <th scope="row">
                  <a href={`/admin/parties/${encodeURIComponent(p.id)}`}>{p.id}</a>
                </th>
                <td>{p.kind}</td>
                <td>{p.name}</td>
                <td>{p.kind === "contributor" ? (p.public ? "named" : "not named") : "always shown"}</td>
              </tr>
            ))}
          </tbody>
        </table></Wide>
        <h2>New party</h2>
        <Problems answer={failed} />
        <form method="post" action="/admin/parties" class="fields">
          <Csrf session={session} />
          <p>
            <label for="party-id">Id</label>
            <input type="text" id="party-id" name="id" required />
          </p>
          <p>
            <label for="party-kind">Kind</label>
            <select id="party-kind" name="kind">
              {KINDS.map((k) => (
                <option value={k} selected={k === "contributor"}>
                  {k}
                </option>
              ))}
            </select>
          </p>
          <p>
            <label for="party-name">Name</label>
            <input type="text" id="party-name" name="name" required />
          </p>
          <p class="check">
            <input type="checkbox" id="party-public" name="public" value="true" />
            <label for="party-public">Named on the public page</label>
          </p>
          <p>
            <Submit session={session}>Create the party</Submit>
          </p>
        </form>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

catalogPages.get("/parties", (c) => partiesPage(c, c.req.query("done") === "created" ? { kind: "ok", text: "Party created." } : null));

catalogPages.post("/parties", async (c) => {
  const body = { id: (await field(c, "id")) ?? "", kind: (await field(c, "kind")) ?? "", name: (await field(c, "name")) ?? "", public: (await field(c, "public")) === "true" };
  const answer = await c.get("api").send("POST", "/parties", body);
  if (answer.ok) return c.redirect("/admin/parties?done=created", 303);
  return partiesPage(c, errorNotice(answer), answer, answer.status);
});

async function partyPage(c: ConsoleContext, id: string, notice: Notice | null, failed?: ApiAnswer, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<Party>(`/parties/${encodeURIComponent(id)}`);
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Party" session={session} section="/admin/parties" notice={errorNotice(answer)}><p><a href="/admin/parties">Back to the parties</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const p = answer.body;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Party ${p.id}`} session={session} section="/admin/parties" notice={notice}>
        <Problems answer={failed} />
        <form method="post" action={`/admin/parties/${encodeURIComponent(p.id)}`} class="fields">
          <Csrf session={session} />
          <input type="hidden" name="etag" value={answer.etag ?? ""} />
          <p>
            <label for="party-kind">Kind</label>
            <select id="party-kind" name="kind">
              {[...new Set([...KINDS, p.kind])].map((k) => (
                <option value={k} selected={k === p.kind}>
                  {k}
                </option>
              ))}
            </select>
          </p>
          <p>
            <label for="party-name">Name</label>
            <input type="text" id="party-name" name="name" required value={p.name} />
          </p>
          <p class="check">
            <input type="hidden" name="public_shown" value="true" />
            <input type="checkbox" id="party-public" name="public" value="true" checked={p.public} />
            <label for="party-public">Named on the public page</label>
          </p>
          <p>
            <Submit session={session}>Save the party</Submit>
          </p>
        </form>
        <p>
          <a href={`/admin/audit?entity_type=party&entity_id=${encodeURIComponent(p.id)}`}>Its changes in the audit log</a>
        </p>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

catalogPages.get("/parties/:id", (c) => partyPage(c, c.req.param("id"), c.req.query("done") === "saved" ? { kind: "ok", text: "Saved." } : null));

catalogPages.post("/parties/:id", async (c) => {
  const id = c.req.param("id");
  const body = { kind: (await field(c, "kind")) ?? "", name: (await field(c, "name")) ?? "", public: (await field(c, "public")) === "true" };
  const answer = await c.get("api").send("PATCH", `/parties/${encodeURIComponent(id)}`, body, { "if-match": (await field(c, "etag")) ?? "" });
  if (answer.ok) return c.redirect(`/admin/parties/${encodeURIComponent(id)}?done=saved`, 303);
  return partyPage(c, id, errorNotice(answer), answer, answer.status);
});

// ---- offers --------------------------------------------------------------------------------

/** "camille 2" lines, or "camille:2, dominique:1": a contributor and a weight each. */
export function parseContributors(text: string): { party_id: string; weight: number }[] | string {
  const out: { party_id: string; weight: number }[] = [];
  for (const part of text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9_-]*)\s*[: ]\s*(\d{1,7})$/.exec(part);
    if (!m) return `"${part.slice(0, 40)}" is not "party weight" (e.g. "camille 2")`;
    out.push({ party_id: m[1] ?? "", weight: Number(m[2]) });
  }
  return out;
}

const words = (text: string | undefined) => (text ?? "").split(/[\s,]+/).filter(Boolean);

function OfferFields(props: { offer?: Offer; values?: Record<string, string>; creating: boolean }) {
  const v = props.values ?? {};
  const o = props.offer;
  return (
    <>
      {props.creating ? (
        <>
          <p>
            <label for="offer-id">Id</label>
            <input type="text" id="offer-id" name="id" required value={v.id ?? ""} />
          </p>
          <p>
            <label for="offer-kind">Kind</label>
            <select id="offer-kind" name="kind">
              {["training", "hosting"].map((k) => (
                <option value={k} selected={v.kind === k}>
                  {k}
                </option>
              ))}
            </select>
          </p>
        </>
      ) : null}
      <p>
        <label for="offer-name">Name</label>
        <input type="text" id="offer-name" name="name" required value={v.name ?? o?.name ?? ""} />
      </p>
      <p>
        <label for="offer-prices">Stripe prices <span class="hint-text">(price ids, separated by spaces)</span></label>
        <input type="text" id="offer-prices" name="prices" value={v.prices ?? o?.stripe_price_ids.join(" ") ?? ""} />
      </p>
      <p>
        <label for="offer-contributors">Contributors <span class="hint-text">(one per line: party id and weight, e.g. "camille 2")</span></label>
        <textarea id="offer-contributors" name="contributors" rows={4}>
          {v.contributors ?? o?.contributors.map((x) => `${x.party_id} ${x.weight}`).join("\n") ?? ""}
        </textarea>
      </p>
      {props.creating ? null : (
        <p>
          <label for="offer-effective">In force from <span class="hint-text">(UTC; now if empty)</span></label>
          <input type="datetime-local" id="offer-effective" name="effective_from" value={v.effective_from ?? ""} />
        </p>
      )}
      <p>
        <label for="offer-reason">Why <span class="hint-text">(optional)</span></label>
        <input type="text" id="offer-reason" name="reason" value={v.reason ?? ""} />
      </p>
    </>
  );
}

async function offersPage(c: ConsoleContext, notice: Notice | null, failed?: ApiAnswer, values?: Record<string, string>, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<{ offers: Offer[] }>("/offers");
  const list = answer.ok ? answer.body.offers : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Offers" session={session} section="/admin/offers" notice={notice ?? (answer.ok ? null : errorNotice(answer))}>
        <p>What is sold, as it stands now: its Stripe prices and its contributors with their weights.</p>
        <Wide label="Offers">
          <table data-testid="offers">
            <thead>
              <tr>
                <th scope="col">Offer</th>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Prices</th>
                <th scope="col">Contributors</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {list.map((o) => (
                <tr>
                  <th scope="row">
                    <a href={`/admin/offers/${encodeURIComponent(o.id)}`}>{o.id}</a>
                  </th>
                  <td>{o.kind}</td>
                  <td>{o.name}</td>
                  <td class="mono">{o.stripe_price_ids.join(" ")}</td>
                  <td>{o.contributors.map((x) => `${x.party_id} (${x.weight})`).join(", ")}</td>
                  <td>{o.version}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
        <h2>New offer</h2>
        <Problems answer={failed} />
        <form method="post" action="/admin/offers" class="fields">
          <Csrf session={session} />
          <OfferFields creating values={values} />
          <p>
            <Submit session={session}>Create the offer</Submit>
          </p>
        </form>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

catalogPages.get("/offers", (c) => offersPage(c, c.req.query("done") === "created" ? { kind: "ok", text: `Offer ${c.req.query("offer") ?? ""} created. Payments parked for its prices can now be retried from the events inbox.` } : null));

async function offerValues(c: ConsoleContext): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(["id", "kind", "name", "prices", "contributors", "effective_from", "reason"].map(async (k) => [k, (await field(c, k)) ?? ""] as const)));
}

catalogPages.post("/offers", async (c) => {
  const v = await offerValues(c);
  const contributors = parseContributors(v.contributors ?? "");
  if (typeof contributors === "string") return offersPage(c, { kind: "error", text: `Contributors: ${contributors}.` }, undefined, v, 400);
  const answer = await c.get("api").send("POST", "/offers", { id: v.id, kind: v.kind, name: v.name, stripe_price_ids: words(v.prices), contributors, ...(v.reason ? { reason: v.reason } : {}) });
  if (answer.ok) return c.redirect(`/admin/offers?done=created&offer=${encodeURIComponent(v.id ?? "")}`, 303);
  return offersPage(c, errorNotice(answer), answer, v, answer.status);
});

async function offerPage(c: ConsoleContext, id: string, notice: Notice | null, failed?: ApiAnswer, values?: Record<string, string>, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<Offer>(`/offers/${encodeURIComponent(id)}`);
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Offer" session={session} section="/admin/offers" notice={errorNotice(answer)}><p><a href="/admin/offers">Back to the offers</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const o = answer.body;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Offer ${o.id}`} session={session} section="/admin/offers" notice={notice}>
        <p>
          A {o.kind} offer, at version {o.version} since {when(o.effective_from)}. A change is its next version, in force from now or later; payments already made keep the offer as it was.
        </p>
        <Problems answer={failed} />
        <form method="post" action={`/admin/offers/${encodeURIComponent(o.id)}`} class="fields">
          <Csrf session={session} />
          <input type="hidden" name="etag" value={answer.etag ?? ""} />
          <OfferFields offer={o} values={values} creating={false} />
          <p>
            <Submit session={session}>Save as the next version</Submit>
          </p>
        </form>
        <h2>Versions</h2>
        <Wide label="Versions">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">From</th>
                <th scope="col">Name</th>
                <th scope="col">Prices</th>
                <th scope="col">Contributors</th>
                <th scope="col">By</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {[...(o.versions ?? [])].reverse().map((v) => (
                <tr>
                  <th scope="row">{v.version}</th>
                  <td>{v.status.replace("_", " ")}</td>
                  <td>{when(v.effective_from)}</td>
                  <td>{v.name}</td>
                  <td class="mono">{v.stripe_price_ids.join(" ")}</td>
                  <td>{v.contributors.map((x) => `${x.party_id} (${x.weight})`).join(", ")}</td>
                  <td>{v.author}</td>
                  <td>{v.reason ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

catalogPages.get("/offers/:id", (c) => offerPage(c, c.req.param("id"), c.req.query("done") === "saved" ? { kind: "ok", text: "Saved as the offer's next version." } : null));

catalogPages.post("/offers/:id", async (c) => {
  const id = c.req.param("id");
  const v = await offerValues(c);
  const contributors = parseContributors(v.contributors ?? "");
  if (typeof contributors === "string") return offerPage(c, id, { kind: "error", text: `Contributors: ${contributors}.` }, undefined, v, 400);
  const change = { name: v.name, stripe_price_ids: words(v.prices), contributors, ...(v.effective_from ? { effective_from: utcFromLocalInput(v.effective_from) } : {}), ...(v.reason ? { reason: v.reason } : {}) };
  const answer = await c.get("api").send("PATCH", `/offers/${encodeURIComponent(id)}`, change, { "if-match": (await field(c, "etag")) ?? "" });
  if (answer.ok) return c.redirect(`/admin/offers/${encodeURIComponent(id)}?done=saved`, 303);
  return offerPage(c, id, errorNotice(answer), answer, v, answer.status);
});
