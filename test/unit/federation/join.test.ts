import assert from "node:assert/strict";
import type { PeerCertificate } from "node:tls";
import { status } from "@grpc/grpc-js";
import {
  BOOTSTRAP_ANNOTATIONS, BootstrapTokenError, consumeBootstrapToken, createBootstrapToken, handleJoin, identifyByOrganization, newBootstrapToken, RpcError,
  secretCredentialSource, simulateHandler, TokenRefusal,
} from "../../../operator/src/federation/grpc/index.ts";
import type { JoinDeps, Peer } from "../../../operator/src/federation/grpc/index.ts";
import { FakeHost, storedMemberCluster } from "./fake-host.ts";
import { NOW as NOW_MS } from "../../support/builders.ts";
import { TestClock } from "../../../operator/src/runtime/index.ts";

const NOW = new Date(NOW_MS);
const HOUR = 3_600_000;
const frPeer: Peer = { kind: "member", cluster: "fr", subject: "O=sovereign-federation member, CN=fr" };

function deps(host: FakeHost, over: Partial<JoinDeps> = {}): JoinDeps {
  return {
    host,
    credentials: async (cluster) => (cluster === "fr" || cluster === "de" ? { nkeySeed: `SUSEED${cluster.toUpperCase()}` } : undefined),
    natsServers: ["tls://127.0.0.1:4222"],
    natsCaPem: "CA",
    clock: new TestClock(NOW),
    ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<RpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof RpcError, `expected RpcError, got ${String(err)}`);
  return err;
}

describe("bootstrap tokens", () => {
  it("makes tokens of the form <6>.<16> bound to one cluster, with an expiry", () => {
    const { token, secret } = newBootstrapToken({ cluster: "fr", now: NOW, ttlMs: HOUR });
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.equal(secret.name, `bootstrap-token-${token.slice(0, 6)}`);
    assert.equal(secret.namespace, "sovereign-system");
    assert.equal(secret.data.cluster, "fr");
    assert.equal(secret.data.expiration, "2026-11-28T01:00:00.000Z");
  });

  it("is accepted once, then refused as reused, the use recorded on the Secret", async () => {
    const host = new FakeHost();
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
    await consumeBootstrapToken({ host, token, cluster: "fr", now: NOW, usedBy: "CN=fr" });
    const stored = [...host.secrets.values()][0]!;
    assert.equal(stored.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt], NOW.toISOString());
    assert.equal(stored.annotations?.[BOOTSTRAP_ANNOTATIONS.usedBy], "CN=fr");
    const err = await refusal(consumeBootstrapToken({ host, token, cluster: "fr", now: NOW, usedBy: "CN=fr" }));
    assert.ok(err instanceof BootstrapTokenError && err.refusal === TokenRefusal.Used);
    assert.equal(err.code, status.UNAUTHENTICATED);
    assert.match(err.message, /already used at 2026-11-28T00:00:00.000Z/);
  });

  it("lets only one of two concurrent Joins with the same token win", async () => {
    const host = new FakeHost();
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
    let interleaved = false;
    // The first writer is overtaken by a second Join between its read and its write.
    host.beforeReplace = async () => {
      if (interleaved) return;
      interleaved = true;
      await consumeBootstrapToken({ host, token, cluster: "fr", now: NOW, usedBy: "second" });
    };
    const err = await refusal(consumeBootstrapToken({ host, token, cluster: "fr", now: NOW, usedBy: "first" }));
    assert.ok(err instanceof BootstrapTokenError && err.refusal === TokenRefusal.Used);
    assert.equal([...host.secrets.values()][0]!.annotations?.[BOOTSTRAP_ANNOTATIONS.usedBy], "second");
  });

  for (const [name, mutate, expected, code, message] of [
    ["a malformed", (t: string) => `${t}x`, TokenRefusal.Malformed, status.UNAUTHENTICATED, /malformed/],
    ["an unknown-id", (t: string) => `zzzzzz${t.slice(6)}`, TokenRefusal.Unknown, status.UNAUTHENTICATED, /not valid/],
    ["a wrong-secret", (t: string) => `${t.slice(0, 7)}${"0".repeat(16)}`, TokenRefusal.WrongSecret, status.UNAUTHENTICATED, /not valid/],
  ] as const) {
    it(`refuses ${name} token without consuming the real one`, async () => {
      const host = new FakeHost();
      const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
      const err = await refusal(consumeBootstrapToken({ host, token: mutate(token), cluster: "fr", now: NOW, usedBy: "x" }));
      assert.ok(err instanceof BootstrapTokenError && err.refusal === expected);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      await consumeBootstrapToken({ host, token, cluster: "fr", now: NOW, usedBy: "x" });
    });
  }

  it("refuses an expired token, naming when it expired", async () => {
    const host = new FakeHost();
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
    const err = await refusal(consumeBootstrapToken({ host, token, cluster: "fr", now: new Date(NOW.getTime() + HOUR), usedBy: "x" }));
    assert.ok(err instanceof BootstrapTokenError && err.refusal === TokenRefusal.Expired);
    assert.match(err.message, /expired at 2026-11-28T01:00:00.000Z/);
  });

  it("refuses a token issued for another cluster with PERMISSION_DENIED", async () => {
    const host = new FakeHost();
    const token = await createBootstrapToken({ host, cluster: "de", now: NOW, ttlMs: HOUR });
    const err = await refusal(consumeBootstrapToken({ host, token, cluster: "fr", now: NOW, usedBy: "x" }));
    assert.equal(err.code, status.PERMISSION_DENIED);
  });
});

