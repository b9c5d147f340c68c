import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { componentAlias } from "../../../hack/lib/federation/federation.ts";
import { makeLayout } from "../../../hack/lib/federation/layout.ts";
import { AGENT_ENTRY, agentComponent, CONTROL_PLANE_ENTRY, CONTROL_PLANE_NODE_FLAGS, controlPlaneComponent } from "../../../hack/lib/federation/operator.ts";

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

describe("the control plane and agents as federation components (hack/lib/federation/operator.ts)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "operator-components-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const layoutIn = (r: string) => makeLayout({ root: r, stateDir: path.join(r, ".federation"), basePort: 30000, members: ["fr", "ionos-fra-1"], nodesPerMember: 1, agents: ["ionos-fra-1"] });
  const write = (file: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), "");
  };

  it("is absent, saying which entry file is missing, until the entry file exists", () => {
    const layout = layoutIn(root);
    const cp = controlPlaneComponent({ layout, node: "/node" });
    assert.ok("absent" in cp && cp.absent.name === "control-plane" && cp.absent.reason.includes(CONTROL_PLANE_ENTRY));
    const agent = agentComponent({ layout, cluster: layout.clusters[2]!, node: "/node" });
    assert.ok("absent" in agent && agent.absent.name === "agent-ionos-fra-1" && agent.absent.reason.includes(AGENT_ENTRY));
    write(CONTROL_PLANE_ENTRY);
    assert.ok("component" in controlPlaneComponent({ layout, node: "/node" }), "positive control: present once written");
  });

  it("runs the control plane with the agreed command line on the layout's ports and the control plane's NATS identity", () => {
    write(CONTROL_PLANE_ENTRY);
    const layout = layoutIn(root);
    const cp = controlPlaneComponent({ layout, node: "/node" });
    assert.ok("component" in cp);
    const { args, binary, ports } = cp.component;
    assert.equal(binary, "/node");
    // V8's flags first (a small young generation: the chart starts it the same way), then the entry point.
    assert.deepEqual(args.slice(0, CONTROL_PLANE_NODE_FLAGS.length + 1), [...CONTROL_PLANE_NODE_FLAGS, path.join(root, CONTROL_PLANE_ENTRY)]);
    assert.ok(CONTROL_PLANE_NODE_FLAGS.includes("--max-semi-space-size=2"));
    assert.equal(flag(args, "--kubeconfig"), path.join(root, ".federation", "host.kubeconfig"));
    assert.equal(flag(args, "--nats-url"), "tls://127.0.0.1:30002");
    assert.equal(flag(args, "--nats-creds"), path.join(root, ".federation", "pki", "nats", "control-plane.nk"));
    assert.equal(flag(args, "--grpc-listen"), `127.0.0.1:${layout.grpcPort}`);
    assert.equal(flag(args, "--metrics-listen"), `127.0.0.1:${layout.controlPlaneMetricsPort}`);
    assert.equal(flag(args, "--leader-election-namespace"), "sovereign-system");
    assert.equal(flag(args, "--heartbeat-interval"), "5s");
    assert.equal(flag(args, "--heartbeat-misses"), "3");
    for (const f of ["--nats-ca", "--grpc-ca", "--grpc-cert", "--grpc-key"]) assert.ok(flag(args, f)?.startsWith(path.join(root, ".federation", "pki")), f);
    assert.deepEqual(ports, [layout.grpcPort, layout.controlPlaneMetricsPort, layout.queryPort]);
  });

  it("runs an agent with its member's kubeconfig, its own NATS nkey (no Join) and its metrics port", () => {
    write(AGENT_ENTRY);
    const layout = layoutIn(root);
    const cluster = layout.clusters.find((c) => c.name === "ionos-fra-1")!;
    const agent = agentComponent({ layout, cluster, node: "/node" });
    assert.ok("component" in agent);
    const { args, name, ports } = agent.component;
    assert.equal(name, "agent-ionos-fra-1");
    assert.equal(flag(args, "--cluster"), "ionos-fra-1");
    assert.equal(flag(args, "--kubeconfig"), path.join(root, ".federation", "ionos-fra-1.kubeconfig"));
    assert.equal(flag(args, "--nats-creds"), path.join(root, ".federation", "pki", "nats", "ionos-fra-1.nk"));
    assert.equal(flag(args, "--metrics-listen"), `127.0.0.1:${cluster.agentMetricsPort}`);
    assert.equal(flag(args, "--join-address"), undefined);
    assert.deepEqual(ports, [cluster.agentMetricsPort]);
  });

  it("lets `kube-apiserver (fr)` be named kube-apiserver-fr on a command line", () => {
    assert.equal(componentAlias("kube-apiserver (fr)"), "kube-apiserver-fr");
    assert.equal(componentAlias("kwok (ovh-par-1)"), "kwok-ovh-par-1");
    assert.equal(componentAlias("agent-ionos-fra-1"), "agent-ionos-fra-1");
  });
});
