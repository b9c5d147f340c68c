import assert from "node:assert/strict";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { crdsDir, CRD_NAMES, host, installCrds } from "./kube.ts";
import type { Host } from "./kube.ts";

const examplesDir = path.join(crdsDir, "examples");

describe("the CRDs on the host API server", () => {
  let kube: Host;

  // The example namespaces are left in place: deleting them would leave them Terminating
  // for a while, and the next run (or another suite) applying the examples would fail.
  const exampleObjects = ["10-member-clusters.yaml", "20-policies.yaml", "30-workloads.yaml"].flatMap((f) => ["-f", path.join(examplesDir, f)]);

  before(async () => {
    kube = host();
    await installCrds(kube);
    await waitFor(() => !/Terminating/.test(kube.ok(["get", "namespace", "web", "customers", "health", "sensitive", "--ignore-not-found", "--no-headers"])), {
      what: "example namespaces left by an earlier run to finish terminating",
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  after(() => {
    kube?.run(["delete", ...exampleObjects, "--ignore-not-found", "--wait=false"]);
  });

  it("apply with kubectl, are Established, and a second apply changes nothing", () => {
    for (const name of CRD_NAMES) {
      const established = kube.ok(["get", "crd", name, "-o", 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
      assert.equal(established, "True", name);
    }
    assert.match(kube.ok(["apply", "-f", crdsDir]), /unchanged/);
  });

  it("stay within the API server's CEL cost budget, which the server does enforce at apply time (a deliberately expensive rule is refused)", () => {
    // Control: without bounds on the list and its strings, the same kind of rule we use is refused.
    const expensive = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "costprobes.test.sovereignty.eu" },
      spec: {
        group: "test.sovereignty.eu",
        names: { kind: "CostProbe", plural: "costprobes" },
        scope: "Cluster",
        versions: [{
          name: "v1", served: true, storage: true,
          schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { items: { type: "array", items: { type: "string" } } },
            "x-kubernetes-validations": [{ rule: "self.items.all(x, self.items.all(y, x.matches(y)))", message: "m" }] } } } },
        }],
      },
    };
    const r = kube.run(["create", "--dry-run=server", "-f", "-"], JSON.stringify(expensive));
    assert.notEqual(r.status, 0, "an unbounded quadratic rule should exceed the budget");
    assert.match(r.stderr, /cost budget|exceeds budget|estimated rule cost/i);
  });

  it("kubectl explain sovereignworkload.spec.residency prints the field descriptions", () => {
    const out = kube.ok(["explain", "sovereignworkload.spec.residency"]);
    assert.match(out, /Inline residency constraints/);
    assert.match(out, /allowedCountries\s+<\[\]string>/);
    assert.match(out, /ISO 3166-1 alpha-2 codes/);
    assert.match(out, /requiredCertifications/);
    const mc = kube.ok(["explain", "membercluster.spec.residency.certifications.validUntil"]);
    assert.match(mc, /The last day the certification is valid/);
  });

  it("every example applies, namespaces first, and the API server strips status given on create", () => {
    const out = kube.ok(["apply", "-f", examplesDir]);
    for (const obj of ["namespace/health", "membercluster.sovereignty.eu/ovh-par-1", "membercluster.sovereignty.eu/aws-fra-1", "residencypolicy.sovereignty.eu/sensitive-fr-secnumcloud", "sovereignworkload.sovereignty.eu/patient-records"]) {
      assert.match(out, new RegExp(`${obj.replace(/\./g, "\\.")} (created|configured|unchanged)`), out);
    }
    assert.equal(kube.ok(["get", "swl", "-A", "-o", "name"]).trim().split("\n").filter((l) => /website|crm|patient-records|case-files/.test(l)).length, 4);
    // The examples carry a status block for simulate; on the server only the status
    // subresource writes status (the control plane's, from heartbeats), never the manifest's.
    assert.notEqual(kube.ok(["get", "mc", "ovh-par-1", "-o", "jsonpath={.status.lastHeartbeatTime}"]), "2026-11-28T09:59:57Z");
    assert.doesNotMatch(kube.ok(["get", "mc", "ovh-par-1", "-o", "jsonpath={.status.conditions}"]), /last heartbeat 3s ago/);
  });

  it("defaults what the examples leave out: placement.mode and failover of patient-records", () => {
    const spec = JSON.parse(kube.ok(["get", "swl", "patient-records", "-n", "health", "-o", "jsonpath={.spec}"])) as Record<string, unknown>;
    assert.deepEqual(spec.placement, { mode: "Divided" });
    assert.deepEqual(spec.failover, { enabled: true, tolerationSeconds: 60 });
    const web = JSON.parse(kube.ok(["get", "swl", "website", "-n", "web", "-o", "jsonpath={.spec.failover}"])) as unknown;
    assert.deepEqual(web, { enabled: true, tolerationSeconds: 30 });
  });

  it("kubectl get swl,mc,rp prints the printer columns, filled from spec and status", async () => {
    kube.ok(["apply", "-f", examplesDir]);
    // The status comes from the running control plane and agents: patient-records runs its 4 replicas in France.
    const out = await waitFor(() => {
      const o = kube.ok(["get", "swl,mc,rp", "-A"]);
      return /patient-records\s+4\s+4\s+\["FR"\]\s+True/.test(o) && /ovh-par-1\s+FR\s+EU\s+\S+\s+True/.test(o) ? o : undefined;
    }, { what: "patient-records row with its status columns", timeoutMs: 90_000 });
    assert.match(out, /NAMESPACE\s+NAME\s+REPLICAS\s+READY\s+COUNTRIES\s+SCHEDULED\s+AGE/);
    assert.match(out, /NAME\s+COUNTRY\s+JURISDICTION\s+CERTIFICATIONS\s+READY\s+AGE/);
    assert.match(out, /ovh-par-1\s+FR\s+EU\s+\["HDS","ISO27001","SecNumCloud"\]\s+True/);
    assert.match(out, /aws-fra-1\s+DE\s+EU\s+/);
    assert.match(out, /NAME\s+COUNTRIES\s+CERTIFICATIONS\s+AGE/);
    assert.match(out, /health-fr-hds\s+\["FR"\]\s+\["HDS"\]/);
  });

  it("kubectl get sovereign lists all three kinds (category), and the short names work", () => {
    const out = kube.ok(["get", "sovereign", "-A", "-o", "name"]);
    assert.match(out, /^membercluster\.sovereignty\.eu\/ovh-par-1$/m);
    assert.match(out, /^residencypolicy\.sovereignty\.eu\/public$/m);
    assert.match(out, /^sovereignworkload\.sovereignty\.eu\/website$/m);
    assert.match(kube.ok(["get", "mc", "stackit-eu01", "-o", "name"]), /stackit-eu01/);
    assert.match(kube.ok(["get", "rp", "public", "-o", "name"]), /public/);
  });

  it("kubectl scale swl/<name> --replicas=5 changes spec.replicas through the scale subresource", () => {
    kube.ok(["scale", "swl/website", "-n", "web", "--replicas=5"]);
    assert.equal(kube.ok(["get", "swl", "website", "-n", "web", "-o", "jsonpath={.spec.replicas}"]), "5");
    const scale = JSON.parse(kube.ok(["get", "--raw", "/apis/sovereignty.eu/v1alpha1/namespaces/web/sovereignworkloads/website/scale"])) as { kind: string; spec: { replicas: number } };
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.spec.replicas, 5);
    const refused = kube.run(["scale", "swl/website", "-n", "web", "--replicas=20000"]);
    assert.notEqual(refused.status, 0, "the bound on replicas holds through the scale subresource too");
    assert.match(refused.stderr, /spec\.replicas|replicas/);
  });
});
