// The control plane's side of member attestations, with the ledger append and the
// delivery as plain functions: a member's key declared once in its country's chain, and
// each attestation appended, or refused (terminated, counted by reason) for what the
// verifier would flag or cannot see (the subject it came on).
import assert from "node:assert/strict";
import { pino } from "pino";
import type { MemberCluster } from "../../../operator/src/api/index.ts";
import { AttestationAppender, MemberKeys } from "../../../operator/src/controllers/index.ts";
import type { AttestationDelivery, DeclaredMemberKey } from "../../../operator/src/federation/index.ts";
import { canonicalBytes, RecordType, signAttestation, SigningKey } from "../../../operator/src/ledger/index.ts";
import type { Attestation, AttestationBody, Body } from "../../../operator/src/ledger/index.ts";
import type { AttestationResult } from "../../../operator/src/metrics/index.ts";
import { TestClock, waitFor } from "../../../operator/src/runtime/index.ts";
import type { Cache } from "../../../operator/src/runtime/index.ts";
import { memberCluster } from "../../support/builders.ts";

const log = pino({ level: "silent" });

function cacheOf(items: MemberCluster[]): Cache<MemberCluster> {
  return { get: (k) => items.find((o) => o.metadata.name === k), list: () => items, hasSynced: () => true };
}

function setup(opts: { failAppend?: () => boolean } = {}) {
  const clock = new TestClock("2026-12-01T09:00:00Z");
  const keys: Record<string, SigningKey> = { "ovh-par-1": SigningKey.generate(), "ionos-fra-1": SigningKey.generate() };
  const clusters = cacheOf([memberCluster({ name: "ovh-par-1" }), memberCluster({ name: "ionos-fra-1", residency: { country: "DE" } })]);
  const appended: { chain: string; type: RecordType; id: string; body: Body }[] = [];
  const append = async (e: { chain: string; type: RecordType; id: string; body: Body }) => {
    if (opts.failAppend?.()) throw new Error("the audit stream is unreachable");
    appended.push(e);
  };
  const index = new Map<string, DeclaredMemberKey>();
  const metrics: AttestationResult[] = [];
  const memberKeys = new MemberKeys({
    publicKeyOf: async (m) => keys[m]?.publicKey, clusters, clock, log, append,
    index: { get: async (m) => index.get(m), put: async (m, d) => void index.set(m, d) },
  });
  const appender = new AttestationAppender({
    deliveries: async function* () {}, keys: memberKeys, clusters, append, clock, log, metrics: { attestation: ({ result }) => void metrics.push(result) },
  });
  const settled: string[] = [];
  const delivery = (subject: string, data: Uint8Array): AttestationDelivery => ({
    subject, data, streamSequence: 1,
    ack: async () => void settled.push("ack"), term: (why) => void settled.push(`term: ${why}`), nak: () => void settled.push("nak"),
  });
  const signed = (over: Partial<Attestation> = {}, key = keys["ovh-par-1"]!): AttestationBody =>
    signAttestation({ member: "ovh-par-1", workload: { namespace: "health", name: "records", uid: "uid-1" }, deployment: "health/records", pods: 2, seq: 100, observedAt: "2026-12-01T09:00:00.000Z", ...over }, key);
  const send = (body: AttestationBody, subject = `sov.v1.${body.attestation.member}.attest.${body.attestation.workload.uid}`) => appender.handle(delivery(subject, canonicalBytes(body)));
  return { clock, keys, clusters, appended, index, metrics, memberKeys, appender, settled, signed, send, delivery };
}

describe("control plane: member keys declared in the ledger", () => {
  it("declares a member's key once in its country's chain, again when its key changes", async () => {
    const s = setup();
    const k = await s.memberKeys.ensure("ionos-fra-1");
    assert.deepEqual({ ...k, at: undefined }, { keyId: s.keys["ionos-fra-1"]!.keyId, publicKey: s.keys["ionos-fra-1"]!.publicKey, chain: "DE", at: undefined });
    assert.deepEqual(s.appended.map((e) => [e.chain, e.type, e.body]), [["DE", RecordType.MemberKey, { member: "ionos-fra-1", keyId: k!.keyId, publicKey: k!.publicKey }]]);
    // Another control plane (a fresh MemberKeys on the same index) declares nothing again.
    const other = new MemberKeys({
      publicKeyOf: async (m) => s.keys[m]?.publicKey, clusters: s.clusters, clock: s.clock, log,
      append: async (e) => void s.appended.push(e), index: { get: async (m) => s.index.get(m), put: async (m, d) => void s.index.set(m, d) },
    });
    await other.ensure("ionos-fra-1");
    assert.equal(s.appended.length, 1);
    // A new key is a new record (once the cached one is older than a minute).
    s.keys["ionos-fra-1"] = SigningKey.generate();
    await s.clock.advance(61_000);
    await s.memberKeys.ensure("ionos-fra-1");
    assert.equal(s.appended.length, 2);
    assert.equal((s.appended[1]!.body as { keyId: string }).keyId, s.keys["ionos-fra-1"]!.keyId);
    assert.notEqual(s.appended[0]!.id, s.appended[1]!.id);
    // No key known for a member: nothing declared.
    assert.equal(await s.memberKeys.ensure("nobody"), undefined);
    assert.equal(s.appended.length, 2);
  });
});

