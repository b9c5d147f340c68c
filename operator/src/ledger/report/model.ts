/**
 * The residency report as data: what a verified trail says about each workload, with no
 * I/O. Placement records say how many replicas a cluster holds after each change, so a
 * workload's presence on a cluster is a step function of time; the report reads it into
 * stays (time ranges of constant replicas), the decisions that changed it (moves, with
 * their reasons and who decided), the certifications each stay was decided on, and how
 * well the members' own attestations cover the time they held replicas.
 *
 * The report claims nothing past the trail's end: a stay still open when the window ends
 * ends there, marked open. The window's end is --until, else the export's time (its
 * heads are signed then), since that is the last instant the trail speaks for.
 */
import { validityEnd } from "../../scheduler/index.ts";
import { parseLine, ShapeError } from "../parse.ts";
import { PlacementAction, RecordType } from "../record.ts";
import type { AttestationBody, FactsBody, HeadBody, LedgerRecord, PlacementBody } from "../record.ts";
import { splitLines, verifyLedger } from "../verify.ts";
import type { Finding, VerifyReport } from "../verify.ts";

/** The agent attests at every change and at least this often (issue 17: every 5 minutes). */
export const DEFAULT_ATTESTATION_PERIOD_MS = 5 * 60_000;

export interface WorkloadRef {
  namespace: string;
  name: string;
  uid: string;
}

/** A time range during which one cluster held a constant, non-zero number of the workload's replicas. */
export interface Stay {
  cluster: string;
  country: string;
  from: string;
  to: string;
  replicas: number;
  /** The stay still ran when the window ended: the trail says nothing after `to`. */
  open: boolean;
  /** The placement record that set these replicas (it may precede the window). */
  recordId: string;
}

export interface ClusterPresence {
  cluster: string;
  country: string;
  provider: string;
  region: string;
  stays: Stay[];
  /** Total time with replicas, within the window. */
  heldMs: number;
  maxReplicas: number;
}

export interface CountryPresence {
  country: string;
  clusters: ClusterPresence[];
  heldMs: number;
}

/** A certification a stay was decided on, as the member's recorded facts declared it. */
export interface CertificationUse {
  cluster: string;
  country: string;
  name: string;
  version: string;
  validUntil: string;
  /** The workload's requirements named it at decision time (else the member merely declared it). */
  required: boolean;
  /** First and last instants replicas ran on the cluster under a decision that recorded it. */
  from: string;
  to: string;
  /** Valid at every decision time that recorded it. */
  validAtDecision: boolean;
  /** When it expired while replicas still ran there on its strength; null if it did not. */
  lapsedAt: string | null;
}

/** One placement record: a change of the replicas one cluster holds, and why. */
export interface Move {
  time: string;
  recordId: string;
  /** Line of the export (1-based). */
  line: number;
  action: PlacementAction;
  cluster: string;
  country: string;
  fromCluster: string;
  replicasBefore: number;
  replicasAfter: number;
  reasons: string[];
  decidedBy: string;
  /** The replicas left (or came from) a member the control plane had lost. */
  failover: boolean;
  /** What verification found wrong with this record. */
  findings: string[];
}

export interface AttestationGap {
  cluster: string;
  from: string;
  to: string;
  durationMs: number;
}

/** How well one member's attestations cover the time it held the workload's replicas. */
export interface MemberCoverage {
  cluster: string;
  attestations: number;
  first: string | null;
  last: string | null;
  heldMs: number;
  coveredMs: number;
  gaps: AttestationGap[];
  /** Attestations whose pod count differs from the replicas placed there at that instant. */
  podsDiffer: number;
  /** When the member looked (its signed observedAt), oldest first. */
  observedAt: string[];
}

export interface AttestationCoverage {
  periodMs: number;
  members: MemberCoverage[];
  gaps: AttestationGap[];
  heldMs: number;
  coveredMs: number;
  /** Attestations of the workload in the window, from any member. */
  total: number;
}

export interface WorkloadReport {
  workload: WorkloadRef;
  countries: CountryPresence[];
  /** Every stay, by start time then cluster. */
  stays: Stay[];
  certifications: CertificationUse[];
  moves: Move[];
  attestation: AttestationCoverage;
}

