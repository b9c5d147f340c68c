/**
 * The control plane as one function tests and main.ts both call: informers for the three
 * CRDs, the scheduler cache, NATS, the two controllers (leader-only), the gRPC server, and
 * the Manager with Lease leader election and /healthz, /readyz, /metrics.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { MemberCluster, ResidencyPolicy, SovereignWorkload } from "../../api/index.ts";
import {
  addWorkloadIndexes, AttestationAppender, DeletedMemberStreams, FleetMetrics, MemberKeys, MemberClusterReconciler, memberAgentGone, memberStreamsUnused, OwnWrites, ReconcilesToReady, ReportBook,
  StatusAggregator, watchForScheduling, watchForStatus, WORKLOAD_INDEX, workloadForUid, WorkloadReconciler,
} from "../../controllers/index.ts";
import type { WorkloadEventRecord } from "../../controllers/index.ts";
import {
  attestationDeliveries, AuditIndexer, connectionStateOf, ControlPlaneIntentPublisher, ControlPlaneReportSource, ControlPlaneStreams, FederationClient, LedgerWriter, loadLedgerKeys, MemberKeyIndex,
  memberSigningKey, parseNatsSecret,
} from "../../federation/index.ts";
import type { NatsSecret } from "../../federation/index.ts";
import { auditExportHandler, auditQueryHandler, explainHandler, FederationGrpcServer, secretCredentialSource, simulateHandler } from "../../federation/grpc/index.ts";
import type { MemberCredentialSource } from "../../federation/grpc/index.ts";
import { KubeHostApi, KubeLeaseLock, loadKubeConfig, memberClusterInformer, readRequestHeaderAuth, residencyPolicyInformer, sovereignWorkloadInformer } from "../../kube/index.ts";
import type { KubeConfig } from "../../kube/index.ts";
import { DEFAULT_REQUEST_HEADERS, QueryApiServer } from "../../query/index.ts";
import type { RequestHeaderAuth } from "../../query/index.ts";
import { MetricsRegistry } from "../../metrics/index.ts";
import { Controller, defaultIdentity, EventRecorder, Manager, systemClock, waitFor } from "../../runtime/index.ts";
import type { Cache, Clock, Runnable } from "../../runtime/index.ts";
import { SchedulerCache, workloadKey } from "../../scheduler/index.ts";
import type { ControllerOptions, QueryOptions } from "./options.ts";

export interface ControlPlaneParams {
  options: ControllerOptions;
  log: Logger;
  clock?: Clock;
  /** Lease holder identity; default host name + pid. */
  identity?: string;
}

