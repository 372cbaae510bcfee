// Run by `npm install` (postinstall): copies Swagger UI's browser build from the
// swagger-ui-dist package into public/docs/swagger-ui/, which the worker serves as static
// assets (wrangler.toml, [assets]) for the page at /docs. The folder is not committed: the
// npm package is its source, so upgrading the viewer is `npm install swagger-ui-dist@…`.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

/** What /docs loads, and the notices that must travel with it (Apache-2.0, section 4). */
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"];

const root = resolve(import.meta.dirname, "../..");
const target = join(root, "public/docs/swagger-ui");

const manifest = createRequire(import.meta.url).resolve("swagger-ui-dist/package.json");
const source = dirname(manifest);
const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };

// Start from empty, so that no file of an older version is left behind and served.
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const file of FILES) copyFileSync(join(source, file), join(target, file));
console.log(`docs: swagger-ui-dist ${version} copied to ${relative(root, target)}/`);
