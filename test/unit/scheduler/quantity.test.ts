import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { ApiValidationError, decodeMemberCluster } from "../../../operator/src/api/index.ts";
import { bytes, InvalidQuantityError, milliCores, parseQuantity, podCount } from "../../../operator/src/scheduler/quantity.ts";
import { fcParams } from "./properties/runs.ts";

/** The pattern the API server enforces, read from the generated CRD rather than from the code that wrote it. */
function crdQuantityPattern(): RegExp {
  const crd = parseYaml(readFileSync(new URL("../../../crds/sovereignty.eu_memberclusters.yaml", import.meta.url), "utf8")) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { status: { properties: { allocatable: { additionalProperties: { pattern: string } } } } } } } }[] };
  };
  return new RegExp(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.status.properties.allocatable.additionalProperties.pattern);
}
const CRD_PATTERN = crdQuantityPattern();

function accepts(value: string): boolean {
  try {
    parseQuantity(value, "q");
    return true;
  } catch (err) {
    if (err instanceof InvalidQuantityError) return false;
    throw err;
  }
}

/** What the offline decoder (the same rules as the CRD) says of an allocatable quantity. */
function decoderAccepts(value: string): boolean {
  try {
    decodeMemberCluster({
      apiVersion: "sovereignty.eu/v1alpha1",
      kind: "MemberCluster",
      metadata: { name: "c" },
      spec: { residency: { country: "FR", jurisdiction: "EU", extraterritorialExposure: [] } },
      status: { allocatable: { cpu: value } },
    }, { source: "test" });
    return true;
  } catch (err) {
    if (err instanceof ApiValidationError) return false;
    throw err;
  }
}

