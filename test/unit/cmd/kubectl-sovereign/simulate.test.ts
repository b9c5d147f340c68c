import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { BIN, FIXTURES, REPO, runPlugin } from "./run-plugin.ts";
import { NOW_ISO } from "../../../support/builders.ts";

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

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: unknown;
}

interface Constraints {
  allowedCountries?: string[];
  allowedJurisdictions?: string[];
  requiredCertifications?: string[];
  forbidExtraterritorialExposure?: boolean;
}

interface ClusterResidency {
  country: string;
  jurisdiction: string;
  extraterritorialExposure?: string[];
  certifications?: { name: string; validUntil: string }[];
}

const keyOf = (d: Doc): string => `${d.metadata.namespace ?? "default"}/${d.metadata.name}`;

async function exampleDocs(): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (const file of (await readdir(join(REPO, "crds/examples"))).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const d of parseAllDocuments(await readFile(join(REPO, "crds/examples", file), "utf8"))) {
      const doc = d.toJS() as Doc | null;
      if (doc?.kind) docs.push(doc);
    }
  }
  return docs;
}

/** Splits kubectl-style output at the header's column starts; the summary lines follow a blank line. */
function parseTable(text: string): { header: string[]; rows: string[][]; summaries: string[] } {
  const [table, rest] = text.split("\n\n") as [string, string];
  const [headerLine, ...lines] = table.split("\n");
  const starts = [...headerLine!.matchAll(/\S+(?: \S+)*/g)].map((m) => m.index);
  const cut = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
  return { header: cut(headerLine!), rows: lines.map(cut), summaries: rest.trimEnd().split("\n") };
}

const NOW = ["--now", NOW_ISO];
const federation = `${FIXTURES}/federation.yaml`;

