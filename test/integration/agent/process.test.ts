import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JetStreamManager } from "@nats-io/jetstream";
import { CREDENTIALS_SECRET } from "../../../operator/src/agent/index.ts";
import { ensureMemberStreams, ensureSharedStreams } from "../../../operator/src/federation/index.ts";
import type { FederationClient } from "../../../operator/src/federation/index.ts";
import { createBootstrapToken, FederationGrpcServer } from "../../../operator/src/federation/grpc/index.ts";
import { KubeHostApi, KubeMemberApi } from "../../../operator/src/kube/index.ts";
import { systemClock, waitFor } from "../../../operator/src/runtime/index.ts";
import { readFederationEnv, repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { connectAs, ensureMemberClusters, envSuffix, natsSecretOf, need, testLog, uid } from "../federation/helpers.ts";
import { intentFor, lastStatus, runningPods } from "./helpers.ts";

const NODE = path.join(repoRoot, "node_modules", "node", "bin", "node");
const MAIN = path.join(repoRoot, "operator", "src", "cmd", "agent", "main.ts");

/** The agent as a real process; resolves its exit code. */
function run(args: string[]): { child: ChildProcess; exited: Promise<number>; output: () => string } {
  const child = spawn(NODE, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return { child, exited, output: () => out };
}

async function readyz(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  } catch {
    return 0;
  }
}

describe("member agent as a process (node operator/src/cmd/agent/main.ts)", function () {
  let env: FederationEnv;
  let cp: FederationClient;
  let jsm: JetStreamManager;
  let host: KubeHostApi;
  let member: KubeMemberApi;
  let server: FederationGrpcServer;
  let address: string;
  let dir: string;

  before(async function () {
    this.timeout(180_000);
    env = readFederationEnv();
    ensureMemberClusters(env);
    cp = await connectAs(env, "control-plane");
    jsm = await cp.manager();
    await ensureSharedStreams(jsm, { streams: { replicas: env.natsStreamReplicas } });
    host = new KubeHostApi({ source: { kubeconfigFile: env.hostKubeconfig } });
    member = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs.de! } });
    server = new FederationGrpcServer({
      tls: { caPem: readFileSync(need(env, "GRPC_CA")), certPem: readFileSync(need(env, "GRPC_SERVER_CERT")), keyPem: readFileSync(need(env, "GRPC_SERVER_KEY")) },
      join: {
        host,
        credentials: async (cluster) => (env.vars[`NATS_CREDS_${envSuffix(cluster)}`] ? natsSecretOf(env, cluster) : undefined),
        natsServers: [env.natsUrl],
        natsCaPem: readFileSync(need(env, "NATS_CA"), "utf8"),
        prepareMember: (cluster) => ensureMemberStreams(jsm, cluster, { streams: { replicas: env.natsStreamReplicas } }),
        clock: systemClock,
        log: testLog,
      },
      log: testLog,
    });
    address = `127.0.0.1:${await server.start("127.0.0.1:0")}`;
    dir = mkdtempSync(path.join(tmpdir(), "agent-process-"));
  });

  after(async () => {
    await server?.stop();
    await cp?.drain();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const joinArgs = (port: number, tokenFile: string) => [
    "--cluster", "de", "--kubeconfig", env.memberKubeconfigs.de!, "--nats-url", env.natsUrl, "--nats-ca", need(env, "NATS_CA"),
    "--join-address", address, "--grpc-ca", need(env, "GRPC_CA"), "--grpc-cert", need(env, "GRPC_CERT_DE"), "--grpc-key", need(env, "GRPC_KEY_DE"),
    "--bootstrap-token-file", tokenFile, "--metrics-listen", `127.0.0.1:${port}`, "--heartbeat-interval", "1s", "--log-level", "warn",
  ];

  it("joins with a real bootstrap token (no --nats-creds), gets ready, runs intents, keeps the credentials for a restart, and stops on SIGTERM", async function () {
    this.timeout(180_000);
    // A fresh member: no credentials from an earlier Join.
    await member.ensureNamespace(CREDENTIALS_SECRET.namespace, {});
    const k = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs.de! } });
    const old = await k.getSecret(CREDENTIALS_SECRET.namespace, CREDENTIALS_SECRET.name);
    if (old) await k.writeSecret({ ...CREDENTIALS_SECRET, data: {} });
    const tokenFile = path.join(dir, "token");
    writeFileSync(tokenFile, await createBootstrapToken({ host, cluster: "de", now: new Date(), ttlMs: 3_600_000 }));

    const port = 22290;
    const first = run(joinArgs(port, tokenFile));
    try {
      await waitFor(async () => (await readyz(port)) === 200, { what: `agent /readyz 200 (output: ${first.output()})`, timeoutMs: 60_000, intervalMs: 300 });
      const stored = await k.getSecret(CREDENTIALS_SECRET.namespace, CREDENTIALS_SECRET.name);
      assert.ok(stored?.data["nkey-seed"] || stored?.data.creds, "the Join's NATS credentials are in the member Secret");
      assert.equal(JSON.parse(stored!.data.residency!).country, "DE");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /sovereign_agent_/);

      const w = uid();
      await cp.publish.intent(intentFor({ cluster: "de", uid: w, name: `proc-${w.slice(0, 8)}`, replicas: 1 }));
      await runningPods(member, w, 1);
      await waitFor(async () => (await lastStatus(jsm, "de", w))?.readyReplicas === 1, { what: "status from the process", timeoutMs: 30_000 });
    } finally {
      first.child.kill("SIGTERM");
    }
    assert.equal(await first.exited, 0, first.output());

    // The token is spent; the restart uses the stored credentials (a used token would be refused).
    const second = run(joinArgs(port, tokenFile));
    try {
      await waitFor(async () => (await readyz(port)) === 200, { what: `restarted agent ready (output: ${second.output()})`, timeoutMs: 60_000, intervalMs: 300 });
    } finally {
      second.child.kill("SIGTERM");
    }
    assert.equal(await second.exited, 0, second.output());
  });

  it("exits 2 naming the reason when the bootstrap token is refused", async function () {
    this.timeout(60_000);
    const k = new KubeMemberApi({ source: { kubeconfigFile: env.memberKubeconfigs.de! } });
    await k.writeSecret({ ...CREDENTIALS_SECRET, data: {} });
    const tokenFile = path.join(dir, "bad-token");
    writeFileSync(tokenFile, "abcdef.0123456789abcdef");
    const p = run(joinArgs(22291, tokenFile));
    assert.equal(await p.exited, 2, p.output());
    assert.match(p.output(), /Join refused \(UNAUTHENTICATED\): bootstrap token is not valid/);
  });

  it("exits 2 naming the flag on a bad command line", async () => {
    const p = run(["--cluster", "DE", "--kubeconfig", env.memberKubeconfigs.de!]);
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /--cluster: "DE" is not a DNS-1123 label/);
  });
});
