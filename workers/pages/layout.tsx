// The frame of every page: language, title, one stylesheet, a skip link, and a footer. Each
// page has exactly one h1, its own.
import type { Child } from "hono/jsx";
import type { Lang } from "../../core";

/** Bumped when site.css or console.js change, so a browser never mixes an old asset with a new page. */
export const ASSET_VERSION = "1";

export function Page(props: { lang: Lang; title: string; skip: string; children: Child; header?: Child; footer?: Child; scripts?: string[]; bodyClass?: string; meta?: { name: string; content: string }[] }) {
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        {(props.meta ?? []).map((m) => (
          <meta name={m.name} content={m.content} />
        ))}
        <link rel="stylesheet" href={`/assets/site.css?v=${ASSET_VERSION}`} />
        {(props.scripts ?? []).map((src) => (
          <script src={`${src}?v=${ASSET_VERSION}`} defer />
        ))}
      </head>
      <body class={props.bodyClass}>
        <a class="skip" href="#main">
          {props.skip}
        </a>
        {props.header}
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        {props.footer}
      </body>
    </html>
  );
}
