// Single-use bootstrap tokens against the real host API server: the unit tests use a fake
// host, which cannot show that the write really carries the resourceVersion it verified.
import assert from "node:assert/strict";
import {
  BOOTSTRAP_ANNOTATIONS, BOOTSTRAP_NAMESPACE, BootstrapTokenError, consumeBootstrapToken, createBootstrapToken, secretNameOf, TokenRefusal,
} from "../../../operator/src/federation/grpc/index.ts";
import { KubeHostApi } from "../../../operator/src/kube/index.ts";
import type { HostApi } from "../../../operator/src/kube/index.ts";
import { readFederationEnv } from "../env.ts";
import { ensureMemberClusters } from "./helpers.ts";

const HOUR = 3_600_000;

/**
 * The real host, except that the first `parties` reads of a Secret wait for each other:
 * every Join then verifies the same resourceVersion before any of them writes, the exact
 * interleaving the precondition exists for. Only reads are held; writes go straight to
 * the API server, which alone decides who wins.
 */
function readsInLockstep(host: HostApi, parties: number, deadlineMs = 15_000): HostApi {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  const getSecret: HostApi["getSecret"] = async (namespace, name) => {
    const s = await host.getSecret(namespace, name);
    if (arrived < parties) {
      if (++arrived === parties) release();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        all.finally(() => clearTimeout(timer)),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${arrived} of ${parties} reads within ${deadlineMs} ms`)), deadlineMs))),
      ]);
    }
    return s;
  };
  return new Proxy(host, {
    get(target, prop) {
      if (prop === "getSecret") return getSecret;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("single-use bootstrap tokens on the real host API server", () => {
  let host: KubeHostApi;
  const made: string[] = [];

  async function token(cluster: string): Promise<string> {
    const t = await createBootstrapToken({ host, cluster, now: new Date(), ttlMs: HOUR });
    made.push(secretNameOf(t.slice(0, 6)));
    return t;
  }

  before(() => {
    const env = readFederationEnv();
    ensureMemberClusters(env);
    host = new KubeHostApi({ source: { kubeconfigFile: env.hostKubeconfig } });
  });

  afterEach(async () => {
    await Promise.all(made.splice(0).map((name) => host.deleteSecret(BOOTSTRAP_NAMESPACE, name)));
  });

  it("lets exactly one of 8 Joins that all verified the same token write it; the API server refuses the others' stale writes and they are told it is used", async () => {
    const t = await token("fr");
    const racing = readsInLockstep(host, 8);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => consumeBootstrapToken({ host: racing, token: t, cluster: "fr", now: new Date(), usedBy: `joiner-${i}` })),
    );
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    assert.equal(won.length, 1, `winners: ${won.map((i) => `joiner-${i}`).join(", ")}`);
    for (const r of results) {
      if (r.status === "fulfilled") continue;
      assert.ok(r.reason instanceof BootstrapTokenError, String(r.reason));
      assert.equal(r.reason.refusal, TokenRefusal.Used);
    }
    // The Secret records the one winner, not the last writer.
    const stored = await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(t.slice(0, 6)));
    assert.equal(stored?.annotations?.[BOOTSTRAP_ANNOTATIONS.usedBy], `joiner-${won[0]}`);
  });

  it("refuses a wrong secret for an existing token id, and leaves the token unused for its rightful holder", async () => {
    const t = await token("fr");
    const [id, secret] = t.split(".") as [string, string];
    // One character off: the right shape and id, the wrong secret.
    const wrong = `${id}.${secret[0] === "a" ? "b" : "a"}${secret.slice(1)}`;
    const err = await consumeBootstrapToken({ host, token: wrong, cluster: "fr", now: new Date(), usedBy: "guesser" }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof BootstrapTokenError, String(err));
    assert.equal(err.refusal, TokenRefusal.WrongSecret);
    // Same words as an unknown id: the caller learns nothing about which ids exist.
    assert.equal(err.message, "bootstrap token is not valid");
    const stored = await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(id));
    assert.equal(stored?.annotations?.[BOOTSTRAP_ANNOTATIONS.usedAt], undefined);
    // Positive control: the right secret is accepted afterwards.
    await consumeBootstrapToken({ host, token: t, cluster: "fr", now: new Date(), usedBy: "holder" });
    assert.equal((await host.getSecret(BOOTSTRAP_NAMESPACE, secretNameOf(id)))?.annotations?.[BOOTSTRAP_ANNOTATIONS.usedBy], "holder");
  });
});
