import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { FederationClient } from "../../../operator/src/federation/index.ts";
import { BOOTSTRAP_LABELS, BOOTSTRAP_NAMESPACE, createBootstrapToken, memberCredentialsSecretName, secretNameOf } from "../../../operator/src/federation/grpc/index.ts";
import { KubeHostApi, KubeMemberApi } from "../../../operator/src/kube/index.ts";
import { waitFor } from "../../../operator/src/runtime/index.ts";
import type { MemberCluster, SovereignWorkload } from "../../../operator/src/api/index.ts";
import { CREDENTIALS_SECRET } from "../../../operator/src/agent/index.ts";
import { readFederationEnv } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { connectAs, need } from "../federation/helpers.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";
import { lastStatus, workloadPods } from "../agent/helpers.ts";
import { buildImage, containerLogs, execNode, inspectContainer, podman, podmanMissing, SANDBOX_ULIMITS } from "./podman.ts";
import { skipForMissingTool } from "../../support/missing-tool.ts";
import { restrictedSecurityContext } from "../../support/builders.ts";

import { freePort } from "../../support/processes.ts";
/** A member of the default shape with no agent component of its own, so this container is its only agent. */
const MEMBER = "fr";
const NAMESPACE = "image-it";
const NON_ROOT = "65532";
/** Where the container sees the files it is given, each mounted read-only. */
const IN = { kubeconfig: "/etc/sovereign/kubeconfig", ca: "/etc/sovereign/ca.pem", grpcCert: "/etc/sovereign/tls.crt", grpcKey: "/etc/sovereign/tls.key", token: "/etc/sovereign/token" };

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

/**
 * The image hack/build-image makes without any registry, run the way a chart runs it:
 * podman on host networking, uid 65532, read-only root filesystem, no capabilities, the
 * member kubeconfig and TLS files mounted read-only. Against the running local federation
 * and its control plane, the containerised agent of a bare member Joins with a bootstrap
 * token, heartbeats until its MemberCluster is Ready, runs the pods of a workload only it
 * satisfies, and reports their status to the host.
 */
