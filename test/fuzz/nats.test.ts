import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import fc from "fast-check";
import { canonicalBytes } from "../../operator/src/ledger/index.ts";
import { codecs, streams, subjects } from "../../operator/src/federation/index.ts";
import type { FederationClient } from "../../operator/src/federation/index.ts";
import { readFederationEnv, repoRoot } from "../integration/env.ts";
import type { FederationEnv } from "../integration/env.ts";
import { connectAs } from "../integration/federation/helpers.ts";
import { kubectlOk } from "../integration/kubectl.ts";
import { controlPlaneStart, counterSum, fcParams, reportRate, runsFor, suiteTimeout, until } from "./support/fuzz.ts";

/**
 * Arbitrary payloads on every subject a member may publish to (protocol.ts,
 * memberServices: heartbeat, status, attestations, its consumer's info, pull and ack
 * subjects, the direct get of its intents stream), sent with a member's own NATS
 * credentials to the real nats-server: random bytes, well-formed messages with random
 * fields, valid encodings with bytes flipped, payloads at and over the size limits.
 * The control plane stays up (same process), counts every status and attestation it
 * refuses (sovereign_status_reports_dropped_total, sovereign_attestations_dropped_total),
 * and afterwards still takes a genuine report and the member's heartbeats.
 */

type Target = "heartbeat" | "status" | "attest" | "consumerInfo" | "pullNext" | "ack" | "directGet";

const token = fc.stringMatching(/^[A-Za-z0-9][-A-Za-z0-9_]{0,40}$/);

const bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(0), new Uint8Array(64 * 1024).fill(0xff), new Uint8Array(200 * 1024).fill(0x0a), new Uint8Array(300 * 1024)) },
  { weight: 2, arbitrary: fc.json().map((j) => new TextEncoder().encode(j)) },
);

const str = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 20 }), fc.constantFrom("fr", "de", "", "x".repeat(5000)));
// Non-negative int32: the messages' counters are int32 or uint64 and the encoder refuses what does not fit (random bytes cover the decoder's side).
const int = fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 31 - 1));
const date = fc.date({ noInvalidDate: true });

/** Well-formed protobuf with random contents, or a valid encoding with some bytes flipped. */
function protobufFor(member: string): fc.Arbitrary<Uint8Array> {
  const heartbeat = fc.record({ cluster: fc.oneof(str, fc.constant(member)), agentVersion: str, sequence: int, sentAt: date, allocatable: fc.record({ cpu: str, memory: str, pods: str }) })
    .map((h) => codecs.heartbeat.encode(codecs.heartbeat.create(h)));
  const status = fc.record({
    cluster: fc.oneof(str, fc.constant(member)), workload: fc.record({ namespace: str, name: str, uid: fc.oneof(str, fc.uuid()) }),
    observedGeneration: int, desiredReplicas: int, readyReplicas: int, podPhases: fc.dictionary(str, int, { maxKeys: 3 }), reportedAt: date, message: str,
  }).map((s) => codecs.status.encode(codecs.status.create(s)));
  const flipped = fc.tuple(fc.oneof(heartbeat, status), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([b, flips]) => {
      const out = Uint8Array.from(b);
      for (const [i, v] of flips) if (out.length) out[i % out.length] = v;
      return out;
    });
  return fc.oneof(heartbeat, status, flipped);
}

/** An attestation body in canonical form with random contents (never validly signed). */
function attestationFor(member: string): fc.Arbitrary<Uint8Array> {
  return fc.record({
    attestation: fc.record({ member: fc.oneof(str, fc.constant(member)), workload: fc.record({ namespace: str, name: str, uid: str }), deployment: str, pods: int, seq: int, observedAt: fc.oneof(str, date.map((d) => d.toISOString())) }),
    memberKey: str,
    memberSig: fc.oneof(str, fc.stringMatching(/^[0-9a-f]{128}$/)),
  }).map((b) => canonicalBytes(b));
}

interface Case {
  target: Target;
  uid: string;
  payload: Uint8Array;
}

