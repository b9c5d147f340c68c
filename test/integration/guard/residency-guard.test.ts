import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { REQUIREMENT_ANNOTATIONS } from "../../../operator/src/api/index.ts";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { readFederationEnv, repoRoot, type FederationEnv } from "../env.ts";
import { kubectl, kubectlOk, type KubectlResult } from "../kubectl.ts";

/**
 * The member's residency guard (charts/member-agent/files/residency-guard.yaml) on a real
 * kube-apiserver, failing closed on every missing fact: probes are server-side dry runs of
 * pods, so nothing is left behind, and each refusal has an admitted positive control
 * under the same facts. `de` is a bare member (no agent rewrites the facts under us).
 */
const MEMBER = "de";
const NAMESPACE = "guard-it";
const SOVEREIGN = { "sovereignty.eu/workload-uid": "guard-it" };
const NO_CONSTRAINT = {
  [REQUIREMENT_ANNOTATIONS.allowedCountries]: "",
  [REQUIREMENT_ANNOTATIONS.allowedJurisdictions]: "",
  [REQUIREMENT_ANNOTATIONS.requiredCertifications]: "",
  [REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure]: "false",
};
const FORBID = REQUIREMENT_ANNOTATIONS.forbidExtraterritorialExposure;
const BASE_FACTS = { cluster: MEMBER, country: "DE", jurisdiction: "EU", validCertifications: "C5" };

describe("the residency guard fails closed on every missing fact", function () {
  this.timeout(120_000);
  let env: FederationEnv;
  let kc: (args: string[], input?: string) => KubectlResult;
  /** The facts last set: each probe waits until the guard sees them, through the positive control. */
  const run = randomBytes(3).toString("hex");

  const probe = (annotations: Record<string, string>, labels: Record<string, string> = SOVEREIGN) => kc(["create", "--dry-run=server", "-f", "-"], JSON.stringify({
    apiVersion: "v1", kind: "Pod",
    metadata: { name: `probe-${run}`, namespace: NAMESPACE, labels, annotations },
    spec: { containers: [{ name: "c", image: "registry.example.eu/app:1" }] },
  }));

  function setFacts(facts: Record<string, string>): void {
    kc(["-n", "sovereign-system", "delete", "configmap", "sovereign-residency-facts", "--ignore-not-found"]);
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[MEMBER]!, args: ["-n", "sovereign-system", "create", "configmap", "sovereign-residency-facts", ...Object.entries(facts).map(([k, v]) => `--from-literal=${k}=${v}`)] });
  }

  /** Waits until `check` holds of a probe: the binding reads the ConfigMap through an informer. */
  const until = (what: string, annotations: Record<string, string>, check: (r: KubectlResult) => boolean) =>
    waitFor(() => { const r = probe(annotations); return check(r) ? r : undefined; }, { what, timeoutMs: 30_000, intervalMs: 300 });

  before(() => {
    env = readFederationEnv();
    kc = (args, input) => kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[MEMBER]!, args, ...(input !== undefined ? { input } : {}) });
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: env.memberKubeconfigs[MEMBER]!, args: ["apply", "--server-side", "--field-manager=guard-test", "--force-conflicts", "-f", `${repoRoot}/charts/member-agent/files/residency-guard.yaml`] });
    for (const ns of [NAMESPACE, "sovereign-system"]) {
      const r = kc(["create", "namespace", ns]);
      if (r.status !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
    }
  });

  it("refuses a labelled pod without requirement annotations, or missing one, naming what is missing; admits one with all four", async () => {
    setFacts({ ...BASE_FACTS, extraterritorialExposure: "none" });
    const admitted = await until("a labelled pod with every annotation admitted", NO_CONSTRAINT, (r) => r.status === 0);
    assert.match(admitted.stdout, /created \(server dry run\)/);
    const bare = probe({});
    assert.notEqual(bare.status, 0, "a labelled pod without annotations was admitted");
    assert.match(bare.stderr, /must carry every residency annotation; missing \[residency\.sovereignty\.eu\/allowed-countries,residency\.sovereignty\.eu\/allowed-jurisdictions,residency\.sovereignty\.eu\/required-certifications,residency\.sovereignty\.eu\/forbid-extraterritorial-exposure\]/);
    const { [FORBID]: _dropped, ...withoutForbid } = NO_CONSTRAINT;
    const partial = probe(withoutForbid);
    assert.notEqual(partial.status, 0);
    assert.match(partial.stderr, /missing \[residency\.sovereignty\.eu\/forbid-extraterritorial-exposure\]/);
    // A pod without the label and without annotations is no sovereign pod: untouched.
    assert.equal(probe({}, { app: "plain" }).status, 0);
  });

  it("reads forbid-extraterritorial-exposure as a boolean: True and TRUE forbid as true does, yes is refused as no boolean", async () => {
    setFacts({ ...BASE_FACTS, extraterritorialExposure: "US-CLOUD-Act" });
    const forbid = (value: string) => ({ ...NO_CONSTRAINT, [FORBID]: value });
    await until("the exposed facts seen (true refused)", forbid("true"), (r) => /is exposed to \[US-CLOUD-Act\]/.test(r.stderr));
    for (const value of ["True", "TRUE", "1"]) {
      const r = probe(forbid(value));
      assert.notEqual(r.status, 0, `forbid ${value} was admitted on an exposed member`);
      assert.match(r.stderr, /the pod forbids extraterritorial exposure but member de is exposed to \[US-CLOUD-Act\]/, value);
    }
    const notBoolean = probe(forbid("yes"));
    assert.notEqual(notBoolean.status, 0);
    assert.match(notBoolean.stderr, /must be a boolean \(true or false\), got "yes"/);
    // Positive controls on the same facts: a pod that allows exposure is admitted, however it spells false.
    for (const value of ["false", "False"]) assert.equal(probe(forbid(value)).status, 0, value);
  });

  it("counts a member whose exposure fact is missing or blank as exposed; one declared none is not", async () => {
    const forbid = { ...NO_CONSTRAINT, [FORBID]: "true" };
    for (const facts of [BASE_FACTS, { ...BASE_FACTS, extraterritorialExposure: "" }]) {
      setFacts(facts);
      const refused = await until(`facts ${JSON.stringify(facts)} seen`, forbid, (r) => /declares no exposure fact, which counts as exposed/.test(r.stderr));
      assert.notEqual(refused.status, 0);
      assert.equal(probe(NO_CONSTRAINT).status, 0, "the positive control: a pod that allows exposure is admitted under the same facts");
    }
    setFacts({ ...BASE_FACTS, extraterritorialExposure: "none" });
    await until("a forbidding pod admitted on a member declared unexposed", forbid, (r) => r.status === 0);
  });

  it("refuses a pod whose constraints have nothing in common (the '-' the control plane stamps), and admits the member's own country", async () => {
    setFacts({ ...BASE_FACTS, extraterritorialExposure: "none" });
    await until("DE admitted", { ...NO_CONSTRAINT, [REQUIREMENT_ANNOTATIONS.allowedCountries]: "DE" }, (r) => r.status === 0);
    const nothing = probe({ ...NO_CONSTRAINT, [REQUIREMENT_ANNOTATIONS.allowedCountries]: "-" });
    assert.notEqual(nothing.status, 0);
    assert.match(nothing.stderr, /the pod allows countries \[-\] but member de is in country DE/);
  });
});
