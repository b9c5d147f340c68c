/**
 * The member agent's entry point: options, credentials (given, stored, or Join), the
 * NATS connection, the member's informers, the agent, and the health listener. The
 * only place that reads process state; SIGTERM stops everything in order.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { isIP } from "node:net";
import { pino } from "pino";
import type { Logger } from "pino";
import { Agent, backoffMs, joinOrRestore, JoinRefusedError } from "../../agent/index.ts";
import type { AgentCredentials } from "../../agent/index.ts";
import { MANAGED_BY_AGENT, MEMBER_LABELS } from "../../api/index.ts";
import { connectionStateOf, FederationClient, NatsIntentSource, NatsReportPublisher, parseNatsSecret } from "../../federation/index.ts";
import { FederationGrpcClient } from "../../federation/grpc/index.ts";
import { KubeMemberApi, memberInformers } from "../../kube/index.ts";
import { AgentMetricsRegistry } from "../../metrics/index.ts";
import { systemClock } from "../../runtime/index.ts";
import { serveHealth } from "./http.ts";
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
        servers: opts.natsUrl,
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
  const running: { agent?: Agent } = {};
  const health = await serveHealth({
    ...opts.metricsListen,
    metrics,
    ready: () => running.agent?.ready() ?? { ok: false, reasons: ["not joined to the federation yet"] },
  });
  log.info({ listen: `${opts.metricsListen.host}:${health.port}`, version: AGENT_VERSION }, "agent starting");

  let creds: AgentCredentials;
  try {
    creds = await credentialsOf(opts, member, log, signal);
  } catch (err) {
    await health.close();
    if (err instanceof JoinRefusedError) {
      log.fatal({ err }, "the bootstrap token was refused");
      process.stderr.write(`agent: ${err.message}; ask the host's admin for a new token (kubectl sovereign token create ${opts.cluster})\n`);
      return 2;
    }
    if (signal.aborted) return 0;
    throw err;
  }
  let client: FederationClient;
  try {
    client = await connectNats(opts, creds, log, signal);
  } catch (err) {
    await health.close();
    if (signal.aborted) return 0;
    throw err;
  }
  const informers = memberInformers({
    kubeConfig: member.kubeConfig,
    log,
    clock: systemClock,
    deploymentSelector: `${MEMBER_LABELS.managedBy}=${MANAGED_BY_AGENT}`,
    podSelector: MEMBER_LABELS.workloadUid,
  });
  const agent = new Agent({
    cluster: opts.cluster,
    namespace: opts.namespace,
    agentVersion: AGENT_VERSION,
    member,
    intents: new NatsIntentSource({ client, cluster: opts.cluster, log }),
    reports: new NatsReportPublisher({ client }),
    connection: connectionStateOf(client, log),
    ...informers,
    clock: systemClock,
    log,
    metrics,
    ...(creds.residency ? { residency: creds.residency } : {}),
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
  });
  running.agent = agent;
  try {
    await agent.start(signal);
  } finally {
    await client.drain().catch((err: unknown) => log.warn({ err }, "NATS drain failed"));
    await health.close();
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
