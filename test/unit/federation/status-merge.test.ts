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

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
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
      names: async () => ["sov-status-fr", "sov-status-de"],
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
      names: async () => names,
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
      names: async () => ["a", "b"],
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

  it("ends when aborted while waiting", async () => {
    const abort = new AbortController();
    const merged = mergeMemberStreams({ signal: abort.signal, rescanMs: 60_000, names: async () => [], open: (s, signal) => stream(s, 0, signal) });
    const next = merged[Symbol.asyncIterator]().next();
    abort.abort();
    assert.equal((await next).done, true);
  });
});
