import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson } from "../../../../operator/src/ledger/index.ts";
import type { LedgerRecord, PlacementBody } from "../../../../operator/src/ledger/index.ts";
import { reportOfExport } from "../../../../operator/src/ledger/report/index.ts";
import type { ResidencyReport, Selection, WorkloadReport } from "../../../../operator/src/ledger/report/index.ts";
import { DB, failoverTrail, MIN, REQUIRES_HDS, T0, Trail, WEB } from "./trail.ts";

const ALL: Selection = { all: true };
const at = (t: number) => new Date(t).toISOString();
const NOW = new Date(Date.UTC(2026, 11, 5));

function report(data: Uint8Array, over: { selection?: Selection; since?: number; until?: number; period?: number } = {}): ResidencyReport {
  return reportOfExport({
    data, selection: over.selection ?? ALL, since: over.since === undefined ? undefined : new Date(over.since), until: over.until === undefined ? undefined : new Date(over.until),
    generatedAt: NOW, ...(over.period ? { attestationPeriodMs: over.period } : {}),
  });
}
const web = (r: ResidencyReport): WorkloadReport => r.workloads.find((w) => w.workload.uid === WEB.uid)!;
const stays = (w: WorkloadReport) => w.stays.map((s) => [s.cluster, s.country, s.from, s.to, s.replicas, s.open]);

