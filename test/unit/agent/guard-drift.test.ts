import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { canonicalJson, GuardDriftLog, guardChange, parseGuardManifests } from "../../../operator/src/agent/index.ts";
import { freshGuardRestores, MAX_GUARD_RESTORES } from "../../../operator/src/controllers/membercluster/index.ts";

const GUARD_FILE = path.join(import.meta.dirname, "../../../charts/member-agent/files/residency-guard.yaml");

describe("agent: the residency guard's objects as shipped", () => {
  it("reads the chart's policies and bindings, the parameter moved to the agent's namespace", () => {
    const objects = parseGuardManifests({ text: readFileSync(GUARD_FILE, "utf8"), namespace: "platform" });
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      "ValidatingAdmissionPolicy/sovereign-residency-guard",
      "ValidatingAdmissionPolicy/sovereign-residency-guard-unlabelled",
      "ValidatingAdmissionPolicyBinding/sovereign-residency-guard",
      "ValidatingAdmissionPolicyBinding/sovereign-residency-guard-unlabelled",
    ]);
    const binding = objects.find((o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === "sovereign-residency-guard")!;
    assert.deepEqual(binding.spec.paramRef, { name: "sovereign-residency-facts", namespace: "platform", parameterNotFoundAction: "Deny" });
    const unlabelled = objects.find((o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === "sovereign-residency-guard-unlabelled")!;
    assert.equal(unlabelled.spec.paramRef, undefined, "a binding without a parameter gets none");
  });

  it("refuses a file with anything but admission policies and bindings, or with none", () => {
    assert.throws(() => parseGuardManifests({ text: "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n", namespace: "ns" }), /only admissionregistration/);
    assert.throws(() => parseGuardManifests({ text: "# nothing\n", namespace: "ns" }), /no admission policy/);
    assert.throws(() => parseGuardManifests({ text: "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {}\nspec: {}\n", namespace: "ns" }), /no name or spec/);
  });

  it("tells deleted and edited from unchanged, by content and not by key order", () => {
    const stored = { spec: { failurePolicy: "Fail", validations: [{ expression: "params != null", reason: "Forbidden" }] } };
    assert.equal(guardChange({ observed: undefined, stored }), "deleted");
    assert.equal(guardChange({ observed: { spec: { validations: [{ reason: "Forbidden", expression: "params != null" }], failurePolicy: "Fail" } }, stored }), undefined, "the positive control: same content");
    assert.equal(guardChange({ observed: { spec: { ...stored.spec, failurePolicy: "Ignore" } }, stored }), "edited");
    assert.equal(guardChange({ observed: { spec: { ...stored.spec, matchConditions: [{ name: "never", expression: "false" }] } }, stored }), "edited", "a field added counts too");
    assert.equal(guardChange({ observed: { spec: { ...stored.spec, validations: [] } }, stored }), "edited");
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  });

  it("carries each restore for a minute, at most the newest 16", () => {
    const log = new GuardDriftLog();
    const t0 = Date.parse("2026-12-04T10:00:00Z");
    log.record({ object: "ConfigMap/sovereign-residency-facts", change: "edited", restoredAt: new Date(t0) });
    assert.equal(log.recent(new Date(t0 + 59_000)).length, 1);
    assert.equal(log.recent(new Date(t0 + 60_000)).length, 0, "a minute later it is no longer carried");
    for (let i = 0; i < 40; i++) log.record({ object: `ValidatingAdmissionPolicy/p${i}`, change: "deleted", restoredAt: new Date(t0 + i) });
    const recent = log.recent(new Date(t0 + 1000));
    assert.equal(recent.length, 16);
    assert.equal(recent.at(-1)!.object, "ValidatingAdmissionPolicy/p39", "the newest are kept");
  });
});

describe("control plane: guard restores counted once from the heartbeats that carry them", () => {
  const at = new Date("2026-12-04T10:00:00Z");
  const r = (object: string, change = "edited", restoredAt = at) => ({ object, change, restoredAt });

  it("a restore is fresh once, then seen while the heartbeats carry it", () => {
    const first = freshGuardRestores({ reported: [r("ConfigMap/sovereign-residency-facts")], seen: new Set() });
    assert.equal(first.fresh.length, 1);
    const again = freshGuardRestores({ reported: [r("ConfigMap/sovereign-residency-facts"), r("ValidatingAdmissionPolicy/sovereign-residency-guard", "deleted")], seen: first.seen });
    assert.deepEqual(again.fresh.map((x) => x.object), ["ValidatingAdmissionPolicy/sovereign-residency-guard"]);
    const later = freshGuardRestores({ reported: [r("ConfigMap/sovereign-residency-facts", "edited", new Date(at.getTime() + 5000))], seen: again.seen });
    assert.equal(later.fresh.length, 1, "the same object restored again later is a new restore");
    assert.equal(freshGuardRestores({ reported: [], seen: later.seen }).seen.size, 0, "what the member no longer carries is forgotten");
  });

  it("drops entries a member could use to write anything into an Event, and reads at most 16", () => {
    const bad = [r("Secret/x"), r("ConfigMap/UPPER"), r(`ConfigMap/${"a".repeat(300)}`), r("ConfigMap/ok", "renamed"), { object: "ConfigMap/ok", change: "edited", restoredAt: undefined }];
    assert.deepEqual(freshGuardRestores({ reported: bad, seen: new Set() }).fresh, []);
    const flood = Array.from({ length: 1000 }, (_, i) => r(`ConfigMap/c${i}`));
    assert.equal(freshGuardRestores({ reported: flood, seen: new Set() }).fresh.length, MAX_GUARD_RESTORES);
  });
});
