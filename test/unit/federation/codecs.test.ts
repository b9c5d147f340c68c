import assert from "node:assert/strict";
import fc from "fast-check";
import { AuditAction, QueryRequest, QueryResponse } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import type { AuditRecord } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import {
  Decision, ExplainRequest, ExplainResponse, JoinRequest, JoinResponse, SimulateRequest, SimulateResponse,
} from "../../../operator/src/gen/sovereign/v1/federation.ts";
import type { Heartbeat } from "../../../operator/src/gen/sovereign/v1/heartbeat.ts";
import type { PlacementIntent } from "../../../operator/src/gen/sovereign/v1/intent.ts";
import type { WorkloadStatus } from "../../../operator/src/gen/sovereign/v1/status.ts";
import { codecs, DecodeError } from "../../../operator/src/federation/index.ts";
import { sampleAuditRecord, sampleHeartbeat, sampleIntent, sampleStatus } from "../../support/samples.ts";

// Arbitrary field values the generated codecs must carry exactly. Dates at millisecond
// precision: that is what Date holds, and Timestamp keeps nanos.
const date = fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2200-01-01T00:00:00Z"), noInvalidDate: true });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const generation = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
// "__proto__" is left out: ts-proto's Struct code assigns keys with `obj[key] =`, which
// drops that one key. Kubernetes never sends it (label and annotation keys are validated,
// other fields are schema-bound), so it is not worth patching generated code for.
const key = fc.string().filter((k) => k !== "__proto__");
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 3 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 3, noNullPrototype: true }),
})).value;

describe("federation codecs", () => {
  it("round-trips a PlacementIntent with a pod template, residency facts and times", () => {
    const intent = sampleIntent();
    assert.deepEqual(codecs.intent.decode(codecs.intent.encode(intent), "s"), intent);
  });

  it("round-trips any PlacementIntent (property)", () => {
    fc.assert(fc.property(fc.string(), generation, int32, date, fc.dictionary(key, json, { maxKeys: 4, noNullPrototype: true }), (id, gen, replicas, at, template) => {
      const intent: PlacementIntent = { ...sampleIntent(), intentId: id, generation: gen, replicas, decidedAt: at, podTemplate: template as Record<string, unknown> };
      assert.deepEqual(codecs.intent.decode(codecs.intent.encode(intent), "s"), intent);
    }));
  });

  it("round-trips Heartbeat, WorkloadStatus and AuditRecord", () => {
    const hb: Heartbeat = sampleHeartbeat();
    const st: WorkloadStatus = sampleStatus();
    const rec: AuditRecord = sampleAuditRecord();
    assert.deepEqual(codecs.heartbeat.decode(codecs.heartbeat.encode(hb), "s"), hb);
    assert.deepEqual(codecs.status.decode(codecs.status.encode(st), "s"), st);
    assert.deepEqual(codecs.audit.decode(codecs.audit.encode(rec), "s"), rec);
  });

  it("round-trips any WorkloadStatus pod-phase map and AuditRecord action (property)", () => {
    const action = fc.constantFrom(...Object.values(AuditAction).filter((a) => a !== AuditAction.UNRECOGNIZED));
    fc.assert(fc.property(fc.dictionary(key, int32, { noNullPrototype: true }), action, fc.array(fc.string()), (phases, act, reasons) => {
      const st = { ...sampleStatus(), podPhases: phases };
      assert.deepEqual(codecs.status.decode(codecs.status.encode(st), "s"), st);
      const rec = { ...sampleAuditRecord(), action: act, reasons };
      assert.deepEqual(codecs.audit.decode(codecs.audit.encode(rec), "s"), rec);
    }));
  });

  it("round-trips every gRPC request and response message", () => {
    const decision = Decision.fromPartial({
      workload: "health/patient-records", scheduled: true, reason: "Scheduled",
      placements: [{ cluster: "fr", country: "FR", replicas: 2 }],
      rejected: [{ cluster: "de", reasons: ["CountryNotAllowed"], messages: ["country DE is not in [FR]"] }],
      message: "1/2 clusters are available: 1 CountryNotAllowed",
    });
    const cases: [{ encode(m: never): { finish(): Uint8Array }; decode(b: Uint8Array): unknown }, unknown][] = [
      [JoinRequest, JoinRequest.fromPartial({ cluster: "fr", bootstrapToken: "abc.def", agentVersion: "0.1.0" })],
      [JoinResponse, JoinResponse.fromPartial({
        cluster: "fr",
        nats: { nkeySeed: "SUAB", caPem: "-----BEGIN CERTIFICATE-----", servers: ["tls://127.0.0.1:4222"] },
        subjects: { intents: "sov.v1.fr.intents.*", heartbeat: "sov.v1.fr.heartbeat", status: "sov.v1.fr.status.*", intentsStream: "sov-intents-fr", intentsConsumer: "sov-agent-fr" },
        residency: sampleIntent().residency!,
      })],
      [ExplainRequest, ExplainRequest.fromPartial({ namespace: "health", name: "patient-records", now: new Date("2026-11-28T00:00:00Z") })],
      [ExplainResponse, ExplainResponse.fromPartial({ decision })],
      [SimulateRequest, SimulateRequest.fromPartial({ documents: ["kind: MemberCluster\n"], now: new Date("2026-11-28T00:00:00Z") })],
      [SimulateResponse, SimulateResponse.fromPartial({ decisions: [decision, decision] })],
      [QueryRequest, QueryRequest.fromPartial({ namespace: "health", country: "FR", range: { since: new Date(0), until: new Date(1e12) }, limit: 10 })],
      [QueryResponse, QueryResponse.fromPartial({ record: sampleAuditRecord(), streamSequence: 42 })],
    ];
    for (const [fns, message] of cases) {
      assert.deepEqual(fns.decode(fns.encode(message as never).finish()), message);
    }
  });

  it("reports a payload that is not the promised message as DecodeError naming the subject", () => {
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert.throws(() => codecs.intent.decode(garbage, "sov.v1.fr.intents.u1"), (err: unknown) => {
      assert.ok(err instanceof DecodeError);
      assert.equal(err.retryable, false);
      assert.match(err.message, /sov\.v1\.fr\.intents\.u1/);
      return true;
    });
  });
});