describe("residency report: what a verified trail says each workload did", () => {
  const { data } = failoverTrail();
  const r = report(data);

  it("says the trail verified and covers it from its first record to its export", async () => {
    assert.equal(r.verification.clean, true, JSON.stringify(r.verification.findings));
    assert.deepEqual(r.verification.chains, ["DE", "FR"]);
    assert.deepEqual(r.window, { from: at(T0), to: at(T0 + 60 * MIN) });
    assert.deepEqual(r.workloads.map((w) => `${w.workload.namespace}/${w.workload.name}`), ["health/patient-portal", "health/records-db"]);
  });

  it("gives the countries and clusters a workload ran in, with time ranges and replicas, the last one open at the export", async () => {
    assert.deepEqual(stays(web(r)), [
      ["ovh-par-1", "FR", at(T0), at(T0 + 30 * MIN), 3, false],
      ["ionos-fra-1", "DE", at(T0 + 30 * MIN), at(T0 + 45 * MIN), 3, false],
      ["ionos-fra-1", "DE", at(T0 + 45 * MIN), at(T0 + 60 * MIN), 4, true],
    ]);
    assert.deepEqual(web(r).countries.map((c) => [c.country, c.heldMs, c.clusters.map((k) => [k.cluster, k.provider, k.maxReplicas])]), [
      ["DE", 30 * MIN, [["ionos-fra-1", "IONOS", 4]]],
      ["FR", 30 * MIN, [["ovh-par-1", "OVHcloud", 3]]],
    ]);
  });

  it("lists every move with its reason and who decided, the failover's departure before its arrival", async () => {
    assert.deepEqual(web(r).moves.map((m) => [m.time, m.action, m.cluster, m.replicasBefore, m.replicasAfter, m.fromCluster, m.reasons.join(","), m.decidedBy, m.failover]), [
      [at(T0), "Placed", "ovh-par-1", 0, 3, "", "", "control-plane/sovereign-control-plane-0", false],
      [at(T0 + 30 * MIN), "Evicted", "ovh-par-1", 3, 0, "", "Failover", "control-plane/sovereign-control-plane-0", true],
      [at(T0 + 30 * MIN), "Moved", "ionos-fra-1", 0, 3, "ovh-par-1", "Failover", "control-plane/sovereign-control-plane-0", true],
      [at(T0 + 45 * MIN), "Placed", "ionos-fra-1", 3, 4, "", "", "control-plane/sovereign-control-plane-1", false],
    ]);
    for (const m of web(r).moves) assert.ok(m.line > 0 && m.findings.length === 0);
  });

  it("gives the certifications each stay was decided on, which were required, and their validity then", async () => {
    assert.deepEqual(web(r).certifications.map((c) => [c.cluster, c.name, c.validUntil, c.required, c.from, c.to, c.validAtDecision, c.lapsedAt]), [
      ["ionos-fra-1", "HDS", "2027-09-30", true, at(T0 + 30 * MIN), at(T0 + 60 * MIN), true, null],
      ["ionos-fra-1", "C5", "2027-12-31", false, at(T0 + 30 * MIN), at(T0 + 60 * MIN), true, null],
      ["ovh-par-1", "HDS", "2028-01-31", true, at(T0), at(T0 + 30 * MIN), true, null],
      ["ovh-par-1", "SecNumCloud", "2027-06-30", false, at(T0), at(T0 + 30 * MIN), true, null],
    ]);
  });

  it("finds the attestation gap of a member that went quiet while holding replicas, and none where members attested", async () => {
    const a = web(r).attestation;
    assert.equal(a.total, 24);
    assert.deepEqual(a.gaps.map((g) => [g.cluster, g.from, g.to, g.durationMs]), [["ovh-par-1", at(T0 + 19 * MIN + 30_000), at(T0 + 30 * MIN), 10 * MIN + 30_000]]);
    assert.deepEqual(a.members.map((m) => [m.cluster, m.attestations, m.heldMs, m.coveredMs, m.podsDiffer]), [
      ["ionos-fra-1", 14, 30 * MIN, 30 * MIN, 0],
      ["ovh-par-1", 10, 30 * MIN, 30 * MIN - (10 * MIN + 30_000), 0],
    ]);
  });

  it("a shorter attestation period finds more gaps, a longer one none (the gap is a gap of that period)", async () => {
    assert.equal(web(report(data, { period: 11 * MIN })).attestation.gaps.length, 0);
    // Attestations 2 minutes apart, the first 90 s after the placement, the last 2m 45s before the export: only the 10m 30s silence is longer than 3m.
    assert.deepEqual(web(report(data, { period: 3 * MIN })).attestation.gaps.map((g) => g.cluster), ["ovh-par-1"]);
    assert.ok(web(report(data, { period: 60_000 })).attestation.gaps.length > 10);
  });

  it("works without attestations: every minute with replicas is unconfirmed", async () => {
    const bare = report(failoverTrail({ attestations: false }).data);
    assert.equal(bare.verification.clean, true);
    const a = web(bare).attestation;
    assert.equal(a.total, 0);
    assert.equal(a.coveredMs, 0);
    assert.equal(a.heldMs, 60 * MIN);
    assert.deepEqual(a.gaps.map((g) => [g.cluster, g.durationMs]), [["ovh-par-1", 30 * MIN], ["ionos-fra-1", 30 * MIN]]);
    assert.deepEqual(stays(web(bare)), stays(web(r)), "the placements read the same with or without attestations");
  });

  it("--since starts from the state the earlier records left, --until stops there with the stay open", async () => {
    const w = web(report(data, { since: T0 + 10 * MIN, until: T0 + 40 * MIN }));
    assert.deepEqual(stays(w), [
      ["ovh-par-1", "FR", at(T0 + 10 * MIN), at(T0 + 30 * MIN), 3, false],
      ["ionos-fra-1", "DE", at(T0 + 30 * MIN), at(T0 + 40 * MIN), 3, true],
    ]);
    assert.deepEqual(w.moves.map((m) => m.cluster), ["ovh-par-1", "ionos-fra-1"], "only the moves inside the window");
    assert.equal(w.attestation.members.find((m) => m.cluster === "ovh-par-1")!.attestations, 5, "attestations 09:11:30 to 09:19:30");
  });

  it("says when the export starts after its chains' start (exported with --since), and reports nothing before it", async () => {
    assert.deepEqual(r.truncated, [], "a whole trail");
    const { trail } = failoverTrail({ attestations: false });
    const partial = report(trail.export({ at: T0 + 60 * MIN, since: T0 + 20 * MIN }).data);
    assert.equal(partial.verification.clean, true, JSON.stringify(partial.verification.findings));
    assert.deepEqual(partial.truncated, [{ chain: "FR", from: at(T0 + 20 * MIN) }], "DE's chain starts with the failover, inside the export");
    assert.deepEqual(partial.window, { from: at(T0 + 20 * MIN), to: at(T0 + 60 * MIN) }, "the window starts where the export does, not at the key records that came along");
    assert.deepEqual(stays(web(partial)), [
      ["ionos-fra-1", "DE", at(T0 + 30 * MIN), at(T0 + 45 * MIN), 3, false],
      ["ionos-fra-1", "DE", at(T0 + 45 * MIN), at(T0 + 60 * MIN), 4, true],
    ], "ovh-par-1's placement is before the export: the report cannot know it ran there");
  });

  it("an --until past the export claims nothing after it", async () => {
    const later = report(data, { until: T0 + 5 * 60 * MIN });
    assert.equal(later.window.to, at(T0 + 60 * MIN));
  });

  it("selects a workload by name, by namespace and name, and finds nothing for another", async () => {
    assert.deepEqual(report(data, { selection: { all: false, name: "records-db", namespace: undefined } }).workloads.map((w) => w.workload.uid), [DB.uid]);
    assert.deepEqual(report(data, { selection: { all: false, name: "records-db", namespace: "health" } }).workloads.map((w) => w.workload.uid), [DB.uid]);
    assert.deepEqual(report(data, { selection: { all: false, name: "records-db", namespace: "billing" } }).workloads, []);
  });

  it("tells a certification that had expired at decision from one that lapsed while replicas still ran on it", async () => {
    const t = new Trail();
    const requirements = { ...REQUIRES_HDS, requiredCertifications: [] };
    const base = { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [] };
    // Lapses on 2026-11-28 at midnight (valid through the 27th), while the stay placed on the 27th runs on.
    t.placement({ at: T0 - 24 * 60 * MIN, workload: WEB, cluster: "ovh-par-1", replicas: 2, requirements, facts: { ...base, certifications: [{ name: "HDS", version: "1", validUntil: "2026-11-27" }] } });
    t.placement({ at: T0 + 5 * MIN, workload: DB, cluster: "ovh-par-1", replicas: 1, requirements, facts: { ...base, certifications: [{ name: "HDS", version: "1", validUntil: "2026-11-27" }] } });
    const out = report(t.export({ at: T0 + 10 * MIN }).data);
    const byUid = new Map(out.workloads.map((w) => [w.workload.uid, w.certifications[0]!]));
    assert.deepEqual([byUid.get(WEB.uid)!.validAtDecision, byUid.get(WEB.uid)!.lapsedAt], [true, "2026-11-28T00:00:00.000Z"]);
    assert.deepEqual([byUid.get(DB.uid)!.validAtDecision, byUid.get(DB.uid)!.lapsedAt], [false, null]);
  });

  it("reports a tampered trail, with the findings at the top and on the record they concern", async () => {
    const { lines } = failoverTrail();
    const i = lines.findIndex((l) => l.includes('"type":"placement"') && l.includes('"replicas":4'));
    const edited = [...lines];
    const rec = JSON.parse(edited[i]!) as LedgerRecord;
    (rec.body as PlacementBody).replicas = 40;
    edited[i] = canonicalJson(rec);
    const out = report(Buffer.from(`${edited.join("\n")}\n`));
    assert.equal(out.verification.clean, false);
    assert.ok(out.verification.findings.some((f) => f.line === i + 1 && f.recordId === rec.id));
    const move = web(out).moves.find((m) => m.recordId === rec.id)!;
    assert.equal(move.replicasAfter, 40, "the report shows what the record says");
    assert.match(move.findings.join(" "), /hash .* does not match/);
  });

  it("reads what it can of a trail with an unreadable line, and the finding names that line", async () => {
    const { lines } = failoverTrail();
    const broken = [...lines];
    broken[3] = "{not json";
    const out = report(Buffer.from(`${broken.join("\n")}\n`));
    assert.equal(out.verification.clean, false);
    assert.ok(out.verification.findings.some((f) => f.line === 4));
    assert.ok(web(out).stays.length > 0);
  });
});