export interface VerificationSummary {
  clean: boolean;
  findings: Finding[];
  records: number;
  chains: string[];
  signatures: number;
  attestations: number;
  placements: number;
  from: string | null;
  to: string | null;
}

export interface ResidencyReport {
  federation: string | null;
  generatedAt: string;
  /** "all", or the workload asked for ("namespace/name" or "name"). */
  selection: string;
  window: { from: string; to: string };
  /**
   * Chains this export holds only from a later position on (exported with --since, which
   * `from` is): what was placed before it is not in the trail, so a workload may have run
   * where the report cannot say.
   */
  truncated: { chain: string; from: string }[];
  verification: VerificationSummary;
  workloads: WorkloadReport[];
}

/** Which workloads: all of them, or those of this name (in this namespace, when given). */
export type Selection = { all: true } | { all: false; name: string; namespace: string | undefined };

export interface NumberedRecord {
  line: number;
  record: LedgerRecord;
}

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Reads and verifies an export, then builds its report: the one entry the command needs. */
export function reportOfExport({ data, selection, since, until, generatedAt, attestationPeriodMs = DEFAULT_ATTESTATION_PERIOD_MS, trust }: {
  data: Uint8Array;
  selection: Selection;
  since: Date | undefined;
  until: Date | undefined;
  generatedAt: Date;
  attestationPeriodMs?: number;
  trust?: readonly string[];
}): ResidencyReport {
  const verification = verifyLedger({ data, ...(trust ? { trust } : {}) });
  const records: NumberedRecord[] = [];
  splitLines(data).forEach((bytes, i) => {
    try {
      records.push({ line: i + 1, record: parseLine(bytes) });
    } catch (err) {
      // Verification names the line already; the report goes on with what it can read.
      if (!(err instanceof ShapeError)) throw err;
    }
  });
  return buildReport({ records, verification, selection, since, until, generatedAt, attestationPeriodMs });
}

function matches(selection: Selection, w: WorkloadRef): boolean {
  return selection.all || (w.name === selection.name && (selection.namespace === undefined || w.namespace === selection.namespace));
}

