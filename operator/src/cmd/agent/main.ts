/**
 * The member agent's entry point: options, credentials (given, stored, or Join), the
 * NATS connection, the member's informers, and the agent's runnables in one Manager
 * (which serves /healthz, /readyz and /metrics). The only place that reads process
 * state; SIGTERM stops everything in order.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { isIP } from "node:net";
import { pino } from "pino";
import type { Logger } from "pino";
import { Agent, AGENT_SELECTORS, backoffMs, joinOrRestore, JoinRefusedError } from "../../agent/index.ts";
import type { AgentCredentials, AttestationSink, FederationLink } from "../../agent/index.ts";
import { connectionStateOf, FederationClient, memberSigningKey, NatsIntentSource, NatsReportPublisher, parseNatsSecret } from "../../federation/index.ts";
import { FederationGrpcClient } from "../../federation/grpc/index.ts";
import { KubeMemberApi, memberInformers } from "../../kube/index.ts";
import { AgentMetricsRegistry } from "../../metrics/index.ts";
import { Manager, systemClock } from "../../runtime/index.ts";
import { parseAgentOptions, USAGE, UsageError } from "./options.ts";
import type { AgentOptions } from "./options.ts";

const AGENT_VERSION = (JSON.parse(readFileSync(path.join(import.meta.dirname, "../../../../package.json"), "utf8")) as { version: string }).version;

async function credentialsOf(opts: AgentOptions, member: KubeMemberApi, log: Logger, signal: AbortSignal): Promise<AgentCredentials> {
  const c = opts.credentials;
  if (c.kind === "given") return { secret: parseNatsSecret(readFileSync(c.natsCredsFile, "utf8")), source: "given" };
  const host = c.joinAddress.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  const client = new FederationGrpcClient({
    address: c.joinAddress,
    tls: { caPem: readFileSync(c.grpcCa), certPem: readFileSync(c.grpcCert), keyPem: readFileSync(c.grpcKey) },
    // A loopback IP cannot travel in TLS SNI; the local federation's server certificate names localhost.
    ...(isIP(host) && (host === "127.0.0.1" || host === "::1") ? { serverName: "localhost" } : {}),
  });
  try {
    return await joinOrRestore({
      cluster: opts.cluster,
      namespace: opts.namespace,
      member,
      join: (bootstrapToken) => client.join({ cluster: opts.cluster, bootstrapToken, agentVersion: AGENT_VERSION }),
      readToken: async () => readFileSync(c.bootstrapTokenFile, "utf8"),
      clock: systemClock,
      log,
      signal,
    });
  } finally {
    client.close();
  }
}

async function connectNats(opts: AgentOptions, creds: AgentCredentials, log: Logger, signal: AbortSignal): Promise<FederationClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await FederationClient.connect({
        servers: opts.natsServers,
        identity: { member: opts.cluster },
        secret: creds.secret,
        caPem: readFileSync(opts.natsCa, "utf8"),
        log,
      });
    } catch (err) {
      signal.throwIfAborted();
      const wait = backoffMs({ attempt, initialMs: 500, maxMs: 15_000 });
      log.warn({ err, attempt, retryInMs: wait }, "could not connect to NATS; retrying");
      await systemClock.sleep(wait, signal);
    }
  }
}

/** Join (or the stored or given credentials), then NATS: what the agent's runnables wait for. */
async function connectFederation(opts: AgentOptions, member: KubeMemberApi, log: Logger, signal: AbortSignal): Promise<{ link: FederationLink; client: FederationClient; attestations: AttestationSink }> {
  const creds = await credentialsOf(opts, member, log, signal);
  const client = await connectNats(opts, creds, log, signal);
  return {
    client,
    // The member attests with its NATS identity's key: the one its permissions are bound to.
    attestations: { key: memberSigningKey(creds.secret), publish: async (body) => void (await client.publish.attestation(body)) },
    link: {
      intents: new NatsIntentSource({ client, cluster: opts.cluster, log }),
      reports: new NatsReportPublisher({ client }),
      connection: connectionStateOf(client, log),
      ...(creds.residency ? { residency: creds.residency } : {}),
    },
  };
}

function joinRefusal(err: unknown): JoinRefusedError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof JoinRefusedError) return e;
  return undefined;
}

async function main(): Promise<number> {
  let opts: AgentOptions | "help";
  try {
    opts = parseAgentOptions(process.argv.slice(2), { env: process.env });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`agent: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = pino({ level: opts.logLevel, base: { component: "agent", cluster: opts.cluster } });
  const stop = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      log.info({ signal: sig }, "stopping");
      stop.abort(new Error(`received ${sig}`));
    });
  }
  const signal = stop.signal;
  const metrics = new AgentMetricsRegistry();
  const member = new KubeMemberApi({ source: { kubeconfigFile: opts.kubeconfig } });
  // Joining may take a while (the host unreachable, a token not yet valid): the Manager
  // answers /healthz meanwhile and /readyz says why it is not ready.
  const connecting = connectFederation(opts, member, log, signal);
  const federation = connecting.then((c) => c.link);
  const informers = memberInformers({
    kubeConfig: member.kubeConfig,
    log,
    clock: systemClock,
    deploymentSelector: AGENT_SELECTORS.deployments,
    podSelector: AGENT_SELECTORS.pods,
    namespaceSelector: AGENT_SELECTORS.namespaces,
  });
  const agent = new Agent({
    cluster: opts.cluster,
    namespace: opts.namespace,
    agentVersion: AGENT_VERSION,
    member,
    federation,
    ...informers,
    clock: systemClock,
    log,
    metrics,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    attestations: { sink: connecting.then((c) => c.attestations), intervalMs: opts.attestationIntervalMs },
    ...(opts.guardObjects ? { guardObjects: opts.guardObjects } : {}),
  });
  const manager = new Manager({
    clock: systemClock,
    log,
    leaderElection: undefined,
    healthAddress: `${opts.metricsListen.host.includes(":") ? `[${opts.metricsListen.host}]` : opts.metricsListen.host}:${opts.metricsListen.port}`,
    metrics,
    readiness: () => agent.notReady(),
  });
  agent.addTo(manager);
  log.info({ listen: `${opts.metricsListen.host}:${opts.metricsListen.port}`, version: AGENT_VERSION }, "agent starting");
  try {
    await manager.start(signal);
  } catch (err) {
    const refused = joinRefusal(err);
    if (refused) {
      log.fatal({ err: refused }, "the bootstrap token was refused");
      process.stderr.write(`agent: ${refused.message}; ask the host's admin for a new token (kubectl sovereign token create ${opts.cluster})\n`);
      return 2;
    }
    if (!signal.aborted) throw err;
  } finally {
    const c = await connecting.catch(() => undefined);
    await c?.client.drain().catch((err: unknown) => log.warn({ err }, "NATS drain failed"));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
