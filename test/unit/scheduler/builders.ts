// Small builders so each test states only the facts it is about.
import { createSnapshot, reasonsOf, type ClusterInfo, type ClusterView, type FilterPlugin, type PlacementRequest, type Reason } from "../../../operator/src/scheduler/index.ts";

export const NOW = Date.parse("2026-11-28T00:00:00Z");
export const GiB = 2 ** 30;

export function cluster(overrides: Partial<ClusterView> & { name?: string } = {}): ClusterView {
  return {
    name: "c1",
    ready: true,
    country: "FR",
    jurisdiction: "EU",
    region: "eu-west-par",
    extraterritorialExposure: [],
    certifications: [],
    taints: [],
    labels: {},
    free: { cpuMilli: 64_000, memoryBytes: 256 * GiB, pods: 110 },
    ...overrides,
  };
}

export function request(overrides: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    workload: "ns/app",
    replicas: 2,
    mode: "Divided",
    constraints: [],
    tolerations: [],
    perReplica: { cpuMilli: 0, memoryBytes: 0 },
    ...overrides,
  };
}

/** Runs one filter plugin on one cluster, as the pipeline would. Null when the plugin skips. */
export function runFilter(plugin: FilterPlugin, { cluster: view, request: req = request(), now = NOW }: {
  cluster: ClusterView | ClusterInfo;
  request?: PlacementRequest;
  now?: number;
}): readonly Reason[] | null {
  const f = plugin.prepare({ request: req, now });
  if (!f) return null;
  const verdicts = new Int32Array(1);
  f(createSnapshot(["view" in view ? view.view : view]), verdicts);
  return reasonsOf(verdicts[0]!);
}
