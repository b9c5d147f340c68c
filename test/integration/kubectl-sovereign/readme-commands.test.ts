// Every command of the README's fenced sh blocks, and of the demo's "Try:" list, runs as
// written against the local federation: .federation/env sourced, bin/ on PATH, kubectl
// on PATH as a user has it, exit status 0. A few cannot run inside a test; each is listed
// with the reason, and must still be in the README (so the list cannot go stale).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startComponent } from "../../../hack/lib/federation/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { federationStateDir, readFederationEnv, repoRoot, type FederationEnv } from "../env.ts";
import { kubectlOk } from "../kubectl.ts";

/** Commands (a block's line, continuation lines joined) that do not run here, and why. */
const CANNOT_RUN: Record<string, string> = {
  "npm ci && npm run demo": "reinstalls node_modules under the running test and brings up the federation the test runs on",
  "npm ci && npm test": "runs this very suite and every other",
  "hack/federation down": "stops the federation every later test runs on",
  "helm install sovereign charts/control-plane --namespace sovereign-system --set nats.url=tls://nats.example.eu:4222 --set-file query.apiService.caBundle=ca.crt":
    "a second control-plane release beside the federation's own, whose APIService and roles that release owns (test/integration/charts installs the chart)",
  "helm install sovereign-agent charts/member-agent --namespace sovereign-system --create-namespace --set cluster.name=ovh-par-1 --set controlPlane.grpcAddress=sovereign.example.eu:9443 --set controlPlane.natsUrl=tls://nats.example.eu:4222 --set join.bootstrapToken=<token from kubectl sovereign token create> --set tls.existingSecret=sovereign-agent-tls":
    "is run on a member with its kubeconfig, the token printed by token create and the agent's certificate Secret (test/integration/charts installs the chart)",
};

/** Commands that never end by themselves (watches): run as written for a few seconds, which must not fail. */
const BOUNDED_SECONDS = 5;
const NEVER_ENDS = [/ -w(\s|$)/];

/** One command per logical line: continuation backslashes joined, comments kept (the shell drops them). */
function commands(block: string): string[] {
  return block.replace(/\s*\\\n\s*/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

function withoutComment(line: string): string {
  return line.replace(/\s+#.*$/, "").trim();
}

export function readmeBlocks(text: string): string[][] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => commands(m[1]!));
}

/** The demo's "Try:" lines, from its source: its template's interpolations take the values the demo prints for the examples. */
export function demoTryCommands(source: string): string[] {
  const m = /Try:\n([\s\S]*?)\nStop everything/.exec(source);
  if (!m) throw new Error("hack/lib/demo.ts has no \"Try:\" list");
  return m[1]!.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    .map((l) => l.replaceAll("${agent}", "agent-ionos-fra-1").replace(/\$\{[^}]*?:\s*"([^"]*)"\s*\}/g, "$1"));
}

describe("every command of the README and of the demo's Try: list runs as written", function () {
  let fed: FederationEnv;
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const envFile = path.join(federationStateDir(), "env");

  /** Runs lines as one bash script after sourcing the env file (and with bin/ on PATH), as a user's shell. */
  function run(lines: string[]): { status: number | null; stdout: string; stderr: string } {
    const script = [
      "set -e",
      `. ${JSON.stringify(envFile)}`,
      'export PATH="$PWD/bin:$PATH"',
      ...lines.map((l) => {
        const cmd = l.replaceAll(". .federation/env", `. ${JSON.stringify(envFile)}`);
        return NEVER_ENDS.some((re) => re.test(withoutComment(cmd))) ? `timeout ${BOUNDED_SECONDS} ${withoutComment(cmd)} || [ $? -eq 124 ]` : cmd;
      }),
    ].join("\n");
    const r = spawnSync("bash", ["-c", script], { cwd: repoRoot, env, encoding: "utf8", timeout: 300_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  before(async function () {
    this.timeout(240_000);
    fed = readFederationEnv();
    tmp = mkdtempSync(path.join(tmpdir(), "readme-commands-"));
    // kubectl as a user has it on PATH (the built one is named by its version).
    symlinkSync(fed.kubectl, path.join(tmp, "kubectl"));
    env = {
      // HOME stays the user's: hack/federation finds the built tools under ~/.cache.
      PATH: `${tmp}:${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME ?? tmp,
      ...(process.env.FEDERATION_STATE_DIR ? { FEDERATION_STATE_DIR: process.env.FEDERATION_STATE_DIR } : {}),
    };
    // As after the demo: the examples applied and crm decided by the control plane.
    kubectlOk({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args: ["apply", "-f", path.join(repoRoot, "crds", "examples")] });
    await waitFor(() => {
      const w = JSON.parse(kubectlOk({ bin: fed.kubectl, kubeconfig: fed.hostKubeconfig, args: ["get", "swl", "crm", "-n", "customers", "-o", "json"] })) as { metadata: { generation: number }; status?: { observedGeneration?: number } };
      return w.status?.observedGeneration === w.metadata.generation;
    }, { what: "crm decided by the control plane", timeoutMs: 120_000, intervalMs: 500 });
  });

  after(async function () {
    this.timeout(180_000);
    // The README's own lifecycle block ends with the control plane stopped: bring it back.
    if (fed) await startComponent({ root: repoRoot, stateDir: federationStateDir(), component: "control-plane", timeoutMs: 120_000 }).catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("lists only commands that are in the README as they are written", () => {
    const all = readmeBlocks(readme).flat().map(withoutComment);
    for (const c of Object.keys(CANNOT_RUN)) assert.ok(all.includes(c), `allow-listed but not in the README: ${c}`);
  });

  it("the issue's own check: after the demo, explain and audit of crm print their tables with nothing but .federation/env", () => {
    const r = run(["kubectl sovereign explain crm -n customers --kubeconfig $HOST_KUBECONFIG", "kubectl sovereign audit crm -n customers"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CLUSTER\s+RESULT\s+COUNTRY\s+REPLICAS\s+WHY/m);
    assert.match(r.stdout, /customers\/crm: /);
    assert.match(r.stdout, /^TIME\s+ACTION\s+CLUSTER|^No audit records for customers\/crm\./m);
  });

  const blocks = readmeBlocks(readme);
  blocks.forEach((block, i) => {
    const runnable = block.filter((c) => !(withoutComment(c) in CANNOT_RUN));
    if (runnable.length === 0) return;
    it(`README block ${i + 1}: ${runnable.map(withoutComment).join(" ; ").slice(0, 120)}`, async function () {
      this.timeout(300_000);
      const r = run(runnable);
      assert.equal(r.status, 0, `exit ${r.status}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`);
      // A block that stops the control plane leaves it to the next one: start it again here.
      if (runnable.some((c) => /hack\/federation stop control-plane/.test(c))) {
        await startComponent({ root: repoRoot, stateDir: federationStateDir(), component: "control-plane", timeoutMs: 120_000 });
      }
    });
  });

  it("the demo's Try: list", function () {
    this.timeout(300_000);
    const tries = demoTryCommands(readFileSync(path.join(repoRoot, "hack", "lib", "demo.ts"), "utf8"));
    assert.ok(tries.length >= 5, tries.join("\n"));
    const r = run(tries);
    assert.equal(r.status, 0, `exit ${r.status}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`);
  });
});
