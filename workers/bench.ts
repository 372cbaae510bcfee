// Routes for `npm run bench` only, under /__bench, answered only when the worker runs with
// BENCH=1 (`wrangler dev --var BENCH:1`, never a live Stripe key): everywhere else they are
// the 404 of any unknown path.
//
//   POST /__bench/floor         the floor the webhook is measured against: verify the signature,
//                               store the raw event (one D1 insert), acknowledge. Nothing else.
//   GET  /__bench/meter         D1 statements, rows and workflow steps counted so far
//   POST /__bench/meter/reset   counters back to zero
import { Hono } from "hono";
import { database } from "../db/client";
import { storeEvent } from "../db/queries/events";
import { benchEnabled, meterSnapshot, resetMeter } from "../workflows/bench-meter";
import type { Env } from "../workflows/env";
import { ApiError } from "./errors";
import { signedEvent, webhookBodyLimit } from "./webhooks";

export const bench = new Hono<{ Bindings: Env }>();

bench.use("*", async (c, next) => {
  if (!benchEnabled(c.env)) throw new ApiError("not_found", "no such route");
  return next();
});

// What POST /webhooks/stripe cannot do without: the same body limit, signature check and
// insert into the same table (as `ignored`, so that nothing starts), and the same answer.
bench.post("/floor", webhookBodyLimit, async (c) => {
  const { event, body } = await signedEvent(c.env, c.req.raw.headers, () => c.req.text());
  const stored = await storeEvent(
    database(c.env.DB),
    { id: event.id, type: event.type, objectId: null, status: "ignored", reason: "bench floor: verified and stored only", payload: body, stripeCreatedS: event.created },
    Date.now(),
  );
  return c.json(stored ? { received: true, id: event.id, status: "ignored" } : { received: true, duplicate: true, id: event.id }, 200);
});

bench.get("/meter", (c) => c.json(meterSnapshot(), 200));

bench.post("/meter/reset", (c) => {
  resetMeter();
  return c.json(meterSnapshot(), 200);
});
