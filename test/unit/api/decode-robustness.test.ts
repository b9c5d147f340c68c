// simulate feeds the decoder whatever YAML a user wrote: it must answer with a typed object
// or an ApiValidationError, never crash with a TypeError deep inside.
import assert from "node:assert/strict";
import fc from "fast-check";
import { ApiValidationError, decodeObject } from "../../../operator/src/api/decode.ts";
import { validMemberCluster, validResidencyPolicy, validSovereignWorkload } from "../../support/bad-manifests.ts";

type Json = Record<string, unknown>;

/** All paths to values in a JSON tree, as key lists. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

function replaceAt(doc: Json, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc);
  let cur = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path.at(-1)!] = value;
  return copy;
}

const bases = [validMemberCluster("mc"), validResidencyPolicy("rp"), validSovereignWorkload("swl")];

function decodeOrValidationError(doc: unknown): void {
  try {
    decodeObject(doc, { source: "fuzz" });
  } catch (err) {
    assert.ok(err instanceof ApiValidationError, `not an ApiValidationError: ${String(err)}`);
    assert.ok(err.issues.length > 0 && err.message.startsWith("fuzz"));
  }
}

describe("decodeObject on arbitrary input", () => {
  it("answers any JSON value with an object or an ApiValidationError", () => {
    fc.assert(fc.property(fc.jsonValue(), decodeOrValidationError), { numRuns: 300 });
  });

  it("answers a valid object with any one value replaced by anything", () => {
    const mutation = fc.constantFrom(...bases).chain((base) => fc.tuple(fc.constant(base), fc.constantFrom(...paths(base)), fc.jsonValue({ maxDepth: 3 })));
    fc.assert(fc.property(mutation, ([base, path, value]) => decodeOrValidationError(replaceAt(base, path, value))), { numRuns: 500 });
  });

  it("is idempotent: decoding a decoded object gives the same object", () => {
    for (const base of bases) {
      const once = decodeObject(base, { source: "a" });
      assert.deepEqual(decodeObject(structuredClone(once), { source: "b" }), once);
    }
  });
});

describe("decodeObject and __proto__ keys", () => {
  it("treats a __proto__ key from parsed YAML as an unknown field, not as the prototype", () => {
    const doc = validSovereignWorkload("swl") as { spec: Json };
    const spec = JSON.parse(`{"__proto__": {"polluted": true}, "replicas": 2, "template": ${JSON.stringify((doc.spec as { template: unknown }).template)}}`) as Json;
    let err: unknown;
    try {
      decodeObject({ ...doc, spec }, { source: "proto" });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ApiValidationError);
    assert.equal(err.field, "spec.__proto__");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("keeps a __proto__ key inside the open pod spec as plain data", () => {
    const doc = validSovereignWorkload("swl") as { spec: { template: { spec: Json } } };
    doc.spec.template.spec = JSON.parse(`{"__proto__": {"x": 1}, "containers": [{"name": "a", "image": "b"}]}`) as Json;
    const out = decodeObject(doc, { source: "proto" }) as unknown as { spec: { template: { spec: Json } } };
    assert.ok(Object.hasOwn(out.spec.template.spec, "__proto__"));
    assert.equal(Object.getPrototypeOf(out.spec.template.spec), Object.prototype);
  });
});
