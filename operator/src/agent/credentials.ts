/**
 * Where the agent's NATS identity comes from: given files, the member Secret a
 * previous Join left, or a Join over gRPC with a single-use bootstrap token, whose
 * answer is then kept in that Secret so a restart needs no new token.
 */
import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { MANAGED_BY_AGENT, MEMBER_LABELS } from "../api/index.ts";
import type { JoinResponse } from "../gen/sovereign/v1/federation.ts";
import type { ResidencyFacts } from "../gen/sovereign/v1/residency.ts";
import type { NatsSecret } from "../federation/index.ts";
import type { MemberApi } from "../kube/index.ts";
import { TerminalError } from "../runtime/index.ts";
import type { Clock } from "../runtime/index.ts";

export const CREDENTIALS_SECRET = { namespace: "sovereign-system", name: "sovereign-agent-credentials" } as const;

export interface AgentCredentials {
  secret: NatsSecret;
  /** From Join: the NATS URLs and CA the host advertises (the command line's win when given). */
  servers?: string[];
  caPem?: string;
  /** The host's residency facts for this member, when Join returned them. */
  residency?: ResidencyFacts;
  source: "given" | "stored" | "joined";
}

/** The bootstrap token was refused (or the host will not let this member join): an admin must act. */
export class JoinRefusedError extends TerminalError {
  override readonly name = "JoinRefusedError";
  readonly code: number;
  constructor(code: number, details: string) {
    super(`Join refused (${status[code] ?? code}): ${details}`);
    this.code = code;
  }
}

/** gRPC codes after which the same Join may succeed later (the token is not consumed by a failed Join). */
const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.FAILED_PRECONDITION, status.ABORTED, status.INTERNAL, status.UNKNOWN]);

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** Exponential backoff with full jitter, capped: many agents restarting at once do not stampede the host. */
export function backoffMs(params: { attempt: number; initialMs: number; maxMs: number; random?: () => number }): number {
  const ceiling = Math.min(params.maxMs, params.initialMs * 2 ** Math.max(0, params.attempt - 1));
  return Math.round(ceiling / 2 + (params.random ?? Math.random)() * (ceiling / 2));
}

export function credentialsFromSecret(data: Record<string, string>): AgentCredentials | undefined {
  const secret: NatsSecret | undefined = data.creds ? { creds: data.creds } : data["nkey-seed"] ? { nkeySeed: data["nkey-seed"].trim() } : undefined;
  if (!secret) return undefined;
  let residency: ResidencyFacts | undefined;
  try {
    residency = data.residency ? (JSON.parse(data.residency) as ResidencyFacts) : undefined;
  } catch {
    residency = undefined;
  }
  return {
    secret,
    ...(data.servers ? { servers: data.servers.split(",").filter(Boolean) } : {}),
    ...(data["nats-ca"] ? { caPem: data["nats-ca"] } : {}),
    ...(residency ? { residency } : {}),
    source: "stored",
  };
}

export function secretDataOf(res: JoinResponse): Record<string, string> {
  return {
    cluster: res.cluster,
    ...(res.nats?.creds ? { creds: res.nats.creds } : {}),
    ...(res.nats?.nkeySeed ? { "nkey-seed": res.nats.nkeySeed } : {}),
    ...(res.nats?.caPem ? { "nats-ca": res.nats.caPem } : {}),
    ...(res.nats?.servers.length ? { servers: res.nats.servers.join(",") } : {}),
    ...(res.residency ? { residency: JSON.stringify(res.residency) } : {}),
  };
}

export interface JoinParams {
  cluster: string;
  member: Pick<MemberApi, "getSecret" | "writeSecret" | "ensureNamespace">;
  /** One Join call with this token. */
  join: (bootstrapToken: string) => Promise<JoinResponse>;
  readToken: () => Promise<string>;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  backoff?: { initialMs: number; maxMs: number };
  /** The agent's own namespace (its --namespace option), where the Secret lives; default CREDENTIALS_SECRET's. */
  namespace?: string;
}

/**
 * The stored credentials if a previous Join left them, else a Join (retried with
 * backoff while the host is unreachable or not ready), kept in the member Secret before
 * they are used. A refused token throws JoinRefusedError.
 */
export async function joinOrRestore(params: JoinParams): Promise<AgentCredentials> {
  const { member, log, clock, signal } = params;
  const backoff = params.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const secretRef = { namespace: params.namespace ?? CREDENTIALS_SECRET.namespace, name: CREDENTIALS_SECRET.name };
  const stored = await member.getSecret(secretRef.namespace, secretRef.name);
  const restored = stored && stored.data.cluster === params.cluster ? credentialsFromSecret(stored.data) : undefined;
  if (restored) {
    log.info({ secret: `${secretRef.namespace}/${secretRef.name}` }, "using the NATS credentials of an earlier Join");
    return restored;
  }
  const token = (await params.readToken()).trim();
  let res: JoinResponse;
  for (let attempt = 1; ; attempt++) {
    try {
      res = await params.join(token);
      break;
    } catch (err) {
      const code = grpcCode(err);
      if (code === undefined || !RETRYABLE.has(code)) {
        throw new JoinRefusedError(code ?? status.UNKNOWN, (err as { details?: string }).details || (err as Error).message || String(err));
      }
      const wait = backoffMs({ attempt, ...backoff });
      log.warn({ err, attempt, retryInMs: wait }, "Join failed; retrying");
      await clock.sleep(wait, signal);
    }
  }
  // The token is spent now: keep the answer, however long the member API takes to accept it.
  const data = secretDataOf(res);
  for (let attempt = 1; ; attempt++) {
    try {
      await member.ensureNamespace(secretRef.namespace, { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT });
      await member.writeSecret({ ...secretRef, labels: { [MEMBER_LABELS.managedBy]: MANAGED_BY_AGENT }, data });
      break;
    } catch (err) {
      const wait = backoffMs({ attempt, ...backoff });
      log.error({ err, attempt, retryInMs: wait }, "could not store the Join's NATS credentials in the member Secret; retrying");
      await clock.sleep(wait, signal);
    }
  }
  log.info({ cluster: res.cluster }, "joined the federation; NATS credentials stored in the member Secret");
  const creds = credentialsFromSecret(data);
  if (!creds) throw new JoinRefusedError(status.INTERNAL, "the Join answer carried no NATS credentials");
  return { ...creds, source: "joined" };
}
