// The federation protocol's cost on loopback, against the running local federation
// (`hack/federation up`): JetStream publish-and-ack throughput for placement intents
// (Node client, TLS, nkey auth, a file stream on a server that fsyncs every write), and
// gRPC Join and Explain latency over mutual TLS.
//
// Baselines, run in this process on the same connections, so the ratios do not depend
// on the machine: a core NATS publish followed by a flush (one round trip to the
// server, the floor under any acknowledged publish), and a gRPC call refused by argument
// validation (the mTLS round trip with no I/O behind it).
import { systemClock } from "../operator/src/runtime/index.ts";
import { waitFor } from "../operator/src/runtime/wait.ts";
import { readFileSync } from "node:fs";
import { StorageType } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import {
  BOOTSTRAP_NAMESPACE, createBootstrapToken, explainHandler, FederationGrpcClient, FederationGrpcServer, secretNameOf, simulateHandler,
} from "../operator/src/federation/grpc/index.ts";
import { ensureMemberStreams, streams } from "../operator/src/federation/index.ts";
import type { FederationClient } from "../operator/src/federation/index.ts";
import type { PlacementIntent } from "../operator/src/gen/sovereign/v1/intent.ts";
import { KubeHostApi } from "../operator/src/kube/index.ts";
import { readFederationEnv } from "../test/integration/env.ts";
import type { FederationEnv } from "../test/integration/env.ts";
import { connectAs, ensureMemberClusters, envSuffix, natsSecretOf, need, TEST_NAMESPACE } from "../test/integration/federation/helpers.ts";
import { kubectlOk } from "../test/integration/kubectl.ts";
import { sampleIntent } from "../test/support/samples.ts";
import { formatRatio, quantile } from "./lib/stats.ts";

/** A cluster name of its own, so the benchmark never touches a real member's intents. */
const BENCH_CLUSTER = "bench-protocol";
const SEQUENTIAL = 2_000;
const PIPELINED = 10_000;
const WINDOW = 256;
const BASELINE_REQUESTS = 2_000;
const JOINS = 100;
const EXPLAINS = 500;
const GRPC_BASELINE = 500;

const rate = (n: number, ms: number) => (n / ms) * 1000;
const fmt = (x: number) => `${x < 1 ? x.toFixed(3) : x.toFixed(2)} ms`;

function intentFor(i: number, decidedAt: Date): PlacementIntent {
  const uid = `bench-${String(i).padStart(6, "0")}`;
  return sampleIntent({ cluster: BENCH_CLUSTER, workload: { namespace: "bench", name: uid, uid }, decidedAt });
}

async function coreBaseline(cp: FederationClient): Promise<number> {
  // Publish then flush (PING/PONG): one client -> server -> client round trip per message,
  // with no storage behind it. The subject is one the control plane may publish to; the
  // bench stream does not exist yet, so nothing stores it.
  const subject = `sov.v1.${BENCH_CLUSTER}.intents.baseline`;
  const payload = new Uint8Array(600);
  const start = performance.now();
  for (let i = 0; i < BASELINE_REQUESTS; i++) {
    cp.nc.publish(subject, payload);
    await cp.nc.flush();
  }
  return rate(BASELINE_REQUESTS, performance.now() - start);
}

async function jetstreamBench(cp: FederationClient, jsm: JetStreamManager): Promise<{ sequential: number; pipelined: number; baseline: number }> {
  // Left over from an interrupted run: it would capture the baseline's echo requests.
  await jsm.streams.delete(streams.intents(BENCH_CLUSTER)).catch(() => undefined);
  const baseline = await coreBaseline(cp);
  process.stdout.write(`  core NATS publish+flush baseline: ${baseline.toFixed(0)} msgs/s\n`);
  await ensureMemberStreams(jsm, BENCH_CLUSTER, { streams: { storage: StorageType.File } });
  const decidedAt = new Date();

  let start = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    await cp.publish.intent(intentFor(i, decidedAt));
    if ((i + 1) % (SEQUENTIAL / 4) === 0) process.stdout.write(`  sequential: ${i + 1}/${SEQUENTIAL} intents acknowledged\n`);
  }
  const sequential = rate(SEQUENTIAL, performance.now() - start);

  // Many publishes in flight, as the control plane sends a burst of decisions after a failover.
  start = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < PIPELINED) {
      const i = SEQUENTIAL + next++;
      await cp.publish.intent(intentFor(i, decidedAt));
      if (++done % (PIPELINED / 4) === 0) process.stdout.write(`  pipelined (${WINDOW} in flight): ${done}/${PIPELINED} intents acknowledged\n`);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const pipelined = rate(PIPELINED, performance.now() - start);
  const info = await jsm.streams.info(streams.intents(BENCH_CLUSTER));
  if (info.state.messages !== SEQUENTIAL + PIPELINED) throw new Error(`stream holds ${info.state.messages} intents, expected ${SEQUENTIAL + PIPELINED}`);
  await jsm.streams.delete(streams.intents(BENCH_CLUSTER));
  return { sequential, pipelined, baseline };
}

