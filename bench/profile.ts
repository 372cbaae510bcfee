// `npm run bench:profile`: where the worker spends its CPU while payments go through. Starts
// the bench's stack, records a V8 CPU profile of the worker through wrangler's inspector while
// BENCH_PROFILE_PAYMENTS (default 500) payments are sent and posted, then prints the functions
// with the most self time, grouped by source file, and writes the profile to
// bench/worker.cpuprofile (open it in Chrome DevTools, Performance panel).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { startStack } from "../infra/scripts/stack";
import { deliver, paymentDeliveries } from "./deliveries";
import { readMeter, resetMeter } from "./ingest";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const root = resolve(import.meta.dirname, "..");
const PORTS = { worker: 8797, emulator: 12197, inspector: 9297 };
const payments = Number(process.env.BENCH_PROFILE_PAYMENTS ?? 500);

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function inspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  // wrangler's inspector proxy wants an Origin it knows (localhost); undici's WebSocket takes headers.
  const ws = new WebSocket(url, { headers: { origin: "http://localhost" } } as unknown as string[]);
  await new Promise((ok, fail) => {
    ws.addEventListener("open", ok);
    ws.addEventListener("error", fail);
  });
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (message) => {
    const data = JSON.parse(String(message.data)) as { id?: number; result?: unknown };
    if (data.id !== undefined) waiting.get(data.id)?.(data.result);
  });
  return {
    send: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((ok) => {
        const id = next++;
        waiting.set(id, ok as (result: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

function selfTimes(profile: CpuProfile): { fn: string; file: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) ms.set(samples[i] as number, (ms.get(samples[i] as number) ?? 0) + (deltas[i] ?? 0) / 1000);
  const total = new Map<string, { fn: string; file: string; ms: number }>();
  for (const [id, t] of ms) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = frame.url.replace(/^.*\/(node_modules\/|\.wrangler\/tmp\/[^/]+\/)/, "").replace(/^file:\/\//, "") || "(native)";
    const key = `${frame.functionName || "(anonymous)"}@${file}:${frame.lineNumber}`;
    const entry = total.get(key) ?? { fn: frame.functionName || "(anonymous)", file: `${file}:${frame.lineNumber + 1}`, ms: 0 };
    entry.ms += t;
    total.set(key, entry);
  }
  return [...total.values()].sort((a, b) => b.ms - a.ms);
}

const stack = await startStack(PORTS, { POT_COMMUN_BENCH: "1" });
try {
  const s = { api: stack.api, emulator: stack.emulator, secret: stack.vars.STRIPE_WEBHOOK_SECRET ?? "whsec_local", adminToken: stack.vars.ADMIN_TOKEN ?? "", pid: stack.pid };
  const deliveries = await paymentDeliveries(s, "webhook", payments);
  const cdp = await inspector(PORTS.inspector);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await resetMeter(s);
  await cdp.send("Profiler.start");
  const started = Date.now();
  await deliver(s.api, deliveries, 16);
  for (;;) {
    const meter = await readMeter(s);
    if (meter.outcomes.posted >= payments) break;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  const seconds = (Date.now() - started) / 1000;
  const { profile } = await cdp.send<{ profile: CpuProfile }>("Profiler.stop");
  cdp.close();
  writeFileSync(resolve(import.meta.dirname, "worker.cpuprofile"), JSON.stringify(profile));
  const rows = selfTimes(profile);
  const busy = rows.filter((r) => r.fn !== "(idle)" && r.fn !== "(program)").reduce((a, r) => a + r.ms, 0);
  console.log(`${payments} payments posted in ${seconds.toFixed(1)} s; the worker's isolate ran JavaScript ${(busy / 1000).toFixed(1)} s of it (${(busy / payments).toFixed(2)} ms a payment)\n`);
  const byFile = new Map<string, number>();
  for (const r of rows) byFile.set(r.file.replace(/:\d+$/, ""), (byFile.get(r.file.replace(/:\d+$/, "")) ?? 0) + r.ms);
  console.log("self time by file:");
  for (const [file, t] of [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${t.toFixed(0).padStart(7)} ms  ${file}`);
  // The bundle wrangler dev runs, to show the line each function of index.js starts on.
  const bundle = readdirSync(resolve(root, ".wrangler/tmp"))
    .map((d) => resolve(root, ".wrangler/tmp", d, "index.js"))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  const lines = bundle ? readFileSync(bundle, "utf8").split("\n") : [];
  console.log("\nself time by function:");
  for (const r of rows.slice(0, 30)) {
    const line = /^index\.js:(\d+)$/.exec(r.file);
    const source = line ? ` ${(lines[Number(line[1]) - 1] ?? "").trim().slice(0, 90)}` : "";
    console.log(`  ${r.ms.toFixed(0).padStart(7)} ms  ${r.fn}  ${r.file}${source}`);
  }
} finally {
  stack.stop();
}
process.exit(0);
