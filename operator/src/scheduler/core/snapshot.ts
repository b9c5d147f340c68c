import { clusterInfo, regionKeyOf, type ClusterInfo } from "./cluster-info.ts";
import type { Locality } from "./locality.ts";
import { isReservedLabelKey } from "./label-keys.ts";
import { byName } from "./order.ts";
import type { ClusterView } from "./types.ts";

/** Two clusters with one name: the input is wrong, retrying will not help. */
export class DuplicateClusterError extends Error {
  override readonly name = "DuplicateClusterError";
  readonly retryable = false;
  readonly cluster: string;
  constructor(cluster: string) {
    super(`cluster "${cluster}" appears more than once in the snapshot`);
    this.cluster = cluster;
  }
}

/**
 * Facts of every cluster as arrays indexed like `Snapshot.clusters`, built on first
 * use and kept for the snapshot's life: filters read one value per cluster per
 * decision, and a flat array is far cheaper to scan than a map per cluster.
 */
export interface SnapshotColumns {
  /** 1 when the cluster is Ready. */
  readonly ready: Uint8Array;
  /** 1 when the cluster has a NoSchedule/NoExecute taint. */
  readonly tainted: Uint8Array;
  /** 1 when the cluster is exposed to an extraterritorial law. */
  readonly exposed: Uint8Array;
  /** Index into `countries` of each cluster's country. */
  readonly country: Int32Array;
  readonly countries: readonly string[];
  /** Index into `jurisdictions` of each cluster's jurisdiction. */
  readonly jurisdiction: Int32Array;
  readonly jurisdictions: readonly string[];
  /** Free capacity; Infinity where the cluster has not reported it. */
  readonly freePods: Float64Array;
  readonly freeCpuMilli: Float64Array;
  readonly freeMemoryBytes: Float64Array;
  /**
   * Per cluster, the latest end of validity (epoch ms, exclusive) of the certification
   * `name`: NaN when the cluster does not hold it, -Infinity when it holds it but no
   * entry's validUntil is readable.
   */
  certificationEnds(name: string): Float64Array;
  /** Per cluster, its own label `key`; always undefined for the reserved residency keys. */
  ownLabel(key: string): readonly (string | undefined)[];
}

/**
 * The clusters as one decision (or many) sees them, sorted by name. Sorting here is
 * what makes the decision independent of the order the caller listed clusters in, and
 * doing it once per snapshot keeps it out of the per-workload cost.
 */
export interface Snapshot {
  readonly clusters: readonly ClusterInfo[];
  readonly columns: SnapshotColumns;
  /** Distinct countries and (country, region) localities, numbered in name order of their first cluster. */
  readonly countryCount: number;
  readonly localities: readonly Locality[];
}

/** Numbers each distinct value in order of first appearance. */
function indexed(values: readonly string[]): { index: Int32Array; names: string[] } {
  const numbers = new Map<string, number>();
  const index = new Int32Array(values.length);
  values.forEach((v, i) => {
    let k = numbers.get(v);
    if (k === undefined) numbers.set(v, (k = numbers.size));
    index[i] = k;
  });
  return { index, names: [...numbers.keys()] };
}

function columnsOf(clusters: readonly ClusterInfo[]): SnapshotColumns {
  const certs = new Map<string, Float64Array>();
  const labels = new Map<string, (string | undefined)[]>();
  const flag = (test: (c: ClusterInfo) => boolean) => Uint8Array.from(clusters, (c) => (test(c) ? 1 : 0));
  const countries = indexed(clusters.map((c) => c.country));
  const jurisdictions = indexed(clusters.map((c) => c.jurisdiction));
  return {
    ready: flag((c) => c.ready),
    tainted: flag((c) => c.blockingTaints.length > 0),
    exposed: flag((c) => c.exposed),
    country: countries.index,
    countries: countries.names,
    jurisdiction: jurisdictions.index,
    jurisdictions: jurisdictions.names,
    freePods: Float64Array.from(clusters, (c) => (c.free ? c.free.pods : Infinity)),
    freeCpuMilli: Float64Array.from(clusters, (c) => (c.free ? c.free.cpuMilli : Infinity)),
    freeMemoryBytes: Float64Array.from(clusters, (c) => (c.free ? c.free.memoryBytes : Infinity)),
    certificationEnds(name) {
      let column = certs.get(name);
      if (!column) {
        column = Float64Array.from(clusters, (c) => c.certificationEnds.get(name) ?? NaN);
        certs.set(name, column);
      }
      return column;
    },
    ownLabel(key) {
      let column = labels.get(key);
      if (!column) {
        const reserved = isReservedLabelKey(key);
        column = clusters.map((c) => (!reserved && Object.hasOwn(c.view.labels, key) ? c.view.labels[key] : undefined));
        labels.set(key, column);
      }
      return column;
    },
  };
}

export function createSnapshot(clusters: readonly ClusterView[]): Snapshot {
  const views = [...clusters].sort(byName);
  for (let i = 1; i < views.length; i++) {
    if (views[i]!.name === views[i - 1]!.name) throw new DuplicateClusterError(views[i]!.name);
  }
  const countries = new Map<string, number>();
  const localities = new Map<string, Locality>();
  const infos = views.map((view, index) => {
    const regionKey = regionKeyOf(view);
    let locality = localities.get(regionKey);
    if (!locality) {
      let countryIndex = countries.get(view.country);
      if (countryIndex === undefined) countries.set(view.country, (countryIndex = countries.size));
      locality = { country: view.country, regionKey, countryIndex, regionIndex: localities.size };
      localities.set(regionKey, locality);
    }
    return clusterInfo(view, { index, locality });
  });
  return { clusters: infos, columns: columnsOf(infos), countryCount: countries.size, localities: [...localities.values()] };
}
