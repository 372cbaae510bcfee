// Headers of the HTML pages. A strict Content-Security-Policy: nothing from another origin,
// no inline script or style at all (the pages' CSS and the console's one script are static
// assets under /assets/), forms posting only here, never framed. The public page runs no
// script at all. Hono's JSX escapes every text and attribute it writes.
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";

const SELF = "'self'";
const NONE = "'none'";

function policy(scripts: boolean) {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: [NONE],
      scriptSrc: scripts ? [SELF] : [NONE],
      styleSrc: [SELF],
      imgSrc: [SELF],
      connectSrc: scripts ? [SELF] : [NONE],
      formAction: [SELF],
      frameAncestors: [NONE],
      baseUri: [NONE],
      objectSrc: [NONE],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "same-origin",
    // A page that may hold a secret (a token just created) is not kept by a proxy or the back button's cache.
  });
}

/** The public page: no script. */
export const publicPageHeaders = policy(false);

/** The console: its own script, its own API, nothing cached. */
export const consolePageHeaders = [
  policy(true),
  createMiddleware(async (c, next) => {
    await next();
    c.header("cache-control", "no-store");
  }),
] as const;
