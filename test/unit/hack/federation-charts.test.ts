import assert from "node:assert/strict";
import fc from "fast-check";
import { AGENT_RELEASE, chartReleases, componentKubeconfig, CONTROL_PLANE_RELEASE, RENEW_BELOW_SECONDS, tokenFresh } from "../../../hack/lib/federation/charts.ts";
import { makeLayout, validateMemberName } from "../../../hack/lib/federation/layout.ts";
import { pkiLayout } from "../../../hack/lib/federation/security.ts";

const root = "/repo";
const layoutOf = (opts: { controlPlane?: boolean; agents?: string[] }) =>
  makeLayout({ root, stateDir: "/state", basePort: 30000, members: ["fr", "ionos-fra-1", "aws-fra-1"], nodesPerMember: 1, agents: opts.agents ?? ["ionos-fra-1", "aws-fra-1"], ...(opts.controlPlane !== undefined ? { controlPlane: opts.controlPlane } : {}) });

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256" })}.${part(claims)}.signature`;
}

const flag = (values: string[], name: string): string | undefined => values.map((v) => new RegExp(`^${name.replace(".", "\\.")}=(.*)$`).exec(v)?.[1]).find((v) => v !== undefined);

describe("the Helm releases and identities hack/federation up gives the control plane and agents (hack/lib/federation/charts.ts)", () => {
  it("installs the control-plane chart on the host and the member-agent chart on each agent member only", () => {
    const rs = chartReleases(layoutOf({}));
    assert.deepEqual(rs.map((r) => [r.release, r.cluster.name, r.component]), [
      [CONTROL_PLANE_RELEASE, "host", "control-plane"],
      [AGENT_RELEASE, "ionos-fra-1", "agent-ionos-fra-1"],
      [AGENT_RELEASE, "aws-fra-1", "agent-aws-fra-1"],
    ]);
    assert.deepEqual(chartReleases(layoutOf({ controlPlane: false })), [], "no control plane: no process, so no chart");
  });

  it("runs no pod of the charts' Deployments and leaves CRDs and the guard to kubectl", () => {
    const [cp, agent] = chartReleases(layoutOf({}));
    assert.equal(flag(cp!.values, "replicaCount"), "0");
    assert.equal(flag(cp!.values, "crds.enabled"), "false");
    assert.equal(flag(cp!.values, "nats.url"), "tls://127.0.0.1:30002");
    assert.equal(flag(agent!.values, "replicaCount"), "0");
    assert.equal(flag(agent!.values, "guard.enabled"), "false");
    assert.equal(flag(agent!.values, "cluster.name"), "ionos-fra-1");
    assert.equal(flag(agent!.values, "controlPlane.grpcAddress"), "127.0.0.1:30004");
    assert.equal(flag(agent!.values, "tls.cert"), pkiLayout({ stateDir: "/state", members: ["fr", "ionos-fra-1", "aws-fra-1"] }).grpcClients["ionos-fra-1"]!.cert);
  });

  it("gives a component its identity's kubeconfig under charts, the cluster admin's under admin", () => {
    const layout = layoutOf({});
    const member = layout.clusters.find((c) => c.name === "aws-fra-1")!;
    assert.equal(componentKubeconfig({ layout, rbac: "charts", cluster: member, component: "agent-aws-fra-1" }), "/state/agent-aws-fra-1.kubeconfig");
    assert.equal(componentKubeconfig({ layout, rbac: "admin", cluster: member, component: "agent-aws-fra-1" }), "/state/aws-fra-1.kubeconfig");
  });

  it("refuses member names that would share a file with an agent's identity", () => {
    assert.throws(() => validateMemberName("agent-fr"), /--members: "agent-fr" is not a valid member name \(reserved/);
    assert.equal(validateMemberName("agentfr"), "agentfr", "the positive control: agent without the dash is a name");
  });

  it("renews a token that is not the ServiceAccount's, malformed, or with less than a day left", () => {
    const sa = "federation-member-agent";
    const sub = `system:serviceaccount:sovereign-system:${sa}`;
    const now = 1_800_000_000;
    const table: Array<[string, string, boolean]> = [
      ["two days left", jwt({ sub, exp: now + 2 * 86400 }), true],
      ["exactly the threshold left", jwt({ sub, exp: now + RENEW_BELOW_SECONDS }), true],
      ["a second under the threshold", jwt({ sub, exp: now + RENEW_BELOW_SECONDS - 1 }), false],
      ["expired", jwt({ sub, exp: now - 1 }), false],
      ["another ServiceAccount's", jwt({ sub: "system:serviceaccount:sovereign-system:other", exp: now + 2 * 86400 }), false],
      ["no expiry", jwt({ sub }), false],
      ["not a JWT", "not-a-token", false],
      ["empty", "", false],
    ];
    for (const [what, token, fresh] of table) assert.equal(tokenFresh({ token, serviceAccount: sa, nowSeconds: now }), fresh, what);
    fc.assert(fc.property(fc.string(), (junk) => tokenFresh({ token: junk, serviceAccount: sa, nowSeconds: now }) === false));
  });
});
