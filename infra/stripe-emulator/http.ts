/**
 * What the emulator's routes share about HTTP: Stripe's error bodies, JSON answers, and the
 * form encoding the stripe SDK sends on POST (`metadata[key]=v`, `enabled_events[0]=x`).
 * Web-standard only.
 */

export interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

export function invalid(message: string, param?: string, code?: string): StripeHttpError {
  return new StripeHttpError(400, { type: "invalid_request_error", message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
}

export function missing(type: string, id: string, param = "id"): StripeHttpError {
  return new StripeHttpError(404, {
    type: "invalid_request_error",
    code: "resource_missing",
    doc_url: "https://stripe.com/docs/error-codes/resource-missing",
    message: `No such ${type}: '${id}'`,
    param,
  });
}

/**
 * Stripe's errors that a test may ask a fault to answer by code alone (`error: { code }`): the
 * message and doc_url Stripe gives them. `balance_insufficient`'s message is Stripe's; the others'
 * are the emulator's wording of what Stripe's error-code reference says.
 */
export const KNOWN_ERRORS: Record<string, Omit<StripeErrorBody, "type"> & { type?: string }> = {
  balance_insufficient: {
    code: "balance_insufficient",
    doc_url: "https://stripe.com/docs/error-codes/balance-insufficient",
    message: "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
  },
  account_invalid: {
    code: "account_invalid",
    doc_url: "https://stripe.com/docs/error-codes/account-invalid",
    param: "destination",
    message: "The account ID provided in the Stripe-Account header or as the destination is invalid: check that it is a connected account of this platform.",
  },
  insufficient_capabilities_for_transfer: {
    code: "insufficient_capabilities_for_transfer",
    doc_url: "https://stripe.com/docs/error-codes/insufficient-capabilities-for-transfer",
    param: "destination",
    message: "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
  },
  idempotency_key_in_use: {
    type: "idempotency_error",
    code: "idempotency_key_in_use",
    message: "There is currently another in-progress request using this Idempotent Key (probably a network retry). Please try again later.",
  },
};

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function errorResponse(err: StripeHttpError): Response {
  return json({ error: err.body }, err.status, err.headers);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export type FormValue = string | FormValue[] | { [key: string]: FormValue };

/**
 * A form body as Stripe reads it: `a=1&b[c]=2&d[0]=x&d[1]=y` → `{ a: "1", b: { c: "2" }, d: ["x", "y"] }`.
 * Indexed keys (`d[0]`) and empty brackets (`d[]`) make arrays; every value stays a string, as
 * Stripe coerces per parameter. A key used both as a value and as a container is refused.
 */
export function parseForm(body: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!m) throw invalid(`Invalid parameter name: ${rawKey}`);
    const path = [m[1] as string, ...[...(m[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((p) => p[1] as string)];
    let node: Record<string, FormValue> | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i] as string;
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1] as string);
      if (Array.isArray(node)) {
        const index = key === "" ? node.length : Number(key);
        if (!/^\d*$/.test(key)) throw invalid(`Invalid array parameter: ${rawKey}`, rawKey);
        if (last) node[index] = value;
        else node = (node[index] ??= nextIsIndex ? [] : {}) as Record<string, FormValue> | FormValue[];
      } else {
        if (last) {
          if (key in node && typeof node[key] !== "string") throw invalid(`Invalid parameter: ${rawKey} is given both as a value and as a hash`, rawKey);
          node[key] = value;
        } else {
          const child: FormValue = (node[key] ??= nextIsIndex ? [] : {});
          if (typeof child === "string") throw invalid(`Invalid parameter: ${rawKey} is given both as a value and as a hash`, rawKey);
          node = child;
        }
      }
    }
  }
  return root;
}

/** A form value as an object, a string list, or one string: what a route expects of it, or Stripe's 400 naming it. */
export const formRead = {
  string(form: Record<string, FormValue>, name: string, required: boolean): string | undefined {
    const v = form[name];
    if (v === undefined || v === "") {
      if (required) throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
      return undefined;
    }
    if (typeof v !== "string") throw invalid(`Invalid ${name}: must be a string`, name);
    return v;
  },
  integer(form: Record<string, FormValue>, name: string, required: boolean): number | undefined {
    const v = formRead.string(form, name, required);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw invalid(`Invalid integer: ${v}`, name, "parameter_invalid_integer");
    return Number(v);
  },
  boolean(form: Record<string, FormValue>, name: string): boolean | undefined {
    const v = formRead.string(form, name, false);
    if (v === undefined) return undefined;
    if (v !== "true" && v !== "false") throw invalid(`Invalid boolean: ${v}`, name);
    return v === "true";
  },
  strings(form: Record<string, FormValue>, name: string, required: boolean): string[] | undefined {
    const v = form[name];
    if (v === undefined) {
      if (required) throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
      return undefined;
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw invalid(`Invalid array: ${name} must be a list of strings`, name);
    return v as string[];
  },
  metadata(form: Record<string, FormValue>): Record<string, string> | undefined {
    const v = form.metadata;
    if (v === undefined || v === "") return v === "" ? {} : undefined;
    if (!isRecord(v) || Object.values(v).some((x) => typeof x !== "string")) throw invalid("Invalid metadata: must be a hash of strings", "metadata");
    return v as Record<string, string>;
  },
};
