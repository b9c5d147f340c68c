import assert from "node:assert/strict";
import fc from "fast-check";
import { CONDITION_MESSAGE_MAX_BYTES, conditionMessage, formatTime, getCondition, isConditionTrue, removeCondition, setCondition } from "../../../operator/src/api/conditions.ts";
import type { ConditionUpdate } from "../../../operator/src/api/conditions.ts";
import type { Condition } from "../../../operator/src/api/types.ts";

const t0 = new Date("2026-11-28T10:00:00.123Z");
const t1 = new Date("2026-11-28T10:05:00Z");
const ready = (status: "True" | "False" | "Unknown", extra: Partial<ConditionUpdate> = {}): ConditionUpdate => ({
  type: "Ready",
  status,
  reason: status === "True" ? "HeartbeatFresh" : "HeartbeatMissed",
  message: "",
  observedGeneration: 1,
  ...extra,
});

describe("condition helpers", () => {
  it("adds a new condition with lastTransitionTime = now, at second precision", () => {
    const out = setCondition(undefined, ready("True"), t0);
    assert.deepEqual(out, [{ ...ready("True"), lastTransitionTime: "2026-11-28T10:00:00Z" }]);
    assert.equal(formatTime(t0), "2026-11-28T10:00:00Z");
  });

  it("keeps lastTransitionTime when the status is unchanged, even if reason, message and generation change", () => {
    const first = setCondition(undefined, ready("False"), t0);
    const second = setCondition(first, ready("False", { reason: "AgentGone", message: "no heartbeat for 40s", observedGeneration: 2 }), t1);
    const c = getCondition(second, "Ready")!;
    assert.equal(c.lastTransitionTime, "2026-11-28T10:00:00Z");
    assert.equal(c.reason, "AgentGone");
    assert.equal(c.message, "no heartbeat for 40s");
    assert.equal(c.observedGeneration, 2);
  });

  it("moves lastTransitionTime when the status changes", () => {
    const out = setCondition(setCondition(undefined, ready("True"), t0), ready("False"), t1);
    assert.equal(getCondition(out, "Ready")?.lastTransitionTime, "2026-11-28T10:05:00Z");
    assert.equal(isConditionTrue(out, "Ready"), false);
  });

  it("returns the very same array when nothing changes, so callers can skip the status write", () => {
    const first = setCondition(undefined, ready("True"), t0);
    assert.equal(setCondition(first, ready("True"), t1), first);
  });

  it("leaves other conditions and their order alone, and never mutates its input", () => {
    const joined: Condition = { type: "Joined", status: "True", lastTransitionTime: "2026-11-27T00:00:00Z", reason: "AgentJoined", message: "", observedGeneration: 1 };
    const input = Object.freeze([joined, Object.freeze({ ...ready("True"), lastTransitionTime: "2026-11-28T09:00:00Z" })]);
    const out = setCondition(input, ready("False"), t1);
    assert.equal(out[0], joined);
    assert.equal(out[1]?.status, "False");
    assert.equal(input[1]?.status, "True");
  });

  it("removes a condition, returning the same array when absent", () => {
    const list = setCondition(undefined, ready("True"), t0);
    assert.deepEqual(removeCondition(list, "Ready"), []);
    assert.equal(removeCondition(list, "Joined"), list);
    assert.equal(isConditionTrue(undefined, "Ready"), false);
  });

  it("property: lastTransitionTime is the time of the last status change, whatever the sequence of updates", () => {
    const statuses = fc.constantFrom("True" as const, "False" as const, "Unknown" as const);
    fc.assert(
      fc.property(fc.array(fc.tuple(statuses, fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 30 }), (steps) => {
        let list: readonly Condition[] | undefined;
        let lastChange = -1;
        let previous: string | undefined;
        steps.forEach(([status, message], i) => {
          if (status !== previous) lastChange = i;
          previous = status;
          list = setCondition(list, ready(status, { message }), new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
        });
        const c = getCondition(list, "Ready")!;
        assert.equal(c.lastTransitionTime, formatTime(new Date(Date.UTC(2026, 0, 1, 0, 0, lastChange))));
        assert.equal(list!.length, 1);
      }),
    );
  });
});

describe("condition messages within the API's limit", () => {
  const t0 = new Date("2026-12-05T10:00:00Z");
  const bytes = (s: string) => Buffer.byteLength(s, "utf8");

  it("keeps a message at the limit as it is, and cuts one byte over it, saying how much was left out", () => {
    const atLimit = "x".repeat(CONDITION_MESSAGE_MAX_BYTES);
    assert.equal(conditionMessage(atLimit), atLimit);
    const over = conditionMessage(`${atLimit}y`);
    assert.ok(bytes(over) <= CONDITION_MESSAGE_MAX_BYTES, String(bytes(over)));
    assert.match(over, /^x+ … \(\d+ more bytes\)$/);
    const left = Number(/\((\d+) more bytes\)$/.exec(over)![1]);
    assert.equal(over.length - ` … (${left} more bytes)`.length + left, CONDITION_MESSAGE_MAX_BYTES + 1, "kept + left out = the whole");
  });

  it("never cuts inside a character, and never exceeds the limit (any text, any limit)", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 40, max: 300 }), (text, max) => {
      const out = conditionMessage(text, max);
      if (bytes(text) <= max) return out === text;
      return bytes(out) <= max && !out.includes("\uFFFD") && text.startsWith(out.slice(0, out.lastIndexOf(" … (")));
    }), { numRuns: 500 });
  });

  it("setCondition stores the cut message, so the status write is not refused", () => {
    const long = "spec.template.spec.serviceAccountName: ".repeat(2_000);
    const out = setCondition(undefined, { type: "Scheduled", status: "False", reason: "PodTemplateForbidden", message: long, observedGeneration: 1 }, t0);
    assert.ok(bytes(out[0]!.message) <= CONDITION_MESSAGE_MAX_BYTES);
    assert.ok(bytes(long) > CONDITION_MESSAGE_MAX_BYTES, "the positive control: the input was over the limit");
    // Applying the same long update again changes nothing (the cut is stable).
    assert.equal(setCondition(out, { type: "Scheduled", status: "False", reason: "PodTemplateForbidden", message: long, observedGeneration: 1 }, t0), out);
  });
});
