// The few Stripe API calls the worker makes, over fetch. The `stripe` SDK is a megabyte of
// JavaScript for hundreds of resources; the worker reads eight and writes one, so it carries this
// instead and keeps the SDK's types (type-only imports: nothing of it is bundled). Same wire
// format as the SDK: form-encoded parameters, the pinned `Stripe-Version`, an `Idempotency-Key`
// when asked, and failures thrown as errors shaped like the SDK's (`type`, `statusCode`, `code`,
// `headers`), which workflows/failures.ts classifies. No retries here: workflow steps own them.
import type Stripe from "stripe";

/** Errors shaped like the SDK's, by the `type` Stripe gives an error (and the HTTP status). */
export class StripeApiError extends Error {
  override readonly name = "StripeApiError";
  constructor(
    message: string,
    readonly type: string,
    readonly statusCode: number | undefined,
    readonly code: string | undefined,
    readonly headers: Record<string, string>,
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

const TYPE_BY_ERROR: Record<string, string> = {
  card_error: "StripeCardError",
  invalid_request_error: "StripeInvalidRequestError",
  api_error: "StripeAPIError",
  idempotency_error: "StripeIdempotencyError",
};

function errorType(status: number, stripeType: string | undefined): string {
  if (status === 401) return "StripeAuthenticationError";
  if (status === 403) return "StripePermissionError";
  if (status === 429) return "StripeRateLimitError";
  return (stripeType && TYPE_BY_ERROR[stripeType]) ?? (status >= 500 ? "StripeAPIError" : "StripeInvalidRequestError");
}

type Param = string | number | boolean | null | undefined | Param[] | { [key: string]: Param };

/** Stripe's form encoding: `created[gte]=1`, `expand[0]=x`, `metadata[k]=v`; undefined is left out. */
export function formEncode(params: Record<string, Param>): string {
  const pairs: string[] = [];
  const walk = (value: Param, key: string) => {
    if (value === undefined) return;
    if (value === null) pairs.push(`${encodeURIComponent(key)}=`);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${key}[${i}]`));
    else if (typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${key}[${k}]`);
    else pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  };
  for (const [k, v] of Object.entries(params)) walk(v, k);
  return pairs.join("&");
}

export interface StripeApiConfig {
  key: string;
  apiVersion: string;
  /** Where the API answers: https://api.stripe.com, or the emulator. */
  base: string;
  fetch: (request: Request) => Promise<Response>;
  timeoutMs: number;
}

interface RequestOptions {
  idempotencyKey?: string;
}

/** A list page that is also every item of every page, as the SDK's lists are. */
export interface ListRequest<T> extends PromiseLike<Stripe.ApiList<T>>, AsyncIterable<T> {
  autoPagingToArray(options: { limit: number }): Promise<T[]>;
}

export class StripeApi {
  constructor(private readonly config: StripeApiConfig) {}

