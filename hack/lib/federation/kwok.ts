import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import type { ClusterLayout, Layout, MemberSpec } from "./layout.ts";
import type { Tools } from "./tools.ts";

export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";

/**
 * Stages of our own, after kwok's stock ones: pod-ready-again.yaml sets a Running pod
 * Ready again once the node lifecycle controller marked it NotReady (an API server
 * outage), as a kubelet would; without it a fault test measures kwok, not the product.
 */
export const OWN_KWOK_STAGES_DIR = path.join(import.meta.dirname, "kwok-stages");

/** kwok plays the kubelets of a member's fake nodes: pods bound there go Running. */
export function kwokComponent(opts: { layout: Layout; cluster: ClusterLayout; tools: Tools }): Component {
  const { layout, cluster, tools } = opts;
  const stages = [
    ...readdirSync(tools.kwokStages).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(tools.kwokStages, f)),
    ...readdirSync(OWN_KWOK_STAGES_DIR).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(OWN_KWOK_STAGES_DIR, f)),
  ];
  return {
    name: `kwok (${cluster.name})`,
    binary: tools.kwok,
    args: [
      `--kubeconfig=${cluster.kubeconfig}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      "--cidr=10.244.0.0/16",
      "--node-lease-duration-seconds=40",
      ...stages.map((f) => `--config=${f}`),
    ],
    log: path.join(layout.logDir, `kwok-${cluster.name}.log`),
    ports: [],
    endpoint: `${layout.nodesPerMember} fake nodes`,
    // kwok only takes over nodes that exist: register them as soon as it runs.
    afterStart: () => {
      if (!cluster.member) return;
      execFileSync(tools.kubectl, ["--kubeconfig", cluster.kubeconfig, "apply", "--server-side", "--field-manager=hack-federation", "-f", "-"], {
        input: nodeManifests({ member: cluster.member, count: layout.nodesPerMember }),
        stdio: ["pipe", "ignore", "pipe"],
      });
    },
    ready: async () => (await readyNodeCount({ cluster })) >= layout.nodesPerMember,
  };
}

export interface NodeDocOptions {
  member: MemberSpec;
  count: number;
}

/** Fake nodes spread over the member's zones, labelled like a provider's real ones. */
export function nodeManifests(opts: NodeDocOptions): string {
  const docs = [];
  for (let i = 0; i < opts.count; i++) {
    const zone = opts.member.zones[i % opts.member.zones.length]!;
    const name = `${opts.member.name}-node-${i + 1}`;
    docs.push({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          "kubernetes.io/hostname": name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "node-role.kubernetes.io/worker": "",
          "topology.kubernetes.io/region": opts.member.region,
          "topology.kubernetes.io/zone": zone,
          type: "kwok",
        },
      },
      spec: {},
      status: {
        allocatable: { cpu: "32", memory: "128Gi", pods: "110" },
        capacity: { cpu: "32", memory: "128Gi", pods: "110" },
      },
    });
  }
  return docs.map((d) => stringify(d)).join("---\n");
}

interface NodeList {
  items: { status?: { conditions?: { type: string; status: string }[] } }[];
}

export async function readyNodeCount(opts: { cluster: ClusterLayout }): Promise<number> {
  const kc = readKubeconfigAuth(opts.cluster.kubeconfig);
  const r = await httpGet({ url: `${kc.server}/api/v1/nodes`, ca: kc.ca, token: kc.token });
  if (r.status !== 200) return 0;
  const list = JSON.parse(r.body) as NodeList;
  return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
}

/** Reads back the server, CA and token that kubeconfig.ts wrote. */
export function readKubeconfigAuth(file: string): { server: string; ca: Buffer; token: string } {
  const text = readFileSync(file, "utf8");
  const server = /server: (\S+)/.exec(text)?.[1];
  const ca = /certificate-authority-data: (\S+)/.exec(text)?.[1];
  const token = /token: (\S+)/.exec(text)?.[1];
  if (!server || !ca || !token) throw new Error(`${file}: not a kubeconfig written by hack/federation`);
  return { server, ca: Buffer.from(ca, "base64"), token };
}
