// The worker as `wrangler deploy` would upload it (static assets apart, which are uploaded on
// their own): built with --dry-run into a temporary folder, gzipped here. esbuild's metafile
// says which packages the bytes come from.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { round } from "./stats";

export interface BundleResult {
  /** gzip at its default level, as wrangler counts its "Total Upload … / gzip: …". */
  gzip_kib: number;
  raw_kib: number;
  /** wrangler's own line, for comparison. */
  wrangler_says: string | null;
  /**
   * The largest contributors: a package (zod by folder), or a folder of ours, with the bytes
   * esbuild's metafile gives it and the gzipped size of its sections of the bundle on their own
   * (gzip is not additive: these sum to a little more than gzip_kib).
   */
  largest: { source: string; raw_kib: number; gzip_alone_kib: number }[];
}

/** The bundle cut at esbuild's `// path/of/module.js` comments, each section's text by source. */
function sectionsBySource(code: string): Map<string, string> {
  const sections = code.split(/(?=^\/\/ (?:node_modules|workers|workflows|db|core|infra)\/)/m);
  const bySource = new Map<string, string>();
  for (const section of sections) {
    const path = /^\/\/ (\S+)/.exec(section)?.[1];
    if (!path) continue;
    const source = sourceOf(path);
    bySource.set(source, (bySource.get(source) ?? "") + section);
  }
  return bySource;
}

/** `node_modules/@scope/pkg/x.js` → `@scope/pkg`; `workers/app.ts` → `workers/`. zod is split by folder, as its locales are most of it. */
function sourceOf(input: string): string {
  const inModules = input.split("node_modules/").pop() as string;
  if (inModules === input) return `${input.split("/")[0]}/`;
  const parts = inModules.split("/");
  if (parts[0] === "zod") return parts.slice(0, 3).join("/");
  return (parts[0] as string).startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

export function measureBundle(root: string): BundleResult {
  const out = mkdtempSync(join(tmpdir(), "pot-commun-bundle-"));
  try {
    const meta = join(out, "meta.json");
    const built = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", join(out, "dist"), "--metafile", meta], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      encoding: "utf8",
    });
    if (built.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${built.stdout}${built.stderr}`);
    const code = readdirSync(join(out, "dist")).filter((f) => f.endsWith(".js") || f.endsWith(".mjs") || f.endsWith(".wasm"));
    if (code.length === 0) throw new Error("wrangler deploy --dry-run wrote no JavaScript");
    const bytes = Buffer.concat(code.map((f) => readFileSync(join(out, "dist", f))));
    const metafile = JSON.parse(readFileSync(meta, "utf8")) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };
    const bySource = new Map<string, number>();
    for (const [file, output] of Object.entries(metafile.outputs)) {
      if (file.endsWith(".map")) continue;
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) bySource.set(sourceOf(input), (bySource.get(sourceOf(input)) ?? 0) + bytesInOutput);
    }
    const sections = sectionsBySource(bytes.toString("utf8"));
    return {
      gzip_kib: round(gzipSync(bytes).length / 1024),
      raw_kib: round(bytes.length / 1024),
      wrangler_says: /Total Upload:[^\n]*/.exec(`${built.stdout}${built.stderr}`)?.[0].trim() ?? null,
      largest: [...bySource.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([source, n]) => ({ source, raw_kib: round(n / 1024), gzip_alone_kib: round(gzipSync(sections.get(source) ?? "").length / 1024) })),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
