// What to do when a step fails: wait and try again (the network, Stripe's rate limit or its
// own errors, a busy database) or stop at once and park the event with a reason an admin can
// act on (a broken invariant, a programming error, Stripe refusing the request). Reasons are
// short sentences: never SQL, bound parameters, a stack, or a customer's personal data.

/** A problem that retrying will not fix: the event is parked with this reason. */
export class PermanentPaymentProblem extends Error {
  override readonly name = "PermanentPaymentProblem";
}

/** Something Stripe will have a little later (a charge's balance transaction): try again. */
export class NotYetAtStripe extends Error {
  override readonly name = "NotYetAtStripe";
}

export type Failure =
  | { readonly transient: true; readonly reason: string; /** Seconds Stripe asked us to wait (Retry-After), if it did. */ readonly retry_after_s: number | null }
  | { readonly transient: false; readonly reason: string };

/** Longest wait we honour from a Retry-After header; a longer one is waited this long. */
export const MAX_RETRY_AFTER_S = 60;
const MAX_REASON = 300;

interface StripeLikeError {
  type?: unknown;
  statusCode?: unknown;
  code?: unknown;
  message: string;
  headers?: Record<string, unknown>;
}

const STRIPE_TRANSIENT_TYPES = new Set(["StripeConnectionError", "StripeRateLimitError", "StripeAPIError"]);
// A rotated or under-permitted key is fixed by an operator; then the runs that waited finish.
const STRIPE_KEY_TYPES = new Set(["StripeAuthenticationError", "StripePermissionError"]);

function isStripeError(error: Error): error is Error & StripeLikeError {
  const type = (error as StripeLikeError).type;
  return typeof type === "string" && type.startsWith("Stripe");
}

function header(error: StripeLikeError, name: string): string | undefined {
  const value = error.headers?.[name];
  return typeof value === "string" ? value : undefined;
}

function retryAfterSeconds(error: StripeLikeError): number | null {
  const raw = header(error, "retry-after");
  if (raw === undefined) return null;
  const seconds = /^\d+$/.test(raw.trim()) ? Number(raw) : Math.ceil((Date.parse(raw) - Date.now()) / 1000);
  if (!Number.isFinite(seconds)) return null;
  return Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_S);
}

function shorten(text: string): string {
  const line = text.split("\n")[0]?.trim() ?? "";
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}

function stripeFailure(error: Error & StripeLikeError): Failure {
  const status = typeof error.statusCode === "number" ? error.statusCode : null;
  const code = typeof error.code === "string" ? ` ${error.code}` : "";
  const reason = shorten(`Stripe answered ${status ?? "without a status"}${code}: ${error.message}`);
  const shouldRetry = header(error, "stripe-should-retry");
  if (shouldRetry === "false") return { transient: false, reason };
  const transient =
    shouldRetry === "true" || STRIPE_TRANSIENT_TYPES.has(String(error.type)) || STRIPE_KEY_TYPES.has(String(error.type)) || status === null || status === 429 || status >= 500 || status === 401 || status === 403;
  return transient ? { transient: true, reason, retry_after_s: retryAfterSeconds(error) } : { transient: false, reason };
}

/** A database error that a later try can get past: busy, locked, a lost connection, an overload. */
function isPassingDatabaseError(message: string): boolean {
  return /SQLITE_BUSY|database is locked|Network connection lost|storage operation exceeded|overloaded|reset because its code was updated|internal error|timed? ?out/i.test(message);
}

/**
 * The error a database wrapper stands for: drizzle wraps D1's error in a DrizzleQueryError whose
 * message is "Failed query: <the SQL>\nparams: <the parameters>" (its `name` stays "Error", so
 * the message is what tells it), with D1's error as its cause.
 */
function underlying(error: Error): Error {
  const wrapped = (e: Error) => e.message.startsWith("Failed query:");
  let e: Error = error;
  for (let depth = 0; depth < 5 && wrapped(e) && e.cause instanceof Error; depth++) e = e.cause;
  if (wrapped(e)) return new Error("a database query failed");
  return e;
}

export function classifyFailure(error: unknown): Failure {
  if (!(error instanceof Error)) return { transient: false, reason: "a programming error: something other than an Error was thrown" };
  if (error instanceof PermanentPaymentProblem) return { transient: false, reason: shorten(error.message) };
  if (error instanceof NotYetAtStripe) return { transient: true, reason: shorten(error.message), retry_after_s: null };
  // Two movements on one payment read the same state; the one that lost reads it again.
  if (error.name === "MoneyBackContended") return { transient: true, reason: shorten(error.message), retry_after_s: null };
  if (isStripeError(error)) return stripeFailure(error);
  const e = underlying(error);
  if (e.name === "InvariantError") return { transient: false, reason: shorten(`a broken invariant: ${e.message}`) };
  if (/^D1_|D1 /.test(e.message) || isPassingDatabaseError(e.message)) {
    return isPassingDatabaseError(e.message) ? { transient: true, reason: shorten(`the database: ${e.message}`), retry_after_s: null } : { transient: false, reason: shorten(`the database refused the write: ${e.message}`) };
  }
  // A SyntaxError from JSON.parse quotes the text it read, which may be a customer's: name it only.
  const detail = e.name === "SyntaxError" ? "" : `: ${e.message}`;
  return { transient: false, reason: shorten(`a programming error (${e.name})${detail}`) };
}

/**
 * Why a run stopped once a step's retries ran out. What reaches there was thrown by a step
 * as an already-clean sentence (see the workflow) or by the platform (a step's timeout).
 */
export function describeExhausted(error: unknown): string {
  return error instanceof Error ? shorten(`retries ran out: ${error.message}`) : "retries ran out";
}

/** A short description of any error for a log line or an answer: the same sentence as a reason. */
export function describeError(error: unknown): string {
  return classifyFailure(error).reason;
}
