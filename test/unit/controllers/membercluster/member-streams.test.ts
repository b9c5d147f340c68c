// A deleted member's NATS streams: when they may go (memberStreamsUnused), what the
// MemberCluster reconciler does for a member that is gone, and which members a start
// queues (DeletedMemberStreams).
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import fc from "fast-check";
import pino from "pino";
import type { MemberCluster, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { DeletedMemberStreams, MEMBER_AGENT_GONE_MS, MEMBER_STREAMS_RETRY_MS, memberAgentGone, MemberClusterReconciler, memberStreamsUnused } from "../../../../operator/src/controllers/index.ts";
import type { MemberStreamsRemoval } from "../../../../operator/src/federation/index.ts";
import { TestClock } from "../../../../operator/src/runtime/index.ts";

const log = pino({ level: "silent" });

function workload(p: { placed?: Record<string, number>; rejected?: string[] }): SovereignWorkload {
  return {
    apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name: "w", namespace: "ns", uid: "u" },
    spec: { replicas: 1 },
    status: {
      placements: Object.entries(p.placed ?? {}).map(([cluster, replicas]) => ({ cluster, replicas })),
      rejectedClusters: (p.rejected ?? []).map((cluster) => ({ cluster, reasons: ["CountryNotAllowed"] })),
    },
  } as unknown as SovereignWorkload;
}

describe("a deleted member's streams: when nothing needs them", () => {
  const rows: { what: string; declared: boolean; workloads: SovereignWorkload[]; unused: boolean }[] = [
    { what: "declared, nothing placed", declared: true, workloads: [], unused: false },
    { what: "declared, with replicas", declared: true, workloads: [workload({ placed: { x: 2 } })], unused: false },
    { what: "gone, a workload still placed there", declared: false, workloads: [workload({ placed: { x: 1, y: 1 } })], unused: false },
    { what: "gone, a placement of 0 still listed (its removal under way)", declared: false, workloads: [workload({ placed: { x: 0 } })], unused: false },
    { what: "gone, only rejected there", declared: false, workloads: [workload({ rejected: ["x"] })], unused: true },
    { what: "gone, workloads placed elsewhere", declared: false, workloads: [workload({ placed: { y: 3 } })], unused: true },
    { what: "gone, no workload", declared: false, workloads: [], unused: true },
  ];
  for (const r of rows) {
    it(`${r.what}: ${r.unused ? "unused" : "kept"}`, () => {
      assert.equal(memberStreamsUnused({ cluster: "x", declared: r.declared, workloadsNamingIt: r.workloads }), r.unused);
    });
  }

  it("is unused exactly when undeclared and no workload lists the member in its placements (property)", () => {
    const clusters = fc.constantFrom("x", "y", "z");
    const w = fc.record({ placed: fc.dictionary(clusters, fc.nat(3)), rejected: fc.array(clusters) }).map(workload);
    fc.assert(fc.property(fc.boolean(), fc.array(w, { maxLength: 5 }), (declared, ws) => {
      const listed = ws.some((x) => (x.status?.placements ?? []).some((p) => p.cluster === "x"));
      assert.equal(memberStreamsUnused({ cluster: "x", declared, workloadsNamingIt: ws }), !declared && !listed);
    }));
  });
});

describe("a deleted member's agent: gone after 10 minutes of silence", () => {
  const now = new Date("2026-12-05T08:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const rows: { what: string; last: Date | undefined; gone: boolean }[] = [
    { what: "never heard", last: undefined, gone: true },
    { what: "heard a second ago", last: ago(1_000), gone: false },
    { what: "heard just under 10 minutes ago", last: ago(MEMBER_AGENT_GONE_MS - 1), gone: false },
    { what: "silent for 10 minutes", last: ago(MEMBER_AGENT_GONE_MS), gone: true },
    { what: "silent for a day", last: ago(86_400_000), gone: true },
  ];
  for (const r of rows) {
    it(`${r.what}: ${r.gone ? "gone" : "may still take its removals"}`, () => {
      assert.equal(memberAgentGone({ lastHeartbeatAt: r.last, now }), r.gone);
    });
  }
});

describe("MemberClusterReconciler for a member that is gone", () => {
  function reconciler(removeMember?: (cluster: string) => Promise<MemberStreamsRemoval>) {
    const asked: string[] = [];
    const r = new MemberClusterReconciler({
      clusters: { get: () => undefined, list: () => [], hasSynced: () => true },
      host: {} as never, reports: {} as never, ensureMember: () => assert.fail("a gone member's streams are not created"),
      ...(removeMember ? { removeMember: (c: string) => (asked.push(c), removeMember(c)) } : {}),
      timing: { intervalMs: 1000, misses: 5 }, clock: new TestClock("2026-12-05T00:00:00Z"), log,
    });
    return { r, asked };
  }

  it("asks for its streams to go, and is done once they went or when there were none", async () => {
    for (const done of ["removed", "absent"] as const) {
      const { r, asked } = reconciler(async () => done);
      assert.deepEqual(await r.reconcile("gone"), {});
      assert.deepEqual(asked, ["gone"]);
    }
  });

  for (const waiting of ["in-use", "undelivered"] as const) {
    it(`looks again in ${MEMBER_STREAMS_RETRY_MS / 1000} s while they are ${waiting}`, async () => {
      const { r } = reconciler(async () => waiting);
      assert.deepEqual(await r.reconcile("gone"), { requeueAfterMs: MEMBER_STREAMS_RETRY_MS });
    });
  }

  it("does nothing more without a remover (the streams stay)", async () => {
    const { r } = reconciler();
    assert.deepEqual(await r.reconcile("gone"), {});
  });
});

describe("DeletedMemberStreams at the start of leadership", () => {
  it("queues the members with streams but no MemberCluster, and only those", async () => {
    const declared = new Map<string, MemberCluster>([["kept", {} as MemberCluster]]);
    const queued: string[] = [];
    let calls = 0;
    const sweep = new DeletedMemberStreams({
      clusters: { get: (k: string) => declared.get(k), list: () => [...declared.values()], hasSynced: () => true },
      retryMs: 10,
      // The first listing fails (NATS not answering yet): it is tried again.
      listed: async () => {
        if (++calls === 1) throw new Error("no responders");
        return ["gone-a", "kept", "gone-b"];
      },
      enqueue: (c) => void queued.push(c),
      log,
    });
    const abort = new AbortController();
    const running = sweep.start(abort.signal);
    const deadline = Date.now() + 10_000;
    while (queued.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await running;
    assert.deepEqual(queued, ["gone-a", "gone-b"]);
    assert.equal(calls, 2);
  });
});
