// The name of a guard restore's Event: one Event per restore however many heartbeats carry
// it and however many control planes read them (host.createEvent treats an existing name
// as recorded).
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import fc from "fast-check";
import { guardRestoreEventName, guardRestoreMessage } from "../../../../operator/src/controllers/membercluster/guard-drift.ts";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const restore = { cluster: "ovh-par-1", object: "ValidatingAdmissionPolicyBinding/sovereign-residency-guard", change: "deleted", restoredAt: new Date("2026-12-05T03:00:00.123Z") };

describe("guard restore Event names", () => {
  it("is the same for the same restore, read again from another heartbeat or by another control plane", () => {
    assert.equal(guardRestoreEventName({ ...restore, restoredAt: new Date(restore.restoredAt.getTime()) }), guardRestoreEventName(restore));
  });

  it("differs when the object, the change, the time or the cluster differs (positive controls)", () => {
    const base = guardRestoreEventName(restore);
    for (const other of [
      { ...restore, object: "ConfigMap/sovereign-residency-facts" },
      { ...restore, change: "edited" },
      { ...restore, restoredAt: new Date(restore.restoredAt.getTime() + 1) },
      { ...restore, cluster: "ionos-fra-1" },
    ]) assert.notEqual(guardRestoreEventName(other), base, JSON.stringify(other));
  });

  it("is a DNS subdomain the API server accepts as a name, for any cluster name and restore", () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(fc.property(label, fc.string(), fc.constantFrom("deleted", "edited"), fc.date({ noInvalidDate: true }), (cluster, object, change, restoredAt) => {
      const name = guardRestoreEventName({ cluster, object, change, restoredAt });
      return name.length <= 253 && DNS_SUBDOMAIN.test(name) && name.startsWith(`${cluster}.`);
    }), { numRuns: 500 });
  });
});

describe("guard restore Event messages", () => {
  const at = new Date("2026-12-05T03:00:00.123Z");
  const cases = [
    { object: "ValidatingAdmissionPolicyBinding/sovereign-residency-guard", change: "deleted", restart: true },
    { object: "ValidatingAdmissionPolicy/sovereign-residency-guard-unlabelled", change: "deleted", restart: true },
    { object: "ValidatingAdmissionPolicyBinding/sovereign-residency-guard", change: "edited", restart: false },
    { object: "ConfigMap/sovereign-residency-facts", change: "deleted", restart: false },
    { object: "ConfigMap/sovereign-residency-facts", change: "edited", restart: false },
  ];
  for (const c of cases) {
    it(`${c.object} ${c.change}: names the object, the change and the time${c.restart ? ", and says to restart the member's kube-apiserver" : ", nothing more"}`, () => {
      const m = guardRestoreMessage({ object: c.object, change: c.change, restoredAt: at });
      assert.ok(m.startsWith(`residency guard ${c.object} was ${c.change} on the member; its agent restored it at 2026-12-05T03:00:00.123Z`), m);
      assert.equal(m.includes("restart the member's kube-apiserver") && m.includes("kubernetes/kubernetes#133827"), c.restart, m);
    });
  }
});