describe("Join", () => {
  it("binds an agent to its existing MemberCluster and returns its credentials, subjects and residency", async () => {
    const host = new FakeHost();
    host.clusters.set("fr", storedMemberCluster({ name: "fr" }));
    const prepared: string[] = [];
    const joined: string[] = [];
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
    const res = await handleJoin({ cluster: "fr", bootstrapToken: token, agentVersion: "0.1.0" }, frPeer, deps(host, { prepareMember: async (c) => void prepared.push(c), onJoined: (c) => void joined.push(c) }));
    // The control plane is told, to declare the member's attestation key.
    assert.deepEqual(joined, ["fr"]);
    assert.equal(res.nats?.nkeySeed, "SUSEEDFR");
    assert.deepEqual(res.subjects, { intents: "sov.v1.fr.intents.*", heartbeat: "sov.v1.fr.heartbeat", status: "sov.v1.fr.status.*", intentsStream: "sov-intents-fr", intentsConsumer: "sov-agent-fr" });
    assert.equal(res.residency?.country, "FR");
    assert.deepEqual(prepared, ["fr"]);
    assert.deepEqual(host.conditions.map((c) => [c.name, c.condition.type, c.condition.status]), [["fr", "Joined", "True"]]);
    // Never creates or changes a MemberCluster's spec.
    assert.deepEqual(host.clusters.get("fr"), storedMemberCluster({ name: "fr" }));
  });

  it("refuses an unknown cluster with NOT_FOUND and leaves the token unused", async () => {
    const host = new FakeHost();
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
    const joined: string[] = [];
    const err = await refusal(handleJoin({ cluster: "fr", bootstrapToken: token, agentVersion: "" }, frPeer, deps(host, { onJoined: (c) => void joined.push(c) })));
    assert.equal(err.code, status.NOT_FOUND);
    assert.deepEqual(joined, []);
    assert.match(err.message, /MemberCluster "fr" does not exist/);
    assert.equal([...host.secrets.values()][0]!.annotations, undefined);
  });

  it("refuses a member certificate of another cluster with PERMISSION_DENIED, before touching the token", async () => {
    const host = new FakeHost();
    host.clusters.set("de", storedMemberCluster({ name: "de", country: "DE" }));
    const token = await createBootstrapToken({ host, cluster: "de", now: NOW, ttlMs: HOUR });
    const err = await refusal(handleJoin({ cluster: "de", bootstrapToken: token, agentVersion: "" }, frPeer, deps(host)));
    assert.equal(err.code, status.PERMISSION_DENIED);
    assert.match(err.message, /may not join as member "de"/);
    assert.equal([...host.secrets.values()][0]!.annotations, undefined);
  });

  it("answers a member certificate asking for another cluster the same whether that cluster exists or not (no existence oracle)", async () => {
    const host = new FakeHost();
    host.clusters.set("de", storedMemberCluster({ name: "de", country: "DE" }));
    let lookups = 0;
    const counting = Object.assign(Object.create(host) as FakeHost, {
      getMemberCluster: async (name: string) => {
        lookups++;
        return host.getMemberCluster(name);
      },
    });
    const existing = await refusal(handleJoin({ cluster: "de", bootstrapToken: "abcdef.0123456789abcdef", agentVersion: "" }, frPeer, deps(counting)));
    const missing = await refusal(handleJoin({ cluster: "nowhere", bootstrapToken: "abcdef.0123456789abcdef", agentVersion: "" }, frPeer, deps(counting)));
    assert.equal(existing.code, status.PERMISSION_DENIED);
    assert.equal(missing.code, status.PERMISSION_DENIED);
    assert.equal(missing.message.replace("nowhere", "de"), existing.message);
    assert.equal(lookups, 0, "the MemberCluster was looked up before the certificate was checked");
    // And without a member certificate at all.
    assert.equal((await refusal(handleJoin({ cluster: "nowhere", bootstrapToken: "", agentVersion: "" }, undefined, deps(counting)))).code, status.PERMISSION_DENIED);
  });

  it("refuses a cluster name that could not be a subject token with INVALID_ARGUMENT", async () => {
    const err = await refusal(handleJoin({ cluster: "fr.>", bootstrapToken: "", agentVersion: "" }, frPeer, deps(new FakeHost())));
    assert.equal(err.code, status.INVALID_ARGUMENT);
  });

  it("does not consume the token when the member's streams cannot be prepared", async () => {
    const host = new FakeHost();
    host.clusters.set("fr", storedMemberCluster({ name: "fr" }));
    const token = await createBootstrapToken({ host, cluster: "fr", now: NOW, ttlMs: HOUR });
    await assert.rejects(handleJoin({ cluster: "fr", bootstrapToken: token, agentVersion: "" }, frPeer, deps(host, { prepareMember: async () => { throw new Error("nats down"); } })), /nats down/);
    const res = await handleJoin({ cluster: "fr", bootstrapToken: token, agentVersion: "" }, frPeer, deps(host));
    assert.equal(res.cluster, "fr");
  });
});