export function buildReport({ records, verification, selection, since, until, generatedAt, attestationPeriodMs }: {
  records: readonly NumberedRecord[];
  verification: VerifyReport;
  selection: Selection;
  since: Date | undefined;
  until: Date | undefined;
  generatedAt: Date;
  attestationPeriodMs: number;
}): ResidencyReport {
  const chainRecords = records.filter((r) => r.record.type !== RecordType.Head);
  const heads = records.filter((r) => r.record.type === RecordType.Head);
  // The trail speaks up to its export (the heads' time), else up to its last record.
  const trailEnd = maxTime([...heads, ...chainRecords].map((r) => r.record.time)) ?? generatedAt.toISOString();
  // It starts where its export says it does (--since), else at its first record; key records come along from before.
  const exportedSince = minTime(heads.map((h) => (h.record.body as HeadBody).since).filter((t): t is string => t !== null));
  const trailStart = exportedSince ?? minTime(chainRecords.filter((r) => r.record.type !== RecordType.Key).map((r) => r.record.time)) ?? minTime(chainRecords.map((r) => r.record.time)) ?? trailEnd;
  const windowTo = until && until.getTime() < ms(trailEnd) ? until.getTime() : ms(trailEnd);
  const windowFrom = Math.min(since ? since.getTime() : ms(trailStart), windowTo);

  // Records in time order; a stable sort keeps a chain's order among records of one instant.
  const ordered = [...chainRecords].sort((a, b) => ms(a.record.time) - ms(b.record.time) || a.line - b.line);
  const byUid = new Map<string, { ref: WorkloadRef; placements: NumberedRecord[]; attestations: NumberedRecord[] }>();
  const entry = (ref: WorkloadRef) => {
    let e = byUid.get(ref.uid);
    if (!e) byUid.set(ref.uid, (e = { ref: { ...ref }, placements: [], attestations: [] }));
    return e;
  };
  for (const r of ordered) {
    if (r.record.type === RecordType.Placement) entry((r.record.body as PlacementBody).workload).placements.push(r);
    else if (r.record.type === RecordType.Attestation) entry((r.record.body as AttestationBody).attestation.workload).attestations.push(r);
  }
  const findingsById = new Map<string, string[]>();
  for (const f of verification.findings) if (f.recordId) findingsById.set(f.recordId, [...(findingsById.get(f.recordId) ?? []), f.problem]);

  const workloads = [...byUid.values()]
    .filter((e) => matches(selection, e.ref))
    .map((e) => workloadReport({ ...e, windowFrom, windowTo, attestationPeriodMs, findingsById }))
    .filter((w) => w.stays.length > 0 || w.moves.length > 0 || w.attestation.total > 0)
    .sort((a, b) => cmp(a.workload.namespace, b.workload.namespace) || cmp(a.workload.name, b.workload.name) || cmp(a.workload.uid, b.workload.uid));

  const bySeq = new Map(chainRecords.map((r) => [`${r.record.chain}:${r.record.seq}`, r.record]));
  const truncated = heads.flatMap(({ record }) => {
    const { first, since: exportedFrom } = record.body as HeadBody;
    const at = first && first.seq > 1 ? bySeq.get(`${record.chain}:${first.seq}`) : undefined;
    return at ? [{ chain: record.chain, from: exportedFrom ?? at.time }] : [];
  }).sort((a, b) => cmp(a.chain, b.chain));

  const c = verification.checked;
  return {
    federation: c.federation,
    generatedAt: generatedAt.toISOString(),
    selection: selection.all ? "all" : selection.namespace ? `${selection.namespace}/${selection.name}` : selection.name,
    window: { from: iso(windowFrom), to: iso(windowTo) },
    truncated,
    verification: {
      clean: verification.findings.length === 0,
      findings: verification.findings,
      records: c.records,
      chains: c.chains.map((ch) => ch.chain),
      signatures: c.signatures,
      attestations: c.attestations,
      placements: c.placements,
      from: c.from,
      to: c.to,
    },
    workloads,
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const maxTime = (ts: readonly string[]) => (ts.length ? ts.reduce((a, b) => (b > a ? b : a)) : undefined);
const minTime = (ts: readonly string[]) => (ts.length ? ts.reduce((a, b) => (b < a ? b : a)) : undefined);

interface OpenStay {
  replicas: number;
  since: number;
  country: string;
  record: NumberedRecord;
}

interface RawStay {
  cluster: string;
  country: string;
  from: number;
  to: number;
  replicas: number;
  open: boolean;
  record: NumberedRecord;
}

function workloadReport({ ref, placements, attestations, windowFrom, windowTo, attestationPeriodMs, findingsById }: {
  ref: WorkloadRef;
  placements: readonly NumberedRecord[];
  attestations: readonly NumberedRecord[];
  windowFrom: number;
  windowTo: number;
  attestationPeriodMs: number;
  findingsById: ReadonlyMap<string, string[]>;
}): WorkloadReport {
  const current = new Map<string, OpenStay>();
  const raw: RawStay[] = [];
  const moves: Move[] = [];
  const facts = new Map<string, FactsBody>();
  const close = (cluster: string, s: OpenStay, at: number, open: boolean) => {
    const from = Math.max(s.since, windowFrom);
    const to = Math.min(at, windowTo);
    if (s.replicas > 0 && from < to) raw.push({ cluster, country: s.country, from, to, replicas: s.replicas, open, record: s.record });
  };
  for (const r of placements) {
    const t = ms(r.record.time);
    // Records after the window cannot change what ran in it; records before it set the state it starts with.
    if (t > windowTo) break;
    const b = r.record.body as PlacementBody;
    if (b.facts) facts.set(b.cluster, b.facts);
    const before = current.get(b.cluster)?.replicas ?? 0;
    // A rejection records a refusal: nothing was placed or removed by it.
    const after = b.action === PlacementAction.Rejected ? before : b.replicas;
    if (t >= windowFrom) {
      moves.push({
        time: r.record.time, recordId: r.record.id, line: r.line, action: b.action, cluster: b.cluster, country: b.country,
        fromCluster: b.fromCluster, replicasBefore: before, replicasAfter: after, reasons: [...b.reasons], decidedBy: b.decidedBy,
        failover: b.reasons.includes("Failover"), findings: findingsById.get(r.record.id) ?? [],
      });
    }
    if (after === before) continue;
    const open = current.get(b.cluster);
    if (open) close(b.cluster, open, t, false);
    // Removed and placed again at the same instant (two records, one time): one stay, not two that touch.
    const last = raw.findLast((x) => x.cluster === b.cluster);
    if (last && last.to === t && last.replicas === after && last.country === b.country && !last.open) {
      raw.splice(raw.lastIndexOf(last), 1);
      current.set(b.cluster, { replicas: after, since: last.from, country: b.country, record: last.record });
      continue;
    }
    current.set(b.cluster, { replicas: after, since: t, country: b.country, record: r });
  }
  for (const [cluster, s] of current) close(cluster, s, windowTo, true);
  raw.sort((a, b) => a.from - b.from || cmp(a.cluster, b.cluster));
  // One decision writes a record per cluster, possibly into several chains: read what left before what arrived.
  moves.sort((a, b) => ms(a.time) - ms(b.time) || Number(a.replicasAfter > a.replicasBefore) - Number(b.replicasAfter > b.replicasBefore) || cmp(a.cluster, b.cluster));

  const stays: Stay[] = raw.map((s) => ({ cluster: s.cluster, country: s.country, from: iso(s.from), to: iso(s.to), replicas: s.replicas, open: s.open, recordId: s.record.record.id }));
  return {
    workload: { ...ref },
    countries: presenceOf(stays, raw, facts),
    stays,
    certifications: certificationsOf(raw),
    moves,
    attestation: coverageOf({ raw, attestations, windowFrom, windowTo, periodMs: attestationPeriodMs }),
  };
}

function presenceOf(stays: readonly Stay[], raw: readonly RawStay[], facts: ReadonlyMap<string, FactsBody>): CountryPresence[] {
  const countries = new Map<string, Map<string, ClusterPresence>>();
  stays.forEach((s, i) => {
    const clusters = countries.get(s.country) ?? new Map<string, ClusterPresence>();
    countries.set(s.country, clusters);
    const f = facts.get(s.cluster);
    const p = clusters.get(s.cluster) ?? { cluster: s.cluster, country: s.country, provider: f?.provider ?? "", region: f?.region ?? "", stays: [], heldMs: 0, maxReplicas: 0 };
    clusters.set(s.cluster, p);
    p.stays.push(s);
    p.heldMs += raw[i]!.to - raw[i]!.from;
    p.maxReplicas = Math.max(p.maxReplicas, s.replicas);
  });
  return [...countries.entries()].sort((a, b) => cmp(a[0], b[0])).map(([country, clusters]) => {
    const list = [...clusters.values()].sort((a, b) => cmp(a.cluster, b.cluster));
    return { country, clusters: list, heldMs: list.reduce((n, c) => n + c.heldMs, 0) };
  });
}

function certificationsOf(raw: readonly RawStay[]): CertificationUse[] {
  const out = new Map<string, CertificationUse & { fromMs: number; toMs: number }>();
  for (const s of raw) {
    const b = s.record.record.body as PlacementBody;
    if (!b.facts) continue;
    const decidedAt = ms(s.record.record.time);
    const required = new Set(b.requirements?.requiredCertifications ?? []);
    for (const c of b.facts.certifications) {
      const key = JSON.stringify([s.cluster, c.name, c.version, c.validUntil]);
      const end = validityEnd(c.validUntil);
      // NaN (an unreadable date) compares false: such a certification was never valid.
      const valid = decidedAt < end;
      const lapse = valid && end < s.to ? end : undefined;
      const u = out.get(key);
      if (!u) {
        out.set(key, {
          cluster: s.cluster, country: s.country, name: c.name, version: c.version, validUntil: c.validUntil, required: required.has(c.name),
          from: iso(s.from), to: iso(s.to), fromMs: s.from, toMs: s.to, validAtDecision: valid, lapsedAt: lapse === undefined ? null : iso(Math.max(lapse, s.from)),
        });
        continue;
      }
      u.required ||= required.has(c.name);
      u.validAtDecision &&= valid;
      if (s.from < u.fromMs) u.from = iso((u.fromMs = s.from));
      if (s.to > u.toMs) u.to = iso((u.toMs = s.to));
      if (lapse !== undefined && u.lapsedAt === null) u.lapsedAt = iso(Math.max(lapse, s.from));
    }
  }
  return [...out.values()]
    .map(({ fromMs: _f, toMs: _t, ...u }) => u)
    .sort((a, b) => cmp(a.country, b.country) || cmp(a.cluster, b.cluster) || Number(b.required) - Number(a.required) || cmp(a.name, b.name));
}

/** Merges a cluster's stays that touch into the spans it held replicas without a break. */
function spansOf(raw: readonly RawStay[]): Map<string, { from: number; to: number }[]> {
  const out = new Map<string, { from: number; to: number }[]>();
  for (const s of raw) {
    const spans = out.get(s.cluster) ?? [];
    out.set(s.cluster, spans);
    const last = spans.at(-1);
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else spans.push({ from: s.from, to: s.to });
  }
  return out;
}

function coverageOf({ raw, attestations, windowFrom, windowTo, periodMs }: {
  raw: readonly RawStay[];
  attestations: readonly NumberedRecord[];
  windowFrom: number;
  windowTo: number;
  periodMs: number;
}): AttestationCoverage {
  // The member's own clock says when it looked (observedAt, under its signature).
  const seen = attestations
    .map((r) => (r.record.body as AttestationBody).attestation)
    .map((a) => ({ member: a.member, at: ms(a.observedAt), pods: a.pods }))
    .filter((a) => a.at >= windowFrom && a.at <= windowTo);
  const spans = spansOf(raw);
  const members = new Set([...spans.keys(), ...seen.map((a) => a.member)]);
  const out: MemberCoverage[] = [];
  for (const cluster of [...members].sort(cmp)) {
    const mine = seen.filter((a) => a.member === cluster).sort((a, b) => a.at - b.at);
    const gaps: AttestationGap[] = [];
    let heldMs = 0;
    for (const span of spans.get(cluster) ?? []) {
      heldMs += span.to - span.from;
      const points = [span.from, ...mine.filter((a) => a.at > span.from && a.at < span.to).map((a) => a.at), span.to];
      for (let i = 1; i < points.length; i++) {
        const d = points[i]! - points[i - 1]!;
        if (d > periodMs) gaps.push({ cluster, from: iso(points[i - 1]!), to: iso(points[i]!), durationMs: d });
      }
    }
    const podsDiffer = mine.filter((a) => a.pods !== replicasAt(raw, cluster, a.at)).length;
    out.push({
      cluster, attestations: mine.length, first: mine[0] ? iso(mine[0].at) : null, last: mine.at(-1) ? iso(mine.at(-1)!.at) : null,
      heldMs, coveredMs: heldMs - gaps.reduce((n, g) => n + g.durationMs, 0), gaps, podsDiffer, observedAt: mine.map((a) => iso(a.at)),
    });
  }
  const heldMs = out.reduce((n, m) => n + m.heldMs, 0);
  return {
    periodMs, members: out, gaps: out.flatMap((m) => m.gaps).sort((a, b) => cmp(a.from, b.from) || cmp(a.cluster, b.cluster)),
    heldMs, coveredMs: out.reduce((n, m) => n + m.coveredMs, 0), total: seen.length,
  };
}

/** Replicas placed on `cluster` at instant `at` (a stay holds from its start, inclusive, to its end, exclusive, or inclusive when it runs on past the window). */
function replicasAt(raw: readonly RawStay[], cluster: string, at: number): number {
  return raw.find((s) => s.cluster === cluster && s.from <= at && (at < s.to || (s.open && at === s.to)))?.replicas ?? 0;
}
