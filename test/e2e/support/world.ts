/**
 * What an end-to-end test sees of the running federation: the host (kubectl, the
 * SovereignWorkloads' status), the members (their pods), the components (stopped and
 * started with `hack/federation stop|start`, as a user would), and conditions to wait
 * on with a deadline.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { MEMBER_LABELS } from "../../../operator/src/api/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../../integration/env.ts";
import type { FederationEnv } from "../../integration/env.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";
import { HOST, ResidencyAuditor } from "./auditor.ts";

const GROUP = "sovereignty.eu";
const VERSION = "v1alpha1";

/** The example members that run an agent in the local federation (hack/federation's default shape). */
export const AGENT_MEMBERS = ["ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1"] as const;
export const FRENCH = ["ovh-par-1", "ovh-rbx-hds"] as const;

export interface PodOnMember {
  member: string;
  namespace: string;
  name: string;
  uid: string;
  phase: string;
  workloadUid: string;
}

function kc(file: string): KubeConfig {
  const k = new KubeConfig();
  k.loadFromFile(file);
  return k;
}

export class World {
  readonly env: FederationEnv;
  readonly kubectlBin: string;
  readonly host: CustomObjectsApi;
  readonly members: ReadonlyMap<string, CoreV1Api>;
  readonly auditor: ResidencyAuditor;

  constructor() {
    this.env = readFederationEnv();
    this.kubectlBin = this.env.vars.KUBECTL ?? this.env.tools.KUBECTL_BIN ?? "kubectl";
    this.host = kc(this.env.hostKubeconfig).makeApiClient(CustomObjectsApi);
    const agents = (this.env.vars.FEDERATION_AGENTS ?? AGENT_MEMBERS.join(",")).split(",").filter(Boolean);
    const files: Record<string, string> = {};
    for (const m of agents) {
      const file = this.env.memberKubeconfigs[m];
      if (!file) throw new Error(`.federation/env has no kubeconfig for member ${m}: is the federation up in its default shape?`);
      files[m] = file;
    }
    this.members = new Map(Object.entries(files).map(([m, f]) => [m, kc(f).makeApiClient(CoreV1Api)]));
    // The auditor reads every member's API server, bare ones (fr, de) included: a replica
    // must not appear where no agent runs either.
    const everyMember: Record<string, string> = {};
    for (const m of this.env.members) if (this.env.memberKubeconfigs[m]) everyMember[m] = this.env.memberKubeconfigs[m];
    this.auditor = new ResidencyAuditor({ hostKubeconfig: this.env.hostKubeconfig, memberKubeconfigs: { ...everyMember, ...files } });
  }

  /**
   * A World on the example members and policies, with every agent member Ready (and
   * `namespace` created, when given): where every end-to-end test and the e2e benchmark start.
   * Under mocha the residency audit starts here, before the first step (`audit: false`
   * to do without it; a benchmark does, so the audit's requests do not skew its figures).
   */
  static async ready(params: { namespace?: string; audit?: boolean } = {}): Promise<World> {
    const world = new World();
    world.clearBareMembers();
    if (params.audit ?? typeof (globalThis as { describe?: unknown }).describe === "function") world.auditor.watch();
    world.applyFiles(["crds/examples/10-member-clusters.yaml", "crds/examples/20-policies.yaml"]);
    if (params.namespace) world.apply([namespaceManifest(params.namespace)]);
    for (const m of world.members.keys()) await world.untilMemberReady(m, true, 90_000);
    return world;
  }

  /**
   * The members without an agent (fr, de) are the integration suites' test bed: in one
   * `npm test` run those suites leave sovereign probes there (intents sent by hand,
   * guard probes) judged by facts they declared then. An end-to-end file starts from a
   * clean slate: every labelled Deployment and pod on a bare member is removed before the
   * audit starts, so the audit judges what this file and the control plane did.
   */
  clearBareMembers(): void {
    const agents = new Set(this.members.keys());
    for (const m of this.env.members) {
      const kubeconfig = this.env.memberKubeconfigs[m];
      if (agents.has(m) || !kubeconfig) continue;
      this.kubectl(["delete", "deployments,pods", "-A", "-l", MEMBER_LABELS.workloadUid, "--wait=true", "--timeout=90s", "--ignore-not-found"], { kubeconfig });
    }
  }

  kubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}): string {
    return execFileSync(this.kubectlBin, ["--kubeconfig", opts.kubeconfig ?? this.env.hostKubeconfig, ...args], {
      encoding: "utf8",
      input: opts.input,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      timeout: 60_000,
    });
  }

  /** `kubectl apply --server-side` of objects (or files) on the host. */
  apply(objects: readonly object[]): void {
    this.kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=e2e", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n") });
  }

  applyFiles(files: readonly string[]): void {
    this.kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=e2e", ...files.flatMap((f) => ["-f", path.join(repoRoot, f)])]);
  }

  /**
   * `hack/federation stop|start <component>`, exactly what a user runs. Stopping an API
   * server (or etcd, which all of them use) tells the auditor that those clusters are down
   * on purpose; starting it again, that they must answer again.
   */
  component(verb: "stop" | "start", name: string, extra: string[] = []): void {
    const audited = apiServersOf(name, this.auditor.members);
    if (verb === "stop") this.auditor.expectDown(...audited);
    execFileSync(path.join(repoRoot, "hack", "federation"), [verb, name, ...extra], { stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });
    if (verb === "start") this.auditor.expectUp(...audited);
  }

  /**
   * A file's last step (its `after()`): says at once what the audit saw so far, runs the
   * cleanups (each even if another failed), deletes the namespace's workloads, stops the
   * audit, and then fails with the audit's findings first and the cleanups' errors after,
   * so a failing delete never hides a violation.
   */
  async finish(params: { namespace?: string; cleanup?: readonly (() => unknown)[]; deleteTimeout?: string } = {}): Promise<void> {
    const early = this.auditor.pendingProblems();
    if (early.length) process.stderr.write(`[residency auditor] before cleanup:\n${early.join("\n")}\n`);
    const errors: Error[] = [];
    for (const step of [...(params.cleanup ?? []), ...(params.namespace ? [() => this.kubectl(["delete", "sovereignworkloads", "--all", "-n", params.namespace!, "--wait=true", `--timeout=${params.deleteTimeout ?? "90s"}`])] : [])]) {
      try {
        await step();
      } catch (err) {
        errors.push(err as Error);
      }
    }
    let audit: Error | undefined;
    try {
      await this.auditor.stopWatching();
    } catch (err) {
      audit = err as Error;
    }
    if (!audit && errors.length === 0) return;
    const text = [audit?.message, ...errors.map((e) => `cleanup failed: ${e.message}`)].filter(Boolean).join("\n");
    throw new Error(text, { cause: audit ?? errors[0] });
  }

  async workload(namespace: string, name: string): Promise<SovereignWorkload | undefined> {
    try {
      return (await this.host.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "sovereignworkloads", name })) as SovereignWorkload;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async memberCluster(name: string): Promise<MemberCluster> {
    return (await this.host.getClusterCustomObject({ group: GROUP, version: VERSION, plural: "memberclusters", name })) as MemberCluster;
  }

  /** Every live pod of a workload (by uid) on every agent member. */
  async podsOf(workloadUid: string): Promise<PodOnMember[]> {
    const all = await Promise.all([...this.members].map(async ([member, core]) => {
      const list = await core.listPodForAllNamespaces({ labelSelector: `${MEMBER_LABELS.workloadUid}=${workloadUid}` });
      return list.items.filter((p) => !p.metadata?.deletionTimestamp).map((p): PodOnMember => ({
        member,
        namespace: p.metadata!.namespace!,
        name: p.metadata!.name!,
        uid: p.metadata!.uid!,
        phase: p.status?.phase ?? "Unknown",
        workloadUid,
      }));
    }));
    return all.flat();
  }

  /** Waits until `check` returns a value; the message says what was awaited and what was last seen. */
  async until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
    let last: unknown;
    try {
      return await waitFor(async () => {
        const v = await check();
        last = v;
        return v;
      }, { what, timeoutMs, intervalMs: 250 });
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)?.slice(0, 800)}`, { cause: err });
    }
  }

  /** Waits until the workload's pods on the members are exactly `expected` Running pods per member. */
  async untilPods(uid: string, expected: Record<string, number>, timeoutMs = 60_000): Promise<PodOnMember[]> {
    const want = JSON.stringify(Object.fromEntries(Object.entries(expected).filter(([, n]) => n > 0).sort()));
    return this.until(`pods of ${uid} to be ${want}`, async () => {
      const pods = await this.podsOf(uid);
      const counts: Record<string, number> = {};
      for (const p of pods) counts[p.member] = (counts[p.member] ?? 0) + 1;
      const got = JSON.stringify(Object.fromEntries(Object.entries(counts).sort()));
      return got === want && pods.every((p) => p.phase === "Running") ? pods : false;
    }, timeoutMs);
  }

  async untilMemberReady(name: string, ready: boolean, timeoutMs = 60_000): Promise<MemberCluster> {
    return this.until(`MemberCluster ${name} Ready=${ready}`, async () => {
      const mc = await this.memberCluster(name);
      const c = mc.status?.conditions?.find((x) => x.type === "Ready");
      return (c?.status === "True") === ready ? mc : false;
    }, timeoutMs);
  }

  /** Waits until the workload's status says what `check` wants (and observedGeneration is current). */
  async untilStatus(namespace: string, name: string, what: string, check: (w: SovereignWorkload) => boolean, timeoutMs = 60_000): Promise<SovereignWorkload> {
    return this.until(`${namespace}/${name}: ${what}`, async () => {
      const w = await this.workload(namespace, name);
      return w && w.status?.observedGeneration === w.metadata.generation && check(w) ? w : false;
    }, timeoutMs);
  }
}

/** Which audited clusters a component's stop takes down: its own API server's, or all of them for etcd. */
export function apiServersOf(component: string, members: readonly string[]): string[] {
  if (component === "etcd") return [HOST, ...members];
  const m = /^kube-apiserver(?:-(.+)| \((.+)\))$/.exec(component);
  const cluster = m?.[1] ?? m?.[2];
  if (cluster === undefined) return [];
  return cluster === "host" ? [HOST] : members.filter((x) => x === cluster);
}

export function condition(w: SovereignWorkload, type: string): { status: string; reason: string } | undefined {
  return w.status?.conditions?.find((c) => c.type === type);
}

/** A SovereignWorkload manifest with plain pods that kwok runs. */
export function workloadManifest(p: {
  namespace: string;
  name: string;
  replicas: number;
  policy?: string;
  residency?: Record<string, unknown>;
  placement?: Record<string, unknown>;
  failover?: Record<string, unknown>;
}): SovereignWorkload {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "SovereignWorkload",
    metadata: { name: p.name, namespace: p.namespace },
    spec: {
      replicas: p.replicas,
      ...(p.policy ? { residencyPolicy: p.policy } : {}),
      ...(p.residency ? { residency: p.residency } : {}),
      placement: { mode: "Divided", ...(p.placement ?? {}) },
      failover: { enabled: true, tolerationSeconds: 30, ...(p.failover ?? {}) },
      template: {
        metadata: { labels: { app: p.name } },
        spec: { containers: [{ name: "app", image: "registry.example.eu/e2e:1.0", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] },
      },
    },
  } as SovereignWorkload;
}

export function namespaceManifest(name: string): object {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

export function countByMember(pods: readonly PodOnMember[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pods) out[p.member] = (out[p.member] ?? 0) + 1;
  return out;
}
