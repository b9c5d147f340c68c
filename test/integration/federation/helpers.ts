import { readFileSync } from "node:fs";
import { pino } from "pino";
import { FederationClient, parseNatsSecret } from "../../../operator/src/federation/index.ts";
import type { Identity } from "../../../operator/src/federation/index.ts";
import type { FederationEnv } from "../env.ts";

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
