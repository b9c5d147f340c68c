import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { certificationRows, FleetMetrics, placementRows } from "../../../operator/src/controllers/index.ts";
import { MetricsRegistry } from "../../../operator/src/metrics/index.ts";
import type { Cache } from "../../../operator/src/runtime/index.ts";
import { memberCluster, sovereignWorkload } from "../../support/builders.ts";
import { parseExposition } from "../metrics/scrape.ts";

/** A cache over a plain array the test changes between refreshes. */
function cacheOf<T extends { metadata: { name: string; namespace?: string } }>(items: T[]): Cache<T> {
  const key = (o: T) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);
  return { get: (k) => items.find((o) => key(o) === k), list: () => items, hasSynced: () => true };
}

const placed = (name: string, placements: { cluster: string; country: "FR" | "DE"; replicas: number }[]) =>
  sovereignWorkload({ name, status: { placements } as SovereignWorkload["status"] });

async function series(r: MetricsRegistry, name: string): Promise<Record<string, number>> {
  const f = parseExposition(await r.metrics()).get(name);
  return Object.fromEntries((f?.samples ?? []).map((s) => [Object.values(s.labels).join("/"), s.value]));
}

describe("federation-wide metrics from the caches", () => {
  it("lists every workload's placements as rows, with the country status names", () => {
    assert.deepEqual(placementRows([
      placed("a", [{ cluster: "ovh-par-1", country: "FR", replicas: 2 }, { cluster: "ionos-fra-1", country: "DE", replicas: 1 }]),
      placed("b", [{ cluster: "ovh-par-1", country: "FR", replicas: 3 }]),
      sovereignWorkload({ name: "never-placed" }),
    ]), [
      { cluster: "ovh-par-1", country: "FR", replicas: 2 }, { cluster: "ionos-fra-1", country: "DE", replicas: 1 }, { cluster: "ovh-par-1", country: "FR", replicas: 3 },
    ]);
  });

  it("gives each certification the end of its validUntil in epoch seconds, and none to an unreadable one", () => {
    const rows = certificationRows([memberCluster({
      name: "ovh-par-1",
      residency: { certifications: [{ name: "HDS", validUntil: "2027-01-01" }, { name: "C5", validUntil: "2027-02-30" }, { name: "SecNumCloud", validUntil: "2027-06-30T12:00:00Z" }] },
    })]);
    assert.deepEqual(rows, [
      // A date alone is valid through that day (UTC).
      { cluster: "ovh-par-1", certification: "HDS", validUntilSeconds: Date.parse("2027-01-02T00:00:00Z") / 1000 },
      { cluster: "ovh-par-1", certification: "SecNumCloud", validUntilSeconds: Date.parse("2027-06-30T12:00:00Z") / 1000 + 0.001 },
    ]);
  });

  it("exports placements, certifications and zeroed counters for every member, and drops a deleted member's series", async () => {
    const clusters: MemberCluster[] = [
      memberCluster({ name: "ovh-par-1", residency: { certifications: [{ name: "HDS", validUntil: "2027-01-01" }] } }),
      memberCluster({ name: "ionos-fra-1", residency: { country: "DE", certifications: [{ name: "C5", validUntil: "2027-03-31" }] } }),
    ];
    const workloads = [placed("a", [{ cluster: "ovh-par-1", country: "FR", replicas: 2 }, { cluster: "ionos-fra-1", country: "DE", replicas: 1 }])];
    const r = new MetricsRegistry({ processMetrics: false });
    const fleet = new FleetMetrics({ clusters: cacheOf(clusters), workloads: cacheOf(workloads), metrics: r });
    const leading = new AbortController();
    const running = fleet.start(leading.signal);

    assert.deepEqual(await series(r, "sovereign_placements_replicas"), { "ovh-par-1/FR": 2, "ionos-fra-1/DE": 1 });
    assert.deepEqual(Object.keys(await series(r, "sovereign_certification_expiry_timestamp_seconds")).sort(), ["ionos-fra-1/C5", "ovh-par-1/HDS"]);
    assert.deepEqual(await series(r, "sovereign_guard_rejections_total"), { "ovh-par-1": 0, "ionos-fra-1": 0 });
    assert.deepEqual(await series(r, "sovereign_failovers_total"), { "ovh-par-1/FR": 0, "ionos-fra-1/DE": 0 });

    r.guardRejection({ cluster: "ovh-par-1" });
    r.memberHeartbeat({ cluster: "ionos-fra-1", ageSeconds: 1, ready: true });
    clusters.splice(1, 1);
    workloads[0] = placed("a", [{ cluster: "ovh-par-1", country: "FR", replicas: 3 }]);
    fleet.refresh();
    const text = await r.metrics();
    assert.doesNotMatch(text, /ionos-fra-1/, "the deleted member's series are gone");
    assert.deepEqual(await series(r, "sovereign_placements_replicas"), { "ovh-par-1/FR": 3 });
    assert.deepEqual(await series(r, "sovereign_guard_rejections_total"), { "ovh-par-1": 1 }, "a refresh does not reset a counter");

    leading.abort();
    await running;
  });

  it("exports nothing until it leads, and coalesces a burst of changes into one refresh", async () => {
    const clusters = [memberCluster({ name: "ovh-par-1" })];
    let lists = 0;
    const counted: Cache<MemberCluster> = { ...cacheOf(clusters), list: () => (lists++, clusters) };
    const r = new MetricsRegistry({ processMetrics: false });
    const fleet = new FleetMetrics({ clusters: counted, workloads: cacheOf<SovereignWorkload>([]), metrics: r });
    fleet.schedule();
    await Promise.resolve();
    assert.deepEqual(await series(r, "sovereign_guard_rejections_total"), {}, "a follower exports no member");
    const leading = new AbortController();
    const running = fleet.start(leading.signal);
    assert.deepEqual(await series(r, "sovereign_guard_rejections_total"), { "ovh-par-1": 0 }, "positive control: the leader does");
    lists = 0;
    for (let i = 0; i < 50; i++) fleet.schedule();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lists, 1);
    leading.abort();
    await running;
  });
});
