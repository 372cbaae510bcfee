/**
 * Node entry of the Stripe emulator: `npm run stripe:emulator`.
 * Serves createStripeEmulator() on 127.0.0.1:$STRIPE_EMULATOR_PORT (default 12111); also exports
 * serveEmulator() for infra/scripts/start.ts (in-process, no server started on import).
 * Point the stripe SDK at it with { host: "127.0.0.1", port: 12111, protocol: "http" }.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { createStripeEmulator, type StripeEmulator } from "./app";

const HOST = "127.0.0.1";

export interface ServeEmulatorOptions {
  /** Defaults to a fresh createStripeEmulator(). */
  app?: StripeEmulator;
  /** One line per request; default console.log. Pass `() => {}` to silence. */
  log?: (line: string) => void;
}

export interface RunningEmulator {
  app: StripeEmulator;
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The whole Node ↔ fetch adapter: buffer the body, build a Request, copy the Response back. */
function nodeHandler(app: StripeEmulator, port: number, log: (line: string) => void) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = req.method ?? "GET";
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    let status = 500;
    try {
      const request = new Request(`http://${HOST}:${port}${req.url ?? "/"}`, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks),
      });
      const response = await app.fetch(request);
      status = response.status;
      res.writeHead(status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { type: "api_error", message: `Emulator crashed: ${String(err)}` } }));
    }
    log(`${new Date().toISOString()} stripe-emulator ${method} ${req.url} ${status} ${(performance.now() - started).toFixed(1)}ms`);
  };
}

/** Serves the emulator on 127.0.0.1:`port` (default $STRIPE_EMULATOR_PORT or 12111). */
export function serveEmulator(port = Number(process.env.STRIPE_EMULATOR_PORT ?? 12111), opts: ServeEmulatorOptions = {}): Promise<RunningEmulator> {
  const app = opts.app ?? createStripeEmulator();
  const handler = nodeHandler(app, port, opts.log ?? console.log);
  const server = createServer((req, res) => void handler(req, res));
  return new Promise((resolvePromise, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === "EADDRINUSE"
            ? `Stripe emulator: ${HOST}:${port} is already in use (another emulator running? set STRIPE_EMULATOR_PORT)`
            : `Stripe emulator: ${err.message}`,
        ),
      );
    });
    server.listen(port, HOST, () => {
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolvePromise({ app, server, url: `http://${HOST}:${port}`, close });
    });
  });
}

async function main(): Promise<void> {
  let running: RunningEmulator;
  try {
    running = await serveEmulator();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  console.log(`Stripe emulator listening on ${running.url} (control: /_emulator/objects, /_emulator/faults)`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.log(`Stripe emulator: ${signal}, shutting down`);
      void running.close().then(() => process.exit(0));
    });
  }
}

// Run only as `tsx infra/stripe-emulator/main.ts`, not when imported (infra/scripts/start.ts).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
