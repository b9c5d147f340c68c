// Properties of the desired step over random federations and histories: each step
// changes the world at random (a cluster goes down or comes back, a certification
// expires, an exposure is declared, time passes), then the step's output becomes the
// next status, as the reconciler would write it.
import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, it } from "mocha";
import type { ClusterPlacement, SovereignWorkload } from "../../../../operator/src/api/index.ts";
import { cluster, run, T0, workload, type ClusterFacts } from "./world.ts";

const COUNTRIES = ["FR", "DE", "IT"] as const;
type Inferred<A> = A extends fc.Arbitrary<infer T> ? T : never;

const facts = fc.record({
  country: fc.constantFrom(...COUNTRIES),
  exposed: fc.boolean(),
  hds: fc.boolean(),
  ready: fc.boolean(),
  pods: fc.integer({ min: 1, max: 12 }),
});

const change = fc.oneof(
  fc.record({ kind: fc.constant("down" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("up" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("expire" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("expose" as const), i: fc.nat() }),
  fc.record({ kind: fc.constant("wait" as const), seconds: fc.integer({ min: 1, max: 60 }) }),
);

const spec = fc.record({
  replicas: fc.integer({ min: 0, max: 6 }),
  mode: fc.constantFrom("Divided" as const, "Duplicated" as const),
  countries: fc.subarray([...COUNTRIES], { minLength: 1 }),
  hds: fc.boolean(),
  forbidExposure: fc.boolean(),
  crossBorder: fc.boolean(),
  minCountries: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  toleration: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90 })),
});

interface World {
  clusters: (ClusterFacts & { name: string })[];
  now: number;
}

function build(f: Inferred<typeof facts>, i: number): ClusterFacts & { name: string } {
  return {
    name: `${f.country.toLowerCase()}-${i}`,
    country: f.country,
    exposed: f.exposed,
    certs: f.hds ? [{ name: "HDS", validUntil: "2027-12-31" }] : [],
    ready: f.ready,
    since: T0 - 3_600_000,
    pods: f.pods,
  };
}

function apply(world: World, c: Inferred<typeof change>): void {
  if (c.kind === "wait") {
    world.now += c.seconds * 1000;
    return;
  }
  const target = world.clusters[c.i % world.clusters.length]!;
  if (c.kind === "down" && target.ready !== false) Object.assign(target, { ready: false, since: world.now });
  if (c.kind === "up" && target.ready === false) Object.assign(target, { ready: true, since: world.now });
  if (c.kind === "expire") target.certs = [{ name: "HDS", validUntil: "2026-01-01" }];
  if (c.kind === "expose") target.exposed = true;
}

function makeWorkload(s: Inferred<typeof spec>, placements: ClusterPlacement[] | undefined): SovereignWorkload {
  return workload({
    replicas: s.replicas, mode: s.mode, countries: s.countries, ...(s.hds ? { certs: ["HDS"] } : {}), forbidExposure: s.forbidExposure,
    crossBorder: s.crossBorder, ...(s.minCountries !== undefined ? { minCountries: s.minCountries } : {}),
    failover: { enabled: true, tolerationSeconds: s.toleration }, ...(placements ? { placements } : {}),
  });
}

/**
 * The residency oracle, from the facts alone (not the scheduler's filters): may this
 * cluster hold the workload at `now`? HDS entries are dates, valid through their day.
 */
function violates(s: Inferred<typeof spec>, c: ClusterFacts, now: number): boolean {
  if (!s.countries.includes(c.country ?? "FR")) return true;
  if (s.forbidExposure && c.exposed) return true;
  if (s.hds && !(c.certs ?? []).some((x) => x.name === "HDS" && Date.parse(`${x.validUntil}T00:00:00Z`) + 86_400_000 > now)) return true;
  return false;
}

const asked = (s: Inferred<typeof spec>, clusters: number) => (s.mode === "Divided" ? s.replicas : s.replicas * clusters);

