// Body limits hold while the body is read, in bytes: a chunked body (no Content-Length) and
// a body of multi-byte characters are measured as what arrives.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

/** A body sent in chunks of `chunk` bytes, with no Content-Length. */
function chunked(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk, total - sent);
      controller.enqueue(new Uint8Array(size).fill(0x20));
      sent += size;
    },
  });
}

async function countEvents(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM stripe_events").first<{ n: number }>())?.n ?? 0;
}

describe("the webhook's body limit (512 KiB)", () => {
  it("refuses a chunked body above the limit with a 413 problem, before anything is stored", async () => {
    const before = await countEvents();
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": "t=1,v1=x" }, body: chunked(600 * 1024), duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "payload_too_large", detail: "a Stripe event is at most 524288 bytes" });
    expect(await countEvents()).toBe(before);
  });

  it("counts bytes, not characters: 300,000 two-byte characters are too many", async () => {
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": "t=1,v1=x" }, body: "é".repeat(300_000) });
    expect(res.status).toBe(413);
  });

  it("reads a chunked body under the limit and goes on to check its signature", async () => {
    const res = await call("/webhooks/stripe", { method: "POST", headers: { "stripe-signature": "t=1,v1=x" }, body: chunked(100 * 1024), duplex: "half" } as RequestInit);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_signature" });
  });
});

describe("the API's body limit (128 KiB)", () => {
  const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };

  it("refuses a chunked body above the limit with a 413 problem", async () => {
    const res = await call("/api/v1/parties", { method: "POST", headers: admin, body: chunked(200 * 1024), duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large", detail: "a request body is at most 131072 bytes" });
  });

  it("refuses a body whose Content-Length is above the limit", async () => {
    const res = await call("/api/v1/rules/preview", { method: "POST", headers: admin, body: JSON.stringify({ pad: "x".repeat(140 * 1024) }) });
    expect(res.status).toBe(413);
  });

  it("reads a chunked body under the limit as usual", async () => {
    const party = new TextEncoder().encode(JSON.stringify({ id: "chunked-party", kind: "contributor", name: "Sent in chunks" }));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(party.slice(0, 10));
        controller.enqueue(party.slice(10));
        controller.close();
      },
    });
    const res = await call("/api/v1/parties", { method: "POST", headers: admin, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(201);
  });
});
