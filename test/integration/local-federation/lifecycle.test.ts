import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../env.ts";
import { layoutPorts, makeLayout } from "../../../hack/lib/federation/layout.ts";
import { freeBasePort, portInUse } from "../../../hack/lib/federation/http.ts";
import { isRunning, type RecordedProcess } from "../../../hack/lib/federation/process.ts";
import { startComponent, stopComponent } from "../../../hack/lib/federation/index.ts";
import { readKubeconfigAuth } from "../../../hack/lib/federation/kwok.ts";
import { httpGet } from "../../../hack/lib/federation/http.ts";

const federation = path.join(repoRoot, "hack", "federation");

function run(args: string[]) {
  // This federation's own flags and state: not the shared one's FEDERATION_BASE_PORT, which outranks a recorded port.
  const { FEDERATION_BASE_PORT: _port, FEDERATION_STATE_DIR: _dir, ...env } = process.env;
  const r = spawnSync(federation, args, { encoding: "utf8", timeout: 300_000, env });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function allPorts(base: number, stateDir: string): number[] {
  return layoutPorts(makeLayout({ root: repoRoot, stateDir, basePort: base, members: ["fr"], nodesPerMember: 1 }));
}

describe("hack/federation lifecycle (a second, small federation beside the shared one)", function () {
  this.timeout(300_000);
  let stateDir: string;
  let base: number;
  // One member, no control plane: the smallest federation that has every kind of Kubernetes component.
  const common = () => ["--state-dir", stateDir, "--base-port", String(base), "--members", "fr", "--nodes", "1", "--control-plane", "off", "--timeout", "120"];
  const recorded = (component: string) => (JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: RecordedProcess[] }).processes.find((p) => p.component === component)!;

  before(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "federation-lifecycle-"));
    // Away from the shared federation (default base ports are below 32000) and above the
    // Linux ephemeral range (32768-60999), where an outgoing connection can take a port
    // between the check and the start.
    base = await freeBasePort({ from: 61000, members: ["fr"] });
  });

  after(() => {
    run(["down", "--state-dir", stateDir]);
  });

  it("fails naming the component and its log when a port it needs is taken", async () => {
    const natsPort = base + 2;
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(natsPort, "127.0.0.1", resolve));
    try {
      const r = run(["up", ...common()]);
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, /nats-server did not start/);
      assert.match(r.out, new RegExp(`port 127\\.0\\.0\\.1:${natsPort} is already in use`));
      assert.ok(r.out.includes(path.join(stateDir, "logs", "nats-server.log")), r.out);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("completes a half-started federation on the next up, and a further up changes nothing", () => {
    const before = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: RecordedProcess[] };
    const etcd = before.processes.find((p) => p.component === "etcd");
    assert.ok(etcd && isRunning(etcd), "etcd, started before nats-server failed, is still recorded and running");

    const first = run(["up", ...common()]);
    assert.equal(first.status, 0, first.out);
    assert.match(first.out, /federation ready/);
    const after = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: RecordedProcess[] };
    assert.equal(after.processes.find((p) => p.component === "etcd")?.pid, etcd.pid, "etcd was reused, not restarted");

    // Without flags, up keeps the recorded shape (members fr, base port) instead of refusing it.
    const again = run(["up", "--state-dir", stateDir]);
    assert.equal(again.status, 0, again.out);
    assert.doesNotMatch(again.out, /starting /);
    const status = run(["status", "--state-dir", stateDir]);
    assert.equal(status.status, 0, status.out);
    assert.match(status.out, /kube-apiserver \(fr\)\s+healthy/);
  });

  it("stop takes exactly one component down (status says DOWN, the others stay healthy) and start brings it back with the same arguments", () => {
    const before = recorded("kube-scheduler (fr)");
    const others = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")).processes.filter((p: RecordedProcess) => p.component !== "kube-scheduler (fr)") as RecordedProcess[];
    const stopped = run(["stop", "kube-scheduler-fr", "--state-dir", stateDir]);
    assert.equal(stopped.status, 0, stopped.out);
    assert.equal(isRunning(before), false, "the scheduler still runs");
    for (const p of others) assert.ok(isRunning(p), `${p.component} was stopped too`);
    const down = run(["status", "--state-dir", stateDir]);
    assert.equal(down.status, 1, down.out);
    assert.match(down.out, /kube-scheduler \(fr\)\s+DOWN/);
    assert.match(down.out, /kube-apiserver \(fr\)\s+healthy/);

    const started = run(["start", "kube-scheduler (fr)", "--state-dir", stateDir]);
    assert.equal(started.status, 0, started.out);
    assert.match(started.out, /kube-scheduler \(fr\) ready/);
    const after = recorded("kube-scheduler (fr)");
    assert.notEqual(after.pid, before.pid);
    assert.ok(isRunning(after));
    assert.deepEqual(after.args, before.args);
    assert.equal(run(["status", "--state-dir", stateDir]).status, 0);
  });

  it("stopComponent and startComponent take an API server down and back for a test: its port closes, then it serves again", async () => {
    const api = recorded("kube-apiserver (fr)");
    const kc = readKubeconfigAuth(path.join(stateDir, "fr.kubeconfig"));
    const port = Number(new URL(kc.server).port);
    const stopped = await stopComponent({ root: repoRoot, stateDir, component: "kube-apiserver (fr)" });
    assert.equal(stopped.pid, api.pid);
    assert.equal(await portInUse(port), false, "the API server's port is still open");
    await assert.rejects(httpGet({ url: `${kc.server}/readyz`, ca: kc.ca, token: kc.token }));
    const started = await startComponent({ root: repoRoot, stateDir, component: "kube-apiserver (fr)", timeoutMs: 120_000 });
    assert.notEqual(started.pid, api.pid);
    assert.equal((await httpGet({ url: `${kc.server}/readyz`, ca: kc.ca, token: kc.token })).status, 200);
  });

  it("refuses an unknown component with status 2, listing the components it has", () => {
    const r = run(["stop", "agent-nowhere", "--state-dir", stateDir]);
    assert.equal(r.status, 2, r.out);
    assert.match(r.out, /no component "agent-nowhere".*kube-apiserver \(fr\)/);
  });

  it("down stops every process it started and leaves no listening port and no state behind", async () => {
    const state = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")) as { processes: RecordedProcess[] };
    assert.ok(state.processes.length >= 7, `recorded ${state.processes.length} processes`);
    assert.ok(state.processes.every(isRunning));
    const r = run(["down", "--state-dir", stateDir]);
    assert.equal(r.status, 0, r.out);
    for (const p of state.processes) assert.equal(isRunning(p), false, `${p.component} (pid ${p.pid}) still runs`);
    for (const port of allPorts(base, stateDir)) assert.equal(await portInUse(port), false, `port ${port} still in use`);
    assert.equal(existsSync(stateDir), false);
  });
});
