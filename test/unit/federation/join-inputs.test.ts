import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { BOOTSTRAP_ANNOTATIONS, checkAgentVersion, createBootstrapToken, handleJoin, residencyFactsOf, RpcError } from "../../../operator/src/federation/grpc/index.ts";
import type { Peer } from "../../../operator/src/federation/grpc/index.ts";
import { TestClock } from "../../../operator/src/runtime/index.ts";
import { UNDECLARED_EXPOSURE } from "../../../operator/src/scheduler/index.ts";
import { memberCluster, NOW as NOW_MS } from "../../support/builders.ts";
import { FakeHost, storedMemberCluster } from "./fake-host.ts";

const NOW = new Date(NOW_MS);
const frPeer: Peer = { kind: "member", cluster: "fr", subject: "O=sovereign-federation member, CN=fr" };
const deps = (host: FakeHost) => ({
  host, credentials: async () => ({ nkeySeed: "SUSEEDFR" }), natsServers: ["tls://127.0.0.1:4222"], natsCaPem: "CA", clock: new TestClock(NOW),
});

describe("Join's agentVersion is bounded before it lands in a Secret annotation and a condition", () => {
  const rows: [string, string | undefined][] = [
    ["0.1.0", "0.1.0"], ["1.2.3-rc.1+build.5", "1.2.3-rc.1+build.5"], ["", "unknown"], ["v".repeat(64), "v".repeat(64)],
    ["v".repeat(65), undefined], ["0.1.0\nforged: line", undefined], ["0.1.0 (evil)", undefined], ["-rc", undefined], ["ü1", undefined],
  ];
  for (const [given, want] of rows) {
    it(`${JSON.stringify(given.length > 20 ? `${given.slice(0, 8)}... (${given.length})` : given)}: ${want === undefined ? "INVALID_ARGUMENT" : `kept as ${want.length > 20 ? `${want.length} characters` : want}`}`, () => {
      if (want !== undefined) return assert.equal(checkAgentVersion(given), want);
      const err = (() => { try { checkAgentVersion(given); } catch (e) { return e; } return undefined; })();
      assert.ok(err instanceof RpcError && err.code === status.INVALID_ARGUMENT, String(err));
    });
  }

  it("refuses a 1 MB agentVersion before touching the token, which stays usable (positive control: a normal version joins)", async () => {
    const host = new FakeHost();
    host.clusters.set("fr", storedMemberCluster({ name: "fr" }));
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: 3_600_000 });
    const err = await handleJoin({ cluster: "fr", bootstrapToken: token, agentVersion: "x".repeat(1 << 20) }, frPeer, deps(host)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RpcError && err.code === status.INVALID_ARGUMENT);
    assert.equal([...host.secrets.values()][0]!.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt], undefined, "the token is unused");
    assert.deepEqual(host.conditions, []);
    await handleJoin({ cluster: "fr", bootstrapToken: token, agentVersion: "0.1.0" }, frPeer, deps(host));
    assert.match([...host.secrets.values()][0]!.annotations?.[BOOTSTRAP_ANNOTATIONS.usedBy] ?? "", /agent 0\.1\.0$/);
  });
});

describe("residency facts sent to members", () => {
  it("carry an exposure the host never declared as exposed, never as none (positive control: [] is none)", () => {
    const declared = memberCluster({ residency: { extraterritorialExposure: [] } });
    assert.deepEqual(residencyFactsOf(declared).extraterritorialExposure, []);
    const undeclared = memberCluster();
    delete (undeclared.spec.residency as { extraterritorialExposure?: string[] }).extraterritorialExposure;
    assert.deepEqual(residencyFactsOf(undeclared).extraterritorialExposure, [UNDECLARED_EXPOSURE]);
  });
});
