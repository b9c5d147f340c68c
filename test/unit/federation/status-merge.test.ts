import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { mergeMemberStreams } from "../../../operator/src/federation/index.ts";

/** A stream that yields `n` values named after it, then waits until stopped. */
async function* stream(name: string, n: number, signal: AbortSignal): AsyncGenerator<string> {
  for (let i = 0; i < n && !signal.aborted; i++) yield `${name}:${i}`;
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Streams as listed, each in its first incarnation. */
const listed = (...names: string[]) => names.map((name) => ({ name, incarnation: "1" }));

/** The next `n` values, or a failure after 5 s (a merge that stalls fails the test instead of hanging the run). */
async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + 5000;
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${JSON.stringify(out)} of ${n} values within 5 s`)), Math.max(0, deadline - Date.now())))),
    ]).finally(() => clearTimeout(timer));
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("mergeMemberStreams: every member's status stream read as one", () => {
  it("takes from every member in turn, so one member's backlog does not hold the others' reports back", async () => {
    const abort = new AbortController();
    const merged = mergeMemberStreams({
      signal: abort.signal, rescanMs: 60_000,
      list: async () => listed("sov-status-fr", "sov-status-de"),
      open: (s, signal) => stream(s === "sov-status-fr" ? "fr" : "de", s === "sov-status-fr" ? 10_000 : 3, signal),
    })[Symbol.asyncIterator]();
    const first = await take(merged, 8);
    assert.deepEqual(first.filter((v) => v.startsWith("de:")), ["de:0", "de:1", "de:2"], JSON.stringify(first));
    abort.abort();
    await merged.return?.(undefined);
  });

  it("opens the stream of a member that appears later (positive control: not before it is listed)", async () => {
    const abort = new AbortController();
    let names = ["sov-status-fr"];
    const opened: string[] = [];
    const merged = mergeMemberStreams({
      signal: abort.signal, rescanMs: 10,
      list: async () => listed(...names),
      open: (s, signal) => {
        opened.push(s);
        return stream(s, 1, signal);
      },
    })[Symbol.asyncIterator]();
    assert.deepEqual(await take(merged, 1), ["sov-status-fr:0"]);
    assert.deepEqual(opened, ["sov-status-fr"]);
    names = ["sov-status-fr", "sov-status-de"];
    assert.deepEqual(await take(merged, 1), ["sov-status-de:0"]);
    assert.deepEqual(opened, ["sov-status-fr", "sov-status-de"], "each stream opened once");
    abort.abort();
    await merged.return?.(undefined);
  });

  it("reopens a member's stream whose consumer failed, and keeps the others going meanwhile", async () => {
    const abort = new AbortController();
    let failures = 1;
    const merged = mergeMemberStreams({
      signal: abort.signal, rescanMs: 10,
      list: async () => listed("a", "b"),
      open: (s, signal) => {
        if (s === "a" && failures-- > 0) return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("consumer gone")) }) };
        return stream(s, 1, signal);
      },
    })[Symbol.asyncIterator]();
    const got = await take(merged, 2);
    assert.deepEqual(got.sort(), ["a:0", "b:0"]);
    abort.abort();
    await merged.return?.(undefined);
  });

  // Found by the chaos test of a MemberCluster deleted and declared again: its status stream
  // was deleted and made again, and the old consumer read the deleted one forever.
  it("closes the consumer of a stream deleted or made again, and opens the new incarnation", async () => {
    const abort = new AbortController();
    let now = [{ name: "a", incarnation: "1" }, { name: "b", incarnation: "1" }];
    const opened: string[] = [];
    const closed: string[] = [];
    const merged = mergeMemberStreams({
      signal: abort.signal, rescanMs: 10,
      list: async () => now,
      open: (s, signal) => {
        const incarnation = now.find((x) => x.name === s)!.incarnation;
        opened.push(`${s}@${incarnation}`);
        signal.addEventListener("abort", () => void closed.push(`${s}@${incarnation}`), { once: true });
        return stream(`${s}@${incarnation}`, 1, signal);
      },
    })[Symbol.asyncIterator]();
    assert.deepEqual((await take(merged, 2)).sort(), ["a@1:0", "b@1:0"]);
    now = [{ name: "a", incarnation: "2" }, { name: "b", incarnation: "1" }];
    assert.deepEqual(await take(merged, 1), ["a@2:0"]);
    assert.deepEqual(closed, ["a@1"], "the old incarnation's consumer is closed, b's left alone");
    now = [{ name: "b", incarnation: "1" }];
    const deadline = Date.now() + 5000;
    while (!closed.includes("a@2") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(closed, ["a@1", "a@2"], "a deleted stream's consumer is closed");
    assert.deepEqual(opened, ["a@1", "b@1", "a@2"], "b opened once (the control)");
    abort.abort();
    await merged.return?.(undefined);
  });

  it("closes a stream's consumer only when it is missing from two listings in a row (a cluster election leaves one out of one listing)", async () => {
    const abort = new AbortController();
    const a = [{ name: "a", incarnation: "1" }];
    const script = [a, [], a, [], []];
    let calls = 0;
    const opened: string[] = [];
    const closed: string[] = [];
    const merged = mergeMemberStreams({
      signal: abort.signal, rescanMs: 10,
      list: async () => script[calls++] ?? [],
      open: (s, signal) => {
        opened.push(s);
        signal.addEventListener("abort", () => void closed.push(s), { once: true });
        return stream(s, 1, signal);
      },
    })[Symbol.asyncIterator]();
    assert.deepEqual(await take(merged, 1), ["a:0"]);
    const deadline = Date.now() + 5000;
    while (calls < script.length + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(opened, ["a"], "not closed and opened again after the single miss");
    assert.deepEqual(closed, ["a"], "closed after two misses in a row");
    abort.abort();
    await merged.return?.(undefined);
  });

  it("ends when aborted while waiting", async () => {
    const abort = new AbortController();
    const merged = mergeMemberStreams({ signal: abort.signal, rescanMs: 60_000, list: async () => [], open: (s, signal) => stream(s, 0, signal) });
    const next = merged[Symbol.asyncIterator]().next();
    abort.abort();
    assert.equal((await next).done, true);
  });
});
