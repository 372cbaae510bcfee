// The console's frame: navigation, who is signed in, the sign-out form, and a notice. Every
// form carries the session's CSRF token; a viewer's submit buttons are disabled and say why
// (the API would answer 403 anyway).
import type { Child } from "hono/jsx";
import type { Session } from "../../session";
import { Page } from "../layout";
import type { ApiAnswer } from "./context";
import { problemText } from "./context";

export const SECTIONS = [
  ["/admin", "Overview"],
  ["/admin/events", "Events"],
  ["/admin/payments", "Payments"],
  ["/admin/balances", "Balances"],
  ["/admin/rules", "Rules"],
  ["/admin/parties", "Parties"],
  ["/admin/offers", "Offers"],
  ["/admin/tokens", "Tokens"],
  ["/admin/audit", "Audit log"],
] as const;

export type Section = (typeof SECTIONS)[number][0];

export type NoticeKind = "ok" | "error";
export interface Notice {
  kind: NoticeKind;
  text: string;
}

/** A problem answer as a notice. */
export function errorNotice(answer: ApiAnswer): Notice {
  return { kind: "error", text: problemText(answer) };
}

export function ConsolePage(props: { title: string; session: Session; section: Section; notice?: Notice | null; children: Child; scripts?: boolean }) {
  const { session } = props;
  const viewer = session.principal.role !== "admin";
  return (
    <Page
      lang="en"
      title={`${props.title} · Pot Commun console`}
      skip="Skip to the content"
      bodyClass="console"
      scripts={props.scripts ? ["/assets/console.js"] : []}
      meta={[{ name: "csrf-token", content: session.csrf }]}
      header={
        <header class="site">
          <p class="brand">
            <a href="/admin">Pot Commun console</a>
          </p>
          <nav aria-label="Console">
            <ul>
              {SECTIONS.map(([href, label]) => (
                <li>
                  <a href={href} aria-current={href === props.section ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="whoami">
            <span data-testid="whoami">
              Signed in as {session.principal.actor} ({session.principal.role})
            </span>
            <form method="post" action="/admin/logout" class="inline-form">
              <Csrf session={session} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          </div>
        </header>
      }
      footer={
        <footer class="site">
          <ul>
            <li>
              <a href="/">Public page</a>
            </li>
            <li>
              <a href="/docs">API reference</a>
            </li>
          </ul>
        </footer>
      }
    >
      <h1>{props.title}</h1>
      {viewer ? (
        <p class="notice" id="viewer-note" role="note">
          You are signed in with a viewer token: you can see everything and change nothing.
        </p>
      ) : null}
      {props.notice ? (
        <p class={`notice ${props.notice.kind}`} role={props.notice.kind === "error" ? "alert" : "status"} data-testid="notice">
          {props.notice.text}
        </p>
      ) : null}
      {props.children}
    </Page>
  );
}

export function Csrf(props: { session: Session }) {
  return <input type="hidden" name="_csrf" value={props.session.csrf} />;
}

/** A submit button that a viewer sees disabled, with the reason. */
export function Submit(props: { session: Session; children: Child; class?: string; name?: string; value?: string; formaction?: string; computes?: boolean; id?: string }) {
  // Previews and what-ifs store nothing: viewers may run them.
  const disabled = !props.computes && props.session.principal.role !== "admin";
  return (
    <button type="submit" class={props.class} name={props.name} value={props.value} formaction={props.formaction} id={props.id} disabled={disabled} aria-describedby={disabled ? "viewer-note" : undefined}>
      {props.children}
    </button>
  );
}

/** Milliseconds or ISO as "2026-10-01 09:30:00 UTC". */
export function when(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const iso = typeof value === "number" ? new Date(value).toISOString() : value;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** A wide table: it scrolls sideways on a narrow screen, and a keyboard can reach it to scroll it. */
export function Wide(props: { label: string; children: Child }) {
  return (
    <div class="table-scroll" tabindex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}
