// The house reads one way: Stripe → workers/ → workflows/ → core/ → db/. This test reads the
// import statements of every production file and fails on an import that runs back up, on a
// package where it does not belong (core imports nothing at all), and on any import loop.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const LAYERS = ["workers", "workflows", "core", "db"] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer may import from the project (besides itself). */
const MAY_IMPORT: Record<Layer, Layer[]> = {
  workers: ["workflows", "core", "db"],
  workflows: ["core", "db"],
  // The ledger's account names and the rule types are core's vocabulary; db stores them.
  db: ["core"],
  core: [],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return path.endsWith(".ts") || path.endsWith(".tsx") ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, type-only ones included. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const statements = /(?:^|[;}])\s*(?:import|export)\s+(?:type\s+)?(?:[^;'"]*?\bfrom\s*)?["']([^"']+)["']/gm;
  const found = [...text.matchAll(statements), ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)];
  return found.map((m) => m[1] as string);
}

function resolveRelative(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next form
    }
  }
  throw new Error(`${relative(root, from)} imports ${specifier}, which does not resolve`);
}

const layerOf = (file: string): string => relative(root, file).split("/")[0] ?? "";

const files = LAYERS.flatMap((layer) => filesUnder(join(root, layer)));
const graph = new Map(files.map((file) => [file, specifiers(file).filter((s) => s.startsWith(".")).map((s) => resolveRelative(file, s))]));

describe("the one-way house", () => {
  it("finds the production files of every layer and the imports between them", () => {
    for (const layer of LAYERS) expect(files.filter((f) => layerOf(f) === layer).length).toBeGreaterThan(2);
    // The reader finds the imports it checks: the workflow imports from each layer below it.
    const split = (graph.get(join(root, "workflows/split-payment.ts")) ?? []).map(layerOf);
    expect(new Set(split)).toEqual(new Set(["workflows", "core", "db"]));
  });

  it.each(LAYERS)("%s imports only the layers below it", (layer) => {
    const wrong = files
      .filter((file) => layerOf(file) === layer)
      .flatMap((file) => (graph.get(file) ?? []).filter((target) => layerOf(target) !== layer && !MAY_IMPORT[layer].includes(layerOf(target) as Layer)).map((target) => `${relative(root, file)} → ${relative(root, target)}`));
    expect(wrong).toEqual([]);
  });

  it("keeps core free of every package: no runtime, framework, database, Stripe or zod", () => {
    const packages = files.filter((file) => layerOf(file) === "core").flatMap((file) => specifiers(file).filter((s) => !s.startsWith(".")).map((s) => `${relative(root, file)} → ${s}`));
    expect(packages).toEqual([]);
  });

  it("has no import loop anywhere", () => {
    const loops: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        loops.push([...path.slice(path.indexOf(file)), file].map((f) => relative(root, f)).join(" → "));
        return;
      }
      state.set(file, "visiting");
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(loops).toEqual([]);
  });
});
