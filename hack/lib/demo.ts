import { execFileSync, spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { waitFor } from "../../operator/src/runtime/wait.ts";
import {
  agentComponentName, CONTROL_PLANE_COMPONENT, CONTROL_PLANE_ENTRY, DEFAULT_MEMBERS, defaultAgents, FederationMismatchError,
  natsClusterFromEnv, startLocalFederation, status, type LocalFederationEnv,
} from "./federation/index.ts";
import {
  clusterTable, memberReadiness, memberWaitLine, type MemberClusterObject, placementTable, progressLine, settled, waitSummary, type WorkloadObject, workloadKey,
} from "./demo/report.ts";

/**
 * `npm run demo`: from a fresh clone to the whole system running on the local federation:
 * the host with the CRDs and the control plane, member API servers for four example
 * MemberClusters with an agent each, the examples applied (the workloads once every agent
 * member is Ready), and a table read back from the workloads' LIVE status. Idempotent: run again, or on a federation `npm test` left,
 * it converges on the same system. It leaves everything running.
 */
const root = path.resolve(import.meta.dirname, "../..");
const WAIT_MS = 180_000;
/** A member's first heartbeat comes within seconds of its agent starting; two minutes is a sick machine. */
const MEMBERS_WAIT_MS = 120_000;
const PROGRESS_EVERY_MS = 3000;
const total = 7;
const step = (n: number, what: string) => console.log(`\n=== [${n}/${total}] ${what}`);

function kubectlJson<T>(env: LocalFederationEnv, args: string[]): T {
  return JSON.parse(execFileSync(env.kubectl, ["--kubeconfig", env.hostKubeconfig, ...args, "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as T;
}

function workloads(env: LocalFederationEnv): WorkloadObject[] {
  return kubectlJson<{ items: WorkloadObject[] }>(env, ["get", "sovereignworkloads", "-A"]).items;
}

function memberClusters(env: LocalFederationEnv): MemberClusterObject[] {
  return kubectlJson<{ items: MemberClusterObject[] }>(env, ["get", "memberclusters"]).items;
}

function applyFiles(env: LocalFederationEnv, files: readonly string[]): void {
  execFileSync(env.kubectl, ["--kubeconfig", env.hostKubeconfig, "apply", "--server-side", "--field-manager=sovereign-demo", ...files.flatMap((f) => ["-f", f])], { stdio: ["ignore", "inherit", "inherit"] });
}

/**
 * Waits until every agent member is Ready on the host, printing who is still waited for.
 * Resolves with the members that never became Ready (empty when all did).
 */
async function waitForMembers(env: LocalFederationEnv): Promise<string[]> {
  const t0 = Date.now();
  let last = 0;
  const elapsedS = () => (Date.now() - t0) / 1000;
  try {
    await waitFor(() => {
      const clusters = memberClusters(env);
      if (Date.now() - last >= PROGRESS_EVERY_MS) {
        last = Date.now();
        console.log(`  ${memberWaitLine({ clusters, agentMembers: env.agents, elapsedS: elapsedS() })}`);
      }
      return memberReadiness(clusters, env.agents).waiting.length === 0;
    }, { what: "every agent member to be Ready", timeoutMs: MEMBERS_WAIT_MS, intervalMs: 1000 });
    console.log(`every agent member is Ready (${env.agents.join(", ")}) after ${elapsedS().toFixed(0)}s`);
    return [];
  } catch {
    const { waiting } = memberReadiness(memberClusters(env), env.agents);
    console.log(`NOT every agent member is Ready after ${elapsedS().toFixed(0)}s: ${waiting.map((w) => `${w.name} (${w.why})`).join(", ")}; ` +
      "the workloads are applied anyway and the tables below show what that costs (hack/federation status names a component that is down)");
    return waiting.map((w) => w.name);
  }
}

/**
 * `npm run demo -- --nats-cluster 3` (or FEDERATION_NATS_CLUSTER=3): the same demo on a
 * JetStream cluster of three nats-servers, streams at R3. Default: whatever NATS shape is
 * recorded, else one server.
 */
function natsClusterOption(argv: string[]): number | undefined {
  const { values } = parseArgs({ args: argv, options: { "nats-cluster": { type: "string" } }, strict: true });
  const given = values["nats-cluster"];
  if (given === undefined) return natsClusterFromEnv(process.env.FEDERATION_NATS_CLUSTER);
  if (given !== "1" && given !== "3") throw new Error(`--nats-cluster: "${given}" is neither 1 nor 3`);
  return Number(given);
}

async function main(): Promise<number> {
  const stateDir = path.join(root, ".federation");
  const natsCluster = natsClusterOption(process.argv.slice(2));
  const nats = natsCluster === 3 ? "; NATS: a JetStream cluster of 3" : "";
  step(1, `local federation: host + ${DEFAULT_MEMBERS.join(", ")}; control plane; agents on ${defaultAgents(DEFAULT_MEMBERS).join(", ")}${nats}`);
  let env: LocalFederationEnv;
  try {
    // The default shape, asked for explicitly: a federation recorded with fewer members grows into it.
    const federation = await startLocalFederation({
      root, stateDir, members: [...DEFAULT_MEMBERS], ...(natsCluster !== undefined ? { natsCluster } : {}), keep: true, progress: (l) => console.log(`[federation] ${l}`),
    });
    env = federation.env;
  } catch (err) {
    if (err instanceof FederationMismatchError) {
      console.error(`${err.message}\nThe demo runs the default shape${nats}; stop the recorded federation first: hack/federation down`);
      return 1;
    }
    throw err;
  }
  const rows = (await status({ root, stateDir })) ?? [];
  const controlPlane = rows.find((r) => r.component === CONTROL_PLANE_COMPONENT);
  const controlPlaneRuns = controlPlane?.healthy === true;

  const examples = path.join(root, "crds", "examples");
  const files = readdirSync(examples).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(examples, f));
  // Workloads go last, once the members can take them: applied before the first heartbeats,
  // every one would be decided against NotReady members and the first table would show nothing placed.
  const workloadFiles = files.filter((f) => /^kind:\s*SovereignWorkload\b/m.test(readFileSync(f, "utf8")));
  const facts = files.filter((f) => !workloadFiles.includes(f));
  step(2, "apply the examples' namespaces, member clusters and residency policies to the host");
  applyFiles(env, facts);

  step(3, `wait for the agent members to report Ready (${env.agents.join(", ") || "none"})`);
  if (!controlPlaneRuns) console.log("skipped: without the control plane no agent runs, so no member reports");
  else if (env.agents.length === 0) console.log("skipped: this federation runs no agent");
  else await waitForMembers(env);

  step(4, "apply the example workloads to the host");
  applyFiles(env, workloadFiles);

  step(5, "wait for the workloads' pods on the members");
  if (!controlPlaneRuns) {
    const why = controlPlane?.absent ?? (existsSync(path.join(root, CONTROL_PLANE_ENTRY)) ? `it is not healthy (log: ${controlPlane?.log})` : `${CONTROL_PLANE_ENTRY} does not exist yet`);
    console.log(`The control plane does not run (${why}): nothing places the workloads, so there are no pods and no live status yet.`);
  } else {
    const t0 = Date.now();
    const elapsedS = () => (Date.now() - t0) / 1000;
    let last = 0;
    let seen: WorkloadObject[] = [];
    try {
      await waitFor(
        () => {
          seen = workloads(env);
          if (Date.now() - last >= PROGRESS_EVERY_MS) {
            last = Date.now();
            console.log(`--- ${elapsedS().toFixed(0)}s`);
            for (const w of seen) console.log(`  ${progressLine(w, env.agents)}`);
          }
          return settled(seen, env.agents);
        },
        { what: "every workload to be Ready or unschedulable by its residency", timeoutMs: WAIT_MS, intervalMs: 1000 },
      );
      console.log(waitSummary({ workloads: seen, agentMembers: env.agents, waitedS: elapsedS(), settledAfterS: elapsedS() }));
    } catch {
      seen = workloads(env);
      console.log(waitSummary({ workloads: seen, agentMembers: env.agents, waitedS: elapsedS() }));
    }
  }

  step(6, "where each workload runs, from its live status (SovereignWorkload.status)");
  if (controlPlaneRuns) {
    console.log(placementTable(workloads(env)));
  } else {
    console.log("(no live status without the control plane; what the scheduler core would decide, from the files:)");
    const plugin = path.join(root, "bin", "kubectl-sovereign");
    spawnSync(plugin, ["simulate", ...files.flatMap((f) => ["-f", f]), "-o", "table"], { stdio: "inherit", cwd: root });
  }

  step(7, "member clusters (kubectl get mc), Ready or NotReady and why");
  execFileSync(env.kubectl, ["--kubeconfig", env.hostKubeconfig, "get", "mc"], { stdio: ["ignore", "inherit", "inherit"] });
  console.log("");
  const clusters = memberClusters(env);
  console.log(clusterTable(clusters));
  const withoutServer = clusters.map((c) => c.metadata.name).filter((n) => !env.members.includes(n));
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
