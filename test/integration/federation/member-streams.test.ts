import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { JetStreamManager } from "@nats-io/jetstream";
import { codecs, ControlPlaneStreams, type FederationClient, memberStreamClusters, streams, subjects } from "../../../operator/src/federation/index.ts";
import { sampleIntent } from "../../support/samples.ts";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { connectAs } from "./helpers.ts";

/**
 * A deleted member's streams against the local federation's real NATS: ControlPlaneStreams
 * removes them only when the caller says nothing needs them (asked twice, the second time
 * just before the delete) and the member's agent took every intent; a member declared
 * again gets them back. A member name no one uses keeps the real members' streams out of it.
 */
const PROBE = "member-streams-probe";

describe("a deleted member's NATS streams (ControlPlaneStreams.removeMember, real nats-server)", function () {
  let env: FederationEnv;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  const exists = async () => (await memberStreamClusters(jsm)).includes(PROBE);

  before(async () => {
    env = readFederationEnv();
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
  });

  after(async () => {
    for (const name of [streams.intents(PROBE), streams.status(PROBE)]) await jsm?.streams.delete(name).catch(() => undefined);
    await cp?.drain();
  });

  it("keeps them while in use or while the agent has not taken an intent, removes them after, and makes them again on the next ensure", async () => {
    const owned = new ControlPlaneStreams({ client: cp, options: { streams: { replicas: env.natsStreamReplicas } } });
    await owned.ensureMember(PROBE);
    assert.ok(await exists(), "ensureMember made them");
    assert.ok((await owned.memberClusters()).includes(PROBE));

    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => false }), "in-use");
    assert.ok(await exists(), "in use: kept");

    // Declared again between the first look and the delete: kept.
    let looks = 0;
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => ++looks === 1 }), "in-use");
    assert.equal(looks, 2);
    assert.ok(await exists(), "declared again meanwhile: kept");

    // An intent its agent has not taken yet (here: a removal): kept, unless the agent is gone.
    const intent = sampleIntent({ cluster: PROBE, replicas: 0, workload: { namespace: "n", name: "w", uid: randomUUID() }, decidedAt: new Date() });
    await cp.js.publish(subjects.intent(PROBE, intent.workload!.uid), codecs.intent.encode(intent));
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true }), "undelivered");
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true, agentGone: () => false }), "undelivered");
    assert.ok(await exists(), "undelivered: kept");

    // Taken but not yet acknowledged: still kept.
    const consumer = await cp.js.consumers.get(streams.intents(PROBE), streams.intentsConsumer(PROBE));
    const got = await consumer.next({ expires: 5_000 });
    assert.ok(got, "the agent's consumer delivers the intent");
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true }), "undelivered");
    got.ack();
    await got.ackAck?.().catch(() => undefined);
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true }), "removed");
    assert.equal(await exists(), false, "both streams deleted");
    await assert.rejects(jsm.streams.info(streams.intents(PROBE)), /stream not found/);
    await assert.rejects(jsm.streams.info(streams.status(PROBE)), /stream not found/);

    // Removing again finds nothing; a member declared again gets them back, consumer included.
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true }), "absent");
    await owned.ensureMember(PROBE);
    assert.ok(await exists(), "made again after the removal (the per-process memo was forgotten)");
    assert.equal((await jsm.consumers.info(streams.intents(PROBE), streams.intentsConsumer(PROBE))).num_pending, 0);
  });

  it("removes them with an intent never taken when the agent is gone (uninstalled before its MemberCluster was deleted)", async () => {
    const owned = new ControlPlaneStreams({ client: cp, options: { streams: { replicas: env.natsStreamReplicas } } });
    await owned.ensureMember(PROBE);
    const intent = sampleIntent({ cluster: PROBE, replicas: 0, workload: { namespace: "n", name: "w", uid: randomUUID() }, decidedAt: new Date() });
    await cp.js.publish(subjects.intent(PROBE, intent.workload!.uid), codecs.intent.encode(intent));
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true, agentGone: () => false }), "undelivered", "the control: kept while the agent may still take it");
    assert.equal(await owned.removeMember({ cluster: PROBE, unused: () => true, agentGone: () => true }), "removed");
    assert.equal(await exists(), false);
  });
});
