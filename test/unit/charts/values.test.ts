import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

const root = path.resolve(import.meta.dirname, "../../..");
const CHARTS = ["control-plane", "member-agent"] as const;

interface Schema {
  type?: string | string[];
  $ref?: string;
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  definitions?: Record<string, Schema>;
}

function resolve(schema: Schema, root: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/definitions/", "");
  return { ...root.definitions![name]!, ...schema, $ref: undefined };
}

/** Every leaf of `values` with the schema node that types it, or the path it lacks. */
function untyped(values: unknown, schema: Schema, rootSchema: Schema, at: string): string[] {
  const s = resolve(schema, rootSchema);
  if (!s.type && !s.oneOf) return [`${at}: no type`];
  if (values === null || typeof values !== "object" || Array.isArray(values) || !s.properties) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    const child = s.properties[k];
    if (!child) {
      // A map of free keys (labels, annotations) is typed by additionalProperties.
      if (typeof s.additionalProperties === "object") continue;
      out.push(`${at}.${k}: not in the schema`);
      continue;
    }
    out.push(...untyped(v, child, rootSchema, `${at}.${k}`));
  }
  return out;
}

/** Object nodes that accept keys nobody declared (a typo would pass silently). */
function openObjects(schema: Schema, rootSchema: Schema, at: string): string[] {
  const s = resolve(schema, rootSchema);
  if (!s.properties) return [];
  const here = s.additionalProperties === false ? [] : [at];
  return [...here, ...Object.entries(s.properties).flatMap(([k, v]) => openObjects(v, rootSchema, `${at}.${k}`))];
}

describe("chart values and their schema", () => {
  for (const chart of CHARTS) {
    const dir = path.join(root, "charts", chart);
    const schema = JSON.parse(readFileSync(path.join(dir, "values.schema.json"), "utf8")) as Schema;

    it(`${chart}: every value in values.yaml and in ci/*.yaml is typed by values.schema.json`, () => {
      const files = ["values.yaml", ...readdirSync(path.join(dir, "ci")).map((f) => path.join("ci", f))];
      for (const f of files) assert.deepEqual(untyped(parse(readFileSync(path.join(dir, f), "utf8")) ?? {}, schema, schema, f), []);
    });

    it(`${chart}: every object in the schema refuses unknown keys`, () => {
      assert.deepEqual(openObjects(schema, schema, "values"), []);
    });
  }

  it("positive control: a value missing from the schema is reported", () => {
    const schema: Schema = { type: "object", additionalProperties: false, properties: { a: { type: "string" } } };
    assert.deepEqual(untyped({ a: "x", b: 1 }, schema, schema, "v"), ["v.b: not in the schema"]);
    assert.deepEqual(openObjects({ type: "object", properties: { a: { type: "object", properties: {} } } }, schema, "v"), ["v", "v.a"]);
  });
});

describe("the control-plane chart's CRDs", () => {
  it("are byte-identical to crds/ (npm run gen:crds writes both; --check passes)", () => {
    const crds = readdirSync(path.join(root, "crds")).filter((f) => f.endsWith(".yaml")).sort();
    const copies = readdirSync(path.join(root, "charts", "control-plane", "files", "crds")).sort();
    assert.deepEqual(copies, crds);
    for (const f of crds) {
      assert.equal(readFileSync(path.join(root, "charts", "control-plane", "files", "crds", f), "utf8"), readFileSync(path.join(root, "crds", f), "utf8"), f);
    }
    execFileSync(process.execPath, [path.join(root, "hack", "gen-crds.ts"), "--check"], { stdio: "pipe" });
  });
});
