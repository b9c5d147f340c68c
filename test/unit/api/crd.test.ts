import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { buildCrd, renderAllCrds } from "../../../operator/src/api/crd.ts";
import { KIND_DEFINITIONS } from "../../../operator/src/api/schema/index.ts";
import { KINDS } from "../../../operator/src/api/types.ts";

const crdsDir = path.resolve(import.meta.dirname, "../../../crds");

type Node = Record<string, unknown>;

/** Visits every schema node under openAPIV3Schema with its path. */
function walk(node: Node, at: string, visit: (node: Node, at: string) => void): void {
  visit(node, at);
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Node>)) walk(v, `${at}.${k}`, visit);
  if (node.items) walk(node.items as Node, `${at}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === "object") walk(node.additionalProperties as Node, `${at}{}`, visit);
}

function rootSchema(kind: (typeof KINDS)[number]): Node {
  const crd = buildCrd(KIND_DEFINITIONS[kind]) as { spec: { versions: Array<{ schema: { openAPIV3Schema: Node } }> } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

describe("CRDs generated from the schema description", () => {
  it("the committed crds/*.yaml and crds/VALIDATION.md are exactly the generated output (run npm run gen:crds)", () => {
    for (const { file, content } of renderAllCrds()) {
      assert.equal(readFileSync(path.join(crdsDir, file), "utf8"), content, `crds/${file} is stale`);
    }
  });

  it("reads back identically under YAML 1.1, as kubectl parses it (NO stays Norway, not false)", () => {
    const yamls = renderAllCrds().filter((f) => f.file.endsWith(".yaml"));
    assert.equal(yamls.length, KINDS.length);
    yamls.forEach(({ content }, i) => assert.deepEqual(parse(content, { version: "1.1" }), buildCrd(KIND_DEFINITIONS[KINDS[i]!])));
  });

  for (const kind of KINDS) {
    it(`${kind}: every field has a description, so kubectl explain teaches the API`, () => {
      const missing: string[] = [];
      walk(rootSchema(kind), "", (node, at) => {
        if (at !== ".metadata" && !(typeof node.description === "string" && node.description.length > 0)) missing.push(at || "(root)");
      });
      assert.deepEqual(missing, []);
    });

    it(`${kind}: every string, list and map is bounded, which keeps CEL cost estimates finite`, () => {
      const unbounded: string[] = [];
      walk(rootSchema(kind), "", (node, at) => {
        if (at === ".apiVersion" || at === ".kind") return;
        if (node.type === "string" && node.maxLength === undefined) unbounded.push(`${at} (maxLength)`);
        if (node.type === "array" && node.maxItems === undefined) unbounded.push(`${at} (maxItems)`);
        if (node.type === "object" && node.additionalProperties && node.maxProperties === undefined) unbounded.push(`${at} (maxProperties)`);
      });
      assert.deepEqual(unbounded, []);
    });
  }

  it("VALIDATION.md lists every CEL rule and every enum", () => {
    const doc = renderAllCrds().find((f) => f.file === "VALIDATION.md")!.content;
    for (const kind of KINDS) {
      const crd = JSON.stringify(buildCrd(KIND_DEFINITIONS[kind]));
      for (const m of crd.matchAll(/"message":"((?:[^"\\]|\\.)*)"/g)) assert.ok(doc.includes(JSON.parse(`"${m[1]}"`) as string), `missing rule message: ${m[1]}`);
    }
    assert.match(doc, /enum: the 249 ISO 3166-1 alpha-2 codes/);
    assert.match(doc, /\*\*accepted and pruned\*\*/);
  });

  it("uses the real ISO 3166-1 list for country fields, not a pattern", () => {
    const country = (((rootSchema("MemberCluster").properties as Node).spec as Node).properties as Node).residency as Node;
    const codes = ((country.properties as Node).country as Node).enum as string[];
    assert.equal(codes.length, 249);
    assert.ok(codes.includes("FR") && codes.includes("DE") && codes.includes("NO"));
    assert.ok(!codes.includes("XX") && !codes.includes("EU") && !codes.includes("UK"));
  });
});
