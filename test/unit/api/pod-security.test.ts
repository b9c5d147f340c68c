import assert from "node:assert/strict";
import fc from "fast-check";
import {
  guardExposureFact, namespacePodSecurityLabels, parseGuardBoolean, podSecurityLevelOf, podTemplateViolations, type PodTemplateViolation,
} from "../../../operator/src/api/index.ts";

const container = (extra: Record<string, unknown> = {}) => ({ name: "app", image: "registry.example.eu/app:1", ...extra });
const template = (spec: Record<string, unknown> = {}) => ({ metadata: { labels: { app: "a" } }, spec: { containers: [container()], ...spec } });
const fields = (vs: readonly PodTemplateViolation[]) => vs.map((v) => v.field);

describe("podTemplateViolations: what a sovereign workload's pods may not be", () => {
  const rows: { what: string; template: unknown; namespace?: string; policy?: { podSecurity?: { allowedServiceAccounts?: string[] } }; forbidden?: string[]; want: string[] }[] = [
    { what: "a plain template (the control)", template: template(), want: [] },
    { what: "explicit safe values", template: template({ hostNetwork: false, hostPID: false, hostIPC: false, volumes: [{ name: "s", emptyDir: {} }], containers: [container({ securityContext: { privileged: false, capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] } } })] }), want: [] },
    { what: "a privileged container", template: template({ containers: [container(), container({ securityContext: { privileged: true } })] }), want: ["spec.template.spec.containers[1].securityContext.privileged"] },
    { what: "a privileged init container", template: template({ initContainers: [container({ securityContext: { privileged: true } })] }), want: ["spec.template.spec.initContainers[0].securityContext.privileged"] },
    { what: "a privileged ephemeral container", template: template({ ephemeralContainers: [container({ securityContext: { privileged: true } })] }), want: ["spec.template.spec.ephemeralContainers[0].securityContext.privileged"] },
    { what: "host namespaces", template: template({ hostNetwork: true, hostPID: true, hostIPC: true }), want: ["spec.template.spec.hostNetwork", "spec.template.spec.hostPID", "spec.template.spec.hostIPC"] },
    { what: "a hostPath volume", template: template({ volumes: [{ name: "s", emptyDir: {} }, { name: "root", hostPath: { path: "/" } }] }), want: ["spec.template.spec.volumes[1].hostPath"] },
    { what: "SYS_ADMIN added", template: template({ containers: [container({ securityContext: { capabilities: { add: ["NET_BIND_SERVICE", "SYS_ADMIN"] } } })] }), want: ["spec.template.spec.containers[0].securityContext.capabilities.add[1]"] },
    { what: "a capability that is not a string", template: template({ containers: [container({ securityContext: { capabilities: { add: [7] } } })] }), want: ["spec.template.spec.containers[0].securityContext.capabilities.add[0]"] },
    { what: "namespace kube-system", template: template(), namespace: "kube-system", want: ["metadata.namespace"] },
    { what: "namespace kube-public", template: template(), namespace: "kube-public", want: ["metadata.namespace"] },
    { what: "namespace sovereign-system", template: template(), namespace: "sovereign-system", want: ["metadata.namespace"] },
    { what: "the agent's release namespace", template: template(), namespace: "agents", forbidden: ["agents"], want: ["metadata.namespace"] },
    { what: "a namespace that only contains kube", template: template(), namespace: "my-kube-apps", want: [] },
    { what: "serviceAccountName default", template: template({ serviceAccountName: "default" }), want: [] },
    { what: "serviceAccountName not allowed (no policy)", template: template({ serviceAccountName: "admin" }), want: ["spec.template.spec.serviceAccountName"] },
    { what: "serviceAccountName allowed by the policy", template: template({ serviceAccountName: "reader" }), policy: { podSecurity: { allowedServiceAccounts: ["reader"] } }, want: [] },
    { what: "serviceAccountName not in the policy's list", template: template({ serviceAccountName: "admin" }), policy: { podSecurity: { allowedServiceAccounts: ["reader"] } }, want: ["spec.template.spec.serviceAccountName"] },
    { what: "the deprecated serviceAccount alias", template: template({ serviceAccount: "admin" }), want: ["spec.template.spec.serviceAccount"] },
    { what: "no template at all (fails closed)", template: undefined, want: ["spec.template.spec"] },
    { what: "a template whose spec is a string (fails closed)", template: { spec: "privileged" }, want: ["spec.template.spec"] },
  ];
  for (const r of rows) {
    it(`${r.what}: ${r.want.length === 0 ? "may run" : r.want.join(", ")}`, () => {
      const got = podTemplateViolations({ template: r.template, namespace: r.namespace ?? "customers", policy: r.policy, ...(r.forbidden ? { forbiddenNamespaces: r.forbidden } : {}) });
      assert.deepEqual(fields(got), r.want);
      for (const v of got) assert.ok(v.reason.length > 0);
    });
  }

  it("names fields under the paths it is given (the agent's view of an intent)", () => {
    const got = podTemplateViolations({ template: template({ hostNetwork: true }), namespace: "kube-system", paths: { template: "podTemplate", namespace: "workload.namespace" } });
    assert.deepEqual(fields(got), ["workload.namespace", "podTemplate.spec.hostNetwork"]);
  });

  it("never throws and finds every privileged container, whatever else the template holds", () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.anything(), (privileged, junk) => {
      const t = template({ containers: privileged.map((p) => container({ securityContext: { privileged: p } })), junk });
      const got = fields(podTemplateViolations({ template: t, namespace: "ns" }));
      assert.deepEqual(got, privileged.flatMap((p, i) => (p ? [`spec.template.spec.containers[${i}].securityContext.privileged`] : [])));
    }));
    fc.assert(fc.property(fc.anything(), (t) => { podTemplateViolations({ template: t, namespace: "ns" }); }));
  });
});

