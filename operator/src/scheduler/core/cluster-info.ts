import type { ClusterView } from "./types.ts";
import { validityEnd } from "./validity.ts";

export interface CertificationInfo {
  name: string;
  version: string;
  /** Exclusive end of validity, epoch ms; NaN when unreadable (never valid). */
  end: number;
}

/**
 * A cluster with the facts the filters need pre-digested once per snapshot rather
 * than once per decision (like kube-scheduler's NodeInfo): parsing a date costs more
 * than the whole filter pass it would slow down.
 */
export interface ClusterInfo {
  readonly view: ClusterView;
  readonly name: string;
  readonly certifications: readonly CertificationInfo[];
  /** Spread groups clusters by country and, within one, by region. */
  readonly regionKey: string;
}

export function clusterInfo(view: ClusterView): ClusterInfo {
  return {
    view,
    name: view.name,
    certifications: view.certifications.map((c) => ({ name: c.name, version: c.version, end: validityEnd(c.validUntil) })),
    regionKey: `${view.country}/${view.region ?? ""}`,
  };
}
