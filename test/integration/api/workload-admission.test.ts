import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { TEST_NAMESPACE, validSovereignWorkload } from "../../support/bad-manifests.ts";
import { repoRoot } from "../env.ts";
import { host, installCrds } from "./kube.ts";
import type { Host } from "./kube.ts";

/**
 * What the CRD's CEL cannot see, checked on the host by the control-plane chart's
 * ValidatingAdmissionPolicy (charts/control-plane/files/workload-admission.yaml): a
 * SovereignWorkload's namespace. Server-side dry runs, so nothing is stored.
 */
describe("SovereignWorkload namespaces on the host API server", () => {
  let kube: Host;
  const run = randomBytes(3).toString("hex");
  const create = (namespace: string) => {
    const doc = validSovereignWorkload(`ns-${run}`) as { metadata: Record<string, unknown> };
    doc.metadata.namespace = namespace;
    return kube.run(["create", "--dry-run=server", "-f", "-"], JSON.stringify(doc));
  };

  before(async () => {
    kube = host();
    await installCrds(kube);
    // The control-plane chart installs it on the local federation's host (Helm applies it server-side: taking over its
    // fields here would make the next helm upgrade conflict). Created only when missing, e.g. with --rbac admin.
    const created = kube.run(["create", "-f", path.join(repoRoot, "charts/control-plane/files/workload-admission.yaml")]);
    if (created.status !== 0 && !/AlreadyExists/.test(created.stderr)) throw new Error(created.stderr);
    for (const ns of [TEST_NAMESPACE, "sovereign-system"]) {
      const r = kube.run(["create", "namespace", ns]);
      if (r.status !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
    }
  });

  for (const namespace of ["kube-system", "kube-public", "sovereign-system"]) {
    it(`refuses one in ${namespace}, naming metadata.namespace; the same object is accepted in ${TEST_NAMESPACE} (the control)`, async () => {
      // The policy is compiled and picked up by the API server's informer shortly after it is applied.
      const refused = await waitFor(() => { const r = create(namespace); return r.status !== 0 ? r : undefined; }, { what: `a workload in ${namespace} refused`, timeoutMs: 30_000, intervalMs: 300 });
      assert.match(refused.stderr, /sovereign-workload-namespaces/);
      assert.match(refused.stderr, new RegExp(`metadata\\.namespace: Forbidden: "${namespace}"`));
      const accepted = create(TEST_NAMESPACE);
      assert.equal(accepted.status, 0, accepted.stderr);
    });
  }
});
