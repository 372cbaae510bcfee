// `npm run token -- create --role admin [--name NAME] [--remote]`: makes an API token
// straight in D1 (local by default, or the deployed database with --remote), for the first
// admin of a new deployment. The secret is printed once; only its hash is stored.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { newToken } from "../../workers/auth";

const USAGE = "usage: npm run token -- create --role admin|viewer [--name NAME] [--remote]";
const root = resolve(import.meta.dirname, "../..");

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

export async function createTokenSql(name: string, role: "admin" | "viewer", nowMs: number) {
  const token = await newToken();
  const after = JSON.stringify({ id: token.id, name, role });
  const sql = [
    `INSERT INTO api_tokens (id, name, role, token_hash, created_by, created_at_ms) VALUES (${sqlText(token.id)}, ${sqlText(name)}, ${sqlText(role)}, ${sqlText(token.hash)}, 'cli', ${nowMs});`,
    `INSERT INTO audit_log (at_ms, actor, action, entity_type, entity_id, before, after) VALUES (${nowMs}, 'cli', 'token.create', 'token', ${sqlText(token.id)}, NULL, ${sqlText(after)});`,
  ].join(" ");
  return { token, sql };
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { role: { type: "string" }, name: { type: "string" }, remote: { type: "boolean", default: false } },
  });
  const role = values.role;
  if (positionals[0] !== "create" || (role !== "admin" && role !== "viewer")) {
    console.error(USAGE);
    process.exit(2);
  }
  const name = values.name ?? `${role} token made by the CLI`;
  const { token, sql } = await createTokenSql(name, role, Date.now());
  const where = values.remote ? "--remote" : "--local";
  const run = spawnSync("npx", ["wrangler", "d1", "execute", "DB", where, "--command", sql], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
  });
  if (run.status !== 0) {
    console.error(`wrangler d1 execute failed (${where}):\n${run.stderr || run.stdout}`);
    process.exit(run.status ?? 1);
  }
  console.log(`Created ${role} token ${token.id} (${name}) in the ${values.remote ? "remote" : "local"} database.`);
  console.log(`Secret, shown once: ${token.secret}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
