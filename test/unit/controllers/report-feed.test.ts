import assert from "node:assert/strict";
import { describe, it } from "mocha";
import pino from "pino";
import { ReportBook } from "../../../operator/src/controllers/reports.ts";
import type { ConnectionState, Heartbeat, Received } from "../../../operator/src/federation/index.ts";

const log = pino({ level: "silent" });

/** A connection the test flips by hand. */
function link() {
  let up = true;
  const handlers: (() => void)[] = [];
  const state: ConnectionState = { connected: () => up, onReconnect: (h) => { handlers.push(h); } };
  return { state, drop: () => { up = false; }, reconnect: () => { up = true; for (const h of handlers) h(); } };
}

describe("the report book's heartbeat feed: when the control plane could hear its members", () => {
  it("is connected since start-up, down while the link is, and counts from the reconnect after it; known members are woken then", async () => {
    let now = 1_000;
    const l = link();
    const heartbeat: Received<Heartbeat> = { message: { cluster: "fr", agentVersion: "t", allocatable: undefined, sentAt: new Date(0), sequence: 1, guardDrift: [] }, receivedAt: new Date(500) };
    const book = new ReportBook({
      source: { heartbeats: () => (async function* () { yield heartbeat; })(), statuses: () => (async function* () {})() },
      log, clock: { now: () => new Date(now), sleep: async () => undefined }, connection: l.state,
    });
    assert.deepEqual(book.heartbeatFeed(), { connected: true, since: new Date(1_000) });
    const woken: string[] = [];
    book.onHeartbeat((c) => woken.push(c));
    const stop = new AbortController();
    const running = book.start(stop.signal);
    // The heartbeat comes through the source: a member the book knows.
    for (let i = 0; i < 50 && !book.lastHeartbeat("fr"); i++) await new Promise((r) => setImmediate(r));
    assert.ok(book.lastHeartbeat("fr"));
    woken.length = 0;
    now = 5_000;
    l.drop();
    assert.equal(book.heartbeatFeed().connected, false);
    now = 9_000;
    l.reconnect();
    assert.deepEqual(book.heartbeatFeed(), { connected: true, since: new Date(9_000) });
    assert.deepEqual(woken, ["fr"], "every known member is looked at again from the reconnect");
    stop.abort();
    await running;
  });

  it("without a connection (tests feeding it directly) it is connected since it was made", () => {
    const book = new ReportBook({ source: { heartbeats: () => (async function* () {})(), statuses: () => (async function* () {})() }, log, clock: { now: () => new Date(42), sleep: async () => undefined } });
    assert.deepEqual(book.heartbeatFeed(), { connected: true, since: new Date(42) });
  });
});
