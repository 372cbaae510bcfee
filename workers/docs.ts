// GET /docs: the API reference, with nothing from outside this origin. The page is a shell;
// Swagger UI (copied from the swagger-ui-dist package by `npm install`) and the script that
// starts it are static assets under /docs/ (wrangler.toml, [assets]). The CSP lets the page
// run only those same-origin scripts and talk only to this origin, so a bearer token typed
// into it meets no third-party script and goes nowhere else.
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Env } from "../workflows/env";

/** Where the static assets put the viewer: public/docs/ in the repository. swagger-ui.css
 * uses the system's fonts, so default-src 'none' forbids fonts and nothing needs them. */
const DOCS_SCRIPTS = ["/docs/swagger-ui/swagger-ui-bundle.js", "/docs/start.js"] as const;
const DOCS_STYLESHEET = "/docs/swagger-ui/swagger-ui.css";

const SELF = "'self'";
const NONE = "'none'";

export const docs = new Hono<{ Bindings: Env }>();

docs.get(
  "/",
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: [NONE],
      scriptSrc: [SELF],
      styleSrc: [SELF],
      // swagger-ui.css draws its icons as data: SVG images (an <img> or a CSS image runs no script).
      imgSrc: [SELF, "data:"],
      connectSrc: [SELF],
      frameAncestors: [NONE],
      objectSrc: [NONE],
      baseUri: [NONE],
      formAction: [NONE],
    },
    xFrameOptions: "DENY",
  }),
  (c) => c.html(page),
);

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pot Commun API</title>
<link rel="stylesheet" href="${DOCS_STYLESHEET}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<noscript><p>The API reference needs JavaScript; the OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
${DOCS_SCRIPTS.map((src) => `<script src="${src}"></script>`).join("\n")}
</body>
</html>
`;
