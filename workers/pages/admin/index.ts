// The admin console at /admin: sign in, then every admin task of the README, each through the
// API (context.ts). Headers: a strict CSP with the console's one script, nothing cached.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { consolePageHeaders } from "../security";
import { accessPages } from "./access";
import { catalogPages } from "./catalog";
import { requireSession, type ApiFetch, type ConsoleEnv } from "./context";
import { events } from "./events";
import { ledgerPages } from "./ledger";
import { login } from "./login";
import { rulePages } from "./rules";

/** A console form is small: a rule of 200 lines is tens of KiB. */
const MAX_FORM_BYTES = 128 * 1024;

export function adminConsole(apiFetch: ApiFetch) {
  const admin = new Hono<ConsoleEnv>();
  admin.use("*", ...consolePageHeaders, bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text(`A console form is at most ${MAX_FORM_BYTES} bytes.`, 413) }));
  admin.route("/", login);
  admin.use("*", requireSession(apiFetch));
  admin.route("/", ledgerPages);
  admin.route("/", events);
  admin.route("/", rulePages);
  admin.route("/", catalogPages);
  admin.route("/", accessPages);
  return admin;
}
