// The agent's attestations: one at every change of what runs, one per workload every
// interval, seq strictly increasing (across restarts too: it starts from the time), a
// workload that went attested once with 0 pods and then forgotten; what it publishes
// verifies with the ledger's check of the member's signature.
import assert from "node:assert/strict";
import { pino } from "pino";
import { Attestations } from "../../../operator/src/agent/index.ts";
import type { AttestationSink } from "../../../operator/src/agent/index.ts";
import type { Deployment, Pod } from "../../../operator/src/kube/index.ts";
import { attestationSignedBy, SigningKey } from "../../../operator/src/ledger/index.ts";
import type { AttestationBody } from "../../../operator/src/ledger/index.ts";
import { TestClock, waitFor } from "../../../operator/src/runtime/index.ts";

const log = pino({ level: "silent" });
const ref = { namespace: "health", name: "records", uid: "uid-1" };
const deployment = { metadata: { namespace: "health", name: "records", uid: "d-1" }, spec: { replicas: 2 } } as unknown as Deployment;
const pod = (name: string, ready: boolean, terminating = false) => ({
  metadata: { namespace: "health", name, ...(terminating ? { deletionTimestamp: "2026-12-01T00:00:00Z" } : {}) },
  status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
}) as unknown as Pod;

function harness(params: { intervalMs?: number; fail?: () => boolean } = {}) {
  const clock = new TestClock("2026-12-01T09:00:00Z");
  const key = SigningKey.generate();
  const sent: AttestationBody[] = [];
  const sink: AttestationSink = {
    key,
    publish: async (body) => {
      if (params.fail?.()) throw new Error("NATS down");
      sent.push(body);
    },
  };
  const attestations = new Attestations({ cluster: "ovh-par-1", sink: Promise.resolve(sink), clock, log, intervalMs: params.intervalMs ?? 60_000 });
  const stop = new AbortController();
  const running = attestations.start(stop.signal);
  return {
    clock, key, sent, attestations, running,
    async stop() {
      stop.abort();
      await running;
    },
    /** Until `n` attestations were published and the loop waits again. */
    until: (n: number) => waitFor(() => sent.length >= n && clock.pending > 0, { what: `${n} attestations`, timeoutMs: 2000, intervalMs: 1 }),
  };
}

describe("agent: attestations of what runs on the member", () => {
  it("attests a change at once, signed with the member's key over what verify checks, and not again while nothing changes", async () => {
    const h = harness();
    try {
      h.attestations.observe({ uid: "uid-1", ref, deployment, pods: [pod("a", true), pod("b", false), pod("c", true, true)] });
      await h.until(1);
      const a = h.sent[0]!;
      assert.deepEqual({ ...a.attestation, seq: 0 }, { member: "ovh-par-1", workload: ref, deployment: "health/records", pods: 1, seq: 0, observedAt: "2026-12-01T09:00:00.000Z" });
      assert.equal(a.memberKey, h.key.keyId);
      assert.ok(attestationSignedBy(a, h.key.publicKey));
      assert.ok(!attestationSignedBy({ ...a, attestation: { ...a.attestation, pods: 2 } }, h.key.publicKey), "positive control: a changed count does not verify");
      // The same state observed again: nothing new.
      h.attestations.observe({ uid: "uid-1", ref, deployment, pods: [pod("a", true), pod("b", false)] });
      await h.clock.advance(59_000);
      assert.equal(h.sent.length, 1);
      // A pod turning ready is a change.
      h.attestations.observe({ uid: "uid-1", ref, deployment, pods: [pod("a", true), pod("b", true)] });
      await h.until(2);
      assert.equal(h.sent[1]!.attestation.pods, 2);
    } finally {
      await h.stop();
    }
  });

  it("attests every workload again each interval, with a strictly increasing seq even when the clock stands still", async () => {
    const h = harness({ intervalMs: 10_000 });
    try {
      h.attestations.observe({ uid: "uid-1", ref, deployment, pods: [pod("a", true)] });
      h.attestations.observe({ uid: "uid-2", ref: { ...ref, name: "other", uid: "uid-2" }, deployment, pods: [pod("x", true)] });
      await h.until(2);
      await h.clock.advance(10_000);
      await h.until(4);
      await h.clock.advance(10_000);
      await h.until(6);
      const seqs = h.sent.map((b) => b.attestation.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
      assert.equal(new Set(seqs).size, seqs.length);
      // Starts from the time in ms, so a restarted agent does not reuse a seq.
      assert.ok(seqs[0]! >= Date.parse("2026-12-01T09:00:00Z"));
      assert.deepEqual(h.sent.map((b) => b.attestation.workload.uid), ["uid-1", "uid-2", "uid-1", "uid-2", "uid-1", "uid-2"]);
      assert.deepEqual(h.sent.map((b) => b.attestation.observedAt).slice(2, 4), ["2026-12-01T09:00:10.000Z", "2026-12-01T09:00:10.000Z"]);
    } finally {
      await h.stop();
    }
  });

  it("attests a workload that went once with 0 pods, then forgets it; one never attested is not attested at all", async () => {
    const h = harness();
    try {
      h.attestations.observe({ uid: "never", ref: { ...ref, uid: "never" }, deployment: undefined, pods: [] });
      h.attestations.observe({ uid: "uid-1", ref, deployment, pods: [pod("a", true)] });
      await h.until(1);
      h.attestations.observe({ uid: "uid-1", ref, deployment: undefined, pods: [] });
      await h.until(2);
      assert.deepEqual([h.sent[1]!.attestation.pods, h.sent[1]!.attestation.deployment], [0, ""]);
      assert.equal(h.attestations.tracked, 0);
      await h.clock.advance(120_000);
      assert.deepEqual(h.sent.map((b) => b.attestation.workload.uid), ["uid-1", "uid-1"]);
    } finally {
      await h.stop();
    }
  });

  it("publishes again after a failed publish, and never reuses the failed one's seq", async () => {
    let failing = true;
    const h = harness({ fail: () => failing });
    try {
      h.attestations.observe({ uid: "uid-1", ref, deployment, pods: [pod("a", true)] });
      await waitFor(() => h.clock.pending > 0, { what: "the loop waiting after the failure", timeoutMs: 2000, intervalMs: 1 });
      assert.equal(h.sent.length, 0);
      failing = false;
      await h.clock.advance(1000);
      await h.until(1);
      assert.ok(h.sent[0]!.attestation.seq > Date.parse("2026-12-01T09:00:00Z"), "the failed attempt used the first seq");
    } finally {
      await h.stop();
    }
  });
});