  async request<T>(method: "GET" | "POST", path: string, params: Record<string, Param> = {}, options: RequestOptions = {}): Promise<T> {
    const encoded = formEncode(params);
    const url = new URL(path, this.config.base);
    if (method === "GET" && encoded) url.search = encoded;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.config.key}`,
      "stripe-version": this.config.apiVersion,
      accept: "application/json",
    };
    if (method === "POST") headers["content-type"] = "application/x-www-form-urlencoded";
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    let res: Response;
    try {
      res = await this.config.fetch(new Request(url, { method, headers, ...(method === "POST" ? { body: encoded } : {}), signal: AbortSignal.timeout(this.config.timeoutMs) }));
    } catch (error) {
      const why = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError") ? `no answer within ${this.config.timeoutMs} ms` : "the connection failed";
      throw new StripeApiError(`Stripe could not be reached: ${why}`, "StripeConnectionError", undefined, undefined, {}, undefined);
    }
    const responseHeaders = Object.fromEntries([...res.headers].map(([k, v]) => [k.toLowerCase(), v]));
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new StripeApiError(`Stripe answered ${res.status} with a body that is not JSON`, res.ok ? "StripeAPIError" : errorType(res.status, undefined), res.status, undefined, responseHeaders, responseHeaders["request-id"]);
    }
    if (!res.ok) {
      const error = (body as { error?: { type?: string; code?: string; message?: string } }).error ?? {};
      throw new StripeApiError(error.message ?? `Stripe answered ${res.status}`, errorType(res.status, error.type), res.status, error.code, responseHeaders, responseHeaders["request-id"]);
    }
    return body as T;
  }

  private list<T extends { id: string }>(path: string, params: Record<string, Param>): ListRequest<T> {
    const first = () => this.request<Stripe.ApiList<T>>("GET", path, params);
    const api = this;
    async function* all(): AsyncGenerator<T> {
      let page = await first();
      for (;;) {
        yield* page.data;
        const last = page.data.at(-1);
        if (!page.has_more || last === undefined) return;
        page = await api.request<Stripe.ApiList<T>>("GET", path, { ...params, starting_after: last.id });
      }
    }
    return {
      then: (resolve, reject) => first().then(resolve, reject),
      [Symbol.asyncIterator]: all,
      async autoPagingToArray({ limit }) {
        const out: T[] = [];
        for await (const item of all()) {
          out.push(item);
          if (out.length >= limit) break;
        }
        return out;
      },
    };
  }

  private readonly id = (value: string) => encodeURIComponent(value);

  readonly checkout = {
    sessions: {
      retrieve: (id: string, params: { expand?: string[] } = {}) => this.request<Stripe.Checkout.Session>("GET", `/v1/checkout/sessions/${this.id(id)}`, params),
      listLineItems: (id: string, params: { limit?: number } = {}) => this.request<Stripe.ApiList<Stripe.LineItem>>("GET", `/v1/checkout/sessions/${this.id(id)}/line_items`, params),
    },
  };

  readonly invoices = {
    retrieve: (id: string, params: { expand?: string[] } = {}) => this.request<Stripe.Invoice>("GET", `/v1/invoices/${this.id(id)}`, params),
    listLineItems: (id: string, params: { limit?: number } = {}) => this.request<Stripe.ApiList<Stripe.InvoiceLineItem>>("GET", `/v1/invoices/${this.id(id)}/lines`, params),
  };

  readonly invoicePayments = {
    list: (params: { invoice: string; status?: string; limit?: number }) => this.list<Stripe.InvoicePayment>("/v1/invoice_payments", params),
  };

  readonly paymentIntents = {
    retrieve: (id: string, params: { expand?: string[] } = {}) => this.request<Stripe.PaymentIntent>("GET", `/v1/payment_intents/${this.id(id)}`, params),
  };

  readonly charges = {
    retrieve: (id: string, params: { expand?: string[] } = {}) => this.request<Stripe.Charge>("GET", `/v1/charges/${this.id(id)}`, params),
  };

  readonly refunds = {
    retrieve: (id: string, params: { expand?: string[] } = {}) => this.request<Stripe.Refund>("GET", `/v1/refunds/${this.id(id)}`, params),
  };

  readonly disputes = {
    retrieve: (id: string, params: { expand?: string[] } = {}) => this.request<Stripe.Dispute>("GET", `/v1/disputes/${this.id(id)}`, params),
  };

  readonly transfers = {
    create: (params: { amount: number; currency: string; destination: string; transfer_group?: string; source_transaction?: string; metadata?: Record<string, string> }, options: RequestOptions = {}) =>
      this.request<Stripe.Transfer>("POST", "/v1/transfers", params, options),
    list: (params: { transfer_group?: string; destination?: string; limit?: number }) => this.list<Stripe.Transfer>("/v1/transfers", params),
  };

  readonly balanceTransactions = {
    list: (params: { created?: { gte?: number; lt?: number }; limit?: number; starting_after?: string }) => this.list<Stripe.BalanceTransaction>("/v1/balance_transactions", params),
  };
}
