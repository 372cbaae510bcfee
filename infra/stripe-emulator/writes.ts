/**
 * The emulator's routes that make things, as the project calls them: transfers to connected
 * accounts and their reversals (payouts), webhook endpoints (`npm run stripe:setup`). Bodies are
 * form-encoded, as the stripe SDK sends them; `Idempotency-Key` is honoured by app.ts for every
 * POST. Web-standard only.
 *
 * (Imports: nothing that imports JSON or core/, as app.ts is loaded by vitest.config.ts in the test host.)
 *
 * Chosen, not confirmed against Stripe: an unknown destination or source charge is a 400
 * `resource_missing` naming the parameter ("No such destination: 'acct_…'"); a transfer from a
 * charge for more than the charge's amount less earlier transfers from it is a 400 naming
 * `amount` (Stripe documents the limit, not its error); the emulator keeps
 * no balance, so a transfer never fails for want of funds unless a fault says so (`error: { code:
 * "balance_insufficient" }`, scoped with `match: { destination }`).
 */
import type { Hono } from "hono";
import type Stripe from "stripe";

import { formRead, invalid, json, KNOWN_ERRORS, missing, parseForm, StripeHttpError } from "./http.ts";
import type { StripeObject } from "./ids.ts";
import { buildTransfer, buildTransferReversal, ReversalTooLarge } from "./transfers.ts";
import { badEndpointUrl, badEventType, buildWebhookEndpoint, withoutSecret } from "./webhook-endpoints.ts";

/** What app.ts lends these routes: its store and its ways of answering. */
export interface WriteTools {
  put(object: StripeObject): void;
  get(id: string): StripeObject | undefined;
  remove(id: string): void;
  ofType(type: string): StripeObject[];
  retrieve(type: string, id: string): StripeObject;
  /** The object as Stripe answers it, `expand[]` applied. */
  respond(body: unknown, url: URL): Response;
  /** A list object of `all` (already filtered and ordered), paged as the URL asks. */
  list(all: StripeObject[], listUrl: string, url: URL): Record<string, unknown>;
  newestFirst(objs: StripeObject[]): StripeObject[];
  /** Stripe's `created` / `created[gt|gte|lt|lte]` filter of lists. */
  createdFilter(url: URL): (o: StripeObject) => boolean;
}

const asObject = <T>(o: T) => o as unknown as StripeObject;
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function form(req: Request): Promise<ReturnType<typeof parseForm>> {
  return parseForm(await req.text());
}