function latencies(samples: number[]): { p50: number; p99: number } {
  const sorted = Float64Array.from(samples).sort();
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

async function grpcBench(env: FederationEnv, jsm: JetStreamManager): Promise<Record<"baseline" | "join" | "explain", { p50: number; p99: number }>> {
  ensureMemberClusters(env);
  const host = new KubeHostApi({ source: { kubeconfigFile: env.hostKubeconfig } });
  const clock = systemClock;
  const server = new FederationGrpcServer({
    tls: { caPem: readFileSync(need(env, "GRPC_CA")), certPem: readFileSync(need(env, "GRPC_SERVER_CERT")), keyPem: readFileSync(need(env, "GRPC_SERVER_KEY")) },
    join: {
      host,
      credentials: async (cluster) => natsSecretOf(env, cluster),
      natsServers: [env.natsUrl],
      natsCaPem: readFileSync(need(env, "NATS_CA"), "utf8"),
      prepareMember: (cluster) => ensureMemberStreams(jsm, cluster),
      clock,
    },
    handlers: { explain: explainHandler({ host, clock }), simulate: simulateHandler({ clock }) },
  });
  const address = `127.0.0.1:${await server.start("127.0.0.1:0")}`;
  const tls = (id: string) => ({ caPem: readFileSync(need(env, "GRPC_CA")), certPem: readFileSync(need(env, `GRPC_CERT_${envSuffix(id)}`)), keyPem: readFileSync(need(env, `GRPC_KEY_${envSuffix(id)}`)) });
  const admin = new FederationGrpcClient({ address, tls: tls("admin"), serverName: "localhost" });
  const fr = new FederationGrpcClient({ address, tls: tls("fr"), serverName: "localhost" });
  const tokens: string[] = [];
  try {
    const baseline: number[] = [];
    for (let i = 0; i < GRPC_BASELINE; i++) {
      const t0 = performance.now();
      await admin.explain({ namespace: "", name: "", now: undefined }).catch(() => undefined);
      baseline.push(performance.now() - t0);
    }
    process.stdout.write(`  gRPC baseline (refused by validation): ${GRPC_BASELINE} calls\n`);

    const join: number[] = [];
    for (let i = 0; i < JOINS; i++) {
      // Token creation is the admin's step, not part of Join.
      const token = await createBootstrapToken({ host, cluster: "fr", now: clock.now(), ttlMs: 3_600_000 });
      tokens.push(token);
      const t0 = performance.now();
      await fr.join({ cluster: "fr", bootstrapToken: token, agentVersion: "bench" });
      join.push(performance.now() - t0);
      if ((i + 1) % (JOINS / 4) === 0) process.stdout.write(`  Join: ${i + 1}/${JOINS}\n`);
    }

    const name = "bench-explained";
    kubectlOk({
      bin: env.tools.KUBECTL_BIN!, kubeconfig: env.hostKubeconfig, args: ["apply", "-f", "-"],
      input: JSON.stringify({
        apiVersion: "sovereignty.eu/v1alpha1", kind: "SovereignWorkload", metadata: { name, namespace: TEST_NAMESPACE },
        spec: { replicas: 3, residency: { allowedCountries: ["FR", "DE"] }, template: { spec: { containers: [{ name: "app", image: "registry.invalid/app:1", securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } } }] } } },
      }),
    });
    // Right after the CRDs are installed the host may answer UNAVAILABLE for a moment
    // (retryable by contract): wait for one answer before timing anything.
    await waitFor(() => admin.explain({ namespace: TEST_NAMESPACE, name, now: undefined }).then(() => true), {
      what: "a first Explain answer from the host", timeoutMs: 30_000, intervalMs: 250,
    });
    const explain: number[] = [];
    for (let i = 0; i < EXPLAINS; i++) {
      const t0 = performance.now();
      await admin.explain({ namespace: TEST_NAMESPACE, name, now: undefined });
      explain.push(performance.now() - t0);
      if ((i + 1) % (EXPLAINS / 4) === 0) process.stdout.write(`  Explain: ${i + 1}/${EXPLAINS}\n`);
    }
    return { baseline: latencies(baseline), join: latencies(join), explain: latencies(explain) };
  } finally {
    admin.close();
    fr.close();
    await server.stop();
    await Promise.allSettled(tokens.map((t) => host.deleteSecret(BOOTSTRAP_NAMESPACE, secretNameOf(t.slice(0, 6)))));
  }
}

export async function run(): Promise<void> {
  const env = readFederationEnv();
  console.log(`protocol benchmark: loopback, TLS everywhere, Node ${process.version}, nats ${env.natsUrl}`);
  const cp = await connectAs(env, "control-plane");
  try {
    const jsm = await cp.manager();
    console.log(`JetStream publish+ack of PlacementIntent (${SEQUENTIAL} sequential, ${PIPELINED} with ${WINDOW} in flight):`);
    const js = await jetstreamBench(cp, jsm);
    console.log("gRPC over mutual TLS:");
    const g = await grpcBench(env, jsm);

    console.log("");
    console.log("JetStream intents (file stream, sync_interval: always):");
    console.log(`  sequential publish+ack   ${js.sequential.toFixed(0).padStart(7)} msgs/s   (${formatRatio(js.baseline / js.sequential)} slower than core publish+flush at ${js.baseline.toFixed(0)}/s)`);
    console.log(`  pipelined publish+ack    ${js.pipelined.toFixed(0).padStart(7)} msgs/s   (${formatRatio(js.pipelined / js.sequential)} the sequential rate)`);
    console.log("gRPC latency               p50         p99");
    for (const [label, l] of [["baseline (no I/O)", g.baseline], ["Join", g.join], ["Explain", g.explain]] as const) {
      const ratio = label.startsWith("baseline") ? "" : `   (p50 ${formatRatio(l.p50 / g.baseline.p50)} the baseline)`;
      console.log(`  ${label.padEnd(22)} ${fmt(l.p50).padStart(10)}  ${fmt(l.p99).padStart(10)}${ratio}`);
    }
  } finally {
    await cp.drain();
  }
}