describe("resource quantities", () => {
  const cases = [
    { value: "500m", cores: 500 },
    { value: "2", cores: 2_000 },
    { value: "0.1", cores: 100 },
    { value: "1.5", cores: 1_500 },
    { value: 4, cores: 4_000 },
    { value: "1e3", cores: 1_000_000 },
    { value: "100u", cores: 1 },
  ];
  for (const c of cases) it(`reads cpu ${JSON.stringify(c.value)} as ${c.cores} millicores, rounding requests up`, () => assert.equal(milliCores({ value: c.value, field: "cpu", rounding: "up" }), c.cores));

  it("rounds what a cluster has down", () => assert.equal(milliCores({ value: "100u", field: "cpu", rounding: "down" }), 0));

  const memory = [
    { value: "256Gi", bytes: 256 * 2 ** 30 },
    { value: "128Mi", bytes: 128 * 2 ** 20 },
    { value: "1G", bytes: 1e9 },
    { value: "1.5Ki", bytes: 1536 },
    { value: "64", bytes: 64 },
  ];
  for (const c of memory) it(`reads memory ${c.value} as ${c.bytes} bytes`, () => assert.equal(bytes({ value: c.value, field: "memory", rounding: "up" }), c.bytes));

  it("reads pods as a count", () => assert.equal(podCount({ value: "1.1k", field: "pods", rounding: "down" }), 1100));

  for (const bad of ["half-a-core", "1.2.3", "5 Gi", "Gi", "", "1ki", null, true, {}]) {
    it(`refuses ${JSON.stringify(bad)}, naming the field`, () => {
      assert.throws(() => parseQuantity(bad, "spec.x.cpu"), (e: unknown) => e instanceof InvalidQuantityError && e.message.startsWith("spec.x.cpu: "));
    });
  }

  describe("one grammar (resource.ParseQuantity's) for the CRD, the decoder and the scheduler", () => {
    // Value in base units, or null where ParseQuantity refuses the string.
    const grammar: [string, number | null][] = [
      ["1", 1], ["+1", 1], ["-1", -1], ["1.", 1], [".5", 0.5], ["0", 0], ["007", 7],
      ["1n", 1e-9], ["1u", 1e-6], ["1m", 1e-3], ["1k", 1e3], ["1M", 1e6], ["1G", 1e9], ["1T", 1e12], ["1P", 1e15], ["1E", 1e18],
      ["1Ki", 2 ** 10], ["1Mi", 2 ** 20], ["1Gi", 2 ** 30], ["1Ti", 2 ** 40], ["1Pi", 2 ** 50], ["1Ei", 2 ** 60], ["1.5Gi", 1.5 * 2 ** 30],
      ["1e3", 1e3], ["1E3", 1e3], ["1e+3", 1e3], ["1e-3", 1e-3], ["2.5e2", 250],
      // The exponent is an integer: the OpenAPI pattern Kubernetes publishes allowed these.
      ["1e1.5", null], ["1e.5", null], ["1e1.", null],
      ["1e", null], ["e3", null], ["1e3Gi", null], ["1ki", null], ["1K", null], ["1Gb", null], ["1Gi3", null],
      [" 1", null], ["1 ", null], ["", null], [".", null], ["+", null], ["-.", null], ["1.2.3", null], ["0x10", null], ["1_000", null], ["--1", null], ["1mm", null],
    ];
    for (const [text, value] of grammar) {
      it(`${value === null ? "refuses" : "accepts"} ${JSON.stringify(text)} in the scheduler, the decoder and the CRD pattern alike`, () => {
        assert.equal(accepts(text), value !== null, "scheduler");
        assert.equal(decoderAccepts(text), value !== null, "decoder");
        assert.equal(CRD_PATTERN.test(text), value !== null, "CRD pattern");
        if (value !== null) assert.ok(Math.abs(parseQuantity(text, "q") - value) <= 1e-12 * Math.abs(value), `${text} = ${parseQuantity(text, "q")}`);
      });
    }

    const ALPHABET = [..."0123456789", ".", "+", "-", "e", "E", "i", "K", "M", "G", "T", "P", "n", "u", "m", "k", " ", "x"];
    const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 7 }).map((cs) => cs.join(""));

    it("accepts exactly what the CRD's pattern admits (property over strings of the grammar's alphabet)", () => {
      fc.assert(
        fc.property(text, (s) => {
          assert.equal(accepts(s), CRD_PATTERN.test(s), JSON.stringify(s));
          assert.equal(decoderAccepts(s), CRD_PATTERN.test(s), `decoder: ${JSON.stringify(s)}`);
        }),
        fcParams(),
      );
    });

    const quantity = fc
      .record({
        sign: fc.constantFrom("", "+", "-"),
        whole: fc.stringMatching(/^[0-9]{0,4}$/),
        fraction: fc.option(fc.stringMatching(/^[0-9]{0,3}$/), { nil: undefined }),
        suffix: fc.oneof(
          fc.constantFrom("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"),
          fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), fc.integer({ min: 0, max: 30 })).map(([e, s, n]) => `${e}${s}${n}`),
        ),
      })
      .filter(({ whole, fraction }) => /[0-9]/.test(whole + (fraction ?? "")))
      .map(({ sign, whole, fraction, suffix }) => `${sign}${whole}${fraction === undefined ? "" : `.${fraction}`}${suffix}`);

    it("reads every quantity of the grammar, and reads the number it prints back as the same value (round trip)", () => {
      fc.assert(
        fc.property(quantity, (q) => {
          assert.ok(CRD_PATTERN.test(q), `${q} is not in the CRD pattern`);
          const value = parseQuantity(q, "q");
          assert.ok(Number.isFinite(value), q);
          // String(number) may print an exponent ("1e+21", "1e-7"): it too must be a quantity of the grammar.
          const printed = String(value);
          assert.ok(CRD_PATTERN.test(printed), `${q} -> ${printed}`);
          // === on purpose: "-0" prints as "0", the same quantity.
          assert.ok(parseQuantity(printed, "q") === value, `${q} = ${value}, but ${printed} reads as ${parseQuantity(printed, "q")}`);
        }),
        fcParams(),
      );
    });
  });
});
