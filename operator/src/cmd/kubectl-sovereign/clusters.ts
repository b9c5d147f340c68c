// `kubectl sovereign clusters`: every MemberCluster's residency facts and health, as an
// auditor checks them: what is declared, what is still certified, who is alive.
import type { MemberCluster } from "../../api/index.ts";
import type { HostApi } from "../../kube/index.ts";
import { isValidAt, validityEnd } from "../../scheduler/index.ts";
import type { ClustersOptions } from "./live-options.ts";
import { formatAge, renderDocument, renderTable } from "./render.ts";

const DAY_MS = 86_400_000;

export interface CertificationView {
  name: string;
  version: string;
  validUntil: string;
  /** Whole days until the certification stops counting; null when expired or unreadable. */
  daysLeft: number | null;
  state: "valid" | "expired" | "unreadable";
}

export interface ClusterView {
  name: string;
  country: string;
  jurisdiction: string;
  provider: string;
  region: string;
  /** null: the cluster declares no exposure at all, which the scheduler never treats as "none". */
  extraterritorialExposure: string[] | null;
  certifications: CertificationView[];
  ready: { status: string; reason: string; message: string };
  lastHeartbeatTime: string | null;
  heartbeatAgeSeconds: number | null;
}

/** Certifications judged by the scheduler's own rule (a date is valid through its day, UTC). */
export function certificationView(c: { name: string; version?: string; validUntil: string }, now: number): CertificationView {
  const end = validityEnd(c.validUntil);
  const state = Number.isNaN(end) ? "unreadable" : isValidAt(end, now) ? "valid" : "expired";
  return { name: c.name, version: c.version ?? "", validUntil: c.validUntil, daysLeft: state === "valid" ? Math.floor((end - now) / DAY_MS) : null, state };
}

export function clusterView(mc: MemberCluster, now: number): ClusterView {
  const r = mc.spec.residency;
  const ready = mc.status?.conditions?.find((c) => c.type === "Ready");
  const beat = mc.status?.lastHeartbeatTime;
  const beatAt = beat === undefined ? NaN : Date.parse(beat);
  return {
    name: mc.metadata.name,
    country: r.country,
    jurisdiction: r.jurisdiction,
    provider: r.provider ?? "",
    region: r.region ?? "",
    extraterritorialExposure: Array.isArray(r.extraterritorialExposure) ? [...r.extraterritorialExposure] : null,
    certifications: (r.certifications ?? []).map((c) => certificationView(c, now)),
    ready: ready ? { status: ready.status, reason: ready.reason, message: ready.message } : { status: "Unknown", reason: "NoStatus", message: "the control plane has not reported on this cluster" },
    lastHeartbeatTime: beat ?? null,
    heartbeatAgeSeconds: Number.isNaN(beatAt) ? null : Math.max(0, Math.floor((now - beatAt) / 1000)),
  };
}

function certificationCell(c: CertificationView): string {
  return `${c.name}:${c.state === "valid" ? `${c.daysLeft}d` : c.state}`;
}

function exposureCell(e: string[] | null): string {
  return e === null ? "undeclared" : e.length === 0 ? "none" : e.join(",");
}

export function clustersTable(views: readonly ClusterView[]): string {
  if (views.length === 0) return "No MemberClusters on the host.\n";
  return renderTable(
    ["NAME", "COUNTRY", "JURISDICTION", "PROVIDER", "EXPOSURE", "CERTIFICATIONS", "READY", "REASON", "HEARTBEAT"],
    views.map((v) => [
      v.name, v.country, v.jurisdiction, v.provider, exposureCell(v.extraterritorialExposure),
      v.certifications.map(certificationCell).join(","), v.ready.status, v.ready.reason,
      v.heartbeatAgeSeconds === null ? "never" : `${formatAge(v.heartbeatAgeSeconds * 1000)} ago`,
    ]),
  );
}

export async function runClusters({ options, host, now, write }: { options: ClustersOptions; host: Pick<HostApi, "listMemberClusters">; now: Date; write: (text: string) => void }): Promise<void> {
  const views = (await host.listMemberClusters()).map((mc) => clusterView(mc, now.getTime())).sort((a, b) => a.name.localeCompare(b.name));
  write(options.output === "table" ? clustersTable(views) : renderDocument({ clusters: views }, options.output));
}
