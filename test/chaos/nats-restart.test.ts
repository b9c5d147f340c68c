import assert from "node:assert/strict";
import { AppsV1Api, KubeConfig } from "@kubernetes/client-node";
import type { SovereignWorkload } from "../../operator/src/api/index.ts";
import { MEMBER_LABELS } from "../../operator/src/api/index.ts";
import { streams } from "../../operator/src/federation/index.ts";
import { stopComponent } from "../../hack/lib/federation/index.ts";
import { federationStateDir, repoRoot } from "../integration/env.ts";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { natsServersOf, type StreamState, streamState } from "./support/jetstream-cluster.ts";

/**
 * nats-server crashes (SIGKILL: no flush, no goodbye) right after a burst of applies,
 * while intents, acks, status and audit records are in flight, and comes back the way
 * `hack/federation start` runs it. Nothing a user sees may be lost: every workload ends
 * with exactly its replicas Running and one Deployment per placed cluster, and every
 * audit record the stream had acknowledged before the crash is still there.
 *
 * On a JetStream cluster of three (FEDERATION_NATS_CLUSTER=3) all three servers are
 * killed at once: the whole NATS service crashes, as the single server does here. Losing
 * one of the three, the one the control plane uses, is nats-cluster.test.ts's scenario.
 */

/** The audit stream's state from the first server's monitoring endpoint (loopback HTTP, no credentials). */
function auditStream(world: World): Promise<StreamState> {
  return streamState(world.env.natsMonitorUrl, streams.audit);
}

const BURST = 20;

describe("nats-server killed with SIGKILL right after a burst of applies, end to end", function () {
  this.timeout(600_000);
  const ns = "e2e-nats-restart";
  let world: World;
  let apps: Map<string, AppsV1Api>;

  before(async function () {
    world = await World.ready({ namespace: ns });
    apps = new Map([...world.members.keys()].map((m) => {
      const kc = new KubeConfig();
      kc.loadFromFile(world.env.memberKubeconfigs[m]!);
      return [m, kc.makeApiClient(AppsV1Api)];
    }));
  });

  after(async function () {
    // Whatever happened, leave every nats-server running for the next file.
    const startNats = () => {
      for (const s of natsServersOf(world.env)) {
        try {
          world.component("start", s.component);
        } catch {
          // already running
        }
      }
    };
    await world?.finish({ namespace: ns, cleanup: [startNats], deleteTimeout: "120s" });
  });

  it("every workload ends with exactly its replicas Running and one Deployment per placed cluster, and no acknowledged audit record is lost", async function () {
    const baseline = await auditStream(world);
    const burst = Array.from({ length: BURST }, (_, i) => i % 2 === 0
      ? workloadManifest({ namespace: ns, name: `pub-${i}`, replicas: 2, policy: "public", placement: { maxClusters: 2 } })
      : workloadManifest({ namespace: ns, name: `eu-${i}`, replicas: 3, policy: "personal-data-eu", placement: { maxClusters: 3 } }));
    world.apply(burst);
    // Kill while the burst is in flight: as soon as the control plane has had some of its
    // audit records acknowledged (so the count below is a real positive control), not after it settled.
    const beforeKill = await world.until("the first audit records of the burst acknowledged", async () => {
      const s = await auditStream(world);
      return s.last_seq > baseline.last_seq ? s : false;
    }, 120_000);
    // Through the library `hack/federation stop --signal KILL` runs, not a second process:
    // milliseconds between the count above and the crash, so the count is what was acknowledged.
    const nats = natsServersOf(world.env);
    await Promise.all(nats.map((s) => stopComponent({ root: repoRoot, stateDir: federationStateDir(), component: s.component, signal: "KILL" })));
    for (const s of nats) world.component("start", s.component);

    // A keep-alive connection to the killed server's monitor fails once: read again until the new one answers.
    // On a cluster, the first server may have been a follower one write behind: it catches up from the others.
    let after: StreamState | undefined;
    try {
      after = await world.until("the audit stream's state from the restarted nats-server, with every record acknowledged before the kill", async () => {
        after = await auditStream(world).catch(() => undefined);
        return after && after.last_seq >= beforeKill.last_seq && after.messages >= beforeKill.messages ? after : false;
      }, 30_000);
    } catch (err) {
      throw new Error(`audit records acknowledged before the kill are gone: before ${JSON.stringify(beforeKill)}, after ${JSON.stringify(after)}`, { cause: err });
    }
    assert.ok(after.first_seq <= beforeKill.first_seq || beforeKill.messages === 0, `the audit stream lost its head: first_seq ${beforeKill.first_seq} → ${after.first_seq}`);
    assert.ok(after.last_seq >= beforeKill.last_seq, `audit records acknowledged before the kill are gone: last_seq ${beforeKill.last_seq} → ${after.last_seq}`);
    assert.ok(after.messages >= beforeKill.messages, `audit records acknowledged before the kill are gone: ${beforeKill.messages} → ${after.messages} messages`);

    const converged = async (m: SovereignWorkload, when: string): Promise<void> => {
      const name = m.metadata.name;
      const replicas = m.spec.replicas;
      const w: SovereignWorkload = await world.untilStatus(ns, name, `Ready with ${replicas} ${when}`, (x) =>
        x.status?.readyReplicas === replicas && (x.status?.placements ?? []).reduce((n, p) => n + p.replicas, 0) === replicas, 240_000);
      const placed = Object.fromEntries((w.status?.placements ?? []).filter((p) => p.replicas > 0).map((p) => [p.cluster, p.replicas]));
      await world.untilPods(w.metadata.uid!, placed, 120_000);
      // Exactly one Deployment per placed cluster, with the placed replicas, and none anywhere else.
      const want = Object.fromEntries(Object.entries(placed).map(([c, n]) => [c, [n]]));
      let seen: Record<string, number[]> = {};
      try {
        await world.until(`${name}: one Deployment per placed cluster ${JSON.stringify(placed)} ${when}`, async () => {
          seen = {};
          for (const [member, api] of apps) {
            const list = await api.listDeploymentForAllNamespaces({ labelSelector: `${MEMBER_LABELS.workloadUid}=${w.metadata.uid}` });
            const live = list.items.filter((d) => !d.metadata?.deletionTimestamp);
            if (live.length) seen[member] = live.map((d) => d.spec?.replicas ?? 0);
          }
          return JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(want).sort());
        }, 60_000);
      } catch (err) {
        throw new Error(`${name} ${when}: Deployments (spec.replicas by member) ${JSON.stringify(seen)}, want ${JSON.stringify(want)}; status ${JSON.stringify(w.status?.placements)}`, { cause: err });
      }
    };
    for (const m of burst) await converged(m, "after nats-server's restart");
    // Once every workload got there, every one is still there: a late decision (a member
    // that missed heartbeats during the outage, a new leader) must not leave members and status apart.
    for (const m of burst) await converged(m, "once every workload converged");
    await world.auditor.check("after nats-server's SIGKILL and restart");

    // Still every record, once the control plane has published what the burst's settling added.
    const settled = await auditStream(world);
    assert.ok(settled.last_seq >= after.last_seq && settled.messages >= beforeKill.messages, JSON.stringify({ beforeKill, after, settled }));
  });
});