export interface RunningControlPlane {
  manager: Manager;
  /** Resolves when the manager stops (with its error if it failed). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Member secrets as files <cluster>.creds or <cluster>.seed (the local federation's layout), else undefined. */
function seedsDirSource(dir: string): MemberCredentialSource {
  return async (cluster) => {
    for (const file of readdirSync(dir)) {
      const base = file.replace(/\.(creds|seed|nk)$/, "").toLowerCase();
      if (base !== cluster && base !== cluster.replaceAll("-", "_")) continue;
      return parseNatsSecret(readFileSync(path.join(dir, file), "utf8")) as NatsSecret;
    }
    return undefined;
  };
}

function grpcRunnable(server: FederationGrpcServer, address: string, log: Logger): Runnable {
  return {
    name: "grpc",
    needLeaderElection: false,
    async start(signal) {
      const port = await server.start(address);
      log.info({ address, port }, "gRPC server listening");
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await server.stop();
    },
  };
}

function queryRunnable(server: QueryApiServer, address: string, log: Logger): Runnable {
  return {
    name: "query",
    needLeaderElection: false,
    async start(signal) {
      const port = await server.start(address);
      log.info({ address, port }, "aggregated query API listening");
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await server.stop();
    },
  };
}

/** The front proxy's CA and names: the flags', else what kube-apiserver publishes for aggregated servers. */
async function requestHeaderAuth(query: QueryOptions, kubeConfig: KubeConfig): Promise<RequestHeaderAuth> {
  if (query.requestHeader) {
    return { clientCaPem: readFileSync(query.requestHeader.clientCa, "utf8"), allowedNames: query.requestHeader.allowedNames, ...DEFAULT_REQUEST_HEADERS };
  }
  const published = await readRequestHeaderAuth(kubeConfig);
  if (!published) {
    throw new Error("the host publishes no request-header CA (kube-system/extension-apiserver-authentication): run kube-apiserver with --requestheader-client-ca-file, or give --requestheader-client-ca");
  }
  return {
    clientCaPem: published.clientCaPem,
    allowedNames: published.allowedNames,
    usernameHeaders: published.usernameHeaders.length ? published.usernameHeaders : DEFAULT_REQUEST_HEADERS.usernameHeaders,
    groupHeaders: published.groupHeaders.length ? published.groupHeaders : DEFAULT_REQUEST_HEADERS.groupHeaders,
  };
}

export async function startControlPlane(params: ControlPlaneParams): Promise<RunningControlPlane> {
  const { options, log } = params;
  const clock = params.clock ?? systemClock;
  const identity = params.identity ?? defaultIdentity();
  const kubeConfig = loadKubeConfig({ kubeconfigFile: options.kubeconfig });
  const host = new KubeHostApi({ kubeConfig });
  const metrics = new MetricsRegistry();

  const informerParams = { kubeConfig, log, clock };
  const clusters = memberClusterInformer(informerParams);
  const policies = residencyPolicyInformer(informerParams);
  const workloads = sovereignWorkloadInformer(informerParams);
  addWorkloadIndexes(workloads);
  const scheduler = new SchedulerCache({ clusters, policies, workloads });

  const natsCaPem = readFileSync(options.natsCa, "utf8");
  const client = await FederationClient.connect({
    servers: options.natsServers, identity: "control-plane", secret: parseNatsSecret(readFileSync(options.natsCreds, "utf8")), caPem: natsCaPem, log,
  });
  const streams = new ControlPlaneStreams({ client, options: { streams: { replicas: options.natsStreamReplicas } } });
  await streams.ensureShared();
  // One view of the control plane's NATS link: the report consumers reopen on a reconnect,
  // and members' heartbeats count from it.
  const connection = connectionStateOf(client, log);
  const reports = new ReportBook({
    source: new ControlPlaneReportSource({ client, log, connection }), log: log.child({ component: "reports" }), metrics, clock, connection,
    // An index lookup per report (the uid index), never a scan of the workloads.
    placedOn: (uid) => {
      const w = workloadForUid(uid, workloads);
      return w ? new Set((w.status?.placements ?? []).map((p) => p.cluster)) : undefined;
    },
  });
  // The audit ledger's signing key, loaded (or created at first start) once, before anything is decided.
  await host.ensureNamespace(options.leaderElectionNamespace);
  const ledgerKeys = await loadLedgerKeys({ host, namespace: options.leaderElectionNamespace });
  log.info({ federation: ledgerKeys.federation, key: ledgerKeys.key.keyId, previousKey: ledgerKeys.previous?.keyId, created: ledgerKeys.created }, "audit ledger signing key loaded");
  const ledger = new LedgerWriter({ publisher: client.publish, jsm: () => client.manager(), keys: ledgerKeys, now: () => clock.now(), log: log.child({ component: "ledger" }) });
  if (ledgerKeys.previous) {
    // A key rotation: chains nothing is appended to would stay on the previous key, which
    // the next rotation drops (LedgerWriter.rotateChains). Retried until NATS answers.
    void waitFor(async () => {
      try {
        const moved = await ledger.rotateChains();
        log.info({ key: ledgerKeys.key.keyId, previousKey: ledgerKeys.previous?.keyId, chains: moved }, "moved the audit chains still on the previous key to the new key");
        return true;
      } catch (err) {
        log.warn({ err }, "could not move the audit chains to the new key yet; retrying");
        return false;
      }
    }, { what: "the audit chains moved to the new key", timeoutMs: 30 * 60_000, intervalMs: 5_000 }).catch((err: unknown) => log.error({ err }, "gave up moving the audit chains to the new key; each moves at its next append"));
  }
  const publisher = new ControlPlaneIntentPublisher({ client, metrics, ledger });
  const ensureMember = async (cluster: string) => {
    await streams.ensureMember(cluster);
    // Made for a member no longer declared (a zero intent to a member deleted meanwhile):
    // the MemberCluster controller looks at it, so they go again once nothing needs them.
    if (!clusters.get(cluster)) clusterController.enqueue(cluster);
  };
  const removeMember = (cluster: string) => streams.removeMember({
    cluster,
    unused: () => memberStreamsUnused({ cluster, declared: clusters.get(cluster) !== undefined, workloadsNamingIt: workloads.byIndex(WORKLOAD_INDEX.cluster, cluster) }),
    agentGone: () => memberAgentGone({ lastHeartbeatAt: reports.lastHeartbeat(cluster)?.receivedAt, now: clock.now() }),
  });

  const ownWrites = new OwnWrites();
  const toReady = new ReconcilesToReady(metrics);
  const recorder = new EventRecorder<WorkloadEventRecord>({
    clock, log: log.child({ component: "events" }),
    send: (e) => host.createEvent({ ...e.host, type: e.type, reason: e.reason, message: e.message, at: e.at, count: e.count }),
  });
  const workloadReconciler = new WorkloadReconciler({
    workloads: workloads as Cache<SovereignWorkload>, clusters: clusters as Cache<MemberCluster>, policies: policies as Cache<ResidencyPolicy>,
    scheduler, host, publisher, reports, ensureMember, clock, log: log.child({ controller: "sovereignworkload" }), metrics, identity,
    ownWrites, recorder, toReady,
  });
  const workloadController = new Controller({
    name: "sovereignworkload", workers: options.workers, clock, log: log.child({ controller: "sovereignworkload" }), metrics, queueMetrics: metrics,
    reconciler: workloadReconciler,
  });
  const statusController = new Controller({
    name: "sovereignworkload-status", workers: options.workers, clock, log: log.child({ controller: "sovereignworkload-status" }), metrics, queueMetrics: metrics,
    reconciler: new StatusAggregator({ workloads: workloads as Cache<SovereignWorkload>, reports, host, clock, log: log.child({ controller: "sovereignworkload-status" }), metrics, toReady }),
  });
  const clusterController = new Controller({
    name: "membercluster", workers: 2, clock, log: log.child({ controller: "membercluster" }), metrics, queueMetrics: metrics,
    reconciler: new MemberClusterReconciler({
      clusters: clusters as Cache<MemberCluster>, host, reports, ensureMember, removeMember, clock, log: log.child({ controller: "membercluster" }), metrics,
      timing: { intervalMs: options.heartbeatIntervalMs, misses: options.heartbeatMisses },
    }),
  });

  // NATS back after an outage: what failed on it is tried now, not after its grown backoff.
  connection.onReconnect(() => {
    const retried = [workloadController, statusController, clusterController].map((c) => ({ controller: c.name, keys: c.retryFailedNow() }));
    log.info({ retried }, "NATS reconnected: keys in a failure's backoff are tried now");
  });

  // Federation-wide series (leader-only; refreshed from the whole caches on every change).
  const fleet = new FleetMetrics({ clusters: clusters as Cache<MemberCluster>, workloads: workloads as Cache<SovereignWorkload>, metrics });

  // What wakes each controller is declared with its filters in controllers/workload/watches.ts.
  watchForScheduling({ controller: workloadController, workloads, clusters, policies, reports, ownWrites });
  watchForStatus({ controller: statusController, workloads, reports });
  workloads.onEvent((e) => {
    fleet.schedule();
    if (e.kind !== "delete") {
      // Reports of members the workload left go; intents the cache now shows stop needing a mark.
      reports.placementsChanged(e.object.metadata.uid ?? "");
      return;
    }
    // Whatever was kept about a workload goes with it.
    const uid = e.object.metadata.uid ?? "";
    reports.forget(uid);
    workloadReconciler.forget(uid);
    toReady.forget(uid);
    ownWrites.forget(workloadKey(e.object));
  });
  clusters.onEvent((e) => {
    fleet.schedule();
    clusterController.enqueue(e.object.metadata.name);
    if (e.kind === "delete") reports.forgetCluster(e.object.metadata.name);
  });
  reports.onHeartbeat((cluster) => clusterController.enqueue(cluster));
  const deletedMembers = new DeletedMemberStreams({
    clusters, listed: () => streams.memberClusters(), enqueue: (cluster) => clusterController.enqueue(cluster), log: log.child({ component: "deleted-member-streams" }),
  });

  // The audit stream's read-side index, followed by every control plane (each serves queries).
  const auditIndex = new AuditIndexer({ js: client.js, jsm: () => client.manager(), log: log.child({ component: "audit-index" }) });
  const handlers = {
    explain: explainHandler({ host, clock }),
    simulate: simulateHandler({ clock }),
    audit: auditQueryHandler({ jsm: await client.manager(), js: client.js, log, index: auditIndex }),
    exportLedger: auditExportHandler({ jsm: await client.manager(), js: client.js, ledger: ledgerKeys, now: () => clock.now(), log, index: auditIndex }),
  };
  const query = options.query
    ? new QueryApiServer({
      tls: { certPem: readFileSync(options.query.cert), keyPem: readFileSync(options.query.key) },
      requestHeader: await requestHeaderAuth(options.query, kubeConfig),
      handlers, log: log.child({ component: "query" }),
    })
    : undefined;
  // Member attestations: each member's key as the host knows it (the NATS server's
  // config, else the credentials Join hands out), declared in the ledger, then what the
  // members attest appended to the chains of their countries.
  const memberCredentials = options.memberNatsSeedsDir ? seedsDirSource(options.memberNatsSeedsDir) : secretCredentialSource({ host, namespace: options.namespace });
  const appendToLedger = (entry: Parameters<LedgerWriter["append"]>[0]) => ledger.append(entry);
  const memberKeys = new MemberKeys({
    publicKeyOf: async (member) => {
      const given = options.memberNatsKeys?.[member];
      if (given) return given;
      const secret = await memberCredentials(member);
      if (!secret) return undefined;
      try {
        return memberSigningKey(secret).publicKey;
      } catch (err) {
        // Credentials with no usable nkey: the member has no attestation key (its attestations are dropped as no_key), nothing to retry.
        log.warn({ err, member }, "the member's NATS credentials hold no usable nkey");
        return undefined;
      }
    },
    clusters: clusters as Cache<MemberCluster>, index: new MemberKeyIndex({ client }), append: appendToLedger, clock, log: log.child({ component: "member-keys" }),
  });
  const attestations = new AttestationAppender({
    deliveries: (signal) => attestationDeliveries({ client, signal }),
    keys: memberKeys, clusters: clusters as Cache<MemberCluster>, append: appendToLedger, metrics, clock, log: log.child({ component: "attestations" }),
  });

  const grpc = new FederationGrpcServer({
    tls: { caPem: readFileSync(options.grpcCa), certPem: readFileSync(options.grpcCert), keyPem: readFileSync(options.grpcKey) },
    join: {
      host,
      credentials: memberCredentials,
      natsServers: options.natsServers, natsCaPem, prepareMember: ensureMember, clock, log, tokenNamespace: options.namespace,
      onJoined: (cluster) => attestations.memberJoined(cluster),
    },
    handlers,
    log,
  });

  await host.ensureNamespace(options.leaderElectionNamespace);
  const manager = new Manager({
    clock, log,
    leaderElection: { lock: new KubeLeaseLock({ kubeConfig, namespace: options.leaderElectionNamespace, name: options.leaderElectionId }), identity },
    healthAddress: options.metricsListen,
    metrics,
  });
  for (const r of [clusters, policies, workloads, reports, grpcRunnable(grpc, options.grpcListen, log), ...(query && options.query ? [queryRunnable(query, options.query.listen, log)] : []), clusterController, workloadController, statusController, fleet, attestations, auditIndex, deletedMembers] as Runnable[]) manager.add(r);

  const abort = new AbortController();
  const done = manager.start(abort.signal).finally(() => client.drain().catch(() => undefined));
  return {
    manager,
    done,
    async stop() {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}
