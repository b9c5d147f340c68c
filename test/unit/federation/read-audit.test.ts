import assert from "node:assert/strict";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { pino } from "pino";
import { codecs, placementBodyOf, readAudit, subjects } from "../../../operator/src/federation/index.ts";
import { keyRecord, lineOf, nextRecord, RecordType, SigningKey, tailOf } from "../../../operator/src/ledger/index.ts";
import { sampleAuditRecord } from "../../support/samples.ts";

/** Just enough of the JetStream client for readAudit: one consumer whose first fetch returns `data`. */
function fakeJetStream(data: Uint8Array[]) {
  const deleted: string[] = [];
  const messages = data.map((d, i) => ({ data: d, subject: subjects.audit("DE"), seq: i + 1, time: new Date(Date.UTC(2026, 10, 28, 10, 0, i)) }));
  const jsm = {
    consumers: {
      add: async (_stream: string, cfg: { name: string }) => ({ name: cfg.name, num_pending: messages.length }),
      delete: async (_stream: string, name: string) => {
        deleted.push(name);
        return true;
      },
    },
  } as unknown as JetStreamManager;
  let fetched = false;
  const js = {
    consumers: {
      get: async () => ({
        fetch: async () => {
          const batch = fetched ? [] : messages;
          fetched = true;
          return (async function* () {
            yield* batch;
          })();
        },
      }),
    },
  } as unknown as JetStreamClient;
  return { jsm, js, deleted };
}

describe("readAudit", () => {
  it("skips and logs a record that does not decode, and still returns the records around it", async () => {
    const a = sampleAuditRecord({ recordId: "a", country: "DE" });
    const b = sampleAuditRecord({ recordId: "b", country: "DE" });
    // What a consumer-info answer redirected onto the audit subject looked like.
    const junk = new TextEncoder().encode('{"type":"io.nats.jetstream.api.v1.consumer_info_response","stream_name":"sov-intents-fr"}');
    assert.throws(() => codecs.audit.decode(junk, subjects.audit("DE")));
    const { jsm, js, deleted } = fakeJetStream([codecs.audit.encode(a), junk, codecs.audit.encode(b)]);
    const logged: { seq?: number; msg?: string }[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line) as { seq?: number; msg?: string }) });

    const got = [];
    for await (const r of readAudit({ jsm, js, log })) got.push({ id: r.record.recordId, seq: r.streamSequence });
    assert.deepEqual(got, [{ id: "a", seq: 1 }, { id: "b", seq: 3 }]);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.seq, 2);
    assert.match(logged[0]!.msg ?? "", /does not decode/);
    assert.equal(deleted.length, 1, "the query's consumer is deleted");
  });

  it("reads the signed ledger's placement records as AuditRecords, leaving its key records out, and still reads a record from before the ledger", async () => {
    const key = SigningKey.generate();
    const rec = sampleAuditRecord({ recordId: "ledger-1", country: "DE", time: new Date("2026-11-28T10:00:05.000Z") });
    const first = keyRecord({ federation: "f", chain: "DE", tail: undefined, key, time: new Date("2026-11-28T10:00:00Z") });
    const placed = nextRecord({ federation: "f", chain: "DE", tail: tailOf(first), type: RecordType.Placement, id: rec.recordId, time: rec.time!, body: placementBodyOf(rec), signer: key });
    const legacy = sampleAuditRecord({ recordId: "protobuf", country: "DE" });
    const encode = (r: typeof placed) => new TextEncoder().encode(lineOf(r));
    const { jsm, js } = fakeJetStream([codecs.audit.encode(legacy), encode(first), encode(placed)]);
    const got = [];
    for await (const r of readAudit({ jsm, js })) got.push(r.record);
    assert.deepEqual(got, [legacy, rec], "the ledger's record reads back as the AuditRecord it was made from");
  });
});
