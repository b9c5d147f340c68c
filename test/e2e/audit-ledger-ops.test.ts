import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { LEDGER_KEY_FIELDS, LEDGER_KEY_SECRET } from "../../operator/src/federation/index.ts";
import { lineOf, parseLine, RecordType, SigningKey } from "../../operator/src/ledger/index.ts";
import { QUERY_API_SERVICE, QUERY_GROUP_VERSION } from "../../operator/src/query/index.ts";
import type { KeyBody, LedgerRecord, PlacementBody } from "../../operator/src/ledger/index.ts";
import { federationStateDir } from "../integration/env.ts";
import { REPO, runPlugin } from "../unit/cmd/kubectl-sovereign/run-plugin.ts";
import { freePort, recorded, replaceFlag } from "../support/processes.ts";
import { workloadManifest, World } from "./support/world.ts";
import { serviceAccountKubeconfig } from "../support/service-account.ts";

/**
 * The signed trail survives operations (issue 17 item 6), on the small shape (ovh-par-1 in
 * France, ionos-fra-1 in Germany): a workload is scaled after a control-plane restart,
 * after a leader change (a second control plane takes over from a killed leader) and after
 * a key rotation (the signing Secret given a new key, the previous one kept). An auditor
 * with nothing but a kubeconfig bound to sovereign-auditor exports the ledger through the
 * host's API server; the export verifies clean, holds the placements decided after each
 * operation and the rotation's key record signed by the previous key; a copy with one
 * replica count changed does not verify (positive control of the clean result); a viewer
 * is refused the export (403 naming ledgers/export; positive control: the auditor).
 */