export function registerWrites(app: Hono, t: WriteTools): void {
  // ---- transfers -------------------------------------------------------------------------------

  app.post("/v1/transfers", async (c) => {
    const url = new URL(c.req.url);
    const f = await form(c.req.raw);
    const amount = formRead.integer(f, "amount", true) as number;
    if (amount < 1) throw invalid("Invalid positive integer", "amount", "parameter_invalid_integer");
    const currency = (formRead.string(f, "currency", true) as string).toLowerCase();
    if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}`, "currency");
    const destination = formRead.string(f, "destination", true) as string;
    const account = t.get(destination);
    if (!account || account.object !== "account") {
      throw new StripeHttpError(400, { type: "invalid_request_error", code: "resource_missing", param: "destination", doc_url: "https://stripe.com/docs/error-codes/resource-missing", message: `No such destination: '${destination}'` });
    }
    if ((account.capabilities as Record<string, unknown> | undefined)?.transfers !== "active") {
      throw new StripeHttpError(400, { type: "invalid_request_error", ...KNOWN_ERRORS.insufficient_capabilities_for_transfer!, message: KNOWN_ERRORS.insufficient_capabilities_for_transfer!.message });
    }
    const source = formRead.string(f, "source_transaction", false);
    const charge = source === undefined ? undefined : t.get(source);
    if (source !== undefined && charge?.object !== "charge") {
      throw new StripeHttpError(400, { type: "invalid_request_error", code: "resource_missing", param: "source_transaction", message: `No such charge: '${source}'` });
    }
    if (charge && charge.currency === currency) {
      // A transfer from a charge cannot take more than the charge brought, less what earlier transfers took from it.
      const taken = t.ofType("transfer").filter((tr) => tr.source_transaction === source).reduce((sum, tr) => sum + Number(tr.amount) - Number(tr.amount_reversed ?? 0), 0);
      const left = Number(charge.amount) - taken;
      if (amount > left) throw invalid(`The transfer amount (${amount}) is more than what is left of source_transaction ${source} (${left} ${currency}).`, "amount");
    }
    const built = buildTransfer({
      amount_minor: amount,
      currency,
      destination,
      created: nowSeconds(),
      transfer_group: formRead.string(f, "transfer_group", false) ?? null,
      source_transaction: source ?? null,
      description: formRead.string(f, "description", false) ?? null,
      metadata: formRead.metadata(f) ?? {},
    });
    t.put(asObject(built.balance_transaction));
    t.put(asObject(built.transfer));
    return t.respond(built.transfer, url);
  });

  app.get("/v1/transfers", (c) => {
    const url = new URL(c.req.url);
    const q = url.searchParams;
    const wanted = (o: StripeObject) => (!q.has("destination") || o.destination === q.get("destination")) && (!q.has("transfer_group") || o.transfer_group === q.get("transfer_group"));
    const all = t.newestFirst(t.ofType("transfer").filter((o) => wanted(o) && t.createdFilter(url)(o)));
    return t.respond(t.list(all, "/v1/transfers", url), url);
  });

  app.post("/v1/transfers/:id/reversals", async (c) => {
    const url = new URL(c.req.url);
    const transfer = t.retrieve("transfer", c.req.param("id")) as unknown as Stripe.Transfer;
    const f = await form(c.req.raw);
    const amount = formRead.integer(f, "amount", false);
    let built;
    try {
      built = buildTransferReversal(transfer, { amount_minor: amount, created: nowSeconds(), description: formRead.string(f, "description", false) ?? null, metadata: formRead.metadata(f) ?? {} });
    } catch (error) {
      if (error instanceof ReversalTooLarge || (error instanceof Error && /minor units/.test(error.message))) {
        throw invalid(`Transfer ${transfer.id} has ${transfer.amount - transfer.amount_reversed} left to reverse: a reversal of ${amount ?? "the rest"} is not possible.`, "amount");
      }
      throw error;
    }
    t.put(asObject(built.balance_transaction));
    t.put(asObject(built.reversal));
    t.put(asObject(built.transfer));
    return t.respond(built.reversal, url);
  });

  app.get("/v1/transfers/:id/reversals", (c) => {
    const url = new URL(c.req.url);
    const transfer = t.retrieve("transfer", c.req.param("id"));
    const all = t.newestFirst(t.ofType("transfer_reversal").filter((r) => r.transfer === transfer.id));
    return t.respond(t.list(all, `/v1/transfers/${transfer.id}/reversals`, url), url);
  });

  app.get("/v1/transfers/:id/reversals/:reversal", (c) => {
    const reversal = t.retrieve("transfer_reversal", c.req.param("reversal"));
    if (reversal.transfer !== c.req.param("id")) throw missing("transfer_reversal", c.req.param("reversal"));
    return t.respond(reversal, new URL(c.req.url));
  });

  app.get("/v1/accounts", (c) => {
    const url = new URL(c.req.url);
    return t.respond(t.list(t.newestFirst(t.ofType("account").filter(t.createdFilter(url))), "/v1/accounts", url), url);
  });

  // ---- webhook endpoints -----------------------------------------------------------------------

  const readEvents = async (f: ReturnType<typeof parseForm>, required: boolean) => {
    const events = formRead.strings(f, "enabled_events", required);
    if (events === undefined) return undefined;
    if (events.length === 0) throw invalid("enabled_events must name at least one event type", "enabled_events");
    events.forEach((type, i) => {
      const bad = badEventType(type);
      if (bad) throw invalid(bad, `enabled_events[${i}]`);
    });
    return events;
  };
  const readUrl = async (f: ReturnType<typeof parseForm>, required: boolean) => {
    const url = formRead.string(f, "url", required);
    const bad = url === undefined ? null : badEndpointUrl(url);
    if (bad) throw invalid(bad, "url", "url_invalid");
    return url;
  };

  app.post("/v1/webhook_endpoints", async (c) => {
    const f = await form(c.req.raw);
    const endpoint = buildWebhookEndpoint({
      url: (await readUrl(f, true)) as string,
      enabled_events: (await readEvents(f, true)) as string[],
      api_version: formRead.string(f, "api_version", false) ?? null,
      description: formRead.string(f, "description", false) ?? null,
      metadata: formRead.metadata(f) ?? {},
      created: nowSeconds(),
    });
    t.put(asObject(withoutSecret(endpoint)));
    return json(endpoint);
  });

  app.get("/v1/webhook_endpoints", (c) => {
    const url = new URL(c.req.url);
    return t.respond(t.list(t.newestFirst(t.ofType("webhook_endpoint")), "/v1/webhook_endpoints", url), url);
  });

  app.get("/v1/webhook_endpoints/:id", (c) => t.respond(t.retrieve("webhook_endpoint", c.req.param("id")), new URL(c.req.url)));

  app.post("/v1/webhook_endpoints/:id", async (c) => {
    const endpoint = t.retrieve("webhook_endpoint", c.req.param("id"));
    const f = await form(c.req.raw);
    const url = await readUrl(f, false);
    const events = await readEvents(f, false);
    const disabled = formRead.boolean(f, "disabled");
    const description = formRead.string(f, "description", false);
    const metadata = formRead.metadata(f);
    const updated: StripeObject = {
      ...endpoint,
      ...(url !== undefined ? { url } : {}),
      ...(events !== undefined ? { enabled_events: events } : {}),
      ...(disabled !== undefined ? { status: disabled ? "disabled" : "enabled" } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(metadata !== undefined ? { metadata: { ...(endpoint.metadata as Record<string, string>), ...metadata } } : {}),
    };
    t.put(updated);
    return t.respond(updated, new URL(c.req.url));
  });

  app.delete("/v1/webhook_endpoints/:id", (c) => {
    const endpoint = t.retrieve("webhook_endpoint", c.req.param("id"));
    t.remove(endpoint.id);
    return json({ id: endpoint.id, object: "webhook_endpoint", deleted: true });
  });
}
