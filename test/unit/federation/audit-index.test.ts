// The audit index's entries (federation/nats/audit-index.ts), pure: every audit message
// gets exactly one entry, on the subject a query by workload or an export's key records
// reads, naming the audit sequence it points to.
import assert from "node:assert/strict";
import fc from "fast-check";
import { auditIndexEntryOf, auditIndexPlacements, auditIndexToken, subjects } from "../../../operator/src/federation/nats/index.ts";
import { RecordType } from "../../../operator/src/ledger/index.ts";
import type { AttestationBody, PlacementBody } from "../../../operator/src/ledger/index.ts";
import { generateLedger } from "../ledger/generate.ts";

describe("audit index entries", () => {
  it("puts each record of a ledger on its kind's subject: placements and attestations by workload, keys and member keys by chain", () => {
    const gen = generateLedger();
    const seen = new Set<string>();
    gen.records.forEach((record, i) => {
      const { subject, entry } = auditIndexEntryOf({ data: Buffer.from(gen.lines[i]!), streamSequence: 100 + i });
      assert.deepEqual(entry, { seq: 100 + i, chain: record.chain, id: record.id, type: record.type, time: record.time });
      seen.add(record.type);
      switch (record.type) {
        case RecordType.Placement: {
          const w = (record.body as PlacementBody).workload;
          assert.equal(subject, auditIndexPlacements(w.namespace, w.name));
          break;
        }
        case RecordType.Attestation: {
          const w = (record.body as AttestationBody).attestation.workload;
          assert.equal(subject, `sov.auditidx.v1.a.${auditIndexToken(w.namespace, w.name)}`);
          break;
        }
        case RecordType.Key:
        case RecordType.MemberKey:
          assert.equal(subject, subjects.auditIndexKeys(record.chain));
          break;
        default:
          assert.equal(subject, "sov.auditidx.v1.o");
      }
    });
    // The generated ledger holds every kind, so each branch above ran.
    for (const t of [RecordType.Placement, RecordType.Attestation, RecordType.Key, RecordType.MemberKey, RecordType.Head]) assert.ok(seen.has(t), t);
  });

  it("gives a message that is not a ledger record (protobuf from before the ledger, broken JSON) an entry of its own, so none is skipped", () => {
    for (const data of [Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63]), Buffer.from("{not json"), Buffer.from("")]) {
      assert.deepEqual(auditIndexEntryOf({ data, streamSequence: 7 }), { subject: "sov.auditidx.v1.o", entry: { seq: 7, chain: "", id: "", type: "", time: "" } });
    }
  });

  it("tokens are 32 hex digits, one per namespace/name, a valid subject token whatever the name holds", () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (ns1, n1, ns2, n2) => {
      const a = auditIndexToken(ns1, n1);
      assert.match(a, /^[0-9a-f]{32}$/);
      assert.equal(a, auditIndexToken(ns1, n1));
      if (`${ns1}/${n1}` !== `${ns2}/${n2}`) assert.notEqual(a, auditIndexToken(ns2, n2));
    }));
    // Dots are where names and subjects disagree: these two must not share a subject.
    assert.notEqual(auditIndexPlacements("a", "b.c"), auditIndexPlacements("a.b", "c"));
  });
});
