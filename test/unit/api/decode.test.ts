import assert from "node:assert/strict";
import { ApiValidationError, decodeMemberCluster, decodeObject, decodeResidencyPolicy, decodeSovereignWorkload } from "../../../operator/src/api/decode.ts";
import { memberCluster as buildMemberCluster, NOW_ISO, sovereignWorkload as buildSovereignWorkload } from "../../support/builders.ts";

const SOURCE = "crds/examples/x.yaml#2";

/** Plain JSON as YAML gives it, to decode: pods as an integer, which the decoder normalises. */
function memberCluster(): Record<string, unknown> {
  const mc = buildMemberCluster({
    residency: { certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" }] },
    status: {
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: NOW_ISO, reason: "HeartbeatFresh", message: "" }],
      allocatable: { cpu: "64", memory: "256Gi", pods: 1100 as unknown as string },
    },
  });
  return structuredClone(mc) as unknown as Record<string, unknown>;
}

/** Without failover, so the decoder's defaulting of it is what a test sees. */
function workload(): Record<string, unknown> {
  const w = buildSovereignWorkload({
    name: "patient-records",
    namespace: "health",
    spec: {
      replicas: 4,
      residencyPolicy: "health-fr-hds",
      residency: { allowedCountries: ["FR", "DE"] },
      placement: { mode: "Divided", maxClusters: 3, spread: { minCountries: 1 } },
      failover: undefined,
      template: { metadata: { labels: { app: "patient-records" } }, spec: { containers: [{ name: "app", image: "registry.example/app:1", ports: [{ containerPort: 8080 }] }] } },
    },
  });
  return structuredClone(w) as unknown as Record<string, unknown>;
}

/** Sets a dotted path ("spec.residency.country") in a plain object, creating objects on the way. */
function set(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const keys = path.split(".");
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[keys.at(-1)!] = value;
  return obj;
}

