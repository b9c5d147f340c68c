// The intents cache's bookkeeping (newest wins, acknowledged when settled, a read that
// fails forgets nothing). Against the real nats-server: test/integration/agent.
import assert from "node:assert/strict";
import { pino } from "pino";
import { IntentCache } from "../../../operator/src/agent/index.ts";
import type { FederationLink } from "../../../operator/src/agent/index.ts";
import type { IntentDelivery, PlacementIntent } from "../../../operator/src/federation/index.ts";
import { TestClock, waitFor } from "../../../operator/src/runtime/index.ts";
import { sampleIntent } from "../../support/samples.ts";

const T0 = new Date("2026-11-28T10:00:00Z").getTime();
const intentOf = (uid: string, at: number, replicas = 2): PlacementIntent =>
  sampleIntent({ workload: { namespace: "n", name: uid, uid }, decidedAt: new Date(T0 + at), intentId: `${uid}@${at}`, replicas });

/** A source driven by the test: what a full read returns, and deliveries pushed one by one. */
class ScriptedSource {
  reads: (() => Promise<PlacementIntent[]>)[] = [];
  readonly #queue: IntentDelivery[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  readonly acked: string[] = [];
  readonly #reconnect: (() => void)[] = [];

  link(): FederationLink {
    return {
      intents: {
        latest: () => (this.reads.shift() ?? (async () => []))(),
        stop: async () => { this.#stopped = true; this.#wake?.(); },
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<IntentDelivery>> => {
            while (this.#queue.length === 0 && !this.#stopped) await new Promise<void>((r) => (this.#wake = r));
            return this.#stopped ? { done: true, value: undefined } : { done: false, value: this.#queue.shift()! };
          },
        }),
      },
      reports: { publishHeartbeat: async () => undefined, publishStatus: async () => undefined },
      connection: { connected: () => true, onReconnect: (h) => { this.#reconnect.push(h); } },
    };
  }

  deliver(intent: PlacementIntent): void {
    this.#queue.push({ intent, ack: async () => { this.acked.push(intent.intentId); }, nak: () => undefined });
    this.#wake?.();
  }

  reconnect(): void {
    for (const h of this.#reconnect) h();
  }
}

describe("agent: the intents cache (desired state)", () => {
  let stop: AbortController;
  let source: ScriptedSource;
  let cache: IntentCache;
  let changed: string[];
  let clock: TestClock;

  beforeEach(() => {
    stop = new AbortController();
    source = new ScriptedSource();
    clock = new TestClock();
    cache = new IntentCache({ link: Promise.resolve(source.link()), clock, log: pino({ level: "silent" }) });
    changed = [];
    cache.onChange((uid) => changed.push(uid));
  });

  afterEach(() => stop.abort());

  async function started(first: PlacementIntent[]): Promise<void> {
    source.reads.push(async () => first);
    void cache.start(stop.signal);
    await cache.waitForSync(stop.signal);
  }

  it("syncs on the first full read and announces every workload it holds", async () => {
    await started([intentOf("a", 0), intentOf("b", 0, 0)]);
    assert.deepEqual(changed.sort(), ["a", "b"]);
    assert.equal(cache.get("a")?.replicas, 2);
    assert.equal(cache.get("b")?.podTemplate, undefined, "a zero intent is kept without its template");
    assert.equal(cache.uidAt("n", "a"), "a");
  });

  it("acknowledges a delivery only once a reconcile settles it with an intent at least as new", async () => {
    await started([intentOf("a", 0)]);
    source.deliver(intentOf("a", 5));
    await waitFor(() => cache.hasPending("a"), { what: "the delivery recorded", timeoutMs: 2_000 });
    assert.equal(cache.get("a")?.intentId, "a@5");
    await cache.settle("a", intentOf("a", 0));
    assert.deepEqual(source.acked, [], "settled with an older intent");
    await cache.settle("a", cache.get("a"));
    assert.deepEqual(source.acked, ["a@5"]);
    assert.equal(cache.hasPending("a"), false);
  });

  it("acknowledges at once, and keeps the newer one, a delivery older than the intent it holds", async () => {
    await started([intentOf("a", 10)]);
    changed.length = 0;
    source.deliver(intentOf("a", 3));
    await waitFor(() => source.acked.length === 1, { what: "the stale delivery acknowledged", timeoutMs: 2_000 });
    assert.equal(cache.get("a")?.intentId, "a@10");
    assert.deepEqual(changed, []);
    assert.equal(cache.hasPending("a"), false);
  });

  it("forgets, on a reconnect's full read, a workload the stream no longer holds, but not one delivered during the read", async () => {
    await started([intentOf("a", 0)]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    source.reads.push(async () => {
      await gate;
      return []; // the read began before b was published
    });
    source.reconnect();
    source.deliver(intentOf("b", 1));
    await waitFor(() => cache.hasPending("b"), { what: "b recorded during the read", timeoutMs: 2_000 });
    release();
    await waitFor(() => cache.resyncs === 2, { what: "the second read", timeoutMs: 2_000 });
    assert.equal(cache.get("a"), undefined, "a is in no intent any more");
    assert.ok(cache.get("b"), "b arrived while the stream was read");
    assert.ok(changed.includes("a"));
  });

  it("forgets nothing when a full read fails (a disconnection is not 'no intents')", async () => {
    await started([intentOf("a", 0)]);
    source.reads.push(async () => { throw new Error("no responders"); });
    source.reconnect();
    await waitFor(() => clock.pending > 0, { what: "the read retried after a backoff", timeoutMs: 2_000 });
    assert.equal(cache.resyncs, 1);
    assert.ok(cache.get("a"));
    // Positive control: a read that succeeds and lacks it does forget it.
    source.reads.push(async () => []);
    await clock.advance(10_000);
    await waitFor(() => cache.resyncs === 2, { what: "the retried read", timeoutMs: 2_000 });
    assert.equal(cache.get("a"), undefined);
  });
});

describe("agent: the intents consumer started again after it fails", () => {
  it("after 1 s, then 2, 4 and at most 5 s while it fails in a row; after 1 s again once something was delivered", async () => {
    const clock = new TestClock();
    const stop = new AbortController();
    let attempts = 0;
    let delivering: PlacementIntent | undefined;
    const link: FederationLink = {
      intents: {
        latest: async () => [],
        stop: async () => undefined,
        [Symbol.asyncIterator]: () => {
          attempts++;
          let given = false;
          return {
            next: async (): Promise<IteratorResult<IntentDelivery>> => {
              if (!delivering) throw new Error("stream not found");
              if (given) return { done: true, value: undefined };
              given = true;
              return { done: false, value: { intent: delivering, ack: async () => undefined, nak: () => undefined } };
            },
          };
        },
      },
      reports: { publishHeartbeat: async () => undefined, publishStatus: async () => undefined },
      connection: { connected: () => true, onReconnect: () => undefined },
    };
    const cache = new IntentCache({ link: Promise.resolve(link), clock, log: pino({ level: "silent" }) });
    void cache.start(stop.signal);
    try {
      await waitFor(() => attempts === 1 && clock.pending > 0, { what: "the first attempt failed and waits", timeoutMs: 2_000 });
      // Each gap: nothing a millisecond before it is due (the control), the next attempt at it.
      for (const gap of [1_000, 2_000, 4_000, 5_000, 5_000]) {
        const before = attempts;
        await clock.advance(gap - 1);
        assert.equal(attempts, before, `no attempt before ${gap} ms`);
        await clock.advance(1);
        await waitFor(() => attempts === before + 1 && clock.pending > 0, { what: `the attempt after ${gap} ms`, timeoutMs: 2_000 });
      }
      // The stream is back: one delivery, then the consumer ends; the next start is 1 s later.
      delivering = intentOf("a", 0);
      const before = attempts;
      await clock.advance(5_000);
      await waitFor(() => cache.hasPending("a") && clock.pending > 0, { what: "the delivery taken", timeoutMs: 2_000 });
      assert.equal(attempts, before + 1);
      await clock.advance(999);
      assert.equal(attempts, before + 1, "not before 1 s");
      await clock.advance(1);
      await waitFor(() => attempts === before + 2, { what: "started again 1 s after a delivery", timeoutMs: 2_000 });
    } finally {
      stop.abort();
    }
  });
});
