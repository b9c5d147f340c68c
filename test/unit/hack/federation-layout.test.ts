import assert from "node:assert/strict";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import { agentComponentName, defaultBasePort, layoutPorts, makeLayout, memberEnvName, memberSpec, PORTS_PER_FEDERATION, validateMemberName } from "../../../hack/lib/federation/layout.ts";
import { nodeManifests } from "../../../hack/lib/federation/kwok.ts";
import { DEFAULT_MEMBERS, defaultAgents } from "../../../hack/lib/federation/shape.ts";

const EXAMPLE_MEMBERS = ["ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1", "stackit-eu01", "outscale-fr-2"];

/** Valid member names: DNS-1123 labels of 2..15 characters, minus the reserved ones. */
// Names `up` accepts: the same check, so a reserved word of the protocol ("all", "sys"...) is never generated.
const memberName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,13}[a-z0-9]$/)
  .filter((n) => {
    try {
      validateMemberName(n);
      return true;
    } catch {
      return false;
    }
  });

describe("local federation layout", () => {
  it("gives every component its own port inside the federation's block, for eight members with dashed names", () => {
    const members = ["fr", "de", ...EXAMPLE_MEMBERS];
    const layout = makeLayout({ root: "/r", stateDir: "/r/.federation", basePort: 30000, members, nodesPerMember: 3, agents: EXAMPLE_MEMBERS });
    const ports = layoutPorts(layout);
    // 7 federation-wide (etcd x2, nats x2, grpc, control-plane metrics, query API), 3 for the host, 4 per member (with its agent's).
    assert.equal(ports.length, 7 + 3 + 4 * members.length);
    assert.equal(new Set(ports).size, ports.length);
    for (const p of ports) assert.ok(p >= 30000 && p < 30000 + PORTS_PER_FEDERATION, `port ${p}`);
    assert.deepEqual(new Set(layout.clusters.map((c) => c.etcdPrefix)).size, layout.clusters.length);
    assert.ok(ports.includes(layout.controlPlaneMetricsPort) && ports.includes(layout.grpcPort) && ports.includes(layout.queryPort));
    for (const c of layout.clusters.filter((x) => x.role === "member")) assert.ok(c.agentMetricsPort !== undefined && ports.includes(c.agentMetricsPort));
  });

  it("never lets two ports collide or leave the block, whatever the members and base port (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberName, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1024, max: 65400 }), (members, base) => {
        const layout = makeLayout({ root: "/r", stateDir: "/s", basePort: base, members, nodesPerMember: 1, agents: members });
        const ports = layoutPorts(layout);
        assert.equal(new Set(ports).size, ports.length);
        assert.ok(ports.every((p) => p >= base && p < base + PORTS_PER_FEDERATION));
      }),
    );
  });

  it("keeps the ports of recorded members when members are appended (a federation grows without moving)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberName, { minLength: 2, maxLength: 8 }), fc.integer({ min: 1, max: 7 }), (members, cut) => {
        const k = Math.min(cut, members.length - 1);
        const small = makeLayout({ root: "/r", stateDir: "/s", basePort: 30000, members: members.slice(0, k), nodesPerMember: 1 });
        const big = makeLayout({ root: "/r", stateDir: "/s", basePort: 30000, members, nodesPerMember: 1 });
        assert.deepEqual(big.clusters.slice(0, k + 1), small.clusters);
      }),
    );
  });

  it("derives different base ports for different checkouts, stably", () => {
    assert.equal(defaultBasePort("/work/a"), defaultBasePort("/work/a"));
    const bases = new Set(["/a", "/b", "/c", "/d", "/e", "/f"].map(defaultBasePort));
    assert.ok(bases.size >= 5);
    for (const b of bases) assert.ok(b >= 20000 && b + PORTS_PER_FEDERATION <= 32000);
  });

  it("accepts the example MemberCluster names as members", () => {
    const layout = makeLayout({ root: "/r", stateDir: "/s", basePort: 30000, members: EXAMPLE_MEMBERS, nodesPerMember: 1 });
    assert.deepEqual(layout.clusters.slice(1).map((c) => c.name), EXAMPLE_MEMBERS);
    assert.equal(layout.clusters[1]!.kubeconfig, "/s/ovh-par-1.kubeconfig");
  });

  for (const [members, message] of [
    [[], /between 1 and 8/],
    [["fr", "fr"], /duplicate/],
    [["FR"], /"FR" is not a valid member name/],
    [["host"], /"host" is not a valid member name/],
    [["fr.de"], /not a valid member name/],
    [["ovh_par_1"], /not a valid member name/],
    [["-fr"], /not a valid member name/],
    [["fr-"], /not a valid member name/],
    [["f"], /not a valid member name.*2-15 characters/],
    [["outscale-fr-2000"], /"outscale-fr-2000" is not a valid member name.*2-15 characters/],
    // Reserved by the federation protocol (identities, inbox prefixes) and the PKI's admin client.
    [["admin"], /"admin".*reserved/],
    [["fr", "cp"], /"cp".*reserved/],
    [["control-plane"], /"control-plane"/],
    [["audit"], /"audit".*reserved/],
  ] as const) {
    it(`rejects --members ${JSON.stringify(members)} naming the flag`, () => {
      assert.throws(() => makeLayout({ root: "/r", stateDir: "/s", basePort: 30000, members: [...members], nodesPerMember: 1 }), (e: Error) => /^--members: /.test(e.message) && message.test(e.message));
    });
  }

  it("rejects an agent on a cluster that is not a member, naming --agents", () => {
    assert.throws(() => makeLayout({ root: "/r", stateDir: "/s", basePort: 30000, members: ["fr"], nodesPerMember: 1, agents: ["de"] }), /^Error: --agents: "de" is not one of the members/);
  });

  for (const [member, env] of [["fr", "FR"], ["ovh-par-1", "OVH_PAR_1"], ["ionos-fra-1", "IONOS_FRA_1"], ["stackit-eu01", "STACKIT_EU01"]] as const) {
    it(`names ${member}'s env variables ${env}_* (uppercase, dashes to underscores)`, () => {
      assert.equal(memberEnvName(member), env);
    });
  }

  it("gives distinct env names to distinct valid member names (property)", () => {
    fc.assert(fc.property(memberName, memberName, (a, b) => a === b || memberEnvName(a) !== memberEnvName(b)));
  });

  for (const [member, region] of [
    ["fr", "eu-west-par"], ["de", "eu-central-fra"],
    ["ovh-par-1", "eu-west-par"], ["ovh-rbx-hds", "eu-west-rbx"], ["ionos-fra-1", "de-fra"],
    ["aws-fra-1", "eu-central-1"], ["stackit-eu01", "eu01"], ["outscale-fr-2", "eu-west-2"],
  ] as const) {
    it(`labels ${member} nodes with region ${region} (the example MemberCluster's), spread over zones -a, -b, -c`, () => {
      const docs = parseAllDocuments(nodeManifests({ member: memberSpec(member), count: 4 })).map((d) => d.toJS() as { metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> } });
      assert.equal(docs.length, 4);
      assert.deepEqual(docs.map((d) => d.metadata.name), [1, 2, 3, 4].map((i) => `${member}-node-${i}`));
      assert.ok(docs.every((d) => d.metadata.labels["topology.kubernetes.io/region"] === region));
      assert.deepEqual(new Set(docs.map((d) => d.metadata.labels["topology.kubernetes.io/zone"])), new Set(["a", "b", "c"].map((z) => `${region}-${z}`)));
      assert.ok(docs.every((d) => d.metadata.annotations["kwok.x-k8s.io/node"] === "fake"));
    });
  }

  it("runs agents by default on the members named like example MemberClusters, not on the bare fr and de", () => {
    assert.deepEqual(defaultAgents(DEFAULT_MEMBERS), ["ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1"]);
    assert.deepEqual(defaultAgents(["fr", "it"]), []);
    assert.equal(agentComponentName("ionos-fra-1"), "agent-ionos-fra-1");
  });
});
