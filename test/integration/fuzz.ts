// What the hostile-input tests share: the routes as the served OpenAPI document lists them, an
// arbitrary for each JSON schema (bodies shaped as documented), mutations of those bodies, and
// a snapshot of every table, to show that a refused request changed nothing.
import { env } from "cloudflare:workers";
import fc from "fast-check";

export type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  format?: string;
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
};

export interface Parameter {
  in: "path" | "query" | "header";
  name: string;
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  id: string;
  method: string;
  /** As documented, with `{param}`. */
  path: string;
  parameters: Parameter[];
  /** The JSON body's schema, when the operation takes one. */
  body: Schema | null;
  /** Documented without a security requirement: open to anyone. */
  public: boolean;
}

export interface ApiDocument {
  security?: unknown[];
  paths: Record<string, Record<string, { operationId: string; security?: unknown[]; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
}

export function operationsOf(doc: ApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      id: op.operationId,
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content["application/json"]?.schema ?? null,
      public: (op.security ?? doc.security ?? []).length === 0,
    })),
  );
}

/** Values that have broken parsers, validators and SQL elsewhere. */
export const HOSTILE_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 53),
  1e308,
  -1e-308,
  "",
  " ",
  "x".repeat(10_000),
  "\u0000",
  "\ud800",
  "😀".repeat(50),
  "'; DROP TABLE parties; --",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "%00%2e%2e",
  "__proto__",
  "NaN",
  "1e400",
  "0x10",
  "10,5%",
  "-0",
  [],
  [[[[[]]]]],
  {},
  JSON.parse('{"__proto__": {"role": "admin"}}'),
  { constructor: { prototype: { admin: true } } },
];

export const hostile: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom(...HOSTILE_VALUES), fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 64, unit: "binary" }));

/** A value valid for `schema` most of the time (patterns, enums, bounds, required fields), for the request to get past parsing and reach the handler. */
export function fromSchema(schema: Schema, schemas: Record<string, Schema>, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const found = schemas[name];
    if (!found) throw new Error(`the document has no schema ${name}`);
    return fromSchema(found, schemas, depth);
  }
  if (depth > 4) return fc.constant(null);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((o) => fromSchema(o, schemas, depth + 1)));
  if (schema.allOf) return fromSchema(schema.allOf[0] ?? {}, schemas, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const nullable = types.includes("null") || schema.nullable === true;
  const type = types.find((t) => t !== "null");
  const value = ofType(type, schema, schemas, depth);
  return nullable ? fc.oneof(value, fc.constant(null)) : value;
}

function ofType(type: string | undefined, schema: Schema, schemas: Record<string, Schema>, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "object": {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) record[name] = fromSchema(property, schemas, depth + 1);
      return fc.record(record, { requiredKeys: Object.keys(properties).filter((k) => required.has(k)) });
    }
    case "array":
      return fc.array(fromSchema(schema.items ?? {}, schemas, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, Math.max(schema.minItems ?? 0, 4)) });
    case "string":
      return stringFor(schema);
    case "integer": {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1_000_000);
      const max = schema.maximum ?? Math.max(min, 0) + 1_000_000;
      return fc.oneof(fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) }), fc.constantFrom(min, max));
    }
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9 });
    case "boolean":
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: Schema): fc.Arbitrary<string> {
  if (schema.format === "date-time") return fc.date({ min: new Date("2020-01-01"), max: new Date("2040-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
  const maxLength = Math.min(schema.maxLength ?? 40, 40);
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern);
    // fast-check cannot generate from lookaheads: generate without them, keep what the whole pattern accepts.
    const generable = new RegExp(schema.pattern.replace(/\(\?[=!][^()]*\)/g, ""));
    return fc.stringMatching(generable).filter((s) => pattern.test(s) && s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity));
  }
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.max(maxLength, schema.minLength ?? 0) });
}

type Json = unknown;

/** Every place in a JSON value, as a path of keys and indexes (the root is []). */
function placesOf(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => placesOf(v, [...at, i])));
  if (typeof value === "object" && value !== null) return here.concat(...Object.entries(value).map(([k, v]) => placesOf(v, [...at, k])));
  return here;
}

function edit(value: Json, path: (string | number)[], change: (parent: Record<string | number, Json>, key: string | number) => void): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(value) as Record<string | number, Json>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  change(parent, path[path.length - 1] as string | number);
  return copy;
}

export type Mutation = "keep" | "replace" | "drop" | "add";

/** `value` with one place changed: replaced by a hostile value, dropped, or given an unknown key. */
export function mutate(value: Json, choice: number, mutation: Mutation, with_: Json): Json {
  const places = placesOf(value);
  const path = places[choice % places.length] ?? [];
  switch (mutation) {
    case "keep":
      return value;
    case "replace":
      return path.length === 0 ? with_ : edit(value, path, (parent, key) => void (parent[key] = with_));
    case "drop":
      return edit(value, path, (parent, key) => (Array.isArray(parent) ? void parent.splice(Number(key), 1) : void delete parent[key]));
    case "add": {
      const target = path.length === 0 ? value : path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], value);
      if (typeof target !== "object" || target === null || Array.isArray(target)) return mutate(value, choice, "replace", with_);
      return path.length === 0 ? { ...(value as object), unknown_field: with_ } : edit(value, path, (parent, key) => void (parent[key] = { ...(target as object), unknown_field: with_ }));
    }
  }
}

/** A body for `schema`: mostly as documented with one place mutated, sometimes left valid. */
export function bodyFor(schema: Schema, schemas: Record<string, Schema>): fc.Arbitrary<Json> {
  return fc
    .tuple(fromSchema(schema, schemas), fc.nat(), fc.constantFrom<Mutation>("keep", "replace", "replace", "drop", "add"), hostile)
    .map(([valid, choice, mutation, with_]) => mutate(valid, choice, mutation, with_));
}

// ---- the database, before and after ---------------------------------------------------------

let tableNames: string[] | null = null;

/** Every table of the app (D1's and SQLite's own aside). */
async function tables(): Promise<string[]> {
  tableNames ??= (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name").all<{ name: string }>()).results.map((r) => r.name);
  return tableNames;
}

/** Every row of every table, in one read: two snapshots are equal when nothing changed. */
export async function snapshot(): Promise<string> {
  const names = await tables();
  const results = await env.DB.batch(names.map((name) => env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`)));
  return JSON.stringify(names.map((name, i) => [name, results[i]?.results]));
}

/** How many rows each table holds: a refused request's diff, said briefly. */
export function rowCounts(snap: string): Record<string, number> {
  return Object.fromEntries((JSON.parse(snap) as [string, unknown[]][]).map(([name, rows]) => [name, rows.length]));
}
