import assert from "node:assert/strict";
import { runCli } from "../../../../operator/src/cmd/kubectl-sovereign/cli.ts";
import type { ExportRequest } from "../../../../operator/src/gen/sovereign/v1/audit.ts";
import { canonicalJson } from "../../../../operator/src/ledger/index.ts";
import type { LedgerRecord } from "../../../../operator/src/ledger/index.ts";
import { GRPC_ENVIRONMENT, GRPC_FILES, testEnv } from "../../cmd/kubectl-sovereign/cli-env.ts";
import { failoverTrail } from "./trail.ts";

const { lines, data } = failoverTrail();

/** The CLI with `trail.jsonl` to read and, when given, a control plane that exports `exported`. */
function env({ file = data, exported }: { file?: Uint8Array; exported?: string[] } = {}) {
  const asked: ExportRequest[] = [];
  const e = testEnv({
    files: GRPC_FILES,
    environment: exported ? GRPC_ENVIRONMENT : {},
    ...(exported ? {
      controlPlane: {
        exportLedger: async function* (req: ExportRequest) {
          asked.push(req);
          for (const line of exported) yield { line };
        },
      },
    } : {}),
  });
  e.files = {
    readBytes: async (p) => (p === "trail.jsonl" ? file : Promise.reject(new Error(`ENOENT: no such file, open '${p}'`))),
    writeText: async () => assert.fail("report writes no file"),
  };
  return Object.assign(e, { asked });
}

describe("kubectl sovereign report", () => {
  it("reports one workload from an exported trail offline, in Markdown by default, exit 0 for a clean trail", async () => {
    const e = env();
    assert.equal(await runCli({ argv: ["report", "patient-portal", "--from", "trail.jsonl"], env: e }), 0, e.stderrText());
    assert.match(e.stdoutText(), /^# Residency report: patient-portal\n/);
    assert.ok(e.stdoutText().includes("## health/patient-portal"));
    assert.ok(!e.stdoutText().includes("records-db"));
    assert.equal(e.stderrText(), "");
  });

  it("reports every workload with --all, as HTML or JSON", async () => {
    const html = env();
    assert.equal(await runCli({ argv: ["report", "--all", "--from", "trail.jsonl", "-o", "html"], env: html }), 0);
    assert.match(html.stdoutText(), /^<!DOCTYPE html>/);
    assert.equal((html.stdoutText().match(/<svg /g) ?? []).length, 2);
    const json = env();
    assert.equal(await runCli({ argv: ["report", "--all", "--from", "trail.jsonl", "-o", "json", "--since", "2026-11-28T09:10:00Z", "--until", "2026-11-28T09:40:00Z"], env: json }), 0);
    const doc = JSON.parse(json.stdoutText()) as { window: unknown; workloads: { workload: { name: string } }[] };
    assert.deepEqual(doc.window, { from: "2026-11-28T09:10:00.000Z", to: "2026-11-28T09:40:00.000Z" });
    assert.deepEqual(doc.workloads.map((w) => w.workload.name), ["patient-portal", "records-db"]);
  });

  it("still reports a trail with findings, says so on stderr and at the top, and exits 1", async () => {
    const edited = [...lines];
    const rec = JSON.parse(edited[2]!) as LedgerRecord;
    rec.id = `${rec.id}-forged`;
    edited[2] = canonicalJson(rec);
    const e = env({ file: Buffer.from(`${edited.join("\n")}\n`) });
    assert.equal(await runCli({ argv: ["report", "health/patient-portal", "--from", "trail.jsonl"], env: e }), 1);
    assert.match(e.stdoutText(), /^# Residency report: health\/patient-portal\n\n.*\n\n> \*\*Warning: the trail did not verify/);
    assert.match(e.stderrText(), /^warning: the trail has \d+ findings? /);
  });

  it("exports the whole trail from the control plane without --from (the placements before --since say what ran at --since)", async () => {
    const e = env({ exported: lines });
    assert.equal(await runCli({ argv: ["report", "patient-portal", "-n", "health", "--since", "2026-11-28T09:10:00Z", "--until", "2026-11-28T09:40:00Z"], env: e }), 0, e.stderrText());
    assert.deepEqual(e.asked, [{ country: "", range: { since: undefined, until: new Date("2026-11-28T09:40:00Z") }, keysOnly: false }]);
    assert.equal(e.opened[0]!.address, "127.0.0.1:20904");
    assert.ok(e.stdoutText().includes("| FR | ovh-par-1 | OVHcloud | eu-west-par | 2026-11-28 09:10:00Z | 2026-11-28 09:30:00Z | 3 |"), e.stdoutText());
  });

  it("exits 1 naming the workload when the trail has no record of it", async () => {
    const e = env();
    assert.equal(await runCli({ argv: ["report", "billing/patient-portal", "--from", "trail.jsonl"], env: e }), 1);
    assert.match(e.stderrText(), /^error: the trail has no record of workload billing\/patient-portal\n$/);
    assert.equal(e.stdoutText(), "");
  });

  it("exits 2 for a file that is not a trail or cannot be read", async () => {
    const bad = env({ file: Buffer.from("hello\n") });
    assert.equal(await runCli({ argv: ["report", "--all", "--from", "trail.jsonl"], env: bad }), 2);
    assert.match(bad.stderrText(), /holds no ledger record/);
    const missing = env();
    assert.equal(await runCli({ argv: ["report", "--all", "--from", "nope.jsonl"], env: missing }), 2);
    assert.match(missing.stderrText(), /cannot read nope\.jsonl: ENOENT/);
  });

  const usage = [
    { argv: ["report"], message: /report needs a WORKLOAD \(NAME or NAMESPACE\/NAME\) or --all/ },
    { argv: ["report", "a", "--all", "--from", "t"], message: /give a WORKLOAD or --all, not both/ },
    { argv: ["report", "a", "b", "--from", "t"], message: /unexpected arguments: b/ },
    { argv: ["report", "A_b", "--from", "t"], message: /"A_b" is not a workload name/ },
    { argv: ["report", "x/a", "-n", "y", "--from", "t"], message: /WORKLOAD says namespace "x", -n says "y"/ },
    { argv: ["report", "a", "-o", "pdf", "--from", "t"], message: /-o\/--output: "pdf" is not one of md, html, json/ },
    { argv: ["report", "a", "--since", "2026-12-02", "--until", "2026-12-01", "--from", "t"], message: /--since is after --until/ },
    { argv: ["report", "a", "--attestation-period", "often", "--from", "t"], message: /--attestation-period: "often" is not a duration/ },
    { argv: ["report", "a", "--trust", "abc", "--from", "t"], message: /--trust: "abc" is not a key id/ },
    { argv: ["report", "a", "--grpc-address", "127.0.0.1:1"], message: /the control plane's gRPC endpoint needs --grpc-ca/ },
  ];
  for (const c of usage) {
    it(`refuses ${c.argv.slice(1).join(" ") || "no arguments"} with exit 2 and the usage`, async () => {
      const e = env();
      assert.equal(await runCli({ argv: c.argv, env: e }), 2);
      assert.match(e.stderrText(), c.message);
      assert.match(e.stderrText(), /Usage: kubectl sovereign report WORKLOAD \| --all/);
      assert.equal(e.stdoutText(), "");
    });
  }
});
