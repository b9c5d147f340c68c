import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { SovereignWorkload } from "../../operator/src/api/index.ts";
import { workloadManifest, World } from "../e2e/support/world.ts";
import { Members, runScenario, settle, SHORT } from "./support/chaos.ts";

const run = promisify(execFile);

/**
 * etcd (which every API server of the local federation uses, the host's and the
 * members') killed with SIGKILL under load: a burst of applies just made and scales
 * going on while it dies and comes back. Whatever the API server acknowledged or not,
 * each workload ends with exactly the pods its stored spec asks for, and the workloads
 * deleted after the restart with none.
 */
describe("chaos: etcd killed and restarted under load", function () {
  const count = SHORT ? 6 : 16;
  const downS = SHORT ? 8 : 20;
  this.timeout(SHORT ? 240_000 : 480_000);
  const ns = "chaos-etcd";
  let world: World;
  let members: Members;

  before(async function () {
    world = await World.ready({ namespace: ns });
    members = Members.of(world);
  });

  after(async function () {
    const startEtcd = () => {
      try {
        world.component("start", "etcd");
      } catch {
        // already running
      }
    };
    await world?.finish({ namespace: ns, cleanup: [startEtcd], deleteTimeout: "120s" });
  });

  it(`${count} workloads applied, scales going on, etcd SIGKILLed for ${downS} s: every workload ends with exactly its pods`, async function () {
    await runScenario({ name: `etcd SIGKILL ${downS}s under load (${count} workloads)`, world, members }, async (sc) => {
      const names = Array.from({ length: count }, (_, i) => `load-${i}`);
      world.apply(names.map((name) => workloadManifest({
        namespace: ns, name, replicas: sc.int(1, 3), failover: { tolerationSeconds: 600 },
        ...(sc.random() < 0.5 ? { policy: "public" } : { policy: "personal-data-eu" }), placement: { maxClusters: 2 },
      })));
      // Scales keep coming while etcd dies and returns; some fail, some may be stored without an answer.
      let scaling = true;
      let scales = 0;
      let failed = 0;
      const scaler = (async () => {
        while (scaling) {
          const name = sc.pick(names);
          try {
            await run(world.kubectlBin, ["--kubeconfig", world.env.hostKubeconfig, "scale", `swl/${name}`, "-n", ns, `--replicas=${sc.int(1, 4)}`, "--request-timeout=5s"], { timeout: 10_000 });
            scales++;
          } catch {
            failed++;
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      try {
        // Kill once the control plane is at work on the burst (the first status written), not after it settled.
        await world.until("the control plane at work on the burst", async () => (await world.workload(ns, names[0]!))?.status?.observedGeneration !== undefined, 60_000);
        world.component("stop", "etcd", ["--signal", "KILL"]);
        const downAt = Date.now();
        await world.until(`${downS} s without etcd`, async () => Date.now() - downAt >= downS * 1000, (downS + 5) * 1000);
      } finally {
        world.component("start", "etcd");
      }
      const back = Date.now();
      const scalesBefore = scales;
      // The load goes on after the return too: two more scales acknowledged (which also shows the host's API server answers again).
      await world.until("two scales acknowledged after etcd's return", async () => scales - scalesBefore >= 2, 60_000);
      scaling = false;
      await scaler;
      sc.note(`${scalesBefore} scales acknowledged before etcd's return, ${scales - scalesBefore} after, ${failed} failed or unanswered`);
      // A quarter deleted after the return.
      const doomed = names.slice(0, Math.max(1, Math.floor(count / 4)));
      const uids = new Map<string, string>();
      for (const name of names) {
        const w = await world.workload(ns, name);
        assert.ok(w, `${name} is gone from the host: an acknowledged apply was lost`);
        uids.set(name, w.metadata.uid!);
      }
      world.kubectl(["delete", ...doomed.map((n) => `swl/${n}`), "-n", ns, "--wait=false"]);
      for (const name of doomed) sc.expectGone({ uid: uids.get(name)!, name });
      // The stored spec is the truth: each of the others ends with exactly its replicas.
      for (const name of names.filter((n) => !doomed.includes(n))) {
        const w = (await world.workload(ns, name)) as SovereignWorkload;
        await settle({ world, sc, namespace: ns, name, replicas: w.spec.replicas, timeoutMs: 240_000, what: "converged after etcd's return" });
      }
      await world.until("nothing left of the deleted workloads", async () => {
        const objects = await members.list();
        return !objects.some((o) => doomed.some((n) => uids.get(n) === o.workloadUid) && (o.kind === "Pod" || o.replicas > 0));
      }, 120_000);
      sc.recovered(back);
    });
  });
});
