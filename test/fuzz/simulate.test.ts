import assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "yaml";
import { runCli } from "../../operator/src/cmd/kubectl-sovereign/cli.ts";
import { validResidencyPolicy, validSovereignWorkload } from "../support/bad-manifests.ts";
import { memberCluster } from "../support/builders.ts";
import { testEnv } from "../unit/cmd/kubectl-sovereign/cli-env.ts";
import { fcParams, fieldsNamed, mutatedManifest, namesAField, reportRate, runsFor, suiteTimeout, type Doc, type Mutation } from "./support/fuzz.ts";

/**
 * Mutated manifests through `kubectl sovereign simulate`, in process (runCli, as
 * bin/kubectl-sovereign runs it, with the files in memory): it decides (exit 0) or
 * refuses the input with exit status 2 and a message naming a field the case broke;
 * never exit 1, never a stack trace. Arbitrary text as the file: exit 0 or 2.
 */

// Ready, with room, a taint the workload tolerates: the base case is scheduled, so a refusal comes from a mutation.
const cluster = (name: string, country: "FR" | "DE") =>
  memberCluster({ name, residency: { country }, taints: [{ key: "maintenance", value: "true", effect: "NoSchedule" }] }) as unknown as Doc;

const BASES: Record<string, () => Doc> = {
  SovereignWorkload: () => {
    const d = validSovereignWorkload("fuzz-sim") as Doc;
    (d.spec as Record<string, unknown>).replicas = 3;
    (d.spec as Record<string, unknown>).residencyPolicy = "fuzz-sim-policy";
    const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    pod.tolerations = [{ key: "maintenance", operator: "Equal", value: "true", effect: "NoSchedule" }];
    (pod.containers as Record<string, unknown>[])[0]!.resources = { requests: { cpu: "100m", memory: "64Mi" } };
    return d;
  },
  ResidencyPolicy: () => {
    const d = validResidencyPolicy("fuzz-sim-policy") as Doc;
    // Selects every cluster.
    delete (d.spec as Record<string, unknown>).clusterSelector;
    return d;
  },
  MemberCluster: () => cluster("sim-fr-1", "FR"),
};

function files(which: string, mutated: Doc): Record<string, string> {
  const docs = Object.entries(BASES).map(([kind, base]) => (kind === which ? mutated : base()));
  docs.push(cluster("sim-fr-2", "FR"));
  return { "fuzz.yaml": docs.map((d) => stringify(d)).join("---\n") };
}

async function simulate(fileMap: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const e = testEnv({ files: fileMap });
  const code = await runCli({ argv: ["simulate", "-f", "fuzz.yaml", "--now", "2026-12-01T00:00:00Z", "-o", "json"], env: e });
  return { code, stdout: e.stdoutText(), stderr: e.stderrText() };
}

describe("fuzz: mutated manifests through kubectl sovereign simulate", function () {
  this.timeout(suiteTimeout("simulate"));

  it("decides the unmutated documents (control)", async () => {
    const r = await simulate(files("", {}));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"scheduled": true/);
  });

  it("decides, or exits 2 naming a field the case broke; never a crash", async () => {
    const runs = Math.round(runsFor("simulate") * 0.8);
    const t0 = performance.now();
    const kind = fc.constantFrom(...Object.keys(BASES));
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(kind.chain((k) => mutatedManifest(BASES[k]!, k === "MemberCluster" ? ["spec", "status"] : ["spec"]).map((m) => ({ kind: k, ...m }))), async ({ kind: k, doc, mutations }: { kind: string; doc: Doc; mutations: Mutation[] }) => {
        const r = await simulate(files(k, doc));
        assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        if (r.code === 2) {
          refused++;
          const fields = fieldsNamed(mutations);
          assert.ok(namesAField(r.stderr, fields), `exit 2 without naming any of ${JSON.stringify(fields)}: ${r.stderr}`);
        }
      }),
      { ...fcParams("simulate"), numRuns: runs },
    );
    reportRate(`simulate (${refused} refused)`, runs, t0);
  });

  it("arbitrary text as the file: decides or exits 2, never a crash", async () => {
    const runs = Math.max(1, runsFor("simulate") - Math.round(runsFor("simulate") * 0.8));
    const t0 = performance.now();
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 400 }),
      fc.json(),
      fc.constantFrom("---\n---\n", "kind: SovereignWorkload\n", "[1,2", "&a [*a]", "a: &a\n  b: *a\n", "!!binary AAAA", "- - - -", "\uFEFFkind: MemberCluster"),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const r = await simulate({ "fuzz.yaml": t });
        assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      }),
      { ...fcParams("simulate"), numRuns: runs },
    );
    reportRate("simulate arbitrary text", runs, t0);
  });
});
