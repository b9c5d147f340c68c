// A resource quantity in the pod template that nobody can read (the API server does not
// check a template's quantities; the fuzzer found "𛆳≩𐎅" accepted): the workload is placed
// nowhere with PodTemplateForbidden naming the field, and its Scheduled condition says so,
// where the decision used to throw and the workload never got a Scheduled condition.
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { desired } from "../../../../operator/src/controllers/workload/desired.ts";
import { planWorkload } from "../../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW, restrictedSecurityContext, sovereignWorkload } from "../../../support/builders.ts";

const FIELD = "spec.template.spec.containers[0].resources.requests.cpu";
const ready = (name: string) => memberCluster({
  name,
  taints: [],
  status: {
    conditions: [{ type: "Ready", status: "True", reason: "", message: "", lastTransitionTime: new Date(NOW - 3_600_000).toISOString() }],
    allocatable: { cpu: "64", memory: "256Gi", pods: "110" },
  },
});
const clusters = [ready("ovh-par-1"), ready("ionos-fra-1")];

function withCpu(cpu: string, placements?: { cluster: string; replicas: number }[]): SovereignWorkload {
  const w = sovereignWorkload({ name: "quantities", spec: { replicas: 2 } });
  w.spec.template.spec.containers = [{ name: "app", image: "registry.example.eu/app:1", resources: { requests: { cpu } }, securityContext: restrictedSecurityContext() }];
  if (placements) w.status = { placements: placements.map((p) => ({ ...p, country: "FR" })) } as SovereignWorkload["status"];
  return w;
}

describe("a pod template with an unreadable resource quantity", () => {
  for (const cpu of ["𛆳≩𐎅", "1.2.3", "5 cores", "-"]) {
    it(`cpu ${JSON.stringify(cpu)}: placed nowhere, PodTemplateForbidden naming the field`, () => {
      const d = planWorkload({ workload: withCpu(cpu), clusters, used: new Map(), now: NOW });
      assert.deepEqual(d.placements, []);
      assert.equal(d.scheduled, false);
      assert.equal(d.reason, "PodTemplateForbidden");
      assert.ok(d.message.includes(FIELD), d.message);
    });
  }

  it("positive control: the same template with \"500m\" is placed", () => {
    const d = planWorkload({ workload: withCpu("500m"), clusters, used: new Map(), now: NOW });
    assert.equal(d.scheduled, true, `${d.reason}: ${d.message}`);
    assert.equal(d.placements.reduce((n, p) => n + p.replicas, 0), 2);
  });

  it("the controller's desired step writes Scheduled=False naming the field, and vacates where it ran", () => {
    const state = desired({ workload: withCpu("𛆳≩𐎅", [{ cluster: "ovh-par-1", replicas: 2 }]), policy: undefined, clusters, reports: new Map(), used: new Map(), now: new Date(NOW), decidedBy: "test", removalAcknowledged: new Set() });
    const scheduled = state.status.conditions?.find((c) => c.type === "Scheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "PodTemplateForbidden");
    assert.ok(scheduled?.message.includes(FIELD), scheduled?.message);
    assert.deepEqual(state.intents.map((i) => [i.cluster, i.replicas]), [["ovh-par-1", 0]], "its replicas leave the cluster that held them");
  });
});
