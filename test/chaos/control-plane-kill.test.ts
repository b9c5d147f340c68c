import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { Members, placedOf, runScenario, settle, SHORT } from "./support/chaos.ts";
import type { Scenario } from "./support/chaos.ts";

/**
 * The control plane SIGKILLed again and again at seeded points of a burst of applies,
 * scales and deletes, and restarted each time with `hack/federation start`, as a user
 * would. Its reconciles are level-based from the caches and the intents idempotent, so
 * after the last restart every live workload must end with exactly its replicas on members
 * its policy allows, and every deleted one with nothing left on any member (no pod and no
 * Deployment), while the residency auditor watches throughout.
 */
const OPS = SHORT ? 30 : 100;
const KILLS = SHORT ? 3 : 20;

/**
 * Which agent members each policy of crds/examples/20-policies.yaml allows: aws-fra-1 is
 * the one exposed to an extraterritorial law (its provider's), so personal-data-eu
 * (forbidExtraterritorialExposure) excludes it. Checked on top of the auditor, which judges
 * every pod and Deployment from the members' facts on its own.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  "public": ["ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1"],
  "personal-data-eu": ["ovh-par-1", "ovh-rbx-hds", "ionos-fra-1"],
};
const POLICIES = Object.keys(ALLOWED);

interface Live {
  name: string;
  policy: string;
  replicas: number;
}

/** `n` distinct indices in [0, max), sorted: the ops after which the control plane is killed. */
function killPoints(sc: Scenario, n: number, max: number): number[] {
  const points = new Set<number>();
  while (points.size < Math.min(n, max)) points.add(sc.int(0, max - 1));
  return [...points].sort((a, b) => a - b);
}

describe("chaos: the control plane SIGKILLed at random points of a burst", function () {
  this.timeout(SHORT ? 420_000 : 1_200_000);
  const ns = "chaos-cp-kill";
  let world: World;
  let members: Members;

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
  });

  afterEach(async function () {
    await world.auditor.check(this.currentTest?.title ?? "step");
  });

  after(async function () {
    const startControlPlane = () => {
      try {
        world.component("start", "control-plane");
      } catch {
        // already running
      }
    };
    await world?.finish({ namespace: ns, cleanup: [startControlPlane], deleteTimeout: "180s" });
  });

  it(`${KILLS} SIGKILLs in a burst of ${OPS} applies, scales and deletes: exactly the replicas asked for, nothing left of the deleted`, async function () {
    await runScenario({ name: `control plane SIGKILL x${KILLS} in a burst of ${OPS}`, world, members }, async (sc) => {
      const kills = new Set(killPoints(sc, KILLS, OPS));
      const live = new Map<string, Live>();
      const deleted: { name: string; uid: string }[] = [];
      const counts = { apply: 0, scale: 0, delete: 0 };
      let created = 0;
      let lastRestart = Date.now();
      let down = false;
      const restart = () => {
        world.component("start", "control-plane");
        lastRestart = Date.now();
        down = false;
      };

      for (let i = 0; i < OPS; i++) {
        const roll = sc.random();
        if (live.size < 3 || roll < 0.45) {
          const w: Live = { name: `w-${created++}`, policy: sc.pick(POLICIES), replicas: sc.int(1, 3) };
          world.apply([workloadManifest({ namespace: ns, name: w.name, replicas: w.replicas, policy: w.policy, placement: { maxClusters: 3 } })]);
          live.set(w.name, w);
          counts.apply++;
        } else if (roll < 0.75) {
          const w = sc.pick([...live.values()]);
          w.replicas = sc.int(1, 4);
          world.kubectl(["scale", `swl/${w.name}`, "-n", ns, `--replicas=${w.replicas}`]);
          counts.scale++;
        } else {
          const w = sc.pick([...live.values()]);
          const uid = (await world.workload(ns, w.name))?.metadata.uid;
          assert.ok(uid, `${w.name} exists before it is deleted`);
          world.kubectl(["delete", `swl/${w.name}`, "-n", ns, "--wait=false"]);
          live.delete(w.name);
          deleted.push({ name: w.name, uid });
          counts.delete++;
        }
        if (kills.has(i)) {
          if (down) restart();
          // A seeded pause first, so the kill lands at varying points of the reconciles the
          // op started (fault timing, not synchronisation: nothing waits on it).
          await delay(sc.int(0, 1500));
          world.component("stop", "control-plane", ["--signal", "KILL"]);
          down = true;
        }
        // Sometimes the control plane stays down over the next ops, so they queue up for its restart.
        if (down && (sc.random() < 0.6 || i === OPS - 1)) restart();
      }
      if (down) restart();
      sc.note(`${counts.apply} applies, ${counts.scale} scales, ${counts.delete} deletes; SIGKILLed after ops ${[...kills].join(",")}; ${live.size} workloads live at the end`);

      for (const w of live.values()) {
        const placed = await settle({ world, sc, namespace: ns, name: w.name, replicas: w.replicas, timeoutMs: 240_000, what: "Ready after the last restart" });
        const outside = Object.keys(placed.placed).filter((m) => !ALLOWED[w.policy]!.includes(m));
        assert.deepEqual(outside, [], `${w.name} (policy ${w.policy}) placed on members its policy does not allow: ${JSON.stringify(placed.placed)}`);
      }
      for (const d of deleted) sc.expectGone(d);
      const gone = new Set(deleted.map((d) => d.uid));
      await world.until(`the ${deleted.length} deleted workloads gone from the host and every member`, async () => {
        const left = (await members.list()).filter((o) => gone.has(o.workloadUid));
        for (const d of deleted) if (await world.workload(ns, d.name)) return false;
        return left.length === 0;
      }, 180_000);
      // Settling each one took time: the placements must still be what the census expects.
      for (const w of live.values()) {
        const now = await world.workload(ns, w.name);
        assert.deepEqual(placedOf(now!), sc.expectations.get(now!.metadata.uid!)?.want, `${w.name} moved after it settled`);
      }
      const s = sc.recovered(lastRestart);
      sc.note(`converged ${s.toFixed(1)} s after the last restart`);
    });
  });
});
