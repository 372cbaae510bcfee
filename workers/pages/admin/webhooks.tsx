// Outgoing webhooks: the endpoints told what happens to proposals (made with the signing secret
// shown once, deleted), and each endpoint's deliveries with every attempt.
import { Hono } from "hono";
import { html } from "hono/html";
import { WEBHOOK_EVENT_TYPES } from "../../../workflows/outgoing-webhooks";
import { type ApiAnswer, type ConsoleContext, type ConsoleEnv, type Problem } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  party_id: string | null;
  description: string | null;
  created_by: string;
  created_at: string;
  disabled_at: string | null;
}

interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  proposal_id: string | null;
  status: string;
  attempts: { attempt: number; at: string; status_code: number | null; error: string | null; duration_ms: number }[];
  created_at: string;
  delivered_at: string | null;
  payload: string;
}

const ENDPOINT_ID = /^whe_[0-9a-f]{16}$/;

export const webhookPages = new Hono<ConsoleEnv>();

async function endpointsPage(c: ConsoleContext, extra: { notice?: Notice | null; created?: Endpoint & { secret: string }; failed?: ApiAnswer }, status = 200) {
  const session = c.get("session");
  const showDeleted = c.req.query("deleted") === "true";
  const answer = await c.get("api").get<{ endpoints: Endpoint[] }>(`/webhook-endpoints?include_deleted=${showDeleted}`);
  const list = answer.ok ? answer.body.endpoints : [];
  const errors = (extra.failed?.body as Problem | null)?.errors ?? [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Outgoing webhooks" session={session} section="/admin/webhooks" notice={extra.notice ?? (answer.ok ? null : errorNotice(answer))}>
        {extra.created ? (
          <section aria-labelledby="secret-title" class="notice ok">
            <h2 id="secret-title">The signing secret of {extra.created.url}</h2>
            <p>Copy it now into the receiver: it is shown this once. Each delivery carries a <code>Pot-Commun-Signature</code> header made with it.</p>
            <p class="secret" data-testid="secret">
              {extra.created.secret}
            </p>
          </section>
        ) : null}
        <p>Every event of the types an endpoint listens to is POSTed to its URL as JSON, signed with its secret, and retried with backoff until the receiver answers 2xx (11 attempts over about 17 hours).</p>
        <p>
          {showDeleted ? <a href="/admin/webhooks">Hide the deleted endpoints</a> : <a href="/admin/webhooks?deleted=true">Show the deleted endpoints too</a>}
        </p>
        {list.length === 0 ? (
          <p>No endpoint{showDeleted ? "" : " listens now"}.</p>
        ) : (
          <Wide label="Endpoints">
            <table data-testid="endpoints">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Party</th>
                  <th scope="col">Description</th>
                  <th scope="col">Made</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr data-endpoint={e.id}>
                    <th scope="row" class="mono">
                      <a href={`/admin/webhooks/${encodeURIComponent(e.id)}`}>{e.id}</a>
                    </th>
                    <td class="mono">{e.url}</td>
                    <td>{e.events.join(", ")}</td>
                    <td>{e.party_id ?? "every party"}</td>
                    <td>{e.description ?? "—"}</td>
                    <td>
                      {when(e.created_at)} by {e.created_by}
                    </td>
                    <td>
                      {e.disabled_at === null ? (
                        <form method="post" action={`/admin/webhooks/${encodeURIComponent(e.id)}/delete`} class="inline-form">
                          <Csrf session={session} />
                          <Submit session={session} class="danger">
                            Delete<span class="visually-hidden"> {e.url}</span>
                          </Submit>
                        </form>
                      ) : (
                        `deleted ${when(e.disabled_at)}`
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
        <h2>New endpoint</h2>
        {errors.length > 0 ? (
          <ul data-testid="problems">
            {errors.map((e) => (
              <li>
                <code>{e.path}</code>: {e.message}
              </li>
            ))}
          </ul>
        ) : null}
        <form method="post" action="/admin/webhooks" class="fields">
          <Csrf session={session} />
          <p>
            <label for="endpoint-url">URL <span class="hint-text">(https; http only for localhost)</span></label>
            <input type="url" id="endpoint-url" name="url" required />
          </p>
          <fieldset>
            <legend>Events</legend>
            {WEBHOOK_EVENT_TYPES.map((t) => (
              <p class="check">
                <input type="checkbox" id={`event-${t}`} name="events" value={t} checked />
                <label for={`event-${t}`}>{t}</label>
              </p>
            ))}
          </fieldset>
          <p>
            <label for="endpoint-party">Party <span class="hint-text">(optional: only proposals that affect this party)</span></label>
            <input type="text" id="endpoint-party" name="party_id" />
          </p>
          <p>
            <label for="endpoint-description">Description <span class="hint-text">(optional)</span></label>
            <input type="text" id="endpoint-description" name="description" maxlength={200} />
          </p>
          <p>
            <Submit session={session}>Add the endpoint</Submit>
          </p>
        </form>
      </ConsolePage>
    )}`,
    status as 200,
  );
}

webhookPages.get("/webhooks", (c) => endpointsPage(c, { notice: c.req.query("done") === "deleted" ? { kind: "ok", text: "Endpoint deleted: nothing more is sent to it; its deliveries stay readable." } : null }));

webhookPages.post("/webhooks", async (c) => {
  const form = await c.req.parseBody({ all: true });
  const text = (name: string) => {
    const v = form[name];
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const raw = form.events;
  const events = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((e): e is string => typeof e === "string");
  const party = text("party_id");
  const description = text("description");
  const body = { url: text("url") ?? "", events, ...(party ? { party_id: party } : {}), ...(description ? { description } : {}) };
  const answer = await c.get("api").send<Endpoint & { secret: string }>("POST", "/webhook-endpoints", body);
  // The secret is on this answer only (no redirect, nothing cached: see consolePageHeaders).
  if (answer.ok) return endpointsPage(c, { created: answer.body }, 201);
  return endpointsPage(c, { notice: errorNotice(answer), failed: answer }, answer.status);
});

webhookPages.post("/webhooks/:id/delete", async (c) => {
  const answer = await c.get("api").send("DELETE", `/webhook-endpoints/${encodeURIComponent(c.req.param("id"))}`);
  if (answer.ok) return c.redirect("/admin/webhooks?done=deleted", 303);
  return endpointsPage(c, { notice: errorNotice(answer) }, answer.status);
});

webhookPages.get("/webhooks/:id", async (c) => {
  const session = c.get("session");
  const id = c.req.param("id");
  const api = c.get("api");
  const [endpoints, deliveries] = ENDPOINT_ID.test(id)
    ? await Promise.all([api.get<{ endpoints: Endpoint[] }>("/webhook-endpoints?include_deleted=true"), api.get<{ deliveries: Delivery[] }>(`/webhook-deliveries?endpoint_id=${id}&limit=100`)])
    : [null, null];
  const endpoint = endpoints?.ok ? endpoints.body.endpoints.find((e) => e.id === id) : undefined;
  if (!endpoint || !deliveries) {
    const notice: Notice = endpoints && !endpoints.ok ? errorNotice(endpoints) : { kind: "error", text: `No webhook endpoint ${id}.` };
    return c.html(html`<!doctype html>${(<ConsolePage title="Webhook endpoint" session={session} section="/admin/webhooks" notice={notice}><p><a href="/admin/webhooks">Back to the endpoints</a></p></ConsolePage>)}`, 404);
  }
  const list = deliveries.ok ? deliveries.body.deliveries : [];
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Webhook endpoint ${endpoint.id}`} session={session} section="/admin/webhooks" notice={deliveries.ok ? null : errorNotice(deliveries)}>
        <p>
          <span class="mono">{endpoint.url}</span>, for {endpoint.events.join(", ")}
          {endpoint.party_id ? `, about ${endpoint.party_id}` : ""}
          {endpoint.disabled_at ? `; deleted ${when(endpoint.disabled_at)}` : ""}. <a href="/admin/webhooks">All endpoints</a>
        </p>
        <h2>Deliveries</h2>
        {list.length === 0 ? (
          <p>Nothing was sent to it yet.</p>
        ) : (
          <Wide label="Deliveries">
            <table data-testid="deliveries">
              <thead>
                <tr>
                  <th scope="col">Delivery</th>
                  <th scope="col">Event</th>
                  <th scope="col">Proposal</th>
                  <th scope="col">Status</th>
                  <th scope="col">Made</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Attempts</th>
                </tr>
              </thead>
              <tbody>
                {list.map((d) => (
                  <tr data-delivery={d.id}>
                    <th scope="row" class="mono">
                      {d.id}
                    </th>
                    <td>{d.event_type}</td>
                    <td class="mono">{d.proposal_id ?? "—"}</td>
                    <td>
                      <span class={`status ${d.status}`}>{d.status}</span>
                    </td>
                    <td>{when(d.created_at)}</td>
                    <td>{when(d.delivered_at)}</td>
                    <td>
                      <details>
                        <summary>
                          {d.attempts.length} attempt(s)<span class="visually-hidden"> of {d.id}</span>
                        </summary>
                        <ol>
                          {d.attempts.map((a) => (
                            <li>
                              {when(a.at)}: {a.status_code === null ? `no answer (${a.error ?? "unknown"})` : `HTTP ${a.status_code}${a.error ? ` (${a.error})` : ""}`}, {a.duration_ms} ms
                            </li>
                          ))}
                        </ol>
                        <pre>{d.payload}</pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Wide>
        )}
      </ConsolePage>
    )}`,
  );
});
