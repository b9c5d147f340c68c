import assert from "node:assert/strict";
import fc from "fast-check";
import { parseEnv } from "../../../hack/lib/federation/env.ts";
import { federationEnvFromVars } from "../../../hack/lib/federation/env.ts";
import { layoutPorts, makeLayout, NATS_SINGLE_COMPONENT, PORTS_PER_FEDERATION } from "../../../hack/lib/federation/layout.ts";
import { natsClusterFromEnv } from "../../../hack/lib/federation/local.ts";
import { clusterBlock } from "../../../hack/lib/federation/nats.ts";
import { agentComponent, controlPlaneComponent, natsUrls } from "../../../hack/lib/federation/operator.ts";
import { pkiLayout } from "../../../hack/lib/federation/security.ts";

const members = ["fr", "de", "ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1", "stackit-eu01", "outscale-fr-2"];
const shape = (natsCluster: number, base = 30000, m = members) => makeLayout({ root: "/r", stateDir: "/s", basePort: base, members: m, nodesPerMember: 1, agents: m, natsCluster });

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

describe("the local federation's NATS shapes (--nats-cluster)", () => {
  it("keeps the single server as it was: component nats-server on base+2/base+3, no route port", () => {
    const layout = shape(1);
    assert.deepEqual(layout.nats.map((n) => [n.name, n.clientPort - 30000, n.monitorPort - 30000, n.routePort]), [[NATS_SINGLE_COMPONENT, 2, 3, undefined]]);
    assert.equal(layout.natsPort, 30002);
    assert.equal(layout.nats[0]!.dir, "/s/nats");
  });

  it("gives a cluster of three nats-1..3, the first on the single server's ports, each with its own store dir and log", () => {
    const layout = shape(3);
    assert.deepEqual(layout.nats.map((n) => n.name), ["nats-1", "nats-2", "nats-3"]);
    assert.equal(layout.nats[0]!.clientPort, 30002);
    assert.equal(layout.natsPort, 30002);
    assert.equal(new Set(layout.nats.map((n) => n.dir)).size, 3);
    assert.equal(new Set(layout.nats.map((n) => n.log)).size, 3);
    assert.ok(layout.nats.every((n) => n.routePort !== undefined));
  });

  it("never lets a NATS port collide with another port or leave the block, on either shape, for up to eight members (property)", () => {
    fc.assert(fc.property(fc.constantFrom(1, 3), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1024, max: 65400 }), (size, k, base) => {
      const ports = layoutPorts(shape(size, base, members.slice(0, k)));
      assert.equal(new Set(ports).size, ports.length);
      assert.ok(ports.every((p) => p >= base && p < base + PORTS_PER_FEDERATION));
      // 2 ports for one server; 3 for each of a cluster's (client, monitor, route).
      assert.equal(ports.filter((p) => shape(size, base, members.slice(0, k)).nats.some((n) => [n.clientPort, n.monitorPort, n.routePort].includes(p))).length, size === 1 ? 2 : 9);
    }));
  });

  it("refuses a cluster size the local federation does not run, naming the flag", () => {
    for (const n of [0, 2, 4, 5]) assert.throws(() => shape(n), /^Error: --nats-cluster: /);
    assert.equal(natsClusterFromEnv(undefined), undefined);
    assert.equal(natsClusterFromEnv(""), undefined);
    assert.equal(natsClusterFromEnv("3"), 3);
    assert.throws(() => natsClusterFromEnv("2"), /^Error: FEDERATION_NATS_CLUSTER: "2"/);
  });

  it("routes each server to the two others only, over mutual TLS under the route CA, advertising nothing to clients", () => {
    const layout = shape(3);
    const pki = pkiLayout({ stateDir: "/s", members });
    for (const server of layout.nats) {
      const text = clusterBlock({ layout, server, pki }).join("\n");
      const routes = [...text.matchAll(/nats-route:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(routes.sort(), layout.nats.filter((n) => n !== server).map((n) => n.routePort!).sort());
      assert.match(text, new RegExp(`listen: 127\\.0\\.0\\.1:${server.routePort}\\n`));
      assert.match(text, /no_advertise: true/);
      assert.match(text, /verify: true/);
      assert.ok(text.includes(pki.natsRouteCa.cert) && !text.includes(pki.ca.cert), "routes trust the route CA only, not the CA of members' client certificates");
    }
    assert.deepEqual(clusterBlock({ layout: shape(1), server: shape(1).nats[0]!, pki }), [], "a single server has no cluster block");
  });

  it("gives the control plane and agents every server and the control plane the shape's replica count", () => {
    for (const size of [1, 3]) {
      const layout = makeLayout({ root: process.cwd(), stateDir: "/s", basePort: 30000, members: ["fr", "ionos-fra-1"], nodesPerMember: 1, agents: ["ionos-fra-1"], natsCluster: size });
      const cp = controlPlaneComponent({ layout, node: "/node" });
      const agent = agentComponent({ layout, cluster: layout.clusters.find((c) => c.name === "ionos-fra-1")!, node: "/node" });
      assert.ok("component" in cp && "component" in agent);
      assert.equal(flag(cp.component.args, "--nats-url"), natsUrls(layout));
      assert.equal(flag(agent.component.args, "--nats-url"), natsUrls(layout));
      assert.equal(natsUrls(layout).split(",").length, size);
      assert.equal(flag(cp.component.args, "--nats-stream-replicas"), String(size));
    }
  });

  it("reads NATS_URLS and NATS_MONITOR_URLS back, and an env file written before clusters as one server", () => {
    const base = { HOST_KUBECONFIG: "/s/host.kubeconfig", FEDERATION_MEMBERS: "", NATS_URL: "tls://127.0.0.1:1", NATS_MONITOR_URL: "http://127.0.0.1:2" };
    const old = federationEnvFromVars({ stateDir: "/s", vars: base });
    assert.deepEqual([old.natsUrls, old.natsMonitorUrls, old.natsStreamReplicas], [["tls://127.0.0.1:1"], ["http://127.0.0.1:2"], 1]);
    const cluster = federationEnvFromVars({ stateDir: "/s", vars: parseEnv("NATS_URL=tls://127.0.0.1:1\nNATS_URLS=tls://127.0.0.1:1,tls://127.0.0.1:3\nNATS_MONITOR_URL=http://127.0.0.1:2\nNATS_MONITOR_URLS=http://127.0.0.1:2,http://127.0.0.1:4\nNATS_STREAM_REPLICAS=3\nHOST_KUBECONFIG=/h\nFEDERATION_MEMBERS=\n") });
    assert.deepEqual([cluster.natsUrls, cluster.natsMonitorUrls, cluster.natsStreamReplicas], [["tls://127.0.0.1:1", "tls://127.0.0.1:3"], ["http://127.0.0.1:2", "http://127.0.0.1:4"], 3]);
  });
});
