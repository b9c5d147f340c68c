import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { BIN, FIXTURES, REPO, runPlugin } from "./run-plugin.ts";

interface Output {
  decisions: {
    workload: string;
    scheduled: boolean;
    reason: string;
    message: string;
    placements: { cluster: string; country: string; replicas: number }[];
    rejected: { cluster: string; reasons: string[] }[];
    unselected: { cluster: string; reason: string }[];
  }[];
}

const NOW = ["--now", "2026-11-28T00:00:00Z"];
const federation = `${FIXTURES}/federation.yaml`;

describe("kubectl sovereign simulate", function () {
  // Each case starts a Node process.
  this.timeout(30_000);

  describe("on the examples in crds/examples", () => {
    it("decides every workload of the directory, placing replicas only in the countries its policy allows", async () => {
      const { status, stdout, stderr } = await runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW] });
      assert.equal(status, 0, stderr);
      const out = JSON.parse(stdout) as Output;
      const docs: { kind?: string; metadata?: { name: string; namespace?: string }; spec?: Record<string, unknown> }[] = [];
      for (const file of (await readdir(join(REPO, "crds/examples"))).filter((f) => f.endsWith(".yaml"))) {
        for (const d of parseAllDocuments(await readFile(join(REPO, "crds/examples", file), "utf8"))) docs.push(d.toJS());
      }
      const workloads = docs.filter((d) => d?.kind === "SovereignWorkload").map((d) => `${d.metadata!.namespace ?? "default"}/${d.metadata!.name}`).sort();
      assert.deepEqual(out.decisions.map((d) => d.workload), workloads);
      assert.ok(workloads.length > 0);
      const policies = new Map(docs.filter((d) => d?.kind === "ResidencyPolicy").map((d) => [d.metadata!.name, d.spec as { allowedCountries?: string[] }]));
      const workloadDocs = new Map(docs.filter((d) => d?.kind === "SovereignWorkload").map((d) => [`${d.metadata!.namespace ?? "default"}/${d.metadata!.name}`, d.spec as { residencyPolicy?: string }]));
      for (const d of out.decisions) {
        const allowed = policies.get(workloadDocs.get(d.workload)!.residencyPolicy ?? "")?.allowedCountries ?? [];
        for (const p of d.placements) if (allowed.length > 0) assert.ok(allowed.includes(p.country), `${d.workload} placed in ${p.country}`);
        for (const r of d.rejected) assert.ok(r.reasons.length > 0);
      }
    });

    it("accounts for every cluster in every decision, listing eligible clusters not chosen as unselected (customers/crm: maxClusters 3 of 5 eligible)", async () => {
      const { status, stdout, stderr } = await runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW] });
      assert.equal(status, 0, stderr);
      const out = JSON.parse(stdout) as Output;
      const clusters = ["aws-fra-1", "ionos-fra-1", "outscale-fr-2", "ovh-par-1", "ovh-rbx-hds", "stackit-eu01"];
      for (const d of out.decisions) {
        const seen = [...d.placements.map((p) => p.cluster), ...d.rejected.map((r) => r.cluster), ...d.unselected.map((u) => u.cluster)];
        assert.deepEqual(seen.sort(), clusters, d.workload);
      }
      const crm = out.decisions.find((d) => d.workload === "customers/crm")!;
      assert.deepEqual(crm.unselected, [
        { cluster: "outscale-fr-2", reason: "MaxClustersReached" },
        { cluster: "ovh-rbx-hds", reason: "MaxClustersReached" },
      ]);
      const table = (await runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW, "-o", "table"] })).stdout;
      assert.match(table, /\n +outscale-fr-2 +FR +- +\(eligible, not chosen\) MaxClustersReached\n/);
      assert.match(table, /\n +ovh-rbx-hds +FR +- +\(eligible, not chosen\) MaxClustersReached\n/);
    });

    it("prints the examples as a table", async () => {
      const { status, stdout } = await runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW, "-o", "table"] });
      assert.equal(status, 0);
      assert.match(stdout, /^WORKLOAD +SCHEDULED +REASON +CLUSTER +COUNTRY +REPLICAS +REJECTED FOR\n/);
      assert.match(stdout, /clusters are available/);
    });
  });

  describe("on a federation of six clusters", () => {
    let decisions: Output["decisions"];
    before(async () => {
      const { status, stdout, stderr } = await runPlugin({ args: ["simulate", "-f", federation, ...NOW] });
      assert.equal(status, 0, stderr);
      decisions = (JSON.parse(stdout) as Output).decisions;
    });

    it("places patient records only on valid SecNumCloud+HDS clusters in France, saying why not elsewhere", async () => {
      const d = decisions.find((x) => x.workload === "health/patient-records")!;
      assert.equal(d.scheduled, true);
      assert.equal(d.reason, "Scheduled");
      assert.deepEqual(d.placements, [
        { cluster: "ovh-par-1", country: "FR", replicas: 2 },
        { cluster: "ovh-rbx-1", country: "FR", replicas: 2 },
      ]);
      assert.deepEqual(d.rejected, [
        { cluster: "aws-fra-1", reasons: ["CountryNotAllowed", "MissingCertification", "ExtraterritorialExposure"] },
        { cluster: "ionos-fra-1", reasons: ["CountryNotAllowed", "MissingCertification"] },
        { cluster: "outscale-par-1", reasons: ["CertificationExpired"] },
        { cluster: "scaleway-ams-1", reasons: ["NotReady", "CountryNotAllowed", "MissingCertification"] },
      ]);
    });

    it("reports an unschedulable workload as a decision, not an error", async () => {
      const d = decisions.find((x) => x.workload === "health/archive")!;
      assert.equal(d.scheduled, false);
      assert.equal(d.reason, "SpreadUnsatisfiable");
      assert.deepEqual(d.placements, []);
      assert.match(d.message, /^0\/6 clusters are available: .*spread\.minCountries is 2\.$/);
    });

    it("judges certifications at --now: before SecNumCloud expired, outscale-par-1 is eligible", async () => {
      const { stdout } = await runPlugin({ args: ["simulate", "-f", federation, "--now", "2026-10-01"] });
      const d = (JSON.parse(stdout) as Output).decisions.find((x) => x.workload === "health/patient-records")!;
      assert.ok(!d.rejected.some((r) => r.cluster === "outscale-par-1"));
    });

    it("reads documents from standard input with -f -", async () => {
      const { status, stdout } = await runPlugin({ args: ["simulate", "-f", "-", ...NOW], stdin: await readFile(join(REPO, federation), "utf8") });
      assert.equal(status, 0);
      assert.equal((JSON.parse(stdout) as Output).decisions.length, 3);
    });

    it("works as a kubectl plugin found on PATH through a symlink", async () => {
      const dir = await mkdtemp(join(tmpdir(), "kubectl-plugins-"));
      try {
        await symlink(BIN, join(dir, "kubectl-sovereign"));
        const { status, stdout } = await runPlugin({ command: "kubectl-sovereign", args: ["simulate", "-f", federation, ...NOW, "-o", "table"], env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
        assert.equal(status, 0);
        assert.match(stdout, /health\/patient-records +true +Scheduled +ovh-par-1 +FR +2/);
      } finally {
        await rm(dir, { recursive: true });
      }
    });
  });

  describe("on invalid input, exits with status 2 and names the document and field", () => {
    const cases = [
      { name: "bad YAML", file: "bad-yaml.yaml", message: /bad-yaml\.yaml document 2: invalid YAML at line 9, column \d+: / },
      { name: "an unknown kind", file: "unknown-kind.yaml", message: /unknown-kind\.yaml document 2: kind: "DataClass" is not a kind of sovereignty\.eu\/v1alpha1/ },
      { name: "a field of the wrong type", file: "wrong-type.yaml", message: /wrong-type\.yaml document 1 \(SovereignWorkload lab\/lab-records\): spec\.replicas: must be an integer, got a string/ },
      { name: "an unquoted timestamp where a date is required", file: "unquoted-timestamp.yaml", message: /unquoted-timestamp\.yaml document 1 \(MemberCluster tz-1\): .*spec\.residency\.certifications\[0\]\.validUntil: "2026-11-27T23:00:00-05:00" is not a date/ },
      { name: "an unquoted NO, a boolean to kubectl's YAML 1.1", file: "unquoted-norway.yaml", message: /unquoted-norway\.yaml document 1 \(ResidencyPolicy nordic\): spec\.allowedCountries\[1\]: must be a string, got a boolean .*quote the value/ },
      { name: "a referenced policy that is missing", file: "missing-policy.yaml", message: /missing-policy\.yaml document 2 \(SovereignWorkload lab\/lab-records\): spec\.residencyPolicy: ResidencyPolicy "lab-restricted" is not in the input/ },
      { name: "a resource request that is not a quantity", file: "bad-request-quantity.yaml", message: /bad-request-quantity\.yaml document 1 \(SovereignWorkload lab\/lab-records\): spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu: "half-a-core" is not a resource quantity/ },
      { name: "two clusters of one name", file: "duplicate-cluster.yaml", message: /duplicate-cluster\.yaml document 2 \(MemberCluster lab-1\): metadata\.name: .* already defined in .*duplicate-cluster\.yaml document 1/ },
    ];
    for (const c of cases) {
      it(`on ${c.name}`, async () => {
        const { status, stdout, stderr } = await runPlugin({ args: ["simulate", "-f", federation, "-f", `${FIXTURES}/invalid/${c.file}`, ...NOW] });
        assert.equal(status, 2, stderr);
        assert.equal(stdout, "", "nothing is decided on invalid input");
        assert.match(stderr, c.message);
      });
    }

    it("on a file that does not exist", async () => {
      const { status, stderr } = await runPlugin({ args: ["simulate", "-f", "no/such/file.yaml"] });
      assert.equal(status, 2);
      assert.match(stderr, /no\/such\/file\.yaml: cannot read/);
    });
  });
});