describe("gRPC peers and decisions", () => {
  it("maps a verified certificate to a member or the admin, and anything else to nothing", () => {
    const cert = (O: string | string[], CN: string | string[]) => ({ subject: { O, CN } }) as unknown as PeerCertificate;
    assert.deepEqual(identifyByOrganization(cert("sovereign-federation member", "fr")), { kind: "member", cluster: "fr", subject: "O=sovereign-federation member, CN=fr" });
    assert.equal(identifyByOrganization(cert("sovereign-federation admin", "ops"))?.kind, "admin");
    assert.equal(identifyByOrganization(cert("someone else", "fr")), undefined);
    assert.equal(identifyByOrganization(cert(["sovereign-federation member", "sovereign-federation admin"], "fr")), undefined);
    assert.equal(identifyByOrganization(cert("sovereign-federation member", ["fr", "de"])), undefined);
    assert.equal(identifyByOrganization(undefined), undefined);
  });

  it("simulates documents sent over the wire, refusing invalid ones with INVALID_ARGUMENT naming the document", async () => {
    const simulate = simulateHandler({ clock: new TestClock(NOW) });
    const docs = [
      "apiVersion: sovereignty.eu/v1alpha1\nkind: MemberCluster\nmetadata: {name: fr-1}\nspec:\n  residency: {country: FR, jurisdiction: EU, extraterritorialExposure: []}\nstatus:\n  conditions: [{type: Ready, status: \"True\", reason: HeartbeatFresh, message: ok, lastTransitionTime: \"2026-11-28T00:00:00Z\"}]\n  allocatable: {cpu: \"8\", memory: 32Gi, pods: \"110\"}\n",
      "apiVersion: sovereignty.eu/v1alpha1\nkind: SovereignWorkload\nmetadata: {name: w, namespace: ns}\nspec:\n  replicas: 2\n  residency: {allowedCountries: [FR]}\n  template: {spec: {containers: [{name: a, image: i}]}}\n",
    ];
    const res = await simulate({ documents: docs, now: undefined });
    assert.deepEqual(res.decisions.map((d) => [d.workload, d.scheduled, d.placements]), [["ns/w", true, [{ cluster: "fr-1", country: "FR", replicas: 2 }]]]);
    const err = await refusal(simulate({ documents: [docs[1]!.replace("replicas: 2", "replicas: two")], now: undefined }));
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.message, /documents\[0\] document 1.*spec\.replicas/);
    assert.equal((await refusal(simulate({ documents: [], now: undefined }))).code, status.INVALID_ARGUMENT);
  });
});

describe("member credentials from host Secrets", () => {
  it("reads a creds file or an nkey seed from sovereign-system/nats-member-<cluster>, and nothing for others", async () => {
    const host = new FakeHost();
    await host.createSecret({ name: "nats-member-fr", namespace: "sovereign-system", data: { "nkey-seed": "SUAFR\n" } });
    await host.createSecret({ name: "nats-member-de", namespace: "sovereign-system", data: { creds: "-----BEGIN NATS USER JWT-----" } });
    const source = secretCredentialSource({ host });
    assert.deepEqual(await source("fr"), { nkeySeed: "SUAFR" });
    assert.deepEqual(await source("de"), { creds: "-----BEGIN NATS USER JWT-----" });
    assert.equal(await source("it"), undefined);
    await assert.rejects(source("fr.>"), /DNS-1123/);
  });
});
