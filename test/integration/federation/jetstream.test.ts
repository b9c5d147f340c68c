import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { createUser } from "@nats-io/nkeys";
import { connect, nkeyAuthenticator } from "@nats-io/transport-node";
import {
  codecs, CONTROL_PLANE_ACCOUNT, ControlPlaneReportSource, ensureMemberStreams, ensureSharedStreams, heartbeatsStreamConfig, inboxPrefix, memberAccount, memberAccountLimits,
  readAudit, statusStreamConfig, streams, subjects,
} from "../../../operator/src/federation/index.ts";
import type { Delivery, DroppedReport, DurableSubscription, FederationClient } from "../../../operator/src/federation/index.ts";
import type { PlacementIntent } from "../../../operator/src/gen/sovereign/v1/intent.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { readFederationEnv } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { sampleAuditRecord, sampleHeartbeat, sampleIntent, sampleStatus } from "../../support/samples.ts";
import { assertDenied, assertRequestDenied, assertSubscribeDenied, connectAs, ensureMemberClusters, need, nextMatching, OpenSubscriptions, uid, within } from "./helpers.ts";
import { federationLedger, forgedRecord } from "./ledger.ts";
import type { LedgerWriter } from "../../../operator/src/federation/index.ts";
import { signAttestation, SigningKey } from "../../../operator/src/ledger/index.ts";
import type { AttestationBody } from "../../../operator/src/ledger/index.ts";

/** An attestation claiming to be `member`'s (signed by a key of its own: the server checks only who publishes where). */
function attestationOf(member: string): AttestationBody {
  const at = new Date();
  return signAttestation({ member, workload: { namespace: "n", name: "w", uid: uid() }, deployment: "n/w", pods: 1, seq: at.getTime(), observedAt: at.toISOString() }, SigningKey.generate());
}

/** The next delivery for workload `workloadUid`; see nextMatching for the deadline and acks. */
function nextFor(sub: DurableSubscription<PlacementIntent>, workloadUid: string): Promise<Delivery<PlacementIntent>> {
  return nextMatching({ sub, matches: (d) => d.message.workload?.uid === workloadUid, what: `intent for ${workloadUid}` });
}