describe("fuzz: arbitrary payloads on every subject a member may publish to (real nats-server, real control plane)", function () {
  this.timeout(suiteTimeout("nats"));
  let env: FederationEnv;
  let member = "";
  let client: FederationClient;
  let startedAt = 0;

  before(async () => {
    env = readFederationEnv();
    // A member whose agent runs, so its heartbeats are the positive control; its own identity publishes the garbage.
    member = env.agents.find((a) => env.natsCreds[a]) ?? assert.fail("no member with an agent and NATS credentials");
    // Its MemberCluster (the example one): the control plane creates the member's status stream for it.
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["apply", "--server-side", "--force-conflicts", "--field-manager=e2e", "-f", path.join(repoRoot, "crds/examples/10-member-clusters.yaml")] });
    client = await connectAs(env, { member });
    startedAt = await controlPlaneStart(env.controlPlaneMetricsUrl);
    await until(`${member}'s status stream`, 120_000, () =>
      client.publish.status(codecs.status.create({ cluster: member, workload: { namespace: "fuzz", name: "probe", uid: randomUUID() }, observedGeneration: 1, reportedAt: new Date() }))
        .then(() => true, () => undefined));
  });

  after(async () => {
    await client?.drain().catch(() => undefined);
  });

  it("the control plane stays up, counts every status, attestation and heartbeat it refuses, and still takes genuine reports", async () => {
    const stream = streams.intents(member);
    const consumer = streams.intentsConsumer(member);
    const payload = fc.oneof(bytes, protobufFor(member));
    const arbitraryCase: fc.Arbitrary<Case> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ target: fc.constant<Target>("status"), uid: fc.oneof(token, fc.uuid()), payload }) },
      { weight: 2, arbitrary: fc.record({ target: fc.constant<Target>("heartbeat"), uid: fc.constant(""), payload }) },
      { weight: 2, arbitrary: fc.record({ target: fc.constant<Target>("attest"), uid: fc.oneof(token, fc.uuid()), payload: fc.oneof(bytes, attestationFor(member)) }) },
      { weight: 1, arbitrary: fc.record({ target: fc.constantFrom<Target>("consumerInfo", "directGet", "ack"), uid: token, payload: bytes }) },
      // A pull request the server would honour would take the agent's intents from it: only ones it must refuse.
      {
        weight: 1,
        arbitrary: fc.record({ target: fc.constant<Target>("pullNext"), uid: fc.constant(""), payload: bytes })
          .filter((c) => c.payload.length > 0 && !/^\s*\d+\s*$/.test(new TextDecoder().decode(c.payload)) && !isJson(c.payload)),
      },
    );

    const statusDropsBefore = await counterSum(env.controlPlaneMetricsUrl, "sovereign_status_reports_dropped_total");
    const attestDropsBefore = await counterSum(env.controlPlaneMetricsUrl, "sovereign_attestations_dropped_total");
    const heartbeatDropsBefore = await counterSum(env.controlPlaneMetricsUrl, "sovereign_heartbeats_dropped_total");
    const stored = { status: 0, attest: 0, heartbeat: 0, heartbeatDroppable: 0, refusedByServer: 0, answered: 0 };
    const runs = runsFor("nats");
    let sent = 0;
    const t0 = performance.now();
    await fc.assert(
      fc.asyncProperty(arbitraryCase, async (c) => {
        // One subject per case: the status stream keeps the newest per subject, and one replaced before the control plane read it would be counted nowhere.
        const uid = `${c.uid}-${++sent}`;
        const ack = async (subject: string) => {
          try {
            await client.js.publish(subject, c.payload, { timeout: 15_000, msgID: randomUUID() });
            return true;
          } catch (err) {
            // The stream's or the account's size limit: refused by the server, never stored.
            assert.match(String(err), /max.payload|MAX_PAYLOAD|message size exceeds|maximum message size|payload/i, `a publish to ${subject} failed otherwise: ${String(err)}`);
            stored.refusedByServer++;
            return false;
          }
        };
        switch (c.target) {
          case "status":
            if (await ack(subjects.status(member, uid))) stored.status++;
            break;
          case "attest":
            if (await ack(subjects.attestation(member, uid))) stored.attest++;
            break;
          case "heartbeat":
            if (await ack(subjects.heartbeat(member))) {
              stored.heartbeat++;
              if (droppedHeartbeat(c.payload, member)) stored.heartbeatDroppable++;
            }
            break;
          case "consumerInfo":
          case "directGet": {
            const subject = c.target === "consumerInfo" ? `$JS.API.CONSUMER.INFO.${stream}.${consumer}` : `$JS.API.DIRECT.GET.${stream}`;
            if (c.payload.length > 200 * 1024) break;
            // JetStream answers (an error, or the info); what matters is that it answers and stays up.
            await client.nc.request(subject, c.payload, { timeout: 10_000 }).then(() => stored.answered++, (err: unknown) => assert.fail(`no answer on ${subject}: ${String(err)}`));
            break;
          }
          case "pullNext":
            if (c.payload.length > 200 * 1024) break;
            client.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, c.payload);
            break;
          case "ack":
            if (c.payload.length > 200 * 1024) break;
            client.nc.publish(`$JS.ACK.${stream}.${consumer}.${c.uid}.1.1.1`, c.payload);
            break;
        }
      }),
      { ...fcParams("nats"), numRuns: runs },
    );
    await client.nc.flush();
    reportRate(`NATS (${JSON.stringify(stored)})`, runs, t0);

    // Every stored status and attestation is refused and counted: the control plane took none of them.
    const counted = await until("every fuzzed status and attestation counted as refused", 120_000, async () => {
      const s = (await counterSum(env.controlPlaneMetricsUrl, "sovereign_status_reports_dropped_total")) - statusDropsBefore;
      const a = (await counterSum(env.controlPlaneMetricsUrl, "sovereign_attestations_dropped_total")) - attestDropsBefore;
      return s >= stored.status && a >= stored.attest ? { s, a } : undefined;
    }).catch(async (err: unknown) => {
      const s = (await counterSum(env.controlPlaneMetricsUrl, "sovereign_status_reports_dropped_total")) - statusDropsBefore;
      const a = (await counterSum(env.controlPlaneMetricsUrl, "sovereign_attestations_dropped_total")) - attestDropsBefore;
      throw new Error(`${String(err)}: ${s} of ${stored.status} statuses and ${a} of ${stored.attest} attestations counted as dropped`);
    });
    console.log(`      counted as dropped: ${counted.s} statuses, ${counted.a} attestations`);
    // Every stored heartbeat that does not decode or names another cluster is counted, each once.
    const heartbeatDrops = await until(`the ${stored.heartbeatDroppable} fuzzed heartbeats that cannot be taken counted as dropped`, 60_000, async () => {
      const h = (await counterSum(env.controlPlaneMetricsUrl, "sovereign_heartbeats_dropped_total")) - heartbeatDropsBefore;
      return h >= stored.heartbeatDroppable ? h : undefined;
    });
    assert.equal(heartbeatDrops, stored.heartbeatDroppable, "heartbeats counted as dropped");
    console.log(`      counted as dropped: ${heartbeatDrops} heartbeats (the others decoded and named ${member})`);
    assert.equal(await controlPlaneStart(env.controlPlaneMetricsUrl), startedAt, "the control plane was not restarted");
    const nats = await fetch(`${env.natsMonitorUrl}/healthz`);
    assert.equal(nats.status, 200, "nats-server is healthy");

    // Positive controls: a well-formed status is still read and judged (an unknown workload,
    // so counted by that reason), and the member's agent's next heartbeat is taken.
    const unknownBefore = await counterSum(env.controlPlaneMetricsUrl, "sovereign_status_reports_dropped_total", { reason: "UnknownWorkload" });
    const uid = randomUUID();
    await client.publish.status(codecs.status.create({ cluster: member, workload: { namespace: "fuzz", name: "none", uid }, observedGeneration: 1, reportedAt: new Date() }));
    await until("the genuine status read and judged", 60_000, async () =>
      (await counterSum(env.controlPlaneMetricsUrl, "sovereign_status_reports_dropped_total", { reason: "UnknownWorkload" })) > unknownBefore || undefined);
    const fuzzEnded = Date.now();
    await until(`a heartbeat of ${member} taken after the fuzz`, 60_000, async () => {
      const age = await counterSum(env.controlPlaneMetricsUrl, "sovereign_member_heartbeat_age_seconds", { cluster: member });
      return (Date.now() - fuzzEnded) / 1000 > age + 1 ? true : undefined;
    });
  });
});

/** Whether the control plane must drop this heartbeat from `member`: it does not decode, or names another cluster. */
function droppedHeartbeat(payload: Uint8Array, member: string): boolean {
  try {
    return codecs.heartbeat.decode(payload, subjects.heartbeat(member)).cluster !== member;
  } catch {
    return true;
  }
}

function isJson(b: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder().decode(b));
    return true;
  } catch {
    return false;
  }
}
