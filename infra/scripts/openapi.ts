// `npm run openapi -- [FILE] [--server URL]`: the API's OpenAPI document, built in Node from
// the same app and route definitions the worker serves at /openapi.json (no workerd, no D1),
// written to FILE or stdout. `npm run openapi:lint` lints it with Redocly (redocly.yaml).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { apiDocument } from "../../workers/api/openapi";
import app from "../../workers/app";

/** Where `npm start` serves the worker; the served document names its own origin instead. */
const LOCAL_SERVER = { url: "http://127.0.0.1:8787", description: "npm start, on this machine" };

const { positionals, values } = parseArgs({ allowPositionals: true, options: { server: { type: "string" } } });
const server = values.server === undefined ? LOCAL_SERVER : { url: values.server, description: "This deployment" };
const text = `${JSON.stringify(app.getOpenAPI31Document(apiDocument(server)), null, 2)}\n`;
const file = positionals[0];
if (file === undefined) {
  process.stdout.write(text);
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