describe("federation protocol over NATS JetStream (real nats-server, TLS, per-cluster identities)", function () {
  let env: FederationEnv;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  let ledger: LedgerWriter;
  const open: FederationClient[] = [];
  const subs = new OpenSubscriptions();

  async function member(name: string): Promise<FederationClient> {
    const c = await connectAs(env, { member: name });
    open.push(c);
    return c;
  }

  before(async () => {
    env = readFederationEnv();
    // Declared on the host: the control plane removes the streams of a member with no MemberCluster.
    ensureMemberClusters(env);
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    await ensureSharedStreams(jsm, { streams: { replicas: env.natsStreamReplicas } });
    ledger = await federationLedger(env, cp);
    // A short ack wait so that redelivery after a crash is observable in a test.
    for (const m of ["fr", "de"]) await ensureMemberStreams(jsm, m, { streams: { replicas: env.natsStreamReplicas }, consumers: { ackWaitMs: 1000 } });
  });

  afterEach(() => subs.stopAll());

  after(async () => {
    await Promise.allSettled(open.map((c) => c.drain()));
    if (jsm) for (const m of ["fr", "de"]) await ensureMemberStreams(jsm, m, { streams: { replicas: env.natsStreamReplicas } });
    await cp?.drain();
  });

  it("connects only over TLS: the server requires it and presents a certificate our CA signed", async () => {
    assert.match(env.natsUrl, /^tls:\/\//);
    const info = cp.nc.info!;
    assert.equal(info.tls_required, true);
    assert.equal(info.auth_required, true);
  });

  it("refuses a connection without credentials, with unknown credentials, or without TLS", async () => {
    const ca = readFileSync(need(env, "NATS_CA"), "utf8");
    await assert.rejects(connect({ servers: env.natsUrl, tls: { ca }, reconnect: false }), /Authorization Violation/i);
    await assert.rejects(
      connect({ servers: env.natsUrl, tls: { ca }, reconnect: false, authenticator: nkeyAuthenticator(createUser().getSeed()) }),
      /Authorization Violation/i,
    );
    // A client that will not do TLS is turned away before any credential is sent.
    const port = Number(new URL(env.natsUrl).port);
    const answer = await within(new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write('CONNECT {"verbose":false}\r\nPING\r\n'));
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        text += chunk;
        if (text.includes("-ERR")) socket.destroy();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    }), 10_000, "the server's answer to a plain-text client");
    assert.match(answer, /"tls_required":true/);
    // The server expects a TLS handshake next; plain protocol gets the connection closed, never a PONG.
    assert.doesNotMatch(answer, /PONG|\+OK/);
  });

  it("carries every message over the wire: intent to fr, heartbeat and status from fr, audit record", async () => {
    const fr = await member("fr");
    const intent = sampleIntent({ workload: { namespace: "health", name: "records", uid: uid() }, decidedAt: new Date() });
    const published = await cp.publish.intent(intent);
    assert.equal(published.stream, streams.intents("fr"));
    const sub = subs.track(fr.intents("fr"));
    const got = await nextFor(sub, intent.workload!.uid);
    assert.deepEqual(got.message, { ...intent, intentId: published.intentId });
    assert.equal(got.subject, subjects.intent("fr", intent.workload!.uid));
    await got.ack();
    await sub.stop();

    const hb = sampleHeartbeat({ sentAt: new Date(), sequence: Date.now() });
    assert.equal((await fr.publish.heartbeat(hb)).stream, streams.heartbeats);
    const lastHb = await jsm.direct.getMessage(streams.heartbeats, { last_by_subj: subjects.heartbeat("fr") });
    assert.deepEqual(codecs.heartbeat.decode(lastHb!.data, lastHb!.subject), hb);

    const st = sampleStatus({ workload: { namespace: "health", name: "records", uid: uid() }, reportedAt: new Date() });
    assert.equal((await fr.publish.status(st)).stream, streams.status("fr"));
    const lastSt = await jsm.direct.getMessage(streams.status("fr"), { last_by_subj: subjects.status("fr", st.workload!.uid) });
    assert.deepEqual(codecs.status.decode(lastSt!.data, lastSt!.subject), st);

    const since = new Date(Date.now() - 1000);
    const rec = sampleAuditRecord({ recordId: `contract-${uid()}`, time: new Date() });
    assert.ok((await ledger.appendAudit(rec)).streamSequence > 0);
    const found = [];
    for await (const r of readAudit({ jsm, js: cp.js, country: "FR", since })) if (r.record.recordId === rec.recordId) found.push(r.record);
    assert.deepEqual(found, [rec]);

    // The member's attestation, on its own subject, is stored for the control plane.
    assert.equal((await fr.publish.attestation(attestationOf("fr"))).stream, streams.attestations);
  });

  it("refuses the fr identity publishing to de subjects, writing intents or audit, with a permissions error from the server", async () => {
    const fr = await member("fr");
    await assertDenied(fr.publish.heartbeat(sampleHeartbeat({ cluster: "de", sentAt: new Date() })), /^sov\.v1\.de\.heartbeat$/);
    await assertDenied(fr.publish.status(sampleStatus({ cluster: "de", reportedAt: new Date() })), /^sov\.v1\.de\.status\./);
    await assertDenied(fr.publish.attestation(attestationOf("de")), /^sov\.v1\.de\.attest\./);
    // Only the control plane writes intents, even the member's own.
    await assertDenied(fr.publish.intent(sampleIntent({ cluster: "fr", decidedAt: new Date() })), /^sov\.v1\.fr\.intents\./);
    await assertDenied(fr.publish.intent(sampleIntent({ cluster: "de", decidedAt: new Date() })), /^sov\.v1\.de\.intents\./);
    await assertDenied(fr.publish.audit(forgedRecord(sampleAuditRecord({ recordId: `forged-${uid()}` })), { expectedLastSubjectSequence: 0 }), /^sov\.audit\.v1\.FR$/);
    // And the connection survives the refusals: its own heartbeat still goes through.
    assert.equal((await fr.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: 1 }))).duplicate, false);
  });

  it("refuses the fr identity consuming de intents, through the consumer API or by subscribing", async () => {
    const de = await member("de");
    const fr = await member("fr");
    const intent = sampleIntent({ cluster: "de", workload: { namespace: "n", name: "w", uid: uid() }, decidedAt: new Date() });
    await cp.publish.intent(intent);

    const sub = subs.track(fr.intents("de"));
    await assertDenied(sub[Symbol.asyncIterator]().next(), /sov-intents-de/);
    const next = `$JS.API.CONSUMER.MSG.NEXT.${streams.intents("de")}.${streams.intentsConsumer("de")}`;
    await assertRequestDenied(fr.nc.request(next, JSON.stringify({ batch: 1 })), next);
    const get = `$JS.API.STREAM.MSG.GET.${streams.intents("de")}`;
    await assertRequestDenied(fr.nc.request(get, JSON.stringify({ last_by_subj: subjects.intent("de", intent.workload!.uid) })), get);
    await assertSubscribeDenied(fr.nc.subscribe(subjects.intentsAll("de")), subjects.intentsAll("de"));
    // Pulled messages travel to the puller's inbox: fr may not listen on de's.
    await assertSubscribeDenied(fr.nc.subscribe(`${inboxPrefix({ member: "de" })}.>`), `${inboxPrefix({ member: "de" })}.>`);
    await assertSubscribeDenied(fr.nc.subscribe(">"), ">");

    // Meanwhile de itself receives it.
    const deSub = subs.track(de.intents("de"));
    const got = await nextFor(deSub, intent.workload!.uid);
    assert.equal(got.message.cluster, "de");
    await got.ack();
    await deSub.stop();
  });

  it("refuses the control plane speaking for a member (publishing its heartbeat, status or attestations)", async () => {
    await assertDenied(cp.publish.heartbeat(sampleHeartbeat({ sentAt: new Date() })), /^sov\.v1\.fr\.heartbeat$/);
    await assertDenied(cp.publish.status(sampleStatus({ reportedAt: new Date() })), /^sov\.v1\.fr\.status\./);
    await assertDenied(cp.publish.attestation(attestationOf("fr")), /^sov\.v1\.fr\.attest\./);
  });

  it("delivers an intent again to the agent after one died before acknowledging it", async () => {
    const intent = sampleIntent({ workload: { namespace: "health", name: "crashy", uid: uid() }, decidedAt: new Date() });
    const { intentId } = await cp.publish.intent(intent);

    const doomed = await connectAs(env, { member: "fr" });
    const first = await nextFor(subs.track(doomed.intents("fr")), intent.workload!.uid);
    assert.equal(first.message.intentId, intentId);
    assert.equal(first.redelivered, false);
    // The agent dies: no ack, no drain, the connection just goes.
    await doomed.nc.close();

    const survivor = await member("fr");
    const sub: DurableSubscription<PlacementIntent> = subs.track(survivor.intents("fr"));
    const again = await nextFor(sub, intent.workload!.uid);
    assert.equal(again.message.intentId, intentId);
    assert.equal(again.redelivered, true);
    assert.ok(again.deliveryCount >= 2);
    await again.ack();
    await sub.stop();
    const info = await jsm.consumers.info(streams.intents("fr"), streams.intentsConsumer("fr"));
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  it("stores a publish repeated with the same Nats-Msg-Id once", async () => {
    const intent = sampleIntent({ workload: { namespace: "health", name: "retried", uid: uid() }, decidedAt: new Date() });
    const a = await cp.publish.intent(intent);
    const b = await cp.publish.intent(intent);
    assert.equal(a.duplicate, false);
    assert.equal(b.duplicate, true);
    assert.equal(b.seq, a.seq);
    assert.equal(b.intentId, a.intentId);
    const subject = subjects.intent("fr", intent.workload!.uid);
    const info = await jsm.streams.info(streams.intents("fr"), { subjects_filter: subject });
    assert.equal(info.state.subjects?.[subject], 1);
    // A new decision for the same generation (a failover) is a new message, not a duplicate.
    const c = await cp.publish.intent({ ...intent, replicas: 0, decidedAt: new Date(intent.decidedAt!.getTime() + 1) });
    assert.equal(c.duplicate, false);
    assert.ok(c.seq > a.seq);
  });

  it("keeps the audit trail append-only on a server that fsyncs every write", async () => {
    const varz = (await (await fetch(`${env.natsMonitorUrl}/varz`)).json()) as { jetstream?: { config?: { sync_always?: boolean } } };
    assert.equal(varz.jetstream?.config?.sync_always, true);
    const info = await jsm.streams.info(streams.audit);
    assert.equal(info.config.storage, "file");
    assert.equal(info.config.deny_delete, true);
    assert.equal(info.config.deny_purge, true);
    const { streamSequence: seq } = await ledger.appendAudit(sampleAuditRecord({ recordId: `immutable-${uid()}`, time: new Date() }));
    await assert.rejects(jsm.streams.deleteMessage(streams.audit, seq), /delete|not allowed|denied/i);
    await assert.rejects(jsm.streams.purge(streams.audit), /purge|not allowed|denied/i);
  });

  it("terminates an intent whose payload names another cluster than its subject, instead of applying it", async () => {
    const fr = await member("fr");
    const forged = sampleIntent({ cluster: "de", workload: { namespace: "n", name: "forged", uid: uid() }, decidedAt: new Date() });
    // Published raw on fr's subject, as a buggy or compromised publisher might.
    await cp.js.publish(subjects.intent("fr", forged.workload!.uid), codecs.intent.encode(forged));
    const honest = sampleIntent({ workload: { namespace: "n", name: "honest", uid: uid() }, decidedAt: new Date() });
    await cp.publish.intent(honest);
    const sub = subs.track(fr.intents("fr"));
    // The honest intent, published after the forged one on the same consumer, is the
    // positive control: the consumer delivers in stream order, so once it arrives the
    // forged one would have arrived before it, had it not been terminated.
    const yielded: string[] = [];
    const got = await nextMatching({ sub, matches: (d) => d.message.workload?.uid === honest.workload!.uid, what: "the honest intent", onSkipped: (d) => void yielded.push(d.message.workload!.uid) });
    await got.ack();
    await sub.stop();
    assert.ok(!yielded.includes(forged.workload!.uid), "the forged intent reached the agent");
    // Terminated, not left pending for redelivery.
    const info = await jsm.consumers.info(streams.intents("fr"), streams.intentsConsumer("fr"));
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  it("drops a heartbeat that does not decode or names another cluster, tells the reader why, and yields the genuine ones around them", async () => {
    const fr = await member("fr");
    const source = new ControlPlaneReportSource({ client: cp });
    const abort = new AbortController();
    const dropped: DroppedReport[] = [];
    const seen: number[] = [];
    const reading = (async () => {
      for await (const { message } of source.heartbeats(abort.signal, (d) => void dropped.push(d))) {
        if (message.cluster === "fr") seen.push(message.sequence);
      }
    })();
    try {
      // The consumer starts at the newest heartbeat of each member: one sent first proves it reads.
      const first = Date.now();
      await waitFor(async () => {
        if (seen.includes(first)) return true;
        await fr.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: first }));
        return undefined;
      }, { timeoutMs: 10_000, intervalMs: 300, what: "the first genuine heartbeat read" });
      await fr.js.publish(subjects.heartbeat("fr"), new TextEncoder().encode("not a heartbeat"));
      await fr.js.publish(subjects.heartbeat("fr"), codecs.heartbeat.encode(codecs.heartbeat.create(sampleHeartbeat({ cluster: "de", sentAt: new Date() }))));
      const last = first + 1;
      await fr.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: last }));
      // Delivered in stream order: once the last genuine one is read, the two before it were judged.
      await waitFor(() => seen.includes(last), { timeoutMs: 10_000, intervalMs: 20, what: "the last genuine heartbeat read" });
      assert.deepEqual(dropped.map((d) => [d.subject, d.reason]), [[subjects.heartbeat("fr"), "Malformed"], [subjects.heartbeat("fr"), "ClusterMismatch"]]);
      assert.match(dropped[1]!.detail, /claims cluster "de"/);
    } finally {
      abort.abort();
      await reading.catch(() => undefined);
    }
  });

  describe("reply-subject redirection (a member naming another cluster's subject as the reply)", () => {
    /** Sequence of the newest message stored on `subject`, 0 when there is none. */
    async function lastSeq(stream: string, subject: string): Promise<number> {
      try {
        // The client answers null for "no message", or throws it, depending on the version.
        return (await jsm.streams.getMessage(stream, { last_by_subj: subject }))?.seq ?? 0;
      } catch (err) {
        if (err instanceof Error && /no message found/i.test(err.message)) return 0;
        throw err;
      }
    }

    it("stores nothing on de's heartbeat, de's intents or the audit trail when fr names them as reply subjects", async () => {
      const fr = await member("fr");
      const de = await member("de");
      const intentUid = uid();
      const targets = [
        { stream: streams.heartbeats, subject: subjects.heartbeat("de") },
        { stream: streams.intents("de"), subject: subjects.intent("de", intentUid) },
        { stream: streams.audit, subject: subjects.audit("DE") },
      ];
      // The DE chain's first append also writes its key record: have it done before anyone listens.
      const deAudit = () => sampleAuditRecord({ recordId: `redirect-control-${uid()}`, country: "DE", cluster: "de", facts: { ...sampleAuditRecord().facts!, country: "DE" }, requirements: { ...sampleAuditRecord().requirements!, allowedCountries: ["DE"] }, time: new Date() });
      await ledger.appendAudit(deAudit());
      const before = await Promise.all(targets.map((t) => lastSeq(t.stream, t.subject)));
      // Someone listening in the control plane's account on the targets, as the control plane does.
      const seen: string[] = [];
      const listeners = targets.map((t) => cp.nc.subscribe(t.subject, { callback: (_e, m) => void seen.push(m.subject) }));
      await cp.nc.flush();

      const info = `$JS.API.CONSUMER.INFO.${streams.intents("fr")}.${streams.intentsConsumer("fr")}`;
      const next = `$JS.API.CONSUMER.MSG.NEXT.${streams.intents("fr")}.${streams.intentsConsumer("fr")}`;
      for (const t of targets) {
        // Every one of these is a subject fr may publish to; only the reply is foreign.
        fr.nc.publish(info, "", { reply: t.subject });
        fr.nc.publish(next, JSON.stringify({ batch: 1, no_wait: true }), { reply: t.subject });
        // JetStream's publish ack for fr's own heartbeat, sent to the named reply.
        fr.nc.publish(subjects.heartbeat("fr"), codecs.heartbeat.encode(sampleHeartbeat({ sentAt: new Date(), sequence: Date.now() })), { reply: t.subject });
      }
      await fr.nc.flush();
      // fr's own controls, after the probes on the same connection and to the same APIs,
      // answered to its own inbox: when they are back, the server has handled the probes.
      await fr.nc.request(info, "", { timeout: 5000 });
      await fr.nc.request(next, JSON.stringify({ batch: 1, no_wait: true }), { timeout: 5000 });
      await fr.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: Date.now() }));
      assert.deepEqual(await Promise.all(targets.map((t) => lastSeq(t.stream, t.subject))), before, "the server stored fr's requests' answers on another cluster's or the audit subject");
      assert.ok(!fr.nc.isClosed(), "fr's connection survives (nothing it sent was refused)");

      // Positive control on the same path: the rightful identities' messages on the same
      // subjects, sent only now, reach the same subscriber and are stored. A redirected
      // answer would have been published before them, so it would be seen by the time
      // they all are.
      const controls = [
        await de.publish.heartbeat(sampleHeartbeat({ cluster: "de", sentAt: new Date(), sequence: Date.now() })),
        await cp.publish.intent(sampleIntent({ cluster: "de", workload: { namespace: "n", name: "control", uid: intentUid }, decidedAt: new Date() })),
        { seq: (await ledger.appendAudit(deAudit())).streamSequence },
      ];
      assert.deepEqual(await Promise.all(targets.map((t) => lastSeq(t.stream, t.subject))), controls.map((c) => c.seq), "each subject's newest message is its rightful control");
      await waitFor(() => new Set(seen).size === targets.length, { what: "the control plane's subscriber seeing the rightful messages", timeoutMs: 5000, intervalMs: 20 });
      assert.deepEqual([...seen].sort(), targets.map((t) => t.subject).sort(), "the subscriber saw something besides the one control on each subject");
      for (const sub of listeners) sub.unsubscribe();
      // Leave de's consumer nothing to trip over in later tests.
      await jsm.streams.purge(streams.intents("de"), { filter: subjects.intent("de", intentUid) });
    });

    it("still lets fr pull, ack and publish its own heartbeat through its account's imports", async () => {
      const fr = await member("fr");
      const intent = sampleIntent({ workload: { namespace: "n", name: "imported", uid: uid() }, decidedAt: new Date() });
      await cp.publish.intent(intent);
      const sub = subs.track(fr.intents("fr"));
      const got = await nextFor(sub, intent.workload!.uid);
      await got.ack();
      await sub.stop();
      const r = await fr.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: Date.now() }));
      assert.equal(r.stream, streams.heartbeats);
      const info = await jsm.consumers.info(streams.intents("fr"), streams.intentsConsumer("fr"));
      assert.equal(info.num_ack_pending, 0);
    });
  });

  describe("resource limits of a member", () => {
    it("gives member accounts no JetStream of their own, only the control plane's account", async () => {
      const accountz = async (acc: string) =>
        ((await (await fetch(`${env.natsMonitorUrl}/accountz?acc=${acc}`)).json()) as { account_detail?: { jetstream_enabled?: boolean } }).account_detail;
      assert.equal((await accountz(memberAccount("fr")))?.jetstream_enabled, false);
      assert.equal((await accountz(memberAccount("de")))?.jetstream_enabled, false);
      assert.equal((await accountz(CONTROL_PLANE_ACCOUNT))?.jetstream_enabled, true);
    });

    it("caps a member's payload and subscriptions on the server", async () => {
      const fr = await member("fr");
      const limits = memberAccountLimits();
      assert.equal(fr.nc.info?.max_payload, limits.maxPayload);
      // The control plane is not capped as low: intents carry pod templates.
      assert.ok((cp.nc.info?.max_payload ?? 0) > limits.maxPayload);
      // Subscriptions beyond the cap are refused by the server with an -ERR the client
      // reports as a connection status (the connection stays).
      const refused = (async () => {
        for await (const st of fr.nc.status()) if (st.type === "error" && /maximum subscriptions/i.test(String(st.error))) return String(st.error);
        return "";
      })();
      const subs = Array.from({ length: limits.maxSubscriptions + 5 }, (_, i) => fr.nc.subscribe(`${inboxPrefix({ member: "fr" })}.limit.${i}`));
      await fr.nc.flush();
      assert.match(await within(refused, 10_000, "a refused subscription"), /maximum subscriptions/i);
      for (const s of subs) s.unsubscribe();
      assert.ok(!fr.nc.isClosed());
      // Positive control: within the cap, the member still works.
      assert.equal((await fr.publish.heartbeat(sampleHeartbeat({ sentAt: new Date(), sequence: Date.now() }))).stream, streams.heartbeats);
    });

    it("applies the bounds to the status and heartbeat streams on the server", async () => {
      for (const [name, want] of [[streams.status("fr"), statusStreamConfig("fr")], [streams.status("de"), statusStreamConfig("de")], [streams.heartbeats, heartbeatsStreamConfig()]] as const) {
        const info = await jsm.streams.info(name);
        for (const k of ["max_bytes", "max_msgs", "max_msg_size", "max_msgs_per_subject", "max_age"] as const) assert.equal(info.config[k], want[k], `${name} ${k}`);
      }
    });
  });
});
