// A receiver of outgoing webhooks for the tests: it records every request it gets and answers
// 200, or the status a test asked for to the next requests of one path (to make deliveries
// fail, then succeed). vitest.config.ts binds it into workerd as the `WEBHOOK_SINK` service,
// which the worker sends outgoing webhooks through when it is bound. Controls, under /_sink/:
//   POST /_sink/faults  { path, status, times }   the next `times` requests to `path` get `status`
//   GET  /_sink/requests?path=/x                   what was received at /x, oldest first
// Test files run at the same time against one sink: each uses paths of its own.

export interface SinkRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  status: number;
}

export function createWebhookSink() {
  const received: SinkRequest[] = [];
  const faults = new Map<string, { status: number; times: number }[]>();
  return {
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname === "/_sink/faults" && request.method === "POST") {
        const fault = (await request.json()) as { path: string; status: number; times: number };
        faults.set(fault.path, [...(faults.get(fault.path) ?? []), { status: fault.status, times: fault.times }]);
        return Response.json({ ok: true });
      }
      if (url.pathname === "/_sink/requests") {
        const path = url.searchParams.get("path");
        return Response.json({ requests: received.filter((r) => path === null || r.path === path) });
      }
      const pending = faults.get(url.pathname)?.find((f) => f.times > 0);
      const status = pending ? pending.status : 200;
      if (pending) pending.times -= 1;
      received.push({ path: url.pathname, headers: Object.fromEntries(request.headers), body: await request.text(), status });
      return new Response(status === 200 ? "ok" : "refused", { status });
    },
  };
}
