import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { GROUP, VERSION } from "../../../operator/src/api/index.ts";
import { memberClusterInformer, residencyPolicyInformer, sovereignWorkloadInformer } from "../../../operator/src/kube/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { createNamespace, deleteNamespace, hostKubeConfig } from "./helpers.ts";

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });

describe("informers for the sovereignty.eu CRDs on the host", function () {
  this.timeout(60_000);
  let kc: KubeConfig;
  let api: CustomObjectsApi;
  const suffix = randomBytes(3).toString("hex");
  const ns = `crd-informers-${suffix}`;
  const stop = new AbortController();

  before(async () => {
    kc = hostKubeConfig();
    api = kc.makeApiClient(CustomObjectsApi);
    await createNamespace(kc, ns);
  });
  after(async () => {
    stop.abort();
    await api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: "memberclusters", name: `mc-${suffix}` }).catch(() => undefined);
    await api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: "residencypolicies", name: `rp-${suffix}` }).catch(() => undefined);
    await deleteNamespace(kc, ns);
  });

  it("each syncs and sees an object of its kind created, under the key the reconcilers use", async () => {
    const informers = {
      mc: memberClusterInformer({ kubeConfig: kc, log }),
      rp: residencyPolicyInformer({ kubeConfig: kc, log }),
      swl: sovereignWorkloadInformer({ kubeConfig: kc, log }),
    };
    for (const i of Object.values(informers)) void i.start(stop.signal);
    await Promise.all(Object.values(informers).map((i) => i.waitForSync(AbortSignal.timeout(30_000))));

    await api.createClusterCustomObject({ group: GROUP, version: VERSION, plural: "memberclusters", body: {
      apiVersion: `${GROUP}/${VERSION}`, kind: "MemberCluster", metadata: { name: `mc-${suffix}` },
      spec: { residency: { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [], certifications: [] } },
    } });
    await api.createClusterCustomObject({ group: GROUP, version: VERSION, plural: "residencypolicies", body: {
      apiVersion: `${GROUP}/${VERSION}`, kind: "ResidencyPolicy", metadata: { name: `rp-${suffix}` }, spec: { allowedCountries: ["FR"] },
    } });
    await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: "sovereignworkloads", body: {
      apiVersion: `${GROUP}/${VERSION}`, kind: "SovereignWorkload", metadata: { name: "web", namespace: ns },
      spec: { replicas: 1, residencyPolicy: `rp-${suffix}`, placement: { mode: "Divided" },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "registry.example.eu/web:1" }] } } },
    } });

    const mc = await waitFor(() => informers.mc.get(`mc-${suffix}`), { what: "MemberCluster in cache", timeoutMs: 20_000, intervalMs: 50 });
    assert.equal(mc.spec.residency.country, "FR");
    const rp = await waitFor(() => informers.rp.get(`rp-${suffix}`), { what: "ResidencyPolicy in cache", timeoutMs: 20_000, intervalMs: 50 });
    assert.deepEqual(rp.spec.allowedCountries, ["FR"]);
    const swl = await waitFor(() => informers.swl.get(`${ns}/web`), { what: "SovereignWorkload in cache", timeoutMs: 20_000, intervalMs: 50 });
    assert.equal(swl.spec.replicas, 1);
  });
});
