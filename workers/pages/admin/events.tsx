// The events inbox: Stripe events by status with why, and a retry for those an admin can start
// again (parked, failed, or due: a stalled run, a start that never happened).
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field } from "./context";
import { ConsolePage, Csrf, Wide, errorNotice, Submit, when, type Notice } from "./layout";

export interface EventView {
  id: string;
  type: string;
  status: string;
  reason: string | null;
  due_at: string | null;
  runs: number;
}

const TABS = ["parked", "failed", "due", "received", "processing", "processed", "ignored"] as const;

/** Retry is offered where the API accepts it: parked, failed, or due now. */
function retryable(e: EventView, nowMs: number): boolean {
  return e.status === "parked" || e.status === "failed" || ((e.status === "received" || e.status === "processing") && e.due_at !== null && Date.parse(e.due_at) <= nowMs);
}

const DONE: Record<string, string> = {
  started: "Retried: a new run of the event started.",
  queued: "Retry queued: the start was refused for now; the scheduled sweep starts it within the minute.",
};

export const events = new Hono<ConsoleEnv>();

events.get("/events", async (c) => {
  const tab = (TABS as readonly string[]).includes(c.req.query("status") ?? "") ? (c.req.query("status") as (typeof TABS)[number]) : "parked";
  const api = c.get("api");
  const answer = await api.get<{ events: EventView[] }>(tab === "due" ? "/events?due=true&limit=200" : `/events?status=${tab}&limit=200`);
  const done = c.req.query("done");
  const notice: Notice | null = !answer.ok ? errorNotice(answer) : done && DONE[done] ? { kind: "ok", text: `${DONE[done]} (${c.req.query("event") ?? ""})` } : null;
  const list = answer.ok ? answer.body.events : [];
  const session = c.get("session");
  const now = Date.now();
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="Events inbox" session={session} section="/admin/events" notice={notice}>
        <p>Every Stripe event as received, with its status and why. Fix the cause of a parked event (add the offer, give it contributors), then retry it.</p>
        <nav aria-label="Event status">
          <ul class="tabs">
            {TABS.map((t) => (
              <li>
                <a href={`/admin/events?status=${t}`} aria-current={t === tab ? "page" : undefined}>
                  {t === "due" ? "due sometime" : t}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {list.length === 0 ? (
          <p>No event is {tab === "due" ? "due" : tab}.</p>
        ) : (
          <Wide label="Events">
            <table data-testid="events">
              <caption class="visually-hidden">Events {tab}</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Due</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr data-event={e.id}>
                    <th scope="row" class="mono">
                      <a href={`/admin/events/${encodeURIComponent(e.id)}`}>{e.id}</a>
                    </th>
                    <td>{e.type}</td>
                    <td>
                      <span class={`status ${e.status}`}>{e.status}</span>
                    </td>
                    <td>{e.reason ?? "—"}</td>
                    <td>{when(e.due_at)}</td>
                    <td>{e.runs}</td>
                    <td>
                      {retryable(e, now) ? (
                        <form method="post" action={`/admin/events/${encodeURIComponent(e.id)}/retry`} class="inline-form">
                          <Csrf session={session} />
                          <input type="hidden" name="back" value={tab} />
                          <Submit session={session}>
                            Retry<span class="visually-hidden"> {e.id}</span>
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
        )}
      </ConsolePage>
    )}`,
  );
});

events.get("/events/:id", async (c) => {
  const id = c.req.param("id");
  const answer = await c.get("api").get<EventView>(`/events/${encodeURIComponent(id)}`);
  const session = c.get("session");
  if (!answer.ok) return c.html(html`<!doctype html>${(<ConsolePage title="Event" session={session} section="/admin/events" notice={errorNotice(answer)}><p><a href="/admin/events">Back to the inbox</a></p></ConsolePage>)}`, answer.status === 404 ? 404 : 400);
  const e = answer.body;
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title={`Event ${e.id}`} session={session} section="/admin/events">
        <Wide label="Event"><table>
          <tbody>
            <tr><th scope="row">Type</th><td>{e.type}</td></tr>
            <tr><th scope="row">Status</th><td><span class={`status ${e.status}`}>{e.status}</span></td></tr>
            <tr><th scope="row">Reason</th><td>{e.reason ?? "—"}</td></tr>
            <tr><th scope="row">Due</th><td>{when(e.due_at)}</td></tr>
            <tr><th scope="row">Runs</th><td>{e.runs}</td></tr>
          </tbody>
        </table></Wide>
        <h2>Retry</h2>
        <p>Only a parked, failed, stalled or unstarted event can be retried. For a payment no rule version covered when it was paid, you may name the version to split it by, with a reason (audited).</p>
        <form method="post" action={`/admin/events/${encodeURIComponent(e.id)}/retry`} class="fields">
          <Csrf session={session} />
          <p>
            <label for="rule_id">Rule id <span class="hint-text">(optional)</span></label>
            <input type="text" id="rule_id" name="rule_id" />
          </p>
          <p>
            <label for="version">Its version <span class="hint-text">(with a rule id)</span></label>
            <input type="number" id="version" name="version" min="1" step="1" />
          </p>
          <p>
            <label for="reason">Reason <span class="hint-text">(needed with a rule)</span></label>
            <input type="text" id="reason" name="reason" />
          </p>
          <p>
            <Submit session={session}>Retry this event</Submit>
          </p>
        </form>
      </ConsolePage>
    )}`,
  );
});

events.post("/events/:id/retry", async (c) => {
  const id = c.req.param("id");
  const ruleId = await field(c, "rule_id");
  const version = await field(c, "version");
  const reason = await field(c, "reason");
  const body: Record<string, unknown> = {};
  if (ruleId !== undefined) body.rule = { rule_id: ruleId, version: Number(version) };
  if (reason !== undefined) body.reason = reason;
  const answer = await c.get("api").send<{ outcome: string }>("POST", `/events/${encodeURIComponent(id)}/retry`, body);
  const back = (await field(c, "back")) ?? "parked";
  if (answer.ok) return c.redirect(`/admin/events?status=${encodeURIComponent(back)}&done=${answer.body.outcome}&event=${encodeURIComponent(id)}`, 303);
  const session = c.get("session");
  return c.html(
    html`<!doctype html>${(
      <ConsolePage title="The event was not retried" session={session} section="/admin/events" notice={errorNotice(answer)}>
        <p>
          <a href={`/admin/events/${encodeURIComponent(id)}`}>Back to the event</a> · <a href="/admin/events">Back to the inbox</a>
        </p>
      </ConsolePage>
    )}`,
    answer.status as 400,
  );
});