describe("Pod Security labels of the namespaces the agent creates", () => {
  it("enforce restricted by default, baseline only when the policy says so, never anything looser", () => {
    assert.equal(podSecurityLevelOf(undefined), "restricted");
    assert.equal(podSecurityLevelOf({ podSecurity: {} }), "restricted");
    assert.equal(podSecurityLevelOf({ podSecurity: { level: "baseline" } }), "baseline");
    assert.deepEqual(namespacePodSecurityLabels(), { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" });
    assert.equal(namespacePodSecurityLabels("baseline")["pod-security.kubernetes.io/enforce"], "baseline");
    for (const level of ["privileged", "Baseline", "", "unknown"]) assert.equal(namespacePodSecurityLabels(level)["pod-security.kubernetes.io/enforce"], "restricted", level);
  });
});

describe("the guard's parameter and annotations", () => {
  it("declares no exposure explicitly as none, and lists laws sorted otherwise", () => {
    const rows: [string[], string][] = [[[], "none"], [[" "], "none"], [["US-FISA-702", "US-CLOUD-Act"], "US-CLOUD-Act,US-FISA-702"], [["US-CLOUD-Act", "US-CLOUD-Act"], "US-CLOUD-Act"]];
    for (const [laws, want] of rows) assert.equal(guardExposureFact(laws), want, JSON.stringify(laws));
  });

  it("parses booleans as Go's ParseBool does; anything else is no boolean", () => {
    const rows: [string | undefined, boolean | undefined][] = [
      ["true", true], ["True", true], ["TRUE", true], ["1", true], ["t", true], ["T", true],
      ["false", false], ["False", false], ["FALSE", false], ["0", false], ["f", false], ["F", false],
      ["yes", undefined], ["tRUE", undefined], [" true", undefined], ["", undefined], [undefined, undefined],
    ];
    for (const [value, want] of rows) assert.equal(parseGuardBoolean(value), want, JSON.stringify(value));
  });
});
