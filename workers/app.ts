// The HTTP surface: health, the Stripe webhook, the admin API under /api/v1 (and its public
// part, /api/v1/public), its OpenAPI document and interactive docs, the public page at / and
// the admin console at /admin. Errors of every route become problem+json in `onError`.
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { authenticate, authorize } from "./auth";
import { bench } from "./bench";
import { access } from "./api/access";
import { catalog } from "./api/catalog";
import { ledger } from "./api/ledger";
import { payouts } from "./api/payouts";
import { poolsApi } from "./api/pools";
import { reconciliation } from "./api/reconciliation";
import { apiDocument, newRouter } from "./api/openapi";
import { paymentList } from "./api/payment-list";
import { publicApi } from "./api/public";
import { proposalsApi, publicProposalsApi } from "./api/proposals";
import { rulesApi } from "./api/rules";
import { statements } from "./api/statements";
import { webhookEndpointsApi } from "./api/webhook-endpoints";
import { configurationProblems } from "../workflows/env";
import { docs } from "./docs";
import { adminConsole } from "./pages/admin";
import { publicPages } from "./pages/public";
import { ApiError, problemResponse, type ErrorCode } from "./errors";
import { webhooks } from "./webhooks";

const app = newRouter();

// The worker refuses to serve without its secrets, or with a weak admin token next to a live
// Stripe key, and says which setting is at fault.
app.use("*", async (c, next) => {
  const problems = configurationProblems(c.env);
  if (problems.length > 0) throw new ApiError("misconfigured", problems.join("; "));
  return next();
});

app.get("/health", (c) => c.json({ ok: true }));
app.route("/webhooks", webhooks);
// `npm run bench` only: 404 unless the worker runs with BENCH=1 (workers/bench.ts).
app.route("/__bench", bench);

/** The largest request body the API reads: a rule of 200 lines is a few tens of KiB. */
export const MAX_API_BODY_BYTES = 128 * 1024;

/**
 * What anyone may read without a token: the public page's data, GET only. Everything else under
 * /api/v1 needs a token.
 */
export const PUBLIC_API_PREFIX = "/api/v1/public/";
const isPublicRead = (c: { req: { path: string; method: string } }) => c.req.path.startsWith(PUBLIC_API_PREFIX) && (c.req.method === "GET" || c.req.method === "HEAD");

app.use(
  "/api/v1/*",
  (c, next) => (isPublicRead(c) ? next() : authenticate(c, next)),
  (c, next) => (isPublicRead(c) ? next() : authorize(c, next)),
  // Held while the body is read, in bytes, chunked bodies included.
  bodyLimit({
    maxSize: MAX_API_BODY_BYTES,
    onError: () => {
      throw new ApiError("payload_too_large", `a request body is at most ${MAX_API_BODY_BYTES} bytes`);
    },
  }),
);
app.route("/api/v1", publicProposalsApi);
app.route("/api/v1", catalog);
app.route("/api/v1", ledger);
app.route("/api/v1", paymentList);
app.route("/api/v1", rulesApi);
app.route("/api/v1", access);
app.route("/api/v1", payouts);
app.route("/api/v1", poolsApi);
app.route("/api/v1", statements);
app.route("/api/v1", reconciliation);
app.route("/api/v1", publicApi);
app.route("/api/v1", proposalsApi);
app.route("/api/v1", webhookEndpointsApi);

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", description: "An API token: ADMIN_TOKEN, or one made with POST /api/v1/tokens" });
// The server is the origin the document was asked from: "try it" calls this deployment.
app.doc31("/openapi.json", (c) => apiDocument({ url: new URL(c.req.url).origin, description: "This deployment" }));
app.route("/docs", docs);
app.route("/", publicPages);
// The console calls this same app for every read and change: same authentication, roles, audit.
app.route("/admin", adminConsole((request, env, ctx) => app.fetch(request, env, ctx)));

app.notFound(() => problemResponse(new ApiError("not_found", "no such route")));

app.onError((error, c) => {
  if (error instanceof ApiError) return problemResponse(error, c.req.path);
  if (error instanceof HTTPException) return problemResponse(fromHttpException(error), c.req.path);
  console.error("unexpected error", c.req.method, c.req.path, error instanceof Error ? error.stack : String(error));
  return problemResponse(new ApiError("internal_error", "an unexpected error; it is logged"), c.req.path);
});

/** Hono's own validators throw HTTPException (malformed JSON, wrong content type). */
function fromHttpException(error: HTTPException): ApiError {
  const byStatus: Record<number, ErrorCode> = { 400: "malformed_json", 401: "unauthorized", 404: "not_found", 413: "payload_too_large", 415: "unsupported_media_type" };
  const code = byStatus[error.status] ?? "invalid_request";
  return new ApiError(code, error.message || code.replaceAll("_", " "));
}

export default app;
