import assert from "node:assert/strict";
import { requirementsOf } from "../../../../operator/src/controllers/workload/records.ts";
import { NOTHING_ALLOWED, type PlacementRequest, type ResidencyConstraints } from "../../../../operator/src/scheduler/index.ts";
import { cluster, run, workload } from "./world.ts";

const request = (constraints: ResidencyConstraints[]) => ({ constraints } as unknown as PlacementRequest);

describe("requirementsOf: what the member's guard is told, fail closed", () => {
  const rows: { what: string; constraints: ResidencyConstraints[]; countries: string[]; jurisdictions: string[] }[] = [
    { what: "no constraint at all", constraints: [], countries: [], jurisdictions: [] },
    { what: "one list", constraints: [{ allowedCountries: ["FR", "DE"] }], countries: ["DE", "FR"], jurisdictions: [] },
    { what: "an overlap", constraints: [{ allowedCountries: ["FR", "DE"] }, { allowedCountries: ["DE", "IT"] }], countries: ["DE"], jurisdictions: [] },
    { what: "an empty list beside a constraint (empty means any)", constraints: [{ allowedCountries: [] }, { allowedCountries: ["FR"] }], countries: ["FR"], jurisdictions: [] },
    { what: "countries with nothing in common: nothing allowed, never no constraint", constraints: [{ allowedCountries: ["FR"] }, { allowedCountries: ["DE"] }], countries: [NOTHING_ALLOWED], jurisdictions: [] },
    { what: "jurisdictions with nothing in common", constraints: [{ allowedJurisdictions: ["EU"] }, { allowedJurisdictions: ["NONE"] }], countries: [], jurisdictions: [NOTHING_ALLOWED] },
  ];
  for (const r of rows) {
    it(`${r.what}: countries [${r.countries.join(",")}], jurisdictions [${r.jurisdictions.join(",")}]`, () => {
      const got = requirementsOf(request(r.constraints));
      assert.deepEqual(got.allowedCountries, r.countries);
      assert.deepEqual(got.allowedJurisdictions, r.jurisdictions);
    });
  }

  it("certifications add up and any forbid forbids", () => {
    const got = requirementsOf(request([{ requiredCertifications: ["HDS"] }, { requiredCertifications: ["SecNumCloud", "HDS"], forbidExtraterritorialExposure: true }, { forbidExtraterritorialExposure: false }]));
    assert.deepEqual(got.requiredCertifications, ["HDS", "SecNumCloud"]);
    assert.equal(got.forbidExtraterritorialExposure, true);
  });
});

describe("a workload whose pod template no member may run", () => {
  const forbidden = (mutate: (spec: Record<string, unknown>) => void) => {
    const w = workload({ replicas: 2, placements: [{ cluster: "fr-1", country: "FR", replicas: 2 }] });
    mutate(w.spec.template.spec as Record<string, unknown>);
    return w;
  };

  it("is placed nowhere, says which field in Scheduled and an Event, and tells every member holding it to remove it", () => {
    const w = forbidden((spec) => { spec.hostNetwork = true; });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1" }), cluster({ name: "fr-2" })] });
    assert.deepEqual(s.placements, []);
    const scheduled = s.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "PodTemplateForbidden");
    assert.match(scheduled!.message, /spec\.template\.spec\.hostNetwork: /);
    assert.ok(s.events.some((e) => e.type === "Warning" && /spec\.template\.spec\.hostNetwork/.test(e.message)));
    assert.deepEqual(s.intents.map((i) => [i.cluster, i.replicas, i.podTemplate]), [["fr-1", 0, undefined]]);
  });

  it("names the ServiceAccount its policy does not allow, and places it once the policy allows it (positive control)", () => {
    const w = forbidden((spec) => { spec.serviceAccountName = "records-reader"; });
    w.spec.residencyPolicy = "health";
    const policy = (allowed: string[]) => ({ apiVersion: "sovereignty.eu/v1alpha1" as const, kind: "ResidencyPolicy" as const, metadata: { name: "health" }, spec: { podSecurity: { allowedServiceAccounts: allowed } } });
    const refused = run({ workload: w, clusters: [cluster({ name: "fr-1" })], policy: policy([]) });
    assert.match(refused.status.conditions!.find((c) => c.type === "Scheduled")!.message, /spec\.template\.spec\.serviceAccountName: "records-reader"/);
    const allowed = run({ workload: w, clusters: [cluster({ name: "fr-1" })], policy: policy(["records-reader"]) });
    assert.equal(allowed.status.conditions!.find((c) => c.type === "Scheduled")!.status, "True");
    assert.deepEqual(allowed.placements.map((p) => p.cluster), ["fr-1"]);
  });

  it("a template whose violations make a message over the API's 32 KiB limit still gets a condition the API server accepts (found by the 100,000-case fuzz)", () => {
    // Many containers, each naming a capability no member may grant: one violation each.
    const w = forbidden((spec) => {
      spec.containers = Array.from({ length: 600 }, (_, i) => ({ name: `c${i}`, image: "registry.example.eu/app:1", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } })) as never;
    });
    const s = run({ workload: w, clusters: [cluster({ name: "fr-1" })] });
    const scheduled = s.status.conditions!.find((c) => c.type === "Scheduled")!;
    assert.equal(scheduled.reason, "PodTemplateForbidden");
    assert.ok(Buffer.byteLength(scheduled.message) <= 32_768, `${Buffer.byteLength(scheduled.message)} bytes`);
    assert.match(scheduled.message, / … \(\d+ more bytes\)$/, "the positive control: the whole message was longer");
  });

  it("is refused in kube-system or sovereign-system, even if stored before the admission policy existed", () => {
    for (const namespace of ["kube-system", "sovereign-system"]) {
      const w = workload({ replicas: 1 });
      w.metadata.namespace = namespace;
      const s = run({ workload: w, clusters: [cluster({ name: "fr-1" })] });
      assert.deepEqual(s.placements, [], namespace);
      assert.match(s.status.conditions!.find((c) => c.type === "Scheduled")!.message, /metadata\.namespace: /);
    }
  });
});

describe("what intents tell the agent of the pods' rights", () => {
  it("carries the policy's podSecurity, and restricted with no extra ServiceAccount without a policy", () => {
    const w = workload({ replicas: 1 });
    const none = run({ workload: w, clusters: [cluster({ name: "fr-1" })] });
    assert.deepEqual(none.intents.map((i) => i.podSecurity), [{ level: "restricted", allowedServiceAccounts: [] }]);
    w.spec.residencyPolicy = "health";
    const policy = { apiVersion: "sovereignty.eu/v1alpha1" as const, kind: "ResidencyPolicy" as const, metadata: { name: "health" }, spec: { podSecurity: { level: "baseline" as const, allowedServiceAccounts: ["z-reader", "a-writer"] } } };
    const withPolicy = run({ workload: w, clusters: [cluster({ name: "fr-1" })], policy });
    assert.deepEqual(withPolicy.intents.map((i) => i.podSecurity), [{ level: "baseline", allowedServiceAccounts: ["a-writer", "z-reader"] }]);
  });
});