describe("kubectl sovereign simulate", function () {
  // Each case starts a Node process.
  this.timeout(30_000);

  describe("on the examples in crds/examples", () => {
    it("decides every workload of the directory, placing replicas only on clusters that meet every constraint of its policy and inline residency at --now", async () => {
      const { status, stdout, stderr } = await runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW] });
      assert.equal(status, 0, stderr);
      const out = JSON.parse(stdout) as Output;
      const docs = await exampleDocs();
      const workloads = docs.filter((d) => d.kind === "SovereignWorkload");
      assert.deepEqual(out.decisions.map((d) => d.workload), workloads.map(keyOf).sort());
      assert.ok(workloads.length > 0);
      const policies = new Map(docs.filter((d) => d.kind === "ResidencyPolicy").map((d) => [d.metadata.name, d.spec as Constraints]));
      const clusters = new Map(docs.filter((d) => d.kind === "MemberCluster").map((d) => [d.metadata.name, (d.spec as { residency: ClusterResidency }).residency]));
      const now = Date.parse(NOW[1]!);
      // How often each kind of constraint was checked on a placement: the examples must
      // exercise them all, or this test would pass without checking anything.
      const checked = { countries: 0, jurisdictions: 0, certifications: 0, exposure: 0, inline: 0 };
      for (const d of out.decisions) {
        const spec = workloads.find((w) => keyOf(w) === d.workload)!.spec as { replicas: number; residencyPolicy?: string; residency?: Constraints };
        assert.equal(d.scheduled, true, `${d.workload}: the examples are all schedulable (${d.message})`);
        assert.ok(spec.replicas === 0 || d.placements.length > 0, `${d.workload} is scheduled but placed nowhere`);
        const constraints: { from: string; c: Constraints }[] = [];
        if (spec.residencyPolicy !== undefined) constraints.push({ from: `policy ${spec.residencyPolicy}`, c: policies.get(spec.residencyPolicy)! });
        if (spec.residency) constraints.push({ from: "inline spec.residency", c: spec.residency });
        for (const p of d.placements) {
          const facts = clusters.get(p.cluster);
          assert.ok(facts, `${d.workload} placed on unknown cluster ${p.cluster}`);
          assert.equal(p.country, facts.country, `${p.cluster}: country in the output`);
          for (const { from, c } of constraints) {
            const where = `${d.workload} on ${p.cluster} (${from})`;
            if (from.startsWith("inline")) checked.inline++;
            if (c.allowedCountries?.length) {
              checked.countries++;
              assert.ok(c.allowedCountries.includes(facts.country), `${where}: country ${facts.country} not in ${c.allowedCountries.join(",")}`);
            }
            if (c.allowedJurisdictions?.length) {
              checked.jurisdictions++;
              assert.ok(c.allowedJurisdictions.includes(facts.jurisdiction), `${where}: jurisdiction ${facts.jurisdiction}`);
            }
            for (const name of c.requiredCertifications ?? []) {
              checked.certifications++;
              const held = (facts.certifications ?? []).filter((x) => x.name === name);
              assert.ok(held.length > 0, `${where}: no ${name} certification`);
              // validUntil is a date, valid through its whole day (UTC).
              assert.ok(held.some((x) => Date.parse(`${x.validUntil}T23:59:59.999Z`) >= now), `${where}: ${name} expired before --now`);
            }
            if (c.forbidExtraterritorialExposure) {
              checked.exposure++;
              assert.ok(Array.isArray(facts.extraterritorialExposure), `${where}: exposure undeclared`);
              assert.deepEqual(facts.extraterritorialExposure, [], `${where}: exposed`);
            }
          }
        }
        for (const r of d.rejected) assert.ok(r.reasons.length > 0, `${d.workload}: ${r.cluster} rejected without a reason`);
      }
      for (const [kind, n] of Object.entries(checked)) assert.ok(n > 0, `no placement of the examples was checked for ${kind}`);
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

    it("prints the examples as a table: one row per cluster of each decision, with its replicas or why not", async () => {
      const [json, table] = await Promise.all([
        runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW] }),
        runPlugin({ args: ["simulate", "-f", "crds/examples/", ...NOW, "-o", "table"] }),
      ]);
      assert.equal(table.status, 0, table.stderr);
      const { header, rows, summaries } = parseTable(table.stdout);
      assert.deepEqual(header, ["WORKLOAD", "SCHEDULED", "REASON", "CLUSTER", "COUNTRY", "REPLICAS", "REJECTED FOR"]);
      // The table says what the JSON says, row for row: placed, not chosen, rejected.
      const country = new Map((await exampleDocs()).filter((d) => d.kind === "MemberCluster").map((d) => [d.metadata.name, (d.spec as { residency: ClusterResidency }).residency.country]));
      const expected: string[][] = [];
      for (const d of (JSON.parse(json.stdout) as Output).decisions) {
        const cells = [
          ...d.placements.map((p) => [p.cluster, p.country, String(p.replicas), ""]),
          ...d.unselected.map((u) => [u.cluster, country.get(u.cluster)!, "-", `(eligible, not chosen) ${u.reason}`]),
          ...d.rejected.map((r) => [r.cluster, country.get(r.cluster)!, "-", r.reasons.join(",")]),
        ];
        assert.equal(cells.length, country.size, `${d.workload}: a row per cluster`);
        cells.forEach((c, i) => expected.push(i === 0 ? [d.workload, String(d.scheduled), d.reason, ...c] : ["", "", "", ...c]));
      }
      assert.deepEqual(rows, expected);
      // And concretely, for one workload:
      const start = rows.findIndex((r) => r[0] === "health/patient-records");
      assert.deepEqual(rows.slice(start, start + 6), [
        ["health/patient-records", "true", "Scheduled", "ovh-par-1", "FR", "2", ""],
        ["", "", "", "ovh-rbx-hds", "FR", "2", ""],
        ["", "", "", "aws-fra-1", "DE", "-", "CountryNotAllowed,MissingCertification,ExtraterritorialExposure"],
        ["", "", "", "ionos-fra-1", "DE", "-", "CountryNotAllowed,MissingCertification"],
        ["", "", "", "outscale-fr-2", "FR", "-", "MissingCertification"],
        ["", "", "", "stackit-eu01", "DE", "-", "CountryNotAllowed,MissingCertification"],
      ]);
      assert.deepEqual(summaries, [
        "customers/crm: 5/6 clusters are available: 1 ExtraterritorialExposure.",
        "health/patient-records: 2/6 clusters are available: 4 MissingCertification, 3 CountryNotAllowed, 1 ExtraterritorialExposure.",
        "sensitive/case-files: 1/6 clusters are available: 5 SelectorMismatch, 4 MissingCertification, 3 CountryNotAllowed, 1 CertificationExpired, 1 ExtraterritorialExposure.",
        "web/website: 6/6 clusters are available.",
      ]);
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

    it("reads documents from standard input with -f -, deciding exactly as from the file", async () => {
      const { status, stdout, stderr } = await runPlugin({ args: ["simulate", "-f", "-", ...NOW], stdin: await readFile(join(REPO, federation), "utf8") });
      assert.equal(status, 0, stderr);
      const fromStdin = (JSON.parse(stdout) as Output).decisions;
      assert.deepEqual(fromStdin, decisions);
      assert.deepEqual(fromStdin.map((d) => [d.workload, d.scheduled, d.reason]), [
        ["health/archive", false, "SpreadUnsatisfiable"],
        ["health/patient-records", true, "Scheduled"],
        ["shop/catalogue", true, "Scheduled"],
      ]);
      const records = fromStdin.find((d) => d.workload === "health/patient-records")!;
      assert.deepEqual(records.placements, [
        { cluster: "ovh-par-1", country: "FR", replicas: 2 },
        { cluster: "ovh-rbx-1", country: "FR", replicas: 2 },
      ]);
      assert.deepEqual(records.rejected.map((r) => [r.cluster, r.reasons.join(",")]), [
        ["aws-fra-1", "CountryNotAllowed,MissingCertification,ExtraterritorialExposure"],
        ["ionos-fra-1", "CountryNotAllowed,MissingCertification"],
        ["outscale-par-1", "CertificationExpired"],
        ["scaleway-ams-1", "NotReady,CountryNotAllowed,MissingCertification"],
      ]);
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
      { name: "an apiVersion the API does not serve (v1beta1)", file: "wrong-api-version.yaml", message: /wrong-api-version\.yaml document 1 \(ResidencyPolicy lab-future\): apiVersion: "sovereignty\.eu\/v1beta1"; ResidencyPolicy is served as sovereignty\.eu\/v1alpha1/ },
      { name: "an apiVersion of another API group", file: "wrong-api-group.yaml", message: /wrong-api-group\.yaml document 1 \(MemberCluster lab-elsewhere\): apiVersion: "sovereign\.example\/v1alpha1"; MemberCluster is served as sovereignty\.eu\/v1alpha1/ },
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
