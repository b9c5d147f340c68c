import assert from "node:assert/strict";
import fc from "fast-check";
import { deploymentFor, driftOf, planWorkload } from "../../../operator/src/agent/index.ts";
import type { LastApplied, NamespaceState, WorkloadPlan } from "../../../operator/src/agent/index.ts";
import { MEMBER_LABELS } from "../../../operator/src/api/index.ts";
import type { PlacementIntent } from "../../../operator/src/federation/index.ts";
import type { Deployment } from "../../../operator/src/kube/index.ts";
import { sampleIntent } from "../../support/samples.ts";

const T0 = new Date("2026-11-28T10:00:00Z");
const later = (ms: number) => new Date(T0.getTime() + ms);
const intent = sampleIntent({ decidedAt: T0, intentId: "i-1" });

type Template = { spec: { containers: Record<string, unknown>[] } } & Record<string, unknown>;
const containers = (d: Deployment) => (d.spec.template as unknown as Template).spec.containers;

/**
 * The Deployment as the member's API server stores it after the agent applied `from`:
 * defaults added, quantities normalised, a uid, a generation, a status.
 */
function stored(from: PlacementIntent = intent, over: { uid?: string; generation?: number } = {}): Deployment {
  const d = deploymentFor(from);
  d.metadata.uid = over.uid ?? "dep-uid";
  d.metadata.generation = over.generation ?? 1;
  d.metadata.annotations = { ...d.metadata.annotations, "deployment.kubernetes.io/revision": "1" };
  const t = d.spec.template as unknown as Template & { spec: Record<string, unknown> };
  Object.assign(t.spec, { restartPolicy: "Always", dnsPolicy: "ClusterFirst", terminationGracePeriodSeconds: 30, securityContext: {}, schedulerName: "default-scheduler" });
  for (const c of t.spec.containers) {
    Object.assign(c, { imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File" });
    const requests = (c.resources as { requests?: Record<string, string> } | undefined)?.requests;
    // "250m" stays, "128Mi" stays; a "0.25" the intent said would come back as "250m".
    if (requests?.cpu === "0.25") requests.cpu = "250m";
  }
  d.status = { observedGeneration: 1, replicas: from.replicas, readyReplicas: from.replicas, availableReplicas: from.replicas, updatedReplicas: from.replicas };
  return d;
}

function edited(d: Deployment, edit: (d: Deployment) => void): Deployment {
  const copy = structuredClone(d);
  edit(copy);
  copy.metadata.generation = (copy.metadata.generation ?? 1) + 1;
  return copy;
}

interface Row {
  name: string;
  intent: PlacementIntent | undefined;
  own?: Deployment[];
  atName?: Deployment;
  namespace?: NamespaceState;
  lastApplied?: LastApplied;
  want: Partial<Extract<WorkloadPlan, { action: "apply" }>> & { action: WorkloadPlan["action"] } | Record<string, unknown>;
  drift?: RegExp;
}

function plan(row: Row): WorkloadPlan {
  const own = row.own ?? (row.atName && row.atName.metadata.labels?.[MEMBER_LABELS.workloadUid] === row.intent?.workload?.uid ? [row.atName] : []);
  return planWorkload({
    intent: row.intent, own, atName: row.atName, namespace: row.namespace ?? "present",
    ...(row.lastApplied ? { lastApplied: row.lastApplied } : {}),
  });
}

describe("agent: what the member must do to match a workload's intent (desired vs observed)", () => {
  const live = stored();
  const table: Row[] = [
    { name: "equal: the Deployment the server stored from this intent (defaults added) → nothing", intent, atName: live, want: { action: "none" } },
    { name: "equal, read back at the generation the agent's apply returned → nothing", intent, atName: live, lastApplied: { objectUid: "dep-uid", generation: 1 }, want: { action: "none" } },
    { name: "missing → applied again (no force: the cache cannot tell an unmanaged one of that name)", intent, atName: undefined, want: { action: "apply", force: false, ensureNamespace: false }, drift: /the Deployment is missing/ },
    { name: "namespace missing → created, then applied", intent, atName: undefined, namespace: "missing", want: { action: "apply", force: false, ensureNamespace: true } },
    { name: "namespace being deleted → wait for it to go (creating in it would fail)", intent, atName: live, namespace: "terminating", want: { action: "wait" } },
    {
      name: "scaled → reverted, forcing the field back", intent, atName: edited(live, (d) => { d.spec.replicas = 7; }), lastApplied: { objectUid: "dep-uid", generation: 1 },
      want: { action: "apply", force: true }, drift: /spec\.replicas: 7, want 2/,
    },
    {
      name: "image edited → reverted", intent, atName: edited(live, (d) => { containers(d)[0]!.image = "registry.example/other:9"; }),
      want: { action: "apply", force: true }, drift: /spec\.template\.spec\.containers\[app\]\.image: "registry\.example\/other:9", want "registry\.example\/records:1\.4"/,
    },
    {
      name: "a requirement annotation the guard reads, edited on the pod template → reverted", intent,
      atName: edited(live, (d) => { d.spec.template.metadata!.annotations!["residency.sovereignty.eu/allowed-countries"] = "FR,US"; }),
      want: { action: "apply", force: true }, drift: /allowed-countries/,
    },
    { name: "the agent's annotation removed from the Deployment → reverted (no spec change, same generation)", intent, atName: (() => { const d = structuredClone(live); delete d.metadata.annotations!["sovereignty.eu/intent-id"]; return d; })(), lastApplied: { objectUid: "dep-uid", generation: 1 }, want: { action: "apply", force: true }, drift: /intent-id/ },
    { name: "a new intent for the workload (new id, generation, replicas) → applied", intent: sampleIntent({ decidedAt: later(5), intentId: "i-2", generation: 4, replicas: 3 }), atName: live, want: { action: "apply", force: true } },
    { name: "no intent → the Deployment is removed", intent: undefined, own: [live], want: { action: "delete", targets: [{ namespace: "health", name: "patient-records", uid: "dep-uid" }] } },
    { name: "zero intent → the Deployment is removed", intent: sampleIntent({ decidedAt: later(5), replicas: 0 }), atName: live, want: { action: "delete", targets: [{ namespace: "health", name: "patient-records", uid: "dep-uid" }] } },
    { name: "zero intent, nothing on the member → nothing", intent: sampleIntent({ decidedAt: later(5), replicas: 0 }), atName: undefined, want: { action: "none" } },
    { name: "no intent, the Deployment already going → nothing more", intent: undefined, own: [{ ...live, metadata: { ...live.metadata, deletionTimestamp: T0.toISOString() } }], want: { action: "none" } },
    { name: "its Deployment being deleted (foreground, a namespace going) → wait, then recreate", intent, atName: { ...live, metadata: { ...live.metadata, deletionTimestamp: T0.toISOString() } }, want: { action: "wait" } },
    {
      name: "the name held by the Deployment of a deleted and recreated workload → deleted first, then applied without force",
      intent: sampleIntent({ decidedAt: later(-5), workload: { namespace: "health", name: "patient-records", uid: "new-uid" } }), atName: live, own: [],
      want: { action: "apply", force: false, deleteFirst: { namespace: "health", name: "patient-records", uid: "dep-uid" } },
    },
    { name: "another workload's Deployment at the name, zero intent → left alone", intent: sampleIntent({ replicas: 0, workload: { namespace: "health", name: "patient-records", uid: "new-uid" } }), atName: live, own: [], want: { action: "none" } },
    { name: "an intent decided before the one the Deployment was applied from → stale", intent: sampleIntent({ decidedAt: later(-1) }), atName: live, want: { action: "stale" } },
    { name: "the cache older than the agent's own last apply → nothing (its event is on the way)", intent: sampleIntent({ decidedAt: later(5), intentId: "i-2", replicas: 5 }), atName: live, lastApplied: { objectUid: "dep-uid", generation: 2 }, want: { action: "none" } },
    { name: "an intent with no pod template → invalid", intent: sampleIntent({ podTemplate: undefined }), atName: undefined, want: { action: "invalid" } },
  ];
  for (const row of table) {
    it(row.name, () => {
      const got = plan(row);
      for (const [k, v] of Object.entries(row.want)) assert.deepEqual((got as Record<string, unknown>)[k], v, `${k} in ${JSON.stringify(got).slice(0, 400)}`);
      if (row.drift) assert.match((got as { drift: string[] }).drift.join("\n"), row.drift);
    });
  }

  it("forces only on a Deployment the agent's cache holds as this workload's own", () => {
    const foreign = structuredClone(live);
    foreign.metadata.labels = { app: "mine" };
    // Not labelled as the agent's, it is not in the agent's cache at all: absent for the plan.
    const p = planWorkload({ intent, own: [], atName: undefined, namespace: "present" });
    assert.equal(p.action === "apply" && p.force, false);
    // Positive control: its own Deployment, drifted, is forced back.
    const own = edited(live, (d) => { d.spec.replicas = 9; });
    const q = planWorkload({ intent, own: [own], atName: own, namespace: "present" });
    assert.equal(q.action === "apply" && q.force, true);
  });
});

describe("agent: drift is judged like server-side apply", () => {
  const desired = deploymentFor(intent);
  const live = stored();

  it("ignores what others add: an extra container, template label, env var of another manager", () => {
    const d = structuredClone(live);
    containers(d).push({ name: "sidecar", image: "registry.example/proxy:1" });
    d.spec.template.metadata!.labels!.team = "ops";
    containers(d)[0]!.env = [{ name: "EXTRA", value: "1" }];
    assert.deepEqual(driftOf({ desired, live: d, compareSpec: true }), []);
  });

  it("compares quantities by value, and a zero value with an absent one", () => {
    const fromIntent = deploymentFor(sampleIntent({ podTemplate: { spec: { containers: [{ name: "app", image: "i:1", args: [], resources: { requests: { cpu: "0.25", memory: "1024Mi" } } }] } } }));
    const d = structuredClone(fromIntent);
    containers(d)[0]!.resources = { requests: { cpu: "250m", memory: "1Gi" } };
    delete containers(d)[0]!.args;
    assert.deepEqual(driftOf({ desired: fromIntent, live: d, compareSpec: true }), []);
    // Positive control: another value is drift.
    containers(d)[0]!.resources = { requests: { cpu: "500m", memory: "1Gi" } };
    assert.match(driftOf({ desired: fromIntent, live: d, compareSpec: true }).join(), /resources\.requests\.cpu: "500m", want "0\.25"/);
  });

  it("sees a list of plain values replaced (args are applied whole)", () => {
    const withArgs = deploymentFor(sampleIntent({ podTemplate: { spec: { containers: [{ name: "app", image: "i:1", args: ["--port", "80"] }] } } }));
    const d = structuredClone(withArgs);
    containers(d)[0]!.args = ["--port", "80", "--debug"];
    assert.equal(driftOf({ desired: withArgs, live: d, compareSpec: true }).length, 1);
  });

  it("finds any one field the agent sets changed on the member, and nothing when none is (property)", () => {
    // Every leaf the agent sets on the template, as a path to mutate.
    const leaves: (string | number)[][] = [];
    const walk = (x: unknown, path: (string | number)[]) => {
      if (Array.isArray(x)) x.forEach((v, i) => walk(v, [...path, i]));
      else if (typeof x === "object" && x !== null) for (const [k, v] of Object.entries(x)) walk(v, [...path, k]);
      else leaves.push(path);
    };
    walk(desired.spec.template, []);
    assert.ok(leaves.length >= 8, `only ${leaves.length} leaves`);
    fc.assert(fc.property(fc.constantFrom(...leaves), fc.string({ minLength: 1, maxLength: 4 }), (path, suffix) => {
      const d = structuredClone(live);
      let parent = d.spec.template as unknown as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      const last = path.at(-1)!;
      const before = parent[last];
      parent[last] = typeof before === "number" ? before + 1 : typeof before === "boolean" ? !before : `${String(before)}x${suffix}`;
      const drift = driftOf({ desired, live: d, compareSpec: true });
      assert.equal(drift.length, 1, `${path.join(".")}: ${drift.join("; ")}`);
    }));
    assert.deepEqual(driftOf({ desired, live, compareSpec: true }), []);
  });
});
