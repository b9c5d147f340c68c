import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { decodeObject } from "../../../operator/src/api/decode.ts";
import type { MemberCluster, ResidencyPolicy, SovereignObject, SovereignWorkload } from "../../../operator/src/api/types.ts";

const dir = path.resolve(import.meta.dirname, "../../../crds/examples");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

function documents(file: string, version: "1.1" | "1.2"): unknown[] {
  return parseAllDocuments(readFileSync(path.join(dir, file), "utf8"), { version }).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJS();
  });
}

/** Every example object, decoded; called inside each test, so one bad example fails the tests that read it, not the whole run at load time. */
function decodeExamples(): { decoded: SovereignObject[]; namespaces: Set<string> } {
  const decoded: SovereignObject[] = [];
  const namespaces = new Set<string>();
  for (const file of files) {
    documents(file, "1.2").forEach((doc, i) => {
      const d = doc as { kind?: string; metadata?: { name?: string } };
      if (d.kind === "Namespace") namespaces.add(d.metadata!.name!);
      else decoded.push(decodeObject(doc, { source: `crds/examples/${file}#${i + 1}` }));
    });
  }
  return { decoded, namespaces };
}
const of = <T extends SovereignObject>(kind: T["kind"]) => decodeExamples().decoded.filter((o): o is T => o.kind === kind);

describe("crds/examples", () => {
  it("are numbered so that kubectl apply -f crds/examples/ creates namespaces, clusters, policies, then workloads", () => {
    assert.deepEqual(files, ["00-namespaces.yaml", "10-member-clusters.yaml", "20-policies.yaml", "30-workloads.yaml"]);
  });

  for (const file of files) {
    it(`${file} starts with a comment saying what it shows, and reads the same under YAML 1.1 (kubectl) and 1.2`, () => {
      assert.match(readFileSync(path.join(dir, file), "utf8"), /^# \S/);
      assert.deepEqual(documents(file, "1.1"), documents(file, "1.2"));
    });
  }

  it("every document of the API decodes (the decoder throws otherwise, naming file and document)", () => {
    assert.equal(of<MemberCluster>("MemberCluster").length, 6);
    assert.equal(of<ResidencyPolicy>("ResidencyPolicy").length, 4);
    assert.equal(of<SovereignWorkload>("SovereignWorkload").length, 4);
  });

  it("cover France and Germany, SecNumCloud, HDS, C5, CLOUD Act exposure and an expired certification", () => {
    const clusters = of<MemberCluster>("MemberCluster");
    const today = "2026-11-28";
    const holds = (c: MemberCluster, name: string) => c.spec.residency.certifications?.some((x) => x.name === name && x.validUntil >= today) ?? false;
    assert.deepEqual([...new Set(clusters.map((c) => c.spec.residency.country))].sort(), ["DE", "FR"]);
    assert.ok(clusters.some((c) => c.spec.residency.country === "FR" && holds(c, "SecNumCloud")));
    assert.ok(clusters.some((c) => c.spec.residency.country === "FR" && holds(c, "HDS") && !holds(c, "SecNumCloud")));
    assert.ok(clusters.some((c) => c.spec.residency.country === "DE" && holds(c, "C5") && (c.spec.residency.extraterritorialExposure ?? []).length === 0));
    assert.ok(clusters.some((c) => c.spec.residency.country === "DE" && (c.spec.residency.extraterritorialExposure ?? []).includes("US-CLOUD-Act")));
    assert.ok(clusters.some((c) => c.spec.residency.certifications?.some((x) => x.validUntil < today)));
  });

  it("give every member cluster a Ready status and allocatable, which simulate reads", () => {
    for (const c of of<MemberCluster>("MemberCluster")) {
      assert.equal(c.status?.conditions?.find((x) => x.type === "Ready")?.status, "True", c.metadata.name);
      assert.ok(c.status?.allocatable?.cpu && c.status.allocatable.pods, c.metadata.name);
    }
  });

  it("define the four data classes, and one workload for each, in a namespace the examples create", () => {
    const policies = of<ResidencyPolicy>("ResidencyPolicy").map((p) => p.metadata.name).sort();
    assert.deepEqual(policies, ["health-fr-hds", "personal-data-eu", "public", "sensitive-fr-secnumcloud"]);
    const workloads = of<SovereignWorkload>("SovereignWorkload");
    assert.deepEqual(workloads.map((w) => w.spec.residencyPolicy).sort(), policies);
    const { namespaces } = decodeExamples();
    for (const w of workloads) assert.ok(namespaces.has(w.metadata.namespace!), `${w.metadata.name}: namespace ${w.metadata.namespace} is not created`);
  });
});
