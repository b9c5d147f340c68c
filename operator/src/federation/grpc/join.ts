import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { formatTime } from "../../api/index.ts";
import type { MemberCluster } from "../../api/index.ts";
import type { JoinRequest, JoinResponse } from "../../gen/sovereign/v1/federation.ts";
import type { ResidencyFacts } from "../../gen/sovereign/v1/residency.ts";
import type { HostApi } from "../../kube/index.ts";
import type { Clock } from "../../runtime/index.ts";
import { UNDECLARED_EXPOSURE } from "../../scheduler/index.ts";
import type { NatsSecret } from "../nats/index.ts";
import { streams, subjects, validateClusterName } from "../nats/index.ts";
import { consumeBootstrapToken } from "./bootstrap-tokens.ts";
import { RpcError } from "./errors.ts";
import type { Peer } from "./peer.ts";

/** Where a member's NATS secret comes from (a Secret on the host, files in the local federation). */
export type MemberCredentialSource = (cluster: string) => Promise<NatsSecret | undefined>;

/** Name of the host Secret holding a member's NATS credentials (key `creds` or `nkey-seed`). */
export function memberCredentialsSecretName(cluster: string): string {
  return `nats-member-${validateClusterName(cluster)}`;
}

/**
 * Member credentials kept as Secrets on the host (`sovereign-system/nats-member-<cluster>`),
 * provisioned by whoever runs NATS (nsc, or an operator). The host's admin controls who
 * reads them; only the control plane needs to.
 */
export function secretCredentialSource(params: { host: HostApi; namespace?: string }): MemberCredentialSource {
  return async (cluster) => {
    const secret = await params.host.getSecret(params.namespace ?? "sovereign-system", memberCredentialsSecretName(cluster));
    if (!secret) return undefined;
    if (secret.data.creds) return { creds: secret.data.creds };
    if (secret.data["nkey-seed"]) return { nkeySeed: secret.data["nkey-seed"].trim() };
    return undefined;
  };
}

export interface JoinDeps {
  host: HostApi;
  credentials: MemberCredentialSource;
  /** NATS URLs the agent should connect to. */
  natsServers: string[];
  /** PEM of the CA that signed the NATS server's certificate. */
  natsCaPem: string;
  /**
   * Makes sure the member's intents stream and durable consumer exist, so the returned
   * credentials work at once. Runs before the token is consumed: it can fail and be
   * retried, a consumed token cannot.
   */
  prepareMember?: (cluster: string) => Promise<void>;
  clock: Clock;
  log?: Logger;
  tokenNamespace?: string;
  /** Told of every member that joined: the control plane declares its attestation key (the NATS identity it was just given). */
  onJoined?: (cluster: string) => void;
}

export const JOIN_FIELD_MANAGER = "sovereign-federation-join";

/**
 * What a MemberCluster's residency says, as intents and the guard's parameter carry it.
 * An exposure the host never declared (an object stored before the field was required)
 * travels as the scheduler reads it, exposed (UNDECLARED_EXPOSURE), never as "none".
 */
export function residencyFactsOf(mc: MemberCluster): ResidencyFacts {
  const r = mc.spec.residency;
  const declared = (r as { extraterritorialExposure?: readonly string[] | null }).extraterritorialExposure;
  return {
    country: r.country,
    jurisdiction: r.jurisdiction,
    region: r.region ?? "",
    provider: r.provider ?? "",
    extraterritorialExposure: Array.isArray(declared) ? [...declared] : [UNDECLARED_EXPOSURE],
    certifications: (r.certifications ?? []).map((c) => ({ name: c.name, version: c.version ?? "", validUntil: c.validUntil })),
  };
}

/** Longer than any version string a build produces; what lands in a Secret annotation and a condition message. */
export const MAX_AGENT_VERSION_LENGTH = 64;
const AGENT_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]*$/;

