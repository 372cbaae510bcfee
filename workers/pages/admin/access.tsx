// Tokens (made, shown once, revoked) and the audit log.
import { Hono } from "hono";
import { html } from "hono/html";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, field } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

interface Token {
  id: string;
  name: string;
  role: "admin" | "viewer" | "party";
  party_id: string | null;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

export const accessPages = new Hono<ConsoleEnv>();

async function tokensPage(c: ConsoleContext, extra: { notice?: Notice | null; created?: { id: string; token: string; name: string; role: string } }, status = 200) {
  const session = c.get("session");
  const answer = await c.get("api").get<{ tokens: Token[] }>("/tokens");
  const list = answer.ok ? answer.body.tokens : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Tokens" session={session} section="/admin/tokens" notice={extra.notice ?? (answer.ok ? null : errorNotice(answer))}>
        {extra.created ? (
          <section aria-labelledby="secret-title" class="notice ok">
            <h2 id="secret-title">The token for “{extra.created.name}” ({extra.created.role})</h2>
            <p>Copy it now: it is shown this once and stored only as a hash.</p>
            <p class="secret" data-testid="secret">
              {extra.created.token}
            </p>
          </section>
        ) : null}
        <p>An admin token changes rules, parties, offers and tokens; a viewer token reads everything and changes nothing; a party token speaks for one party through the API (its balances, its statement, its needs in pools) and cannot sign in here. The bootstrap ADMIN_TOKEN is not listed.</p>
        <Wide label="Tokens">
          <table data-testid="tokens">
            <thead>
              <tr>
                <th scope="col">Token</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Made by</th>
                <th scope="col">Made</th>
                <th scope="col">Revoked</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr>
                  <th scope="row" class="mono">
                    {t.id}
                  </th>
                  <td>{t.name}</td>
                  <td>{t.role === "party" ? `party (${t.party_id ?? ""})` : t.role}</td>
                  <td>{t.created_by}</td>
                  <td>{when(t.created_at)}</td>
                  <td>{when(t.revoked_at)}</td>
                  <td>
                    {t.revoked_at === null ? (
                      <form method="post" action={`/admin/tokens/${encodeURIComponent(t.id)}/revoke`} class="inline-form">
                        <Csrf session={session} />
                        <Submit session={session} class="danger">
                          Revoke<span class="visually-hidden"> {t.name}</span>
                        </Submit>
                      </form>
                    ) : (
                      "—"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
        <h2>New token</h2>
        <form method="post" action="/admin/tokens" class="fields">
          <Csrf session={session} />
          <p>
            <label for="token-name">Name <span class="hint-text">(who or what will use it)</span></label>
            <input type="text" id="token-name" name="name" required />
          </p>
          <p>
            <label for="token-role">Role</label>
            <select id="token-role" name="role">
              <option value="viewer">viewer</option>
              <option value="admin">admin</option>
              <option value="party">party</option>
            </select>
          </p>
          <p>
            <label for="token-party">Party <span class="hint-text">(a party token's party id; only with role party)</span></label>
            <input type="text" id="token-party" name="party_id" />
          </p>
          <p>
            <Submit session={session}>Make the token</Submit>
          </p>
        </form>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

accessPages.get("/tokens", (c) => tokensPage(c, { notice: c.req.query("done") === "revoked" ? { kind: "ok", text: "Token revoked: it no longer opens the API or a session." } : null }));

accessPages.post("/tokens", async (c) => {
  const party = await field(c, "party_id");
  const answer = await c.get("api").send<{ id: string; token: string; name: string; role: string }>("POST", "/tokens", { name: (await field(c, "name")) ?? "", role: (await field(c, "role")) ?? "", ...(party === undefined ? {} : { party_id: party }) });
  // The secret is on this answer only (no redirect, nothing cached: see consolePageHeaders).
  if (answer.ok) return tokensPage(c, { created: answer.body }, 201);
  return tokensPage(c, { notice: errorNotice(answer) }, answer.status);
});

accessPages.post("/tokens/:id/revoke", async (c) => {
  const answer = await c.get("api").send("DELETE", `/tokens/${encodeURIComponent(c.req.param("id"))}`);
  if (answer.ok) return c.redirect("/admin/tokens?done=revoked", 303);
  return tokensPage(c, { notice: errorNotice(answer) }, answer.status);
});

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
}

const ENTITY_TYPES = ["rule", "party", "offer", "token", "event"] as const;

accessPages.get("/audit", async (c) => {
  const q = new URLSearchParams();
  const type = c.req.query("entity_type");
  const id = c.req.query("entity_id");
  const before = c.req.query("before");
  if (type && (ENTITY_TYPES as readonly string[]).includes(type)) q.set("entity_type", type);
  if (id) q.set("entity_id", id);
  if (before && /^\d{1,12}$/.test(before)) q.set("before", before);
  q.set("limit", "50");
  const answer: ApiAnswer<{ entries: AuditEntry[]; next_before: number | null }> = await c.get("api").get(`/audit?${q}`);
  const list = answer.ok ? answer.body.entries : [];
  const next = answer.ok && answer.body.next_before !== null ? new URLSearchParams({ ...Object.fromEntries(q), before: String(answer.body.next_before) }) : null;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Audit log" session={c.get("session")} section="/admin/audit" notice={answer.ok ? null : errorNotice(answer)}>
        <form method="get" action="/admin/audit" class="picker">
          <p>
            <label for="entity_type">What</label>
            <select id="entity_type" name="entity_type">
              <option value="">everything</option>
              {ENTITY_TYPES.map((t) => (
                <option value={t} selected={t === type}>
                  {t}
                </option>
              ))}
            </select>
          </p>
          <p>
            <label for="entity_id">Id</label>
            <input type="text" id="entity_id" name="entity_id" value={id ?? ""} />
          </p>
          <p>
            <button type="submit">Filter</button>
          </p>
        </form>
        <Wide label="Audit log">
          <table data-testid="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">On</th>
                <th scope="col">Before and after</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr>
                  <th scope="row">{when(e.at)}</th>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>
                    {e.entity_type} <span class="mono">{e.entity_id}</span>
                  </td>
                  <td>
                    <details>
                      <summary>Show<span class="visually-hidden"> entry {e.id}</span></summary>
                      <pre>{JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Wide>
        {next ? (
          <p>
            <a href={`/admin/audit?${next}`}>Older entries</a>
          </p>
        ) : null}
      </ConsolePage>
    )}`,
  );
});
