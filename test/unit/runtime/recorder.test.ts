import assert from "node:assert/strict";
import { describe, it } from "mocha";
import pino from "pino";
import { EventRecorder } from "../../../operator/src/runtime/index.ts";
import type { Clock, RecordedEvent } from "../../../operator/src/runtime/index.ts";

const log = pino({ level: "silent" });

function manualClock(start = 0) {
  let now = start;
  const clock: Clock = { now: () => new Date(now), sleep: () => new Promise(() => undefined) } as unknown as Clock;
  return { clock, advance: (ms: number) => { now += ms; } };
}

/** A sink whose sends finish only when the test says so. */
function gatedSink() {
  const sent: (RecordedEvent & { count: number })[] = [];
  const gates: (() => void)[] = [];
  return {
    sent,
    send: (e: RecordedEvent & { count: number }) => new Promise<void>((resolve) => gates.push(() => { sent.push(e); resolve(); })),
    release() { for (const g of gates.splice(0)) g(); },
    get waiting() { return gates.length; },
  };
}

const ev = (reason: string, message = "m", about = "uid-1"): RecordedEvent => ({ about, type: "Normal", reason, message });

describe("EventRecorder", () => {
  it("returns at once while the API server has not answered (never blocks a worker)", () => {
    const sink = gatedSink();
    const { clock } = manualClock();
    const r = new EventRecorder<RecordedEvent>({ send: sink.send, clock, log });
    const started = performance.now();
    for (let i = 0; i < 50; i++) r.record(ev(`R${i}`));
    assert.ok(performance.now() - started < 50);
    assert.equal(sink.waiting, 2, "two in flight at a time");
    assert.equal(r.pending, 50);
  });

  it("aggregates the same reason and message while queued into one Event with a count (positive control: another message is its own Event)", async () => {
    const sink = gatedSink();
    const { clock } = manualClock();
    const r = new EventRecorder<RecordedEvent>({ send: sink.send, clock, log, concurrency: 1 });
    r.record(ev("Busy")); // in flight
    r.record(ev("Scheduled", "placed 2 on fr-1"));
    r.record(ev("Scheduled", "placed 2 on fr-1"));
    r.record(ev("Scheduled", "placed 2 on fr-1"));
    r.record(ev("Scheduled", "placed 3 on fr-1"));
    r.record(ev("Scheduled", "placed 2 on fr-1", "uid-2"));
    while (sink.waiting > 0) { sink.release(); await new Promise((res) => setImmediate(res)); }
    await r.flush();
    assert.deepEqual(sink.sent.map((e) => [e.about, e.reason, e.message, e.count]), [
      ["uid-1", "Busy", "m", 1],
      ["uid-1", "Scheduled", "placed 2 on fr-1", 3],
      ["uid-1", "Scheduled", "placed 3 on fr-1", 1],
      ["uid-2", "Scheduled", "placed 2 on fr-1", 1],
    ]);
  });

  it("drops the same event again within the window, and sends it after the window", async () => {
    const sent: RecordedEvent[] = [];
    const { clock, advance } = manualClock();
    const r = new EventRecorder<RecordedEvent>({ send: async (e) => void sent.push(e), clock, log, windowMs: 1000 });
    r.record(ev("FailedOver"));
    await r.flush();
    r.record(ev("FailedOver"));
    await r.flush();
    assert.equal(sent.length, 1);
    assert.equal(r.suppressed, 1);
    advance(1000);
    r.record(ev("FailedOver"));
    await r.flush();
    assert.equal(sent.length, 2);
  });

  it("bounds its queue: beyond maxQueued new events are dropped and counted", () => {
    const sink = gatedSink();
    const { clock } = manualClock();
    const r = new EventRecorder<RecordedEvent>({ send: sink.send, clock, log, concurrency: 1, maxQueued: 3 });
    for (let i = 0; i < 10; i++) r.record(ev(`R${i}`));
    assert.equal(r.pending, 4); // one in flight, three queued
    assert.equal(r.dropped, 6);
  });

  it("a failed send is logged, not thrown, and the queue goes on", async () => {
    const sent: string[] = [];
    const { clock } = manualClock();
    const r = new EventRecorder<RecordedEvent>({ send: async (e) => { if (e.reason === "Bad") throw new Error("403"); sent.push(e.reason); }, clock, log, concurrency: 1 });
    r.record(ev("Bad"));
    r.record(ev("Good"));
    await r.flush();
    assert.deepEqual(sent, ["Good"]);
  });
});
