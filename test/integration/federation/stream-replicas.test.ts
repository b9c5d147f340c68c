import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { ensureMemberStreams, type FederationClient, StreamReplicasError, streams, subjects } from "../../../operator/src/federation/index.ts";
import { readFederationEnv, type FederationEnv } from "../env.ts";
import { connectAs } from "./helpers.ts";

/**
 * The stream replica option against the real NATS deployment of the local federation,
 * on whichever shape runs: on a single server, asking for 3 replicas is refused by name
 * (the option and what to set), nothing half-made left; on a JetStream cluster of three,
 * a stream made at R1 (before the federation moved to the cluster) is scaled to R3 in
 * place, its messages kept. A member name no one uses keeps the real members' streams out of it.
 */
const PROBE = "replicas-probe";

describe("stream replicas (--nats-stream-replicas) on the local federation's NATS", function () {
  let env: FederationEnv;
  let cp: FederationClient;
  let jsm: JetStreamManager;

  const remove = async () => {
    for (const name of [streams.intents(PROBE), streams.status(PROBE)]) await jsm.streams.delete(name).catch(() => undefined);
  };

  before(async () => {
    env = readFederationEnv();
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    await remove();
  });

  after(async () => {
    if (jsm) await remove();
    await cp?.drain();
  });

  it("creates the streams at R1 on any shape (the option's default, the positive control)", async () => {
    await ensureMemberStreams(jsm, PROBE);
    assert.equal((await jsm.streams.info(streams.intents(PROBE))).config.num_replicas, 1);
  });

  it("on one server refuses R3 naming the option; on a cluster of three scales the R1 stream to R3 and keeps its messages", async () => {
    await cp.js.publish(subjects.intent(PROBE, crypto.randomUUID()), new Uint8Array([1]));
    const before = await jsm.streams.info(streams.intents(PROBE));
    if (env.natsUrls.length === 1) {
      await assert.rejects(ensureMemberStreams(jsm, PROBE, { streams: { replicas: 3 } }), (e: Error) =>
        e instanceof StreamReplicasError && e.retryable === false && /--nats-stream-replicas/.test(e.message) && /1 on a single server/.test(e.message));
      assert.equal((await jsm.streams.info(streams.intents(PROBE))).config.num_replicas, 1, "the refused update changed the stream");
      return;
    }
    assert.equal(env.natsUrls.length, 3);
    await ensureMemberStreams(jsm, PROBE, { streams: { replicas: 3 } });
    const after = await jsm.streams.info(streams.intents(PROBE));
    assert.equal(after.config.num_replicas, 3);
    assert.equal(after.state.last_seq, before.state.last_seq, "scaling lost or added messages");
    // A second call finds nothing to change (one read, no write).
    await ensureMemberStreams(jsm, PROBE, { streams: { replicas: 3 } });
    // Asking for more copies than servers is refused by name, not retried.
    await assert.rejects(ensureMemberStreams(jsm, `${PROBE}-5`, { streams: { replicas: 5 } }).finally(async () => {
      for (const name of [streams.intents(`${PROBE}-5`), streams.status(`${PROBE}-5`)]) await jsm.streams.delete(name).catch(() => undefined);
    }), (e: Error) => e instanceof StreamReplicasError && /--nats-stream-replicas/.test(e.message));
  });
});