function rejection(fn: () => unknown): ApiValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiValidationError, `expected ApiValidationError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the document to be rejected");
}

describe("decodeObject", () => {
  it("decodes a valid MemberCluster, normalising integer quantities to strings", () => {
    const mc = decodeMemberCluster(memberCluster(), { source: SOURCE });
    assert.equal(mc.spec.residency.country, "FR");
    assert.equal(mc.spec.residency.certifications?.[0]?.validUntil, "2027-06-30");
    assert.deepEqual(mc.status?.allocatable, { cpu: "64", memory: "256Gi", pods: "1100" });
  });

  it("names the document, the object and the field: a country that is not an ISO 3166-1 code", () => {
    const err = rejection(() => decodeObject(set(memberCluster(), "spec.residency.country", "XX"), { source: SOURCE }));
    assert.equal(err.message, 'crds/examples/x.yaml#2 (MemberCluster ovh-par-1): spec.residency.country: "XX" is not an ISO 3166-1 alpha-2 code');
    assert.equal(err.field, "spec.residency.country");
    assert.equal(err.source, SOURCE);
  });

  it("says that country codes are upper case when given a lower-case code", () => {
    const err = rejection(() => decodeObject(set(memberCluster(), "spec.residency.country", "fr"), { source: SOURCE }));
    assert.match(err.message, /"fr" is not an ISO 3166-1 alpha-2 code: codes are upper case \("FR"\)/);
  });

  it("refuses a MemberCluster without extraterritorialExposure, naming the field: no exposure must be declared ([]), never assumed", () => {
    const mc = memberCluster();
    delete (mc.spec as { residency: Record<string, unknown> }).residency.extraterritorialExposure;
    const err = rejection(() => decodeObject(mc, { source: SOURCE }));
    assert.equal(err.field, "spec.residency.extraterritorialExposure");
    assert.match(err.message, /\(MemberCluster ovh-par-1\): spec\.residency\.extraterritorialExposure: required field is missing/);
  });

  it("accepts extraterritorialExposure: [] as a declaration of no exposure", () => {
    assert.deepEqual(decodeMemberCluster(memberCluster(), { source: SOURCE }).spec.residency.extraterritorialExposure, []);
  });

  it("rejects an unknown kind, naming kind", () => {
    const err = rejection(() => decodeObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: {} }, { source: SOURCE }));
    assert.equal(err.field, "kind");
    assert.match(err.message, /"Deployment" is not a kind of sovereignty\.eu\/v1alpha1/);
  });

  it("rejects a document that is not an object", () => {
    const err = rejection(() => decodeObject(["a"], { source: SOURCE }));
    assert.match(err.message, /^crds\/examples\/x\.yaml#2: \(document\): must be an object/);
  });

  it("rejects a field of the wrong type, naming it", () => {
    const err = rejection(() => decodeObject(set(workload(), "spec.replicas", "4"), { source: SOURCE }));
    assert.equal(err.field, "spec.replicas");
    assert.match(err.message, /\(SovereignWorkload health\/patient-records\): spec\.replicas: must be an integer, got a string \("4"\)/);
  });

  it("rejects an invalid calendar date in validUntil", () => {
    const mc = memberCluster();
    ((mc.spec as { residency: { certifications: Array<Record<string, unknown>> } }).residency.certifications[0]!).validUntil = "2027-02-30";
    const err = rejection(() => decodeObject(mc, { source: SOURCE }));
    assert.equal(err.field, "spec.residency.certifications[0].validUntil");
  });

  it("accepts a YAML 1.1 timestamp for validUntil as its date", () => {
    const mc = memberCluster();
    ((mc.spec as { residency: { certifications: Array<Record<string, unknown>> } }).residency.certifications[0]!).validUntil = new Date("2027-06-30T00:00:00Z");
    assert.equal(decodeMemberCluster(mc, { source: SOURCE }).spec.residency.certifications?.[0]?.validUntil, "2027-06-30");
  });

  it("explains a country read as a boolean: unquoted NO is false in YAML 1.1, as kubectl reads it", () => {
    const err = rejection(() => decodeObject(set(memberCluster(), "spec.residency.country", false), { source: SOURCE }));
    assert.equal(err.field, "spec.residency.country");
    assert.match(err.reason, /must be a string, got a boolean \(unquoted .*NO for Norway.*quote the value\)/);
  });

  it("rejects unknown fields (offline input is strict, as kubectl --validate=strict)", () => {
    const err = rejection(() => decodeObject(set(memberCluster(), "spec.residency.contry", "FR"), { source: SOURCE }));
    assert.equal(err.field, "spec.residency.contry");
    assert.match(err.reason, /unknown field "contry"/);
  });

  it("keeps unknown fields of the pod spec, which the member cluster validates", () => {
    const w = decodeSovereignWorkload(workload(), { source: SOURCE });
    assert.deepEqual(w.spec.template.spec.containers[0]?.ports, [{ containerPort: 8080 }]);
  });

  it("applies the CRD's defaults, including defaults inside defaulted objects", () => {
    const doc = workload();
    const spec = doc.spec as Record<string, unknown>;
    delete spec.replicas;
    delete spec.placement;
    const w = decodeSovereignWorkload(doc, { source: SOURCE });
    assert.equal(w.spec.replicas, 1);
    assert.deepEqual(w.spec.placement, { mode: "Divided" });
    assert.deepEqual(w.spec.failover, { enabled: true, tolerationSeconds: 30 });
  });

  it("gives a namespaced object without namespace the default namespace, as kubectl does", () => {
    const doc = workload();
    delete (doc.metadata as Record<string, unknown>).namespace;
    assert.equal(decodeSovereignWorkload(doc, { source: SOURCE }).metadata.namespace, "default");
    assert.equal(decodeSovereignWorkload(doc, { source: SOURCE, defaultNamespace: "health" }).metadata.namespace, "health");
  });

  it("runs the CEL rules' TypeScript twins: minCountries above maxClusters", () => {
    const err = rejection(() => decodeObject(set(workload(), "spec.placement.spread.minCountries", 4), { source: SOURCE }));
    assert.equal(err.field, "spec.placement.spread.minCountries");
    assert.match(err.reason, /must not exceed spec\.placement\.maxClusters/);
  });

  it("requires values for an In selector and forbids them for Exists", () => {
    const inWithout = set(workload(), "spec.residency.clusterSelector", { matchExpressions: [{ key: "tier", operator: "In" }] });
    assert.equal(rejection(() => decodeObject(inWithout, { source: SOURCE })).field, "spec.residency.clusterSelector.matchExpressions[0].values");
    const existsWith = set(workload(), "spec.residency.clusterSelector", { matchExpressions: [{ key: "tier", operator: "Exists", values: ["a"] }] });
    assert.equal(rejection(() => decodeObject(existsWith, { source: SOURCE })).field, "spec.residency.clusterSelector.matchExpressions[0].values");
  });

  it("rejects a jurisdiction that does not agree with the country", () => {
    const err = rejection(() => decodeObject(set(memberCluster(), "spec.residency.jurisdiction", "NONE"), { source: SOURCE }));
    assert.equal(err.field, "spec.residency.jurisdiction");
  });

  it("rejects a MemberCluster name that is not a DNS label (it names NATS subjects)", () => {
    const err = rejection(() => decodeObject(set(memberCluster(), "metadata.name", "ovh.par.1"), { source: SOURCE }));
    assert.equal(err.field, "metadata.name");
  });

  it("lists every issue in the message, not only the first", () => {
    const doc = set(set(memberCluster(), "spec.residency.country", "XX"), "spec.taints", [{ key: "a", effect: "PreferNoSchedule" }]);
    const err = rejection(() => decodeObject(doc, { source: SOURCE }));
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /spec\.residency\.country: .*; spec\.taints\[0\]\.effect: "PreferNoSchedule" is not one of "NoSchedule", "NoExecute"/);
  });

  it("rejects duplicate entries of set and map lists", () => {
    const doc = set(workload(), "spec.residency.allowedCountries", ["FR", "FR"]);
    assert.equal(rejection(() => decodeObject(doc, { source: SOURCE })).field, "spec.residency.allowedCountries[1]");
  });

  it("the typed decoders refuse another kind of the API", () => {
    const err = rejection(() => decodeResidencyPolicy(memberCluster(), { source: SOURCE }));
    assert.equal(err.field, "kind");
    assert.match(err.reason, /expected ResidencyPolicy, got "MemberCluster"/);
  });
});
