import assert from "node:assert/strict";
import { defaultBasePort, layoutPorts, makeLayout, memberSpec, PORTS_PER_FEDERATION } from "../../../hack/lib/federation/layout.ts";
import { nodeManifests } from "../../../hack/lib/federation/kwok.ts";
import { parseAllDocuments } from "yaml";

describe("local federation layout", () => {
  it("gives every component its own port inside the federation's block", () => {
    const layout = makeLayout({ root: "/r", stateDir: "/r/.federation", basePort: 30000, members: ["fr", "de", "it", "es", "nl", "be", "pl", "at"], nodesPerMember: 3 });
    const ports = layoutPorts(layout);
    assert.equal(ports.length, 5 + 3 * layout.clusters.length);
    assert.equal(new Set(ports).size, ports.length);
    for (const p of ports) assert.ok(p >= 30000 && p < 30000 + PORTS_PER_FEDERATION, `port ${p}`);
    assert.deepEqual(new Set(layout.clusters.map((c) => c.etcdPrefix)).size, layout.clusters.length);
  });

  it("derives different base ports for different checkouts, stably", () => {
    assert.equal(defaultBasePort("/work/a"), defaultBasePort("/work/a"));
    const bases = new Set(["/a", "/b", "/c", "/d", "/e", "/f"].map(defaultBasePort));
    assert.ok(bases.size >= 5);
    for (const b of bases) assert.ok(b >= 20000 && b + PORTS_PER_FEDERATION <= 32000);
  });

  for (const [members, message] of [
    [[], /between 1 and 8/],
    [["fr", "fr"], /duplicate/],
    [["FR"], /"FR" is not a valid member name/],
    [["host"], /"host" is not a valid member name/],
    [["fr.de"], /not a valid member name/],
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

  it("labels fr nodes eu-west-par and de nodes eu-central-fra, spread over three zones", () => {
    for (const [member, region] of [["fr", "eu-west-par"], ["de", "eu-central-fra"]] as const) {
      const docs = parseAllDocuments(nodeManifests({ member: memberSpec(member), count: 4 })).map((d) => d.toJS() as { metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> } });
      assert.equal(docs.length, 4);
      assert.deepEqual(docs.map((d) => d.metadata.name), [1, 2, 3, 4].map((i) => `${member}-node-${i}`));
      assert.ok(docs.every((d) => d.metadata.labels["topology.kubernetes.io/region"] === region));
      assert.deepEqual(new Set(docs.map((d) => d.metadata.labels["topology.kubernetes.io/zone"])), new Set(["a", "b", "c"].map((z) => `${region}-${z}`)));
      assert.ok(docs.every((d) => d.metadata.annotations["kwok.x-k8s.io/node"] === "fake"));
    }
  });
});