describe("the audit ledger across a control-plane restart, a leader change and a key rotation (audit export over kubeconfig, verify)", function () {
  this.timeout(600_000);
  const ns = "e2e-audit-ledger-ops";
  const name = "traced";
  const MEMBERS = ["ovh-par-1", "ionos-fra-1"];
  const TARGET_LABEL = "e2e.sovereignty.eu/audit-ledger-ops";
  const AUDITOR_BINDING = `${ns}-auditor`;
  let world: World;
  let tmp: string;
  let second: ChildProcess | undefined;
  const kubeconfigs: Record<string, string> = {};

  const plugin = (args: string[], kubeconfig: string) =>
    runPlugin({ args, env: { PATH: `${REPO}bin:${path.dirname(world.kubectlBin)}:${process.env.PATH}`, HOME: tmp, KUBECONFIG: kubeconfig } });

  /** A kubeconfig for a ServiceAccount of the test namespace (its context's namespace): a person with only a kubeconfig. */
  const userKubeconfig = (user: string): string =>
    serviceAccountKubeconfig({ kubectl: world.kubectlBin, adminKubeconfig: world.env.hostKubeconfig, serviceAccount: user, namespace: ns, dir: tmp }).kubectl;


  before(async function () {
    world = await World.ready({ namespace: ns });
    tmp = mkdtempSync(path.join(tmpdir(), "audit-ledger-ops-e2e-"));
    const subject = (user: string) => [{ kind: "ServiceAccount", name: user, namespace: ns }];
    // Applied, so that a run after an interrupted one finds them as they should be.
    world.apply([
      ...["auditor", "viewer"].map((user) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: user, namespace: ns } })),
      // The ledger is cluster-scoped: exporting it is a ClusterRoleBinding's grant.
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: AUDITOR_BINDING }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "sovereign-auditor" }, subjects: subject("auditor") },
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "viewer", namespace: ns }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "sovereign-viewer" }, subjects: subject("viewer") },
    ]);
    for (const user of ["auditor", "viewer"]) kubeconfigs[user] = userKubeconfig(user);
  });

  afterEach(async function () {
    await world.auditor.check(this.currentTest?.title ?? "step");
  });

  after(async function () {
    const stopSecond = async () => {
      if (!second) return;
      second.kill("SIGKILL");
      await new Promise((r) => second!.once("exit", r));
    };
    const startControlPlane = () => {
      try {
        world.component("start", "control-plane");
      } catch {
        // already running
      }
    };
    const unbind = () => world.kubectl(["delete", "clusterrolebinding", AUDITOR_BINDING, "--ignore-not-found"]);
    const unlabel = () => world.kubectl(["label", "membercluster", ...MEMBERS, `${TARGET_LABEL}-`]);
    await world?.finish({ namespace: ns, cleanup: [stopSecond, startControlPlane, unbind, unlabel], deleteTimeout: "120s" });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const scale = async (replicas: number, what: string) => {
    world.kubectl(["patch", "sovereignworkload", name, "-n", ns, "--type", "merge", "-p", JSON.stringify({ spec: { replicas } })]);
    return world.untilStatus(ns, name, `${replicas} replicas Ready ${what}`, (w) => w.status?.readyReplicas === replicas && w.status?.observedGeneration === w.metadata.generation, 120_000);
  };

  const placementsOf = (records: readonly LedgerRecord[]) =>
    records.filter((r) => r.type === RecordType.Placement && (r.body as PlacementBody).workload.namespace === ns && (r.body as PlacementBody).workload.name === name);

  it("an export over kubeconfig taken across a restart, a leader change and a key rotation verifies clean, with the rotation's key record; a tampered copy does not", async function () {
    world.kubectl(["label", "--overwrite", "membercluster", ...MEMBERS, `${TARGET_LABEL}=traced`]);
    world.apply([workloadManifest({
      namespace: ns, name, replicas: 1,
      residency: { allowedCountries: ["FR", "DE"], forbidExtraterritorialExposure: true, clusterSelector: { matchLabels: { [TARGET_LABEL]: "traced" } } },
      failover: { tolerationSeconds: 3600 },
    })]);
    await world.untilStatus(ns, name, "Ready", (w) => w.status?.readyReplicas === 1, 120_000);
    const marks: Record<string, number> = {};

    // 1. A control-plane restart.
    marks.restart = Date.now();
    world.component("stop", "control-plane");
    world.component("start", "control-plane");
    await scale(2, "after a control-plane restart");

    // 2. A leader change: a second control plane, then the leader killed; the second takes over.
    const leader = recorded("control-plane");
    const metricsPort = await freePort();
    let args = replaceFlag(leader.args, "--metrics-listen", `127.0.0.1:${metricsPort}`);
    args = replaceFlag(args, "--grpc-listen", `127.0.0.1:${await freePort()}`);
    if (args.some((a) => a === "--query-listen" || a.startsWith("--query-listen="))) args = replaceFlag(args, "--query-listen", `127.0.0.1:${await freePort()}`);
    const fd = openSync(path.join(federationStateDir(), "logs", "control-plane-ledger-ops.log"), "a");
    second = spawn(leader.binary, args, { stdio: ["ignore", fd, fd], cwd: world.env.root });
    await world.until("the second control plane ready", async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, 60_000);
    marks.leaderChange = Date.now();
    process.kill(leader.pid, "SIGKILL");
    await scale(3, "under the new leader");
    second.kill("SIGTERM");
    await new Promise((r) => second!.once("exit", r));
    second = undefined;
    world.component("start", "control-plane");

    // 3. A key rotation: the Secret gets a new key and keeps the previous one; the control plane reads it at start.
    const secret = JSON.parse(world.kubectl(["get", "secret", LEDGER_KEY_SECRET, "-n", "sovereign-system", "-o", "json"])) as { data: Record<string, string> };
    const oldKey = SigningKey.fromPem(Buffer.from(secret.data[LEDGER_KEY_FIELDS.key]!, "base64").toString("utf8"));
    const newKey = SigningKey.generate();
    world.kubectl(["patch", "secret", LEDGER_KEY_SECRET, "-n", "sovereign-system", "--type", "merge", "-p", JSON.stringify({
      data: { [LEDGER_KEY_FIELDS.key]: Buffer.from(newKey.toPem()).toString("base64"), [LEDGER_KEY_FIELDS.previous]: Buffer.from(oldKey.toPem()).toString("base64") },
    })]);
    marks.rotation = Date.now();
    world.component("stop", "control-plane");
    world.component("start", "control-plane");
    await scale(4, "after a key rotation");
    // The aggregator reaches the restarted control plane's query API again (503 until it does).
    await world.until(`APIService ${QUERY_API_SERVICE} serving again`, async () => {
      try {
        world.kubectl(["get", "--raw", `/apis/${QUERY_GROUP_VERSION}`]);
        return true;
      } catch {
        return false;
      }
    }, 60_000);

    // The auditor exports with its kubeconfig only, through the host's API server.
    const file = path.join(tmp, "trail.jsonl");
    const exported = await plugin(["audit", "export", "-o", file], kubeconfigs.auditor!);
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stderr, /^exported \d+ records of \d+ chains? \(.*\) to /);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    const records = lines.map((l) => parseLine(Buffer.from(l)));
    const placements = placementsOf(records);
    for (const [step, at] of Object.entries(marks)) {
      assert.ok(placements.some((r) => Date.parse(r.time) > at), `a placement of ${ns}/${name} decided after the ${step}`);
    }
    const rotations = records.filter((r) => r.type === RecordType.Key && (r.body as KeyBody).keyId === newKey.keyId);
    assert.ok(rotations.length > 0, "the new key is introduced on a chain");
    for (const r of rotations) {
      assert.equal((r.body as KeyBody).previousKey, oldKey.keyId);
      assert.equal(r.key, oldKey.keyId, "the rotation record is signed by the key it replaces");
    }
    const verified = await plugin(["audit", "verify", file], kubeconfigs.auditor!);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /No findings\./);
    assert.match(verified.stdout, new RegExp(`key [A-Z]{2} +${newKey.keyId}, valid `));
    const keys = await plugin(["audit", "keys"], kubeconfigs.auditor!);
    assert.equal(keys.status, 0, keys.stderr);
    assert.match(keys.stdout, new RegExp(`${newKey.keyId} .* rotation, signed by ${oldKey.keyId}`));

    // From --since (the index's way: key entries, then start-time delivery) it verifies too.
    const since = path.join(tmp, "since.jsonl");
    const ranged = await plugin(["audit", "export", "--since", new Date(marks.restart).toISOString(), "-o", since], kubeconfigs.auditor!);
    assert.equal(ranged.status, 0, ranged.stderr);
    const rangedVerified = await plugin(["audit", "verify", since], kubeconfigs.auditor!);
    assert.equal(rangedVerified.status, 0, rangedVerified.stdout);
    const sinceRecords = readFileSync(since, "utf8").trim().split("\n").map((l) => parseLine(Buffer.from(l)));
    assert.ok(sinceRecords.length < records.length, `a range is less than the whole (${sinceRecords.length} of ${records.length})`);
    // Every placement from --since on, none before (placements appended after the first export may come along too).
    const sinceIds = new Set(placementsOf(sinceRecords).map((r) => r.id));
    for (const p of placements.filter((r) => Date.parse(r.time) >= marks.restart!)) assert.ok(sinceIds.has(p.id), `${p.id} (${p.time}) in the export from --since`);
    assert.ok(placementsOf(sinceRecords).every((r) => Date.parse(r.time) >= marks.restart!), "no placement before --since");

    // The workload's trail (the index's query by workload) through the auditor's kubeconfig.
    const trail = await plugin(["audit", name, "-o", "json"], kubeconfigs.auditor!);
    assert.equal(trail.status, 0, trail.stderr);
    const ids = (JSON.parse(trail.stdout) as { records: { recordId?: string; id?: string }[] }).records.map((r) => r.recordId ?? r.id);
    for (const p of placements) assert.ok(ids.includes(p.id), `audit ${name} lists ${p.id}: ${trail.stdout.slice(0, 400)}`);

    // Tamper: the last placement now claims one replica more.
    const at = lines.findIndex((l) => parseLine(Buffer.from(l)).id === placements.at(-1)!.id);
    const target = records[at]!;
    lines[at] = lineOf({ ...target, body: { ...(target.body as PlacementBody), replicas: (target.body as PlacementBody).replicas + 1 } });
    const tampered = path.join(tmp, "tampered.jsonl");
    writeFileSync(tampered, `${lines.join("\n")}\n`);
    const found = await plugin(["audit", "verify", tampered], kubeconfigs.auditor!);
    assert.equal(found.status, 1, found.stdout + found.stderr);
    assert.match(found.stdout, new RegExp(`line ${at + 1}, record ${target.id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
  });

  it("a viewer is refused the export with 403 naming ledgers/export and the roles that grant it (positive control: the auditor above)", async function () {
    const file = path.join(tmp, "viewer.jsonl");
    const r = await plugin(["audit", "export", "-o", file], kubeconfigs.viewer!);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /Forbidden/);
    assert.match(r.stderr, /cannot get resource "ledgers\/export" in API group "query\.sovereignty\.eu"/);
    assert.match(r.stderr, /the roles sovereign-auditor or sovereign-admin grant it/);
    // The public keys are a viewer's to read, through a ClusterRoleBinding only (the ledger is cluster-scoped): here, a RoleBinding grants nothing.
    const keys = await plugin(["audit", "keys"], kubeconfigs.viewer!);
    assert.equal(keys.status, 1, keys.stdout);
    assert.match(keys.stderr, /cannot get resource "ledgers\/keys"/);
  });
});