describe("residency report: stays are the placement records' step function (property)", () => {
  const CLUSTER_NAMES = ["ovh-par-1", "ovh-par-2", "ionos-fra-1"];
  const event = fc.record({ dt: fc.integer({ min: 0, max: 600 }).map((s) => s * 1000), cluster: fc.constantFrom(...CLUSTER_NAMES), replicas: fc.integer({ min: 0, max: 4 }) });
  const runs = Number(process.env.FC_NUM_RUNS ?? 60);

  it("never overlap per cluster, hold replicas only where the records give them, and cover exactly the time they do", async () => {
    fc.assert(fc.property(
      fc.array(event, { minLength: 1, maxLength: 20 }),
      fc.option(fc.integer({ min: -60, max: 7200 }).map((s) => s * 1000)),
      fc.option(fc.integer({ min: 0, max: 7200 }).map((s) => s * 1000)),
      (events, sinceOffset, untilOffset) => {
        const t = new Trail();
        let clock = T0;
        const timed = events.map((e) => ({ ...e, at: (clock += e.dt) }));
        for (const e of timed) t.placement({ at: e.at, workload: WEB, cluster: e.cluster, replicas: e.replicas });
        const exportAt = clock + 5 * MIN;
        const since = sinceOffset === null ? undefined : T0 + sinceOffset;
        const until = untilOffset === null ? undefined : T0 + untilOffset;
        const out = report(t.export({ at: exportAt }).data, { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
        assert.equal(out.verification.clean, true, JSON.stringify(out.verification.findings));
        const wTo = Math.min(until ?? exportAt, exportAt);
        const wFrom = Math.min(since ?? timed[0]!.at, wTo);
        assert.deepEqual(out.window, { from: at(wFrom), to: at(wTo) });
        const w = out.workloads[0];
        const oracle = (cluster: string, instant: number) => timed.filter((e) => e.cluster === cluster && e.at <= instant).at(-1)?.replicas ?? 0;
        const stayList = w?.stays ?? [];
        for (const cluster of CLUSTER_NAMES) {
          const mine = stayList.filter((s) => s.cluster === cluster).map((s) => ({ ...s, f: Date.parse(s.from), t: Date.parse(s.to) }));
          for (let i = 0; i < mine.length; i++) {
            const s = mine[i]!;
            assert.ok(s.replicas > 0 && s.f < s.t && s.f >= wFrom && s.t <= wTo, `a stay holds replicas for a time inside the window: ${JSON.stringify(s)}`);
            assert.equal(s.open, s.t === wTo && !timed.some((e) => e.cluster === cluster && e.at === wTo && e.replicas !== s.replicas), "open: it ran on past the window's end");
            const next = mine[i + 1];
            if (next) {
              assert.ok(s.t <= next.f, `stays of ${cluster} overlap: ${JSON.stringify([s, next])}`);
              if (s.t === next.f) assert.notEqual(s.replicas, next.replicas, "a stay is split only where the replicas change");
            }
          }
          // Every instant where anything could change, and between them.
          const instants = new Set<number>([wFrom, wTo - 1]);
          for (const e of timed) for (const d of [-1, 0, 1]) instants.add(e.at + d);
          const sorted = [...instants].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i++) instants.add(Math.floor((sorted[i - 1]! + sorted[i]!) / 2));
          for (const instant of instants) {
            if (instant < wFrom || instant >= wTo) continue;
            const holding = mine.filter((s) => s.f <= instant && instant < s.t);
            assert.ok(holding.length <= 1);
            assert.equal(holding[0]?.replicas ?? 0, oracle(cluster, instant), `${cluster} at ${at(instant)}`);
          }
        }
        const inWindow = timed.filter((e) => e.at >= wFrom && e.at <= wTo).length;
        assert.equal(w?.moves.length ?? 0, inWindow, "every placement record in the window is a move");
        if (w) {
          // No attestations: every span with replicas longer than the period is a gap, the rest counts as covered.
          const a = w.attestation;
          assert.equal(a.heldMs, stayList.reduce((n, s) => n + Date.parse(s.to) - Date.parse(s.from), 0));
          assert.equal(a.coveredMs + a.gaps.reduce((n, g) => n + g.durationMs, 0), a.heldMs);
          for (const g of a.gaps) assert.ok(g.durationMs > a.periodMs);
        }
      },
    ), { numRuns: runs, examples: [[[{ dt: 0, cluster: "ovh-par-2", replicas: 2 }, { dt: 1000, cluster: "ovh-par-2", replicas: 0 }, { dt: 0, cluster: "ovh-par-2", replicas: 2 }, { dt: 0, cluster: "ovh-par-1", replicas: 0 }], null, null]] });
  });
});