describe("control plane: member attestations appended to the ledger", () => {
  it("appends a member-signed attestation to its country's chain after the member's key, with a record id of member and seq, and acks it", async () => {
    const s = setup();
    const body = s.signed();
    assert.equal(await s.send(body), "appended");
    assert.deepEqual(s.appended.map((e) => [e.chain, e.type, e.id]), [["FR", RecordType.MemberKey, s.appended[0]!.id], ["FR", RecordType.Attestation, "attestation:ovh-par-1:100"]]);
    assert.deepEqual(s.appended[1]!.body, body);
    assert.deepEqual(s.settled, ["ack"]);
    assert.deepEqual(s.metrics, ["appended"]);
  });

  const refusals: { name: string; run: (s: ReturnType<typeof setup>) => Promise<unknown>; reason: AttestationResult }[] = [
    { name: "not JSON of an attestation", reason: "malformed", run: (s) => s.appender.handle(s.delivery("sov.v1.ovh-par-1.attest.uid-1", new TextEncoder().encode('{"pods":2}'))) },
    { name: "not canonical (what was signed must be what is appended)", reason: "malformed", run: (s) => s.appender.handle(s.delivery("sov.v1.ovh-par-1.attest.uid-1", new TextEncoder().encode(JSON.stringify(s.signed(), null, 1)))) },
    { name: "on another member's subject than the member it claims", reason: "wrong_subject", run: (s) => s.send(s.signed(), "sov.v1.ionos-fra-1.attest.uid-1") },
    { name: "on another workload's subject", reason: "wrong_subject", run: (s) => s.send(s.signed(), "sov.v1.ovh-par-1.attest.uid-2") },
    { name: "of a member the host does not declare", reason: "unknown_member", run: (s) => s.send(s.signed({ member: "ghost" })) },
    { name: "signed by another key than the member's", reason: "bad_signature", run: (s) => s.send(s.signed({}, SigningKey.generate())) },
    { name: "changed after the member signed it", reason: "bad_signature", run: (s) => { const b = s.signed(); return s.send({ ...b, attestation: { ...b.attestation, pods: 3 } }); } },
    { name: "signed by another member's key", reason: "bad_signature", run: (s) => s.send(s.signed({}, s.keys["ionos-fra-1"]!)) },
    { name: "a replay: a seq not after the last appended", reason: "replay", run: async (s) => { await s.send(s.signed({ seq: 200 })); s.settled.length = 0; s.metrics.length = 0; return s.send(s.signed({ seq: 100 })); } },
  ];
  for (const c of refusals) {
    it(`terminates and counts an attestation ${c.name} (${c.reason}), appending nothing`, async () => {
      const s = setup();
      const before = () => s.appended.filter((e) => e.type === RecordType.Attestation).length;
      const start = c.reason === "replay" ? 1 : 0;
      assert.equal(await c.run(s), c.reason);
      assert.equal(before(), start);
      assert.equal(s.settled.length, 1);
      assert.match(s.settled[0]!, /^term: /);
      assert.deepEqual(s.metrics, [c.reason]);
    });
  }

  it("declares the keys of the members known when it starts leading, and of a member that joins only while it leads", async () => {
    const s = setup();
    s.appender.memberJoined("ovh-par-1");
    await new Promise((r) => setImmediate(r));
    assert.equal(s.appended.length, 0, "not leading: the leader declares it");
    const stop = new AbortController();
    const running = s.appender.start(stop.signal);
    try {
      await waitFor(() => s.appended.length === 2, { what: "both known members declared", timeoutMs: 2000, intervalMs: 1 });
      assert.deepEqual(s.appended.map((e) => [e.chain, e.type]), [["FR", RecordType.MemberKey], ["DE", RecordType.MemberKey]]);
      // A member that joins with a new identity is declared at once.
      s.keys["ovh-par-1"] = SigningKey.generate();
      s.appender.memberJoined("ovh-par-1");
      await waitFor(() => s.appended.length === 3, { what: "the joined member's new key declared", timeoutMs: 2000, intervalMs: 1 });
      assert.equal((s.appended[2]!.body as { keyId: string }).keyId, s.keys["ovh-par-1"]!.keyId);
    } finally {
      stop.abort();
      await running;
    }
  });

  it("asks for redelivery when the ledger cannot be written, and appends it when it can", async () => {
    let failing = true;
    const s = setup({ failAppend: () => failing });
    assert.equal(await s.send(s.signed()), "retry");
    assert.deepEqual(s.settled, ["nak"]);
    assert.deepEqual(s.metrics, []);
    failing = false;
    assert.equal(await s.send(s.signed()), "appended");
    assert.deepEqual(s.settled, ["nak", "ack"]);
  });
});
