import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import path from "node:path";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import type { ClusterLayout, Layout } from "./layout.ts";
import type { Tools } from "./tools.ts";
import { ensurePki, FRONT_PROXY_CLIENT, pkiLayout } from "./security.ts";

export const ADMIN_USER = "federation-admin";

function servingCert(cluster: ClusterLayout): string {
  // kube-apiserver writes a self-signed serving certificate (for 127.0.0.1 and
  // localhost) into --cert-dir on first start; clients trust exactly that cert.
  return path.join(cluster.dir, "certs", "apiserver.crt");
}

function ensureServiceAccountKey(cluster: ClusterLayout): { pub: string; key: string } {
  const key = path.join(cluster.dir, "sa.key");
  const pub = path.join(cluster.dir, "sa.pub");
  if (!existsSync(key)) {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(key, pair.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    writeFileSync(pub, pair.publicKey.export({ type: "spki", format: "pem" }));
  }
  return { pub, key };
}

/**
 * The host's aggregation layer, as a real cluster has it: kube-apiserver authenticates
 * and authorizes the caller, then proxies query.sovereignty.eu to the control plane with
 * its front-proxy client certificate and the caller in X-Remote-User/-Group; it publishes
 * the request-header CA and names in kube-system/extension-apiserver-authentication for
 * aggregated servers to read. The APIService's Service is an ExternalName on loopback
 * (charts.ts), which the aggregator dials directly: no kube-proxy, no endpoints needed.
 */
function aggregationFlags(layout: Layout): string[] {
  const pki = pkiLayout({ stateDir: layout.stateDir, members: layout.clusters.filter((c) => c.role === "member").map((c) => c.name) });
  return [
    `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
    `--proxy-client-key-file=${pki.frontProxyClient.key}`,
  ];
}

export function apiserverComponent(opts: { layout: Layout; cluster: ClusterLayout; tools: Tools; token: string; tokenFile: string }): Component {
  const { layout, cluster } = opts;
  const url = `https://127.0.0.1:${cluster.apiserverPort}`;
  const isHost = cluster.role === "host";
  return {
    name: `kube-apiserver (${cluster.name})`,
    binary: opts.tools.kubeApiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${layout.etcdClientPort}`,
      `--etcd-prefix=${cluster.etcdPrefix}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${cluster.apiserverPort}`,
      `--cert-dir=${path.join(cluster.dir, "certs")}`,
      `--token-auth-file=${opts.tokenFile}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${path.join(cluster.dir, "sa.pub")}`,
      `--service-account-signing-key-file=${path.join(cluster.dir, "sa.key")}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      // No kubelets and no real endpoints here: one loopback address serves everything.
      "--endpoint-reconciler-type=none",
      // On two cores, request queuing in the API server only adds latency under test load.
      "--enable-priority-and-fairness=false",
      "--max-requests-inflight=0",
      "--max-mutating-requests-inflight=0",
      "--allow-privileged=true",
      "--profiling=false",
      ...(isHost ? aggregationFlags(layout) : []),
      "--v=1",
    ],
    log: path.join(layout.logDir, `kube-apiserver-${cluster.name}.log`),
    ports: [cluster.apiserverPort],
    endpoint: url,
    prepare: () => {
      mkdirSync(path.join(cluster.dir, "certs"), { recursive: true });
      ensureServiceAccountKey(cluster);
      // The front-proxy files, also when nats-server (which makes the PKI) already runs.
      if (isHost) ensurePki({ pki: pkiLayout({ stateDir: layout.stateDir, members: layout.clusters.filter((c) => c.role === "member").map((c) => c.name) }) });
    },
    ready: async () => {
      if (!existsSync(servingCert(cluster))) return false;
      const r = await httpGet({ url: `${url}/readyz`, ca: readFileSync(servingCert(cluster)), token: opts.token });
      return r.status === 200;
    },
    onReady: () => writeKubeconfig({ file: cluster.kubeconfig, cluster: cluster.name, server: url, caFile: servingCert(cluster), token: opts.token }),
  };
}

function secureHealth(port: number): () => Promise<boolean> {
  return async () => (await httpGet({ url: `https://127.0.0.1:${port}/healthz`, insecure: true })).status === 200;
}

/**
 * What kube-controller-manager and kube-scheduler share: the admin kubeconfig for API
 * access and for delegated authn/authz of their health endpoints, loopback only, and
 * one instance per cluster, so no leader election.
 */
function componentFlags(opts: { kubeconfig: string; port: number }): string[] {
  return [
    `--kubeconfig=${opts.kubeconfig}`,
    `--authentication-kubeconfig=${opts.kubeconfig}`,
    `--authorization-kubeconfig=${opts.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${opts.port}`,
    "--leader-elect=false",
  ];
}

export function controllerManagerComponent(opts: { layout: Layout; cluster: ClusterLayout; tools: Tools }): Component {
  const { layout, cluster } = opts;
  const kubeconfig = cluster.kubeconfig;
  return {
    name: `kube-controller-manager (${cluster.name})`,
    binary: opts.tools.kubeControllerManager,
    args: [
      ...componentFlags({ kubeconfig, port: cluster.controllerManagerPort }),
      `--service-account-private-key-file=${path.join(cluster.dir, "sa.key")}`,
      `--root-ca-file=${servingCert(cluster)}`,
      "--use-service-account-credentials=false",
      // No cloud, no real nodes: node IPAM and the service LB controllers have nothing to do.
      "--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle",
      "--concurrent-gc-syncs=5",
      // A member's Deployment and ReplicaSet controllers create every pod through this
      // client. At the default 20 QPS / burst 30 it, not the federation, bounds how fast a
      // burst of Deployments gets pods, which would make the direct baseline of
      // `npm run bench -- e2e` (the same Deployments created on the members themselves)
      // measure a client throttle. Raised so the baseline is the members' own speed; the
      // federated run goes through the same controller-managers with the same limit.
      ...(cluster.role === "member" ? ["--kube-api-qps=100", "--kube-api-burst=200"] : []),
      "--v=1",
    ],
    log: path.join(layout.logDir, `kube-controller-manager-${cluster.name}.log`),
    ports: [cluster.controllerManagerPort],
    endpoint: `https://127.0.0.1:${cluster.controllerManagerPort}/healthz`,
    ready: secureHealth(cluster.controllerManagerPort),
  };
}

export function schedulerComponent(opts: { layout: Layout; cluster: ClusterLayout; tools: Tools }): Component {
  const { layout, cluster } = opts;
  const kubeconfig = cluster.kubeconfig;
  return {
    name: `kube-scheduler (${cluster.name})`,
    binary: opts.tools.kubeScheduler,
    args: [
      ...componentFlags({ kubeconfig, port: cluster.schedulerPort }),
      "--v=1",
    ],
    log: path.join(layout.logDir, `kube-scheduler-${cluster.name}.log`),
    ports: [cluster.schedulerPort],
    endpoint: `https://127.0.0.1:${cluster.schedulerPort}/healthz`,
    ready: secureHealth(cluster.schedulerPort),
  };
}
