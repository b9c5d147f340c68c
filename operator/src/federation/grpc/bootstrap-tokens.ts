/**
 * Bootstrap tokens: how an agent proves, once, that the host's admin invited it to
 * join as a given MemberCluster. Like kubeadm's: `<id>.<secret>`, stored as a Secret on
 * the host named after the id, with an expiry and bound to one cluster. Single use: the
 * first successful Join marks the Secret used (an optimistic write, so two concurrent
 * Joins cannot both win) and it is kept, used, as evidence of who joined when.
 */
import { randomInt, timingSafeEqual } from "node:crypto";
import type { HostApi, Secret } from "../../kube/index.ts";
import { ConflictError } from "../../kube/index.ts";
import { validateClusterName } from "../nats/index.ts";
import { BootstrapTokenError, TokenRefusal } from "./errors.ts";

export const BOOTSTRAP_NAMESPACE = "sovereign-system";
export const BOOTSTRAP_SECRET_TYPE = "sovereignty.eu/bootstrap-token";
export const BOOTSTRAP_LABELS = {
  /** Present on every bootstrap-token Secret, for listing and cleanup. */
  token: "sovereignty.eu/bootstrap-token",
  used: "sovereignty.eu/bootstrap-token-used",
} as const;
export const BOOTSTRAP_ANNOTATIONS = { usedAt: "sovereignty.eu/used-at", usedBy: "sovereignty.eu/used-by" } as const;

const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function secretNameOf(tokenId: string): string {
  return `bootstrap-token-${tokenId}`;
}

function randomString(length: number, random: (max: number) => number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[random(ALPHABET.length)];
  return s;
}

/** A new token and the Secret that stores it. Pure but for `random` (crypto by default). */
export function newBootstrapToken(params: {
  cluster: string;
  now: Date;
  ttlMs: number;
  namespace?: string;
  random?: (max: number) => number;
}): { token: string; secret: Secret } {
  const cluster = validateClusterName(params.cluster);
  const random = params.random ?? ((max: number) => randomInt(max));
  const id = randomString(6, random);
  const secret = randomString(16, random);
  return {
    token: `${id}.${secret}`,
    secret: {
      name: secretNameOf(id),
      namespace: params.namespace ?? BOOTSTRAP_NAMESPACE,
      type: BOOTSTRAP_SECRET_TYPE,
      labels: { [BOOTSTRAP_LABELS.token]: "true" },
      data: {
        "token-id": id,
        "token-secret": secret,
        cluster,
        expiration: new Date(params.now.getTime() + params.ttlMs).toISOString(),
      },
    },
  };
}

/** Creates a token for `cluster` on the host; returns the token to hand to the agent's installer. */
export async function createBootstrapToken(params: { host: HostApi; cluster: string; now: Date; ttlMs: number; namespace?: string }): Promise<string> {
  const { token, secret } = newBootstrapToken(params);
  await params.host.createSecret(secret);
  return token;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a stored token against what the agent presented; throws BootstrapTokenError. */
export function verifyBootstrapToken(params: { stored: Secret | undefined; presentedSecret: string; cluster: string; now: Date }): void {
  const { stored } = params;
  // Unknown and wrong secret read the same to the caller: no hint which ids exist.
  if (!stored || stored.type !== BOOTSTRAP_SECRET_TYPE) throw new BootstrapTokenError(TokenRefusal.Unknown, "bootstrap token is not valid");
  if (!sameSecret(stored.data["token-secret"] ?? "", params.presentedSecret)) {
    throw new BootstrapTokenError(TokenRefusal.WrongSecret, "bootstrap token is not valid");
  }
  if (stored.data.cluster !== params.cluster) {
    throw new BootstrapTokenError(TokenRefusal.WrongCluster, `bootstrap token was issued for another MemberCluster, not ${JSON.stringify(params.cluster)}`);
  }
  const expiration = Date.parse(stored.data.expiration ?? "");
  if (!Number.isFinite(expiration) || expiration <= params.now.getTime()) {
    throw new BootstrapTokenError(TokenRefusal.Expired, `bootstrap token expired at ${stored.data.expiration ?? "(no expiration recorded)"}; ask the host's admin for a new one`);
  }
  const usedAt = stored.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt];
  if (usedAt !== undefined || stored.labels?.[BOOTSTRAP_LABELS.used] === "true") {
    throw new BootstrapTokenError(TokenRefusal.Used, `bootstrap token was already used at ${usedAt ?? "an unrecorded time"}; tokens are single-use, ask the host's admin for a new one`);
  }
}

/**
 * Verifies `token` for `cluster` and marks it used, atomically with respect to other
 * Joins: the write carries the resourceVersion that was verified, so of two concurrent
 * Joins one gets a conflict, re-reads, and is refused as a reuse.
 */
export async function consumeBootstrapToken(params: {
  host: HostApi;
  token: string;
  cluster: string;
  now: Date;
  /** Recorded on the Secret: who joined (e.g. the client certificate's subject). */
  usedBy: string;
  namespace?: string;
}): Promise<void> {
  const m = TOKEN.exec(params.token);
  if (!m) throw new BootstrapTokenError(TokenRefusal.Malformed, "bootstrap token is malformed: expected <6 chars>.<16 chars> of [a-z0-9]");
  const [, id, presented] = m as unknown as [string, string, string];
  const namespace = params.namespace ?? BOOTSTRAP_NAMESPACE;
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await params.host.getSecret(namespace, secretNameOf(id));
    verifyBootstrapToken({ stored, presentedSecret: presented, cluster: params.cluster, now: params.now });
    try {
      await params.host.replaceSecret({
        ...stored!,
        labels: { ...stored!.labels, [BOOTSTRAP_LABELS.used]: "true" },
        annotations: { ...stored!.annotations, [BOOTSTRAP_ANNOTATIONS.usedAt]: params.now.toISOString(), [BOOTSTRAP_ANNOTATIONS.usedBy]: params.usedBy },
      });
      return;
    } catch (err) {
      // Changed since we read it: re-read; if another Join won, verify refuses it as used.
      if (err instanceof ConflictError) continue;
      throw err;
    }
  }
  throw new BootstrapTokenError(TokenRefusal.Used, "bootstrap token is being used concurrently; ask the host's admin for a new one");
}
