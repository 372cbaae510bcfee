// `npm run bundle:budget`: the deployed worker's size, gzipped, against its budget (250 KiB),
// from the bundle `npm run deploy:check` wrote to dist/ (static assets apart: they are not in it).
// Prints the size; exits 1 over budget.
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KIB = 250;
const root = resolve(import.meta.dirname, "../..");
const bundle = resolve(root, "dist/index.js");

try {
  statSync(bundle);
} catch {
  console.error(`no ${bundle}: run npm run deploy:check first`);
  process.exit(2);
}
const raw = readFileSync(bundle);
const gzipKib = gzipSync(raw, { level: 9 }).length / 1024;
const line = `worker bundle: ${(raw.length / 1024).toFixed(1)} KiB, ${gzipKib.toFixed(1)} KiB gzipped; budget ${BUDGET_KIB} KiB gzipped (${((gzipKib / BUDGET_KIB) * 100).toFixed(0)}%)`;
if (gzipKib >= BUDGET_KIB) {
  console.error(`${line}: OVER BUDGET`);
  process.exit(1);
}
console.log(line);
