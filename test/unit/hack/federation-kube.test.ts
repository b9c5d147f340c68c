import assert from "node:assert/strict";
import { controllerManagerComponent } from "../../../hack/lib/federation/kube.ts";
import { makeLayout } from "../../../hack/lib/federation/layout.ts";
import type { Tools } from "../../../hack/lib/federation/tools.ts";

const tools = Object.fromEntries(["etcd", "kubeApiserver", "kubeControllerManager", "kubeScheduler", "kubectl", "kwok", "kwokStages", "natsServer", "helm"].map((k) => [k, `/bin/${k}`])) as unknown as Tools;

describe("kube-controller-manager of the local federation (hack/lib/federation/kube.ts)", () => {
  const layout = makeLayout({ root: "/r", stateDir: "/r/.federation", basePort: 30000, members: ["fr", "ionos-fra-1"], nodesPerMember: 1, agents: ["ionos-fra-1"] });
  const args = (name: string) => controllerManagerComponent({ layout, cluster: layout.clusters.find((c) => c.name === name)!, tools }).args;

  it("gives every member's the same raised client QPS, so the e2e bench's direct baseline is the members' own speed", () => {
    for (const member of ["fr", "ionos-fra-1"]) {
      assert.ok(args(member).includes("--kube-api-qps=100"), member);
      assert.ok(args(member).includes("--kube-api-burst=200"), member);
    }
  });

  it("leaves the host's at its defaults (it creates no pods)", () => {
    assert.ok(!args("host").some((a) => a.startsWith("--kube-api-")), args("host").join(" "));
  });
});
