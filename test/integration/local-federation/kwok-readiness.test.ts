import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";

/** Long enough for the member's node lifecycle controller to mark its pods NotReady (PITFALLS.md: ~20 s). */
const OUTAGE_MS = 25_000;
/** After the API server is back, the pods must be Ready again within this. */
const READY_AGAIN_MS = 30_000;

interface PodList {
  items: { metadata: { name: string }; status?: { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[] } }[];
}
interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

const ready = (conditions: { type: string; status: string }[] | undefined) => conditions?.find((c) => c.type === "Ready")?.status === "True";

/**
 * The harness under a member API server outage: kwok plays the member's kubelets, and with
 * its stock stages never set a pod Ready again once the node lifecycle controller marked it
 * NotReady; a real kubelet would. Our extra stage (hack/lib/federation/kwok-stages) does, so
 * a fault test of an API server measures the product, not kwok.
 */
describe("kwok: pods Ready again after a member's kube-apiserver outage", function () {
  this.timeout(240_000);
  const member = "de";
  const ns = `kwok-ready-${randomBytes(3).toString("hex")}`;
  let env: FederationEnv;
  let kc: string;
  const get = <T>(args: string[]): T => JSON.parse(kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: kc, args: ["get", ...args, "-o", "json"] })) as T;
  const federation = (verb: "stop" | "start", component: string) =>
    execFileSync(path.join(repoRoot, "hack", "federation"), [verb, component], { stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });

  before(function () {
    env = readFederationEnv();
    if (!env.memberKubeconfigs[member]) throw new Error(`the local federation has no member ${member}: bring it up in its default shape`);
    kc = env.memberKubeconfigs[member]!;
  });

  after(function () {
    try {
      federation("start", `kube-apiserver-${member}`);
    } catch {
      // already running
    }
    kubectl({ bin: env.tools.KUBECTL_BIN!, kubeconfig: kc, args: ["delete", "namespace", ns, "--wait=false"] });
  });

  it(`sets the pods of ${member} Ready again within ${READY_AGAIN_MS / 1000} s of its API server's return after ${OUTAGE_MS / 1000} s down`, async function () {
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: kc, args: ["create", "namespace", ns] });
    kubectlOk({ bin: env.tools.KUBECTL_BIN!, kubeconfig: kc, args: ["-n", ns, "create", "deployment", "app", "--image=registry.example.eu/app:1", "--replicas=3"] });
    const allReady = async () => {
      const pods = get<PodList>(["pods", "-n", ns]).items;
      return pods.length === 3 && pods.every((p) => p.status?.phase === "Running" && ready(p.status.conditions)) ? pods : false;
    };
    await waitFor(allReady, { what: `3 Running, Ready pods on ${member}`, timeoutMs: 60_000, intervalMs: 250 });
    const readySince = (pods: PodList["items"]) => new Map(pods.map((p) => [p.metadata.name, p.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime]));
    const before = readySince(get<PodList>(["pods", "-n", ns]).items);

    federation("stop", `kube-apiserver-${member}`);
    // The outage is the fault under test, not a wait for a condition: it must last this long.
    await delay(OUTAGE_MS);
    federation("start", `kube-apiserver-${member}`);
    const back = Date.now();

    // Sampled until well past the deadline: the node lifecycle controller may mark the pods
    // NotReady only seconds after the return, and they must then come back and stay Ready.
    const samples: { at: number; ok: boolean; what: string }[] = [];
    const end = back + READY_AGAIN_MS + 15_000;
    while (Date.now() < end) {
      let what: string;
      try {
        const pods = get<PodList>(["pods", "-n", ns]).items;
        const nodes = get<NodeList>(["nodes"]).items;
        const notReady = [
          ...pods.filter((p) => p.status?.phase !== "Running" || !ready(p.status.conditions)).map((p) => `pod ${p.metadata.name}`),
          ...nodes.filter((n) => !ready(n.status?.conditions)).map((n) => `node ${n.metadata.name}`),
        ];
        what = pods.length !== 3 ? `${pods.length} pods` : notReady.join(", ");
      } catch (err) {
        what = `not listable: ${(err as Error).message.split("\n")[0]}`;
      }
      samples.push({ at: Date.now() - back, ok: what === "", what });
      await delay(250);
    }
    const bad = samples.filter((x) => !x.ok);
    const lastBad = bad.at(-1);
    // Positive control, seen even when the NotReady spell was shorter than a sample: a pod whose
    // Ready condition changed since before the outage went NotReady and was set Ready again.
    const after = readySince(get<PodList>(["pods", "-n", ns]).items);
    const flipped = [...after].filter(([name, t]) => before.has(name) && before.get(name) !== t).length;
    console.log(`      NotReady seen by sampling: ${bad.length ? `from ${bad[0]!.at} ms to ${lastBad!.at} ms (${bad[0]!.what})` : "never"}; pods whose Ready condition went False and back: ${flipped} of ${after.size}`);
    assert.ok(samples.at(-1)?.ok, `still not Ready ${samples.at(-1)?.at} ms after the return: ${samples.at(-1)?.what}`);
    assert.ok(!lastBad || lastBad.at <= READY_AGAIN_MS, `Ready again only ${lastBad?.at} ms after the API server's return (${lastBad?.what})`);
  });
});