describe("the container image (hack/build-image) runs the member agent under podman against the local federation", function () {
  this.timeout(300_000);
  const run = crypto.randomUUID().slice(0, 8);
  const container = `sovereign-agent-${MEMBER}-${run}`;
  const selector = { "image-test.sovereignty.eu/run": run };
  let env: FederationEnv;
  let bin: string;
  let host: KubeHostApi;
  let cp: FederationClient | undefined;
  let jsm: JetStreamManager;
  let ref: string;
  let dir: string | undefined;
  let createdCluster = false;
  let createdNatsSecret = false;
  let started = false;
  const mounts: string[] = [];
  let joinAddress = "";
  let metricsPort = 0;
  let tokenSecret: string | undefined;

  const hostKubectl = (args: string[], input?: string) => kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args, ...(input ? { input } : {}) });
  const memberKubectl = (args: string[]) => kubectl({ bin, kubeconfig: env.memberKubeconfigs[MEMBER]!, args });
  const getJson = <T>(args: string[]): T | undefined => {
    const r = kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["get", ...args, "-o", "json"] });
    return r.status === 0 ? (JSON.parse(r.stdout) as T) : undefined;
  };

  before(async function () {
    const missing = podmanMissing();
    if (missing) {
      if (process.env.SOVEREIGN_SKIP_IMAGE === "1") skipForMissingTool(this, { tool: "podman", install: `${missing}; SOVEREIGN_SKIP_IMAGE=1` });
      throw new Error(`${missing}. .ci/run installs it; to skip this suite on a machine without podman, set SOVEREIGN_SKIP_IMAGE=1`);
    }
    this.timeout(20 * 60_000);
    env = readFederationEnv();
    bin = env.tools.KUBECTL_BIN!;
    assert.ok(env.memberKubeconfigs[MEMBER], `the local federation has no member ${MEMBER}`);
    const agents = (env.vars.FEDERATION_AGENTS ?? "").split(",");
    assert.ok(!agents.includes(MEMBER), `${MEMBER} already has an agent component (FEDERATION_AGENTS=${env.vars.FEDERATION_AGENTS}); this test needs a bare member`);
    const grpc = need(env, "CONTROL_PLANE_GRPC_ADDRESS");
    const controlPlaneReady = await status(`${need(env, "CONTROL_PLANE_METRICS_URL").replace(/\/metrics$/, "")}/readyz`);
    assert.equal(controlPlaneReady, 200, `the control plane (gRPC ${grpc}) is not ready; hack/federation status`);

    // The example members, so that the French ones with agents of their own are there to be turned down by the selector.
    hostKubectl(["apply", "--server-side", "--field-manager=image-test", "-f", path.join(env.root, "crds/examples/10-member-clusters.yaml")]);

    const built = await buildImage();
    ref = built.ref;
    console.log(`      image ${ref} in ${Math.round(built.ms)} ms`);

    host = new KubeHostApi({ source: { kubeconfigFile: env.hostKubeconfig } });
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();

    // The host admin's side of a new member: its MemberCluster, its NATS credentials where
    // the control plane's Join reads them, and a single-use bootstrap token.
    const existing = getJson<MemberCluster>(["membercluster", MEMBER]);
    if (existing) {
      hostKubectl(["label", "membercluster", MEMBER, `${Object.keys(selector)[0]}=${run}`, "--overwrite"]);
    } else {
      const mc = {
        apiVersion: "sovereignty.eu/v1alpha1", kind: "MemberCluster",
        metadata: { name: MEMBER, labels: selector },
        spec: { residency: { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "local federation", extraterritorialExposure: [], certifications: [] } },
      };
      hostKubectl(["create", "-f", "-"], JSON.stringify(mc));
      createdCluster = true;
    }
    if (!(await host.getSecret(BOOTSTRAP_NAMESPACE, memberCredentialsSecretName(MEMBER)))) {
      await host.createSecret({ namespace: BOOTSTRAP_NAMESPACE, name: memberCredentialsSecretName(MEMBER), data: { "nkey-seed": readFileSync(need(env, `NATS_CREDS_${MEMBER.toUpperCase()}`), "utf8").trim() } });
      createdNatsSecret = true;
    }
    // A bare member: no credentials stored by an earlier agent, so the container must Join.
    memberKubectl(["delete", "secret", "-n", CREDENTIALS_SECRET.namespace, CREDENTIALS_SECRET.name, "--ignore-not-found"]);

    // Copies the container user can read: the originals are root's, mode 0600. The folder
    // stays 0700, so nobody else on the host reads them either.
    dir = mkdtempSync(path.join(tmpdir(), "image-agent-"));
    const token = path.join(dir, "token");
    const minted = await createBootstrapToken({ host, cluster: MEMBER, now: new Date(), ttlMs: 600_000 });
    tokenSecret = secretNameOf(minted.split(".")[0]!);
    writeFileSync(token, minted);
    const sources: Record<keyof typeof IN, string> = {
      kubeconfig: env.memberKubeconfigs[MEMBER]!, ca: need(env, "NATS_CA"), token,
      grpcCert: need(env, `GRPC_CERT_${MEMBER.toUpperCase()}`), grpcKey: need(env, `GRPC_KEY_${MEMBER.toUpperCase()}`),
    };
    for (const [k, src] of Object.entries(sources)) {
      const copy = path.join(dir, `mount-${k}`);
      copyFileSync(src, copy);
      chmodSync(copy, 0o444);
      mounts.push("-v", `${copy}:${IN[k as keyof typeof IN]}:ro`);
    }
    assert.equal(need(env, "GRPC_CA"), need(env, "NATS_CA"), "one CA signs the NATS and gRPC servers in the local federation");
    joinAddress = grpc;
  });

  after(async function () {
    this.timeout(180_000);
    if (env && bin) {
      // The workload first, while the agent runs: its finalizer waits for the member to report the removal.
      kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", "--timeout=120s"] });
    }
    if (started) await podman(["rm", "-f", "-t", "10", container]).catch(() => undefined);
    if (env && bin) {
      if (createdCluster) kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["delete", "membercluster", MEMBER, "--ignore-not-found"] });
      else kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["label", "membercluster", MEMBER, `${Object.keys(selector)[0]}-`] });
      if (tokenSecret) await host.deleteSecret(BOOTSTRAP_NAMESPACE, tokenSecret).catch(() => undefined);
      if (createdNatsSecret) await host.deleteSecret(BOOTSTRAP_NAMESPACE, memberCredentialsSecretName(MEMBER)).catch(() => undefined);
      memberKubectl(["delete", "secret", "-n", CREDENTIALS_SECRET.namespace, CREDENTIALS_SECRET.name, "--ignore-not-found"]);
    }
    await cp?.drain();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("starts as uid 65532 on a read-only root filesystem, Joins with a bootstrap token and serves /readyz and /metrics", async function () {
    metricsPort = await freePort();
    await podman([
      "run", "-d", "--name", container,
      "--network", "host", "--read-only", "--user", `${NON_ROOT}:${NON_ROOT}`, "--cap-drop", "all", "--security-opt", "no-new-privileges",
      // Writable scratch space the way a chart gives it (an emptyDir): the positive control of the read-only check below.
      "--tmpfs", "/tmp:rw,size=16m,mode=1777",
      ...SANDBOX_ULIMITS, ...mounts,
      ref,
      "operator/src/cmd/agent/main.ts",
      "--cluster", MEMBER, "--kubeconfig", IN.kubeconfig, "--nats-url", env.natsUrl, "--nats-ca", IN.ca,
      "--join-address", joinAddress, "--grpc-ca", IN.ca, "--grpc-cert", IN.grpcCert, "--grpc-key", IN.grpcKey, "--bootstrap-token-file", IN.token,
      "--metrics-listen", `127.0.0.1:${metricsPort}`, "--heartbeat-interval", "1s",
    ]);
    started = true;
    await waitFor(async () => (await status(`http://127.0.0.1:${metricsPort}/readyz`)) === 200, {
      what: "/readyz 200 from the containerised agent", timeoutMs: 90_000, intervalMs: 500,
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await containerLogs(container)}`);
    });

    const c = await inspectContainer(container);
    assert.equal(c.State.Running, true);
    assert.equal(c.ImageName, ref);
    assert.equal(c.Config.User, `${NON_ROOT}:${NON_ROOT}`);
    assert.equal(c.HostConfig.ReadonlyRootfs, true);
    assert.equal(c.HostConfig.NetworkMode, "host");

    // What the process itself sees, not only what podman was asked for.
    const ids = await execNode(container, "console.log(process.getuid(), process.getgid())");
    assert.equal(ids.output.trim(), `${NON_ROOT} ${NON_ROOT}`, ids.output);
    const rootWrite = await execNode(container, "require('fs').writeFileSync('/app/probe', 'x')");
    assert.notEqual(rootWrite.status, 0, "a write to the image's files must fail");
    assert.match(rootWrite.output, /EROFS|read-only file system/i);
    const tmpWrite = await execNode(container, "require('fs').writeFileSync('/tmp/probe', 'x'); console.log('written')");
    assert.equal(tmpWrite.status, 0, tmpWrite.output);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^sovereign_agent_/m);

    // The Join happened: the control plane spent the token, and the agent stored the credentials it got.
    const spent = await host.getSecret(BOOTSTRAP_NAMESPACE, tokenSecret!);
    assert.equal(spent?.labels?.[BOOTSTRAP_LABELS.used], "true", "the bootstrap token is marked used");
    const stored = memberKubectl(["get", "secret", "-n", CREDENTIALS_SECRET.namespace, CREDENTIALS_SECRET.name, "-o", "jsonpath={.data}"]);
    assert.equal(stored.status, 0, stored.stderr);
    assert.match(stored.stdout, /nkey-seed|creds/);
  });

  it("makes its MemberCluster Ready and runs a workload only this member satisfies, reporting its status to the host", async function () {
    assert.ok(started, "the container did not start");
    await waitFor(() => getJson<MemberCluster>(["membercluster", MEMBER])?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True", {
      what: `MemberCluster ${MEMBER} Ready from the container's heartbeats`, timeoutMs: 60_000, intervalMs: 500,
    });

    hostKubectl(["create", "namespace", NAMESPACE]);
    const name = `image-${run}`;
    const workload = {
      apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name, namespace: NAMESPACE },
      spec: {
        replicas: 2,
        // FR alone would also let the French members with agents of their own take it; the selector leaves only this one.
        residency: { allowedCountries: ["FR"], allowedJurisdictions: ["EU"], forbidExtraterritorialExposure: true, clusterSelector: { matchLabels: selector } },
        placement: { mode: "Divided" },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example.eu/image-test:1", resources: { requests: { cpu: "10m", memory: "16Mi" } }, securityContext: restrictedSecurityContext() }] } },
      },
    };
    hostKubectl(["create", "-f", "-"], JSON.stringify(workload));

    const ready = await waitFor(() => {
      const w = getJson<SovereignWorkload>(["sovereignworkload", "-n", NAMESPACE, name]);
      return w?.status?.readyReplicas === 2 ? w : undefined;
    }, { what: `${name} Ready with 2 replicas`, timeoutMs: 120_000, intervalMs: 500 });
    assert.deepEqual(ready.status?.placements?.map((p) => p.cluster), [MEMBER]);
    assert.deepEqual(ready.status?.countries, ["FR"]);
    // The other French members were considered and turned down by the selector alone.
    const rejected = ready.status?.rejectedClusters?.find((r) => r.cluster === "ovh-par-1");
    assert.ok(rejected?.reasons.includes("SelectorMismatch"), JSON.stringify(ready.status?.rejectedClusters));

    const uid = ready.metadata.uid!;
    const member = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs[MEMBER]! } });
    const pods = await workloadPods(member, uid);
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => p.status?.phase === "Running"), JSON.stringify(pods.map((p) => p.status?.phase)));
    const reported = await lastStatus(jsm, MEMBER, uid);
    assert.equal(reported?.readyReplicas, 2);

    // Deleted while the agent runs: the host's finalizer waits for this member to report the removal.
    hostKubectl(["delete", "sovereignworkload", "-n", NAMESPACE, name, "--wait=true", "--timeout=90s"]);
    await waitFor(async () => (await workloadPods(member, uid)).length === 0, { what: `${name}'s pods gone from ${MEMBER}`, timeoutMs: 60_000, intervalMs: 500 });
  });

  it("stops gracefully on SIGTERM (podman stop) with exit status 0", async function () {
    assert.ok(started, "the container did not start");
    await podman(["stop", "-t", "20", container], 60_000);
    const c = await inspectContainer(container);
    assert.equal(c.State.Running, false);
    assert.equal(c.State.ExitCode, 0, await containerLogs(container));
  });
});