/** Runs a history and calls `check` after every step with what it needs to judge it. */
function history(check: (ctx: {
  s: Inferred<typeof spec>;
  before: ClusterPlacement[];
  after: { cluster: string; country: string; replicas: number }[];
  world: World;
  workload: SovereignWorkload;
  event: Inferred<typeof change> | undefined;
}) => void) {
  return fc.property(fc.array(facts, { minLength: 1, maxLength: 6 }), spec, fc.array(change, { maxLength: 12 }), (fs, s, changes) => {
    const world: World = { clusters: fs.map(build), now: T0 };
    let placements: ClusterPlacement[] | undefined;
    for (const event of [undefined, ...changes]) {
      if (event) apply(world, event);
      const w = makeWorkload(s, placements);
      const out = run({ workload: w, clusters: world.clusters.map(cluster), now: world.now, acknowledged: new Set(world.clusters.map((c) => c.name)) });
      check({ s, before: (placements ?? []).filter((p) => p.replicas > 0), after: [...out.placements], world, workload: w, event });
      placements = out.status.placements;
    }
  });
}

describe("workload desired step: properties over random histories", function () {
  // Thousands of decisions each; the machine is shared.
  this.timeout(120_000);
  it("never places a replica on a cluster that fails the workload's residency at that instant", () => {
    fc.assert(history(({ s, after, world }) => {
      for (const p of after) assert.ok(!violates(s, world.clusters.find((c) => c.name === p.cluster)!, world.now), `${p.cluster} holds ${p.replicas} but violates the residency`);
    }), { numRuns: 300 });
  });

  it("never places more replicas than the mode asks", () => {
    fc.assert(history(({ s, after }) => {
      const total = after.reduce((n, p) => n + p.replicas, 0);
      assert.ok(total <= asked(s, after.length), `${total} placed, ${s.mode} asks ${asked(s, after.length)}`);
      if (s.mode === "Duplicated") for (const p of after) assert.ok(p.replicas <= s.replicas);
    }), { numRuns: 300 });
  });

  it("with crossBorderFailover false, replicas of an unreachable cluster never change country", () => {
    let checked = 0;
    fc.assert(history(({ s, before, after, world }) => {
      if (s.crossBorder) return;
      const violations = new Set(world.clusters.filter((c) => violates(s, c, world.now)).map((c) => c.name));
      const lost = before.filter((p) => {
        const c = world.clusters.find((x) => x.name === p.cluster)!;
        return c.ready === false && world.now >= (c.since ?? 0) + s.toleration * 1000;
      });
      // Only steps that fail over, and where residency took nothing away.
      if (lost.length === 0 || before.some((p) => violations.has(p.cluster))) return;
      checked++;
      const countriesBefore = new Set<string>(before.map((p) => p.country));
      for (const p of after) assert.ok(countriesBefore.has(p.country), `replicas went to ${p.cluster} (${p.country}) while failing over ${lost.map((l) => l.cluster).join()}`);
      for (const country of new Set(lost.map((l) => l.country))) {
        const n = (ps: typeof after) => ps.filter((p) => p.country === country).reduce((k, p) => k + p.replicas, 0);
        assert.equal(n(after), n(before), `${country} keeps its replica count`);
      }
    }), { numRuns: 1000 });
    // Not vacuous: the random histories do fail clusters over.
    assert.ok(checked > 5, `only ${checked} failover steps were generated`);
  });

  it("a NotReady cluster within its toleration keeps exactly its replicas", () => {
    let checked = 0;
    fc.assert(history(({ s, before, after, world }) => {
      const violations = new Set(world.clusters.filter((c) => violates(s, c, world.now)).map((c) => c.name));
      for (const p of before) {
        const c = world.clusters.find((x) => x.name === p.cluster)!;
        const within = c.ready === false && world.now < (c.since ?? 0) + s.toleration * 1000;
        if (!within || violations.has(p.cluster)) continue;
        checked++;
        assert.equal(after.find((a) => a.cluster === p.cluster)?.replicas, p.replicas, `${p.cluster} is within toleration`);
      }
    }), { numRuns: 300 });
    assert.ok(checked > 0, `only ${checked} held clusters were generated`);
  });
});
