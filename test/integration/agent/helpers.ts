import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Agent, AGENT_SELECTORS, deploymentFor } from "../../../operator/src/agent/index.ts";
import type { AgentDeps } from "../../../operator/src/agent/index.ts";
import { MEMBER_LABELS } from "../../../operator/src/api/index.ts";
import { AgentMetricsRegistry } from "../../../operator/src/metrics/index.ts";
import { codecs, connectionStateOf, NatsIntentSource, NatsReportPublisher, streams, subjects } from "../../../operator/src/federation/index.ts";
import type { FederationClient, PlacementIntent, WorkloadStatus } from "../../../operator/src/federation/index.ts";
import { KubeMemberApi, memberInformers } from "../../../operator/src/kube/index.ts";
import type { Pod } from "../../../operator/src/kube/index.ts";
import { Manager, systemClock, waitFor } from "../../../operator/src/runtime/index.ts";
import type { FederationEnv } from "../env.ts";
import { connectAs, testLog } from "../federation/helpers.ts";
import { sampleIntent } from "../../support/samples.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";

export const TEST_NAMESPACE = "agent-it";

/** One agent in this process (its runnables in a Manager), against the member's real API server and the real nats-server. */
export interface RunningAgent {
  agent: Agent;
  manager: Manager;
  client: FederationClient;
  member: KubeMemberApi;
  metrics: AgentMetricsRegistry;
  /** sovereign_agent_intents_applied_total{result="applied"}: every apply the agent made. */
  applies(): Promise<number>;
  stop(): Promise<void>;
}

export async function startAgent(env: FederationEnv, cluster: string, opts: Pick<AgentDeps, "guardObjects" | "namespace"> = {}): Promise<RunningAgent> {
  const client = await connectAs(env, { member: cluster });
  const member = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs[cluster]! } });
  const metrics = new AgentMetricsRegistry({ processMetrics: false });
  const informers = memberInformers({
    kubeConfig: member.kubeConfig, log: testLog, clock: systemClock,
    deploymentSelector: AGENT_SELECTORS.deployments, podSelector: AGENT_SELECTORS.pods, namespaceSelector: AGENT_SELECTORS.namespaces,
  });
  const agent = new Agent({
    cluster, agentVersion: "0.1.0-test", member,
    federation: Promise.resolve({
      intents: new NatsIntentSource({ client, cluster, log: testLog }),
      reports: new NatsReportPublisher({ client }),
      connection: connectionStateOf(client, testLog),
    }),
    ...informers, clock: systemClock, log: testLog, heartbeatIntervalMs: 1000, metrics, ...opts,
  });
  const manager = new Manager({ clock: systemClock, log: testLog, leaderElection: undefined, healthAddress: "127.0.0.1:0", metrics, readiness: () => agent.notReady() });
  agent.addTo(manager);
  const stop = new AbortController();
  const done = manager.start(stop.signal);
  await waitFor(() => manager.ready(), { what: `agent ${cluster} ready`, timeoutMs: 60_000 });
  return {
    agent, manager, client, member, metrics,
    applies: async () => Number(/sovereign_agent_intents_applied_total\{result="applied"\} (\d+)/.exec(await metrics.metrics())?.[1] ?? NaN),
    stop: async () => {
      stop.abort();
      await done;
      await client.drain();
    },
  };
}

/** An intent for a workload of TEST_NAMESPACE that the fr or de member satisfies (no certifications asked). */
export function intentFor(params: { cluster: "fr" | "de"; uid: string; name: string; replicas: number; decidedAt?: Date; allowedCountries?: string[] }): PlacementIntent {
  const country = params.cluster === "fr" ? "FR" : "DE";
  return sampleIntent({
    cluster: params.cluster,
    workload: { namespace: TEST_NAMESPACE, name: params.name, uid: params.uid },
    replicas: params.replicas,
    decidedAt: params.decidedAt ?? new Date(),
    generation: 1,
    podTemplate: { metadata: { labels: { app: params.name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1", securityContext: restrictedSecurityContext() }] } },
    residency: { country, jurisdiction: "EU", region: "", provider: "local", extraterritorialExposure: [], certifications: [] },
    requirements: { allowedCountries: params.allowedCountries ?? [country], allowedJurisdictions: ["EU"], requiredCertifications: [], forbidExtraterritorialExposure: true },
  });
}

/** The newest status the member reported for a workload, as the control plane reads it. */
export async function lastStatus(jsm: JetStreamManager, cluster: string, uid: string): Promise<WorkloadStatus | undefined> {
  const m = await jsm.direct.getMessage(streams.status(cluster), { last_by_subj: subjects.status(cluster, uid) });
  return m ? codecs.status.decode(m.data, m.subject ?? "") : undefined;
}

export async function workloadPods(member: KubeMemberApi, uid: string): Promise<Pod[]> {
  return (await member.listPods(`${MEMBER_LABELS.workloadUid}=${uid}`)).filter((p) => !p.metadata.deletionTimestamp);
}

/** Waits until the workload has exactly `n` Running pods, and returns their uids, sorted. */
export async function runningPods(member: KubeMemberApi, uid: string, n: number): Promise<string[]> {
  return waitFor(async () => {
    const pods = await workloadPods(member, uid);
    const running = pods.filter((p) => p.status?.phase === "Running");
    return pods.length === n && running.length === n ? running.map((p) => p.metadata.uid!).sort() : undefined;
  }, { what: `${n} Running pods of ${uid}`, timeoutMs: 60_000, intervalMs: 300 });
}

export { assert, deploymentFor };
