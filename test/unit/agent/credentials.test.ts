import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import { backoffMs, CREDENTIALS_SECRET, joinOrRestore, JoinRefusedError } from "../../../operator/src/agent/index.ts";
import type { JoinResponse } from "../../../operator/src/gen/sovereign/v1/federation.ts";
import type { Secret } from "../../../operator/src/kube/index.ts";
import { isTerminal, TestClock } from "../../../operator/src/runtime/index.ts";

const log = pino({ level: "silent" });

function memberSecrets() {
  const secrets = new Map<string, Secret>();
  return {
    secrets,
    getSecret: async (ns: string, name: string) => secrets.get(`${ns}/${name}`),
    writeSecret: async (s: Secret) => { secrets.set(`${s.namespace}/${s.name}`, s); },
    ensureNamespace: async () => undefined,
  };
}

const response: JoinResponse = {
  cluster: "fr",
  nats: { creds: "", nkeySeed: "SUAEXAMPLESEED", caPem: "-----BEGIN CERTIFICATE-----", servers: ["tls://127.0.0.1:4222"] },
  subjects: undefined,
  residency: { country: "FR", jurisdiction: "EU", region: "", provider: "", extraterritorialExposure: [], certifications: [] },
};

const grpcError = (code: number, details: string) => Object.assign(new Error(details), { code, details });

describe("agent: credentials from Join, kept for restarts", () => {
  it("joins once with the token and keeps the answer in the member Secret; the next start uses it without a token", async () => {
    const member = memberSecrets();
    const tokens: string[] = [];
    const params = { cluster: "fr", member, clock: new TestClock(), log, signal: new AbortController().signal, readToken: async () => "abcdef.0123456789abcdef\n", join: async (t: string) => { tokens.push(t); return response; } };
    const first = await joinOrRestore(params);
    assert.equal(first.source, "joined");
    assert.deepEqual(first.secret, { nkeySeed: "SUAEXAMPLESEED" });
    assert.deepEqual(first.residency, response.residency);
    assert.ok(member.secrets.has(`${CREDENTIALS_SECRET.namespace}/${CREDENTIALS_SECRET.name}`));
    const second = await joinOrRestore({ ...params, readToken: async () => assert.fail("no token needed") });
    assert.equal(second.source, "stored");
    assert.deepEqual(second.secret, first.secret);
    assert.deepEqual(tokens, ["abcdef.0123456789abcdef"]);
  });

  it("retries Join with backoff while the host is unavailable or not ready, then succeeds", async () => {
    const clock = new TestClock();
    const answers = [grpcError(status.UNAVAILABLE, "connect ECONNREFUSED"), grpcError(status.FAILED_PRECONDITION, "no NATS identity is provisioned")];
    const join = async () => { const e = answers.shift(); if (e) throw e; return response; };
    const done = joinOrRestore({ cluster: "fr", member: memberSecrets(), clock, log, signal: new AbortController().signal, readToken: async () => "t", join, backoff: { initialMs: 100, maxMs: 1000 } });
    while (answers.length > 0 || clock.pending > 0) {
      await new Promise((r) => setImmediate(r));
      await clock.advance(1000);
    }
    assert.equal((await done).source, "joined");
  });

  it("gives up at once on a refused token, with the server's reason, as a terminal error", async () => {
    for (const code of [status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.NOT_FOUND]) {
      const err = await joinOrRestore({
        cluster: "fr", member: memberSecrets(), clock: new TestClock(), log, signal: new AbortController().signal, readToken: async () => "t",
        join: async () => { throw grpcError(code, "bootstrap token already used at 2026-11-28T10:00:00Z; tokens are single-use"); },
      }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof JoinRefusedError && isTerminal(err));
      assert.match(err.message, /^Join refused \([A-Z_]+\): bootstrap token already used/);
    }
  });

  it("backs off exponentially with jitter, never beyond the cap", () => {
    for (let attempt = 1; attempt < 30; attempt++) {
      const ceiling = Math.min(30_000, 500 * 2 ** (attempt - 1));
      for (const r of [0, 0.5, 0.999]) {
        const ms = backoffMs({ attempt, initialMs: 500, maxMs: 30_000, random: () => r });
        assert.ok(ms >= ceiling / 2 && ms <= ceiling, `${attempt}: ${ms}`);
      }
    }
  });
});
