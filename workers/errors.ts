// One error type, thrown where the problem is found and turned into an RFC 9457
// problem+json response in one place (`problemResponse`). Codes are stable; the
// status comes from the code through an exhaustive switch.

export type ErrorCode =
  | "invalid_request"
  | "malformed_json"
  | "unsupported_media_type"
  | "invalid_signature"
  | "invalid_event"
  | "unauthorized"
  | "forbidden"
  | "csrf_failed"
  | "not_found"
  | "conflict"
  | "proposal_pending"
  | "proposal_closed"
  | "not_affected"
  | "self_approval"
  | "precondition_required"
  | "precondition_failed"
  | "invalid_rule"
  | "limit_exceeded"
  | "payload_too_large"
  | "misconfigured"
  | "internal_error";

export function statusOf(code: ErrorCode): 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 428 | 500 | 503 {
  switch (code) {
    case "invalid_request":
    case "malformed_json":
    case "invalid_signature":
    case "invalid_event":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
    case "csrf_failed":
    case "not_affected":
    case "self_approval":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
    case "proposal_pending":
    case "proposal_closed":
      return 409;
    case "precondition_failed":
      return 412;
    case "payload_too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "invalid_rule":
    case "limit_exceeded":
      return 422;
    case "precondition_required":
      return 428;
    case "misconfigured":
      return 503;
    case "internal_error":
      return 500;
  }
}

export interface FieldError {
  path: string;
  message: string;
  code?: string;
}

export class ApiError extends Error {
  readonly status: ReturnType<typeof statusOf>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiError";
    this.status = statusOf(code);
  }
}

export function problemResponse(error: ApiError, instance?: string): Response {
  const body = {
    type: `https://pot-commun.coop/problems/${error.code}`,
    title: error.code.replaceAll("_", " "),
    status: error.status,
    code: error.code,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...(error.errors.length > 0 ? { errors: error.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/problem+json" },
  });
}
