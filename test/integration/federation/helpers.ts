import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { PermissionViolationError } from "@nats-io/transport-node";
import type { Subscription } from "@nats-io/transport-node";
import { FederationClient, parseNatsSecret, PermissionDeniedError } from "../../../operator/src/federation/index.ts";
import type { Delivery, DurableSubscription } from "../../../operator/src/federation/index.ts";
import type { Identity } from "../../../operator/src/federation/index.ts";
import { BOOTSTRAP_NAMESPACE } from "../../../operator/src/federation/grpc/index.ts";
import { repoRoot } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { kubectl, kubectlOk } from "../kubectl.ts";

/** Where the contract tests and the protocol benchmark put their SovereignWorkloads. */
export const TEST_NAMESPACE = "federation-contract";


/** The env var suffix of an identity: NATS_CREDS_FR, NATS_CREDS_CONTROL_PLANE. */
export function envSuffix(identity: string): string {
  return identity.toUpperCase().replaceAll("-", "_");
}

export function need(env: FederationEnv, name: string): string {
  const v = env.vars[name];
  if (!v) throw new Error(`.federation/env has no ${name}; is the federation up with TLS and auth (hack/federation up)?`);
  return v;
}

export function natsSecretOf(env: FederationEnv, identity: string) {
  return parseNatsSecret(readFileSync(need(env, `NATS_CREDS_${envSuffix(identity)}`), "utf8"));
}

export const testLog = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** Connects to the federation's nats-server as `identity`, over TLS with its own credentials. */
export function connectAs(env: FederationEnv, identity: Identity): Promise<FederationClient> {
  const id = identity === "control-plane" ? "control-plane" : identity.member;
  return FederationClient.connect({
    servers: env.natsUrl,
    identity,
    secret: natsSecretOf(env, id),
    caPem: readFileSync(need(env, "NATS_CA"), "utf8"),
    name: `contract-test-${id}`,
    log: testLog,
  });
}

/** A fresh workload uid per test, so tests never read each other's intents. */
export function uid(): string {
  return crypto.randomUUID();
}

/** The MemberClusters the members join as, created once if absent; never changed if present. */
export function ensureMemberClusters(env: FederationEnv): void {
  const bin = env.tools.KUBECTL_BIN!;
  const crds = readdirSync(path.join(repoRoot, "crds")).filter((f) => f.endsWith(".yaml")).map((f) => path.join(repoRoot, "crds", f));
  kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args: ["apply", "--server-side", "--field-manager=federation-contract-test", ...crds.flatMap((f) => ["-f", f])] });
  kubectlOk({ bin, kubeconfig: env.hostKubeconfig, args: ["wait", "--for=condition=Established", "--timeout=60s", "crd/memberclusters.sovereignty.eu", "crd/sovereignworkloads.sovereignty.eu", "crd/residencypolicies.sovereignty.eu"] });
  for (const ns of [BOOTSTRAP_NAMESPACE, TEST_NAMESPACE]) {
    const r = kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["create", "namespace", ns] });
    if (r.status !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
  }
  for (const [name, country, region] of [["fr", "FR", "eu-west-par"], ["de", "DE", "eu-central-fra"]] as const) {
    const mc = {
      apiVersion: "sovereignty.eu/v1alpha1", kind: "MemberCluster", metadata: { name },
      spec: { residency: { country, jurisdiction: "EU", region, provider: "local federation", extraterritorialExposure: [], certifications: [] } },
    };
    const r = kubectl({ bin, kubeconfig: env.hostKubeconfig, args: ["create", "-f", "-"], input: JSON.stringify(mc) });
    if (r.status !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
  }
}

/** Resolves with `p`, or rejects once `ms` passed: a deadline on one awaited event, not a sleep. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms))),
  ]);
}

/**
 * The first delivery of `sub` that `matches`, acknowledging the others taken before it
 * (leftovers of earlier tests on a shared consumer). At the deadline it stops `sub` and
 * acknowledges nothing more, so a late message stays for the consumer's next reader
 * instead of being consumed by a test that has already failed. The match is returned
 * unacknowledged; `onSkipped` sees each delivery acknowledged on the way.
 */
export async function nextMatching<T>(opts: {
  sub: DurableSubscription<T>;
  matches: (d: Delivery<T>) => boolean;
  what: string;
  deadlineMs?: number;
  onSkipped?: (d: Delivery<T>) => void;
}): Promise<Delivery<T>> {
  const ms = opts.deadlineMs ?? 15_000;
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    void opts.sub.stop();
  }, ms);
  try {
    const it = opts.sub[Symbol.asyncIterator]();
    for (;;) {
      const r = await it.next();
      if (expired) throw new Error(`no ${opts.what} within ${ms} ms`);
      if (r.done) throw new Error(`the subscription ended before ${opts.what}`);
      if (opts.matches(r.value)) return r.value;
      opts.onSkipped?.(r.value);
      await r.value.ack();
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Subscriptions a test opened, stopped after it whatever its outcome, so none keeps pulling from a shared consumer. */
export class OpenSubscriptions {
  readonly #subs: DurableSubscription<unknown>[] = [];
  track<T>(sub: DurableSubscription<T>): DurableSubscription<T> {
    this.#subs.push(sub as DurableSubscription<unknown>);
    return sub;
  }
  async stopAll(): Promise<void> {
    await Promise.all(this.#subs.splice(0).map((s) => s.stop()));
  }
}

/** A publish (or a consumer pull) the server refused with a permissions error, on a subject matching `subject`. */
export async function assertDenied(p: Promise<unknown>, subject: RegExp): Promise<PermissionDeniedError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof PermissionDeniedError, `expected PermissionDeniedError, got ${String(err)}`);
  assert.equal(err.retryable, false);
  assert.match(err.subject, subject);
  assert.match(String((err.cause as Error)?.message), /Permissions Violation/i);
  return err;
}

/** A raw request (what a hand-written client would send) refused by the server. */
export async function assertRequestDenied(p: Promise<unknown>, subject: string): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  // The client wraps the server's -ERR in a RequestError whose cause is the violation.
  const violation = err instanceof PermissionViolationError ? err : (err as Error | undefined)?.cause;
  assert.ok(violation instanceof PermissionViolationError, `expected a PermissionViolationError, got ${String(err)}`);
  assert.equal(violation.operation, "publish");
  assert.equal(violation.subject, subject);
}

/** Subscribing is refused asynchronously: the server answers -ERR and the client closes the subscription with it. */
export async function assertSubscribeDenied(sub: Subscription, subject: string): Promise<void> {
  const closed = await within(sub.closed, 10_000, `refusal of subscribe ${subject}`);
  assert.ok(closed instanceof Error, `subscription to ${subject} was not refused`);
  assert.match(closed.message, /Permissions Violation for Subscription/i);
  assert.ok(closed.message.includes(subject), closed.message);
}
