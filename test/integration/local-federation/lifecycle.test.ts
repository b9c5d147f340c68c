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

const federation = path.join(repoRoot, "hack", "federation");

function run(args: string[]) {
  const r = spawnSync(federation, args, { encoding: "utf8", timeout: 300_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function allPorts(base: number, stateDir: string): number[] {
  return layoutPorts(makeLayout({ root: repoRoot, stateDir, basePort: base, members: ["fr"], nodesPerMember: 1 }));
}

describe("hack/federation lifecycle (a second, small federation beside the shared one)", function () {
  this.timeout(300_000);
  let stateDir: string;
  let base: number;
  const common = () => ["--state-dir", stateDir, "--base-port", String(base), "--members", "fr", "--nodes", "1", "--timeout", "120"];

  before(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), "federation-lifecycle-"));
    // Away from the shared federation, whose default base port is below 32000.
    base = await freeBasePort({ from: 41000, members: ["fr"] });
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