/**
 * The agent's self-reported version, checked before it is written anywhere: empty
 * ("unknown"), or a version-like string of at most MAX_AGENT_VERSION_LENGTH characters.
 * Throws INVALID_ARGUMENT otherwise, before the token is touched.
 */
export function checkAgentVersion(version: string): string {
  if (version === "") return "unknown";
  if (version.length > MAX_AGENT_VERSION_LENGTH || !AGENT_VERSION.test(version)) {
    throw new RpcError(status.INVALID_ARGUMENT, `agentVersion must be at most ${MAX_AGENT_VERSION_LENGTH} characters of letters, digits, '.', '+', '_' and '-', starting with a letter or digit`);
  }
  return version;
}

/**
 * Binds an agent to its existing MemberCluster: never creates one and never touches
 * spec (residency facts are the admin's declaration). Checks, in order: the name, that
 * the client certificate is that member's, that the MemberCluster exists, and the
 * single-use token; only then is the token consumed and the credentials returned.
 */
export async function handleJoin(req: JoinRequest, peer: Peer | undefined, deps: JoinDeps): Promise<JoinResponse> {
  let cluster: string;
  try {
    cluster = validateClusterName(req.cluster);
  } catch (err) {
    throw new RpcError(status.INVALID_ARGUMENT, (err as Error).message, { cause: err });
  }
  const agentVersion = checkAgentVersion(req.agentVersion);
  // The certificate first: a member certificate asking for another cluster gets the same
  // answer whether that cluster exists or not, so Join is no oracle of who the members are.
  if (peer?.kind !== "member" || peer.cluster !== cluster) {
    throw new RpcError(status.PERMISSION_DENIED, `the client certificate (${peer?.subject ?? "not a federation identity"}) may not join as member ${JSON.stringify(cluster)}`);
  }
  const mc = await deps.host.getMemberCluster(cluster);
  if (!mc) {
    throw new RpcError(status.NOT_FOUND, `MemberCluster ${JSON.stringify(cluster)} does not exist on the host; the host's admin must declare it (with its residency) before its agent can join`);
  }
  const secret = await deps.credentials(cluster);
  if (!secret) throw new RpcError(status.FAILED_PRECONDITION, `no NATS identity is provisioned for member ${JSON.stringify(cluster)}`, { retryable: true });
  await deps.prepareMember?.(cluster);

  const now = deps.clock.now();
  await consumeBootstrapToken({
    host: deps.host,
    token: req.bootstrapToken,
    cluster,
    now,
    usedBy: `${peer.subject}; agent ${agentVersion}`,
    ...(deps.tokenNamespace ? { namespace: deps.tokenNamespace } : {}),
  });
  deps.log?.info({ cluster, agentVersion, peer: peer.subject }, "member agent joined");
  deps.onJoined?.(cluster);

  // Best effort: the token is spent, so a failed status write must not fail the Join;
  // heartbeats make the cluster Ready either way.
  await deps.host.applyMemberClusterCondition(cluster, {
    type: "Joined",
    status: "True",
    reason: "AgentJoined",
    message: `agent ${agentVersion} joined with a bootstrap token`,
    lastTransitionTime: formatTime(now),
    ...(mc.metadata.generation !== undefined ? { observedGeneration: mc.metadata.generation } : {}),
  }, JOIN_FIELD_MANAGER).catch((err: unknown) => deps.log?.warn({ err, cluster }, "could not record the Joined condition"));

  return {
    cluster,
    nats: {
      creds: "creds" in secret ? secret.creds : "",
      nkeySeed: "nkeySeed" in secret ? secret.nkeySeed : "",
      caPem: deps.natsCaPem,
      servers: deps.natsServers,
    },
    subjects: {
      intents: subjects.intentsAll(cluster),
      heartbeat: subjects.heartbeat(cluster),
      status: subjects.statusAll(cluster),
      intentsStream: streams.intents(cluster),
      intentsConsumer: streams.intentsConsumer(cluster),
    },
    residency: residencyFactsOf(mc),
  };
}
