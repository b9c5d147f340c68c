import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../operator/src/runtime/wait.ts";
import {
  agentComponentName, CONTROL_PLANE_COMPONENT, CONTROL_PLANE_ENTRY, DEFAULT_MEMBERS, defaultAgents, FederationMismatchError,
  startLocalFederation, status, type LocalFederationEnv,
} from "./federation/index.ts";
import { clusterTable, type MemberClusterObject, placementTable, progressLine, settled, type WorkloadObject, workloadKey } from "./demo/report.ts";

/**
 * `npm run demo`: from a fresh clone to the whole system running on the local federation:
 * the host with the CRDs and the control plane, member API servers for four example
 * MemberClusters with an agent each, the examples applied, and a table read back from
 * the workloads' LIVE status. Idempotent: run again, or on a federation `npm test` left,
 * it converges on the same system. It leaves everything running.
 */
const root = path.resolve(import.meta.dirname, "../..");
const WAIT_MS = 180_000;
const PROGRESS_EVERY_MS = 3000;
const total = 5;
const step = (n: number, what: string) => console.log(`\n=== [${n}/${total}] ${what}`);

function kubectlJson<T>(env: LocalFederationEnv, args: string[]): T {
  return JSON.parse(execFileSync(env.kubectl, ["--kubeconfig", env.hostKubeconfig, ...args, "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as T;
}

function workloads(env: LocalFederationEnv): WorkloadObject[] {
  return kubectlJson<{ items: WorkloadObject[] }>(env, ["get", "sovereignworkloads", "-A"]).items;
}

async function main(): Promise<number> {
  const stateDir = path.join(root, ".federation");
  step(1, `local federation: host + ${DEFAULT_MEMBERS.join(", ")}; control plane; agents on ${defaultAgents(DEFAULT_MEMBERS).join(", ")}`);
  let env: LocalFederationEnv;
  try {
    // The default shape, asked for explicitly: a federation recorded with fewer members grows into it.
    const federation = await startLocalFederation({ root, stateDir, members: [...DEFAULT_MEMBERS], keep: true, progress: (l) => console.log(`[federation] ${l}`) });
    env = federation.env;
  } catch (err) {
    if (err instanceof FederationMismatchError) {
      console.error(`${err.message}\nThe demo runs the default shape; stop the recorded federation first: hack/federation down`);
      return 1;
    }
    throw err;
  }
  const rows = (await status({ root, stateDir })) ?? [];
  const controlPlane = rows.find((r) => r.component === CONTROL_PLANE_COMPONENT);
  const controlPlaneRuns = controlPlane?.healthy === true;

  const examples = path.join(root, "crds", "examples");
  step(2, "apply the examples to the host: namespaces, member clusters, residency policies, workloads");
  execFileSync(env.kubectl, ["--kubeconfig", env.hostKubeconfig, "apply", "--server-side", "--field-manager=sovereign-demo", "-f", examples], { stdio: ["ignore", "inherit", "inherit"] });

  step(3, "wait for the workloads' pods on the members");
  if (!controlPlaneRuns) {
    const why = controlPlane?.absent ?? (existsSync(path.join(root, CONTROL_PLANE_ENTRY)) ? `it is not healthy (log: ${controlPlane?.log})` : `${CONTROL_PLANE_ENTRY} does not exist yet`);
    console.log(`The control plane does not run (${why}): nothing places the workloads, so there are no pods and no live status yet.`);
  } else {
    const t0 = Date.now();
    let last = 0;
    try {
      await waitFor(
        () => {
          const ws = workloads(env);
          if (Date.now() - last >= PROGRESS_EVERY_MS) {
            last = Date.now();
            console.log(`--- ${((Date.now() - t0) / 1000).toFixed(0)}s`);
            for (const w of ws) console.log(`  ${progressLine(w)}`);
          }
          return ws.length > 0 && settled(ws);
        },
        { what: "every schedulable workload to be Ready", timeoutMs: WAIT_MS, intervalMs: 1000 },
      );
      console.log(`every schedulable workload is Ready (${((Date.now() - t0) / 1000).toFixed(0)}s)`);
    } catch (err) {
      console.log(`not every workload is Ready after ${WAIT_MS / 1000}s (${(err as Error).message}); the table shows where each one stands`);
    }
  }

  step(4, "where each workload runs, from its live status (SovereignWorkload.status)");
  if (controlPlaneRuns) {
    console.log(placementTable(workloads(env)));
  } else {
    console.log("(no live status without the control plane; what the scheduler core would decide, from the files:)");
    const plugin = path.join(root, "bin", "kubectl-sovereign");
    const files = readdirSync(examples).filter((f) => /\.ya?ml$/.test(f)).sort().flatMap((f) => ["-f", path.join(examples, f)]);
    spawnSync(plugin, ["simulate", ...files, "-o", "table"], { stdio: "inherit", cwd: root });
  }

  step(5, "member clusters (kubectl get mc), Ready or NotReady and why");
  execFileSync(env.kubectl, ["--kubeconfig", env.hostKubeconfig, "get", "mc"], { stdio: ["ignore", "inherit", "inherit"] });
  console.log("");
  console.log(clusterTable(kubectlJson<{ items: MemberClusterObject[] }>(env, ["get", "memberclusters"]).items));
  const withoutServer = kubectlJson<{ items: MemberClusterObject[] }>(env, ["get", "memberclusters"]).items.map((c) => c.metadata.name).filter((n) => !env.members.includes(n));
  if (withoutServer.length) console.log(`(${withoutServer.join(", ")}: declared on the host but given no API server here, so no agent reports for them and they stay NotReady)`);

  const agent = agentComponentName("ionos-fra-1");
  const sample = workloads(env)[0];
  console.log(`
Everything keeps running. Try:
  . .federation/env
  $KUBECTL --kubeconfig $HOST_KUBECONFIG get swl -A -w             # watch the workloads' status
  hack/federation stop ${agent}                          # ionos-fra-1 goes NotReady; after tolerationSeconds its
                                                                 # replicas move to another compliant cluster, never out of residency
  hack/federation start ${agent}                         # back: its surplus goes
  $KUBECTL --kubeconfig $HOST_KUBECONFIG scale swl/${sample ? sample.metadata.name : "crm"} -n ${sample ? workloadKey(sample).split("/")[0] : "customers"} --replicas=6
  bin/kubectl-sovereign simulate -f crds/examples/ -o table      # where would it go, offline
  hack/federation status                                         # every component, pid and health
Stop everything: hack/federation down`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[demo] error: ${err.message}`);
    process.exit(1);
  },
);
