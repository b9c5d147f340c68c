import assert from "node:assert/strict";
import fc from "fast-check";
import { envKeys, federationEnvFromVars, FederationEnvError, layoutEnv, parseEnv, renderEnv } from "../../../hack/lib/federation/env.ts";
import { makeLayout } from "../../../hack/lib/federation/layout.ts";

const members = ["fr", "de", "ovh-par-1", "ionos-fra-1"];
const layout = makeLayout({ root: "/r", stateDir: "/s", basePort: 30000, members, nodesPerMember: 1, agents: ["ovh-par-1", "ionos-fra-1"] });
const nats = { NATS_URL: "tls://127.0.0.1:30002", NATS_MONITOR_URL: "http://127.0.0.1:30003", NATS_CA: "/s/pki/ca.pem", NATS_CREDS_OVH_PAR_1: "/s/pki/nats/ovh-par-1.nk", NATS_CREDS_CONTROL_PLANE: "/s/pki/nats/control-plane.nk" };

describe(".federation/env (hack/lib/federation/env.ts)", () => {
  it("names members, agents, the control plane's metrics and gRPC address and each agent's metrics URL", () => {
    const vars = layoutEnv({ layout, kubectl: "/bin/kubectl" });
    assert.equal(vars.FEDERATION_MEMBERS, "fr,de,ovh-par-1,ionos-fra-1");
    assert.equal(vars.FEDERATION_AGENTS, "ovh-par-1,ionos-fra-1");
    assert.equal(vars.OVH_PAR_1_KUBECONFIG, "/s/ovh-par-1.kubeconfig");
    assert.equal(vars.CONTROL_PLANE_METRICS_URL, `http://127.0.0.1:${layout.controlPlaneMetricsPort}/metrics`);
    assert.equal(vars.CONTROL_PLANE_GRPC_ADDRESS, `127.0.0.1:${layout.grpcPort}`);
    assert.equal(vars.AGENT_METRICS_URL_IONOS_FRA_1, `http://127.0.0.1:${layout.clusters.find((c) => c.name === "ionos-fra-1")!.agentMetricsPort}/metrics`);
    assert.equal(vars.AGENT_METRICS_URL_FR, undefined, "fr runs no agent");
  });

  it("reads back what it wrote, with member kubeconfigs keyed by the real member names", () => {
    const text = renderEnv({ ...layoutEnv({ layout, kubectl: "/bin/kubectl" }), ...nats });
    const env = federationEnvFromVars({ stateDir: "/s", vars: parseEnv(text) });
    assert.deepEqual(env.members, members);
    assert.deepEqual(Object.keys(env.memberKubeconfigs), members);
    assert.equal(env.memberKubeconfigs["ovh-par-1"], "/s/ovh-par-1.kubeconfig");
    assert.equal(env.hostKubeconfig, "/s/host.kubeconfig");
    assert.deepEqual(env.agentMetricsUrls, { "ovh-par-1": `http://127.0.0.1:${layout.clusters[3]!.agentMetricsPort}/metrics`, "ionos-fra-1": `http://127.0.0.1:${layout.clusters[4]!.agentMetricsPort}/metrics` });
    assert.equal(env.natsCreds["ovh-par-1"], "/s/pki/nats/ovh-par-1.nk");
    assert.equal(env.natsCreds["control-plane"], "/s/pki/nats/control-plane.nk");
    assert.equal(env.kubectl, "/bin/kubectl");
  });

  it("reads a file written before FEDERATION_MEMBERS and agents existed (members from *_KUBECONFIG)", () => {
    const env = federationEnvFromVars({ stateDir: "/s", vars: { HOST_KUBECONFIG: "/s/host.kubeconfig", FR_KUBECONFIG: "/s/fr.kubeconfig", DE_KUBECONFIG: "/s/de.kubeconfig", ...nats } });
    assert.deepEqual(Object.keys(env.memberKubeconfigs).sort(), ["de", "fr"]);
    assert.deepEqual(env.agents, []);
  });

  it("names the missing line and the file when the federation is not up", () => {
    assert.throws(() => federationEnvFromVars({ stateDir: "/s", vars: { ...nats } }), (e: Error) => e instanceof FederationEnvError && /\/s\/env: no HOST_KUBECONFIG/.test(e.message));
    assert.throws(() => federationEnvFromVars({ stateDir: "/s", vars: { HOST_KUBECONFIG: "/h", [envKeys.members]: "fr", ...nats } }), /no FR_KUBECONFIG/);
  });

  it("round-trips any value through the shell quoting (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,20}$/), fc.string().filter((s) => !s.includes("\n"))), (vars) => {
        assert.deepEqual(parseEnv(renderEnv(vars)), { ...vars });
      }),
    );
  });
});
