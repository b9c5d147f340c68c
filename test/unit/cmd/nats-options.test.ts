import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAgentOptions } from "../../../operator/src/cmd/agent/options.ts";
import { parseOptions } from "../../../operator/src/cmd/controller/options.ts";
import { parseNatsUrls, parseStreamReplicas, UsageError } from "../../../operator/src/cmd/flags.ts";
import {
  attestationsStreamConfig, auditIndexStreamConfig, auditStreamConfig, heartbeatsStreamConfig, intentsStreamConfig, memberKeysStreamConfig, statusStreamConfig,
} from "../../../operator/src/federation/index.ts";

describe("the NATS options of the control plane and the agent (cmd/flags.ts)", () => {
  it("takes one server or a cluster's, comma-separated, and refuses anything else naming the flag", () => {
    assert.deepEqual(parseNatsUrls("tls://127.0.0.1:4222", "--nats-url"), ["tls://127.0.0.1:4222"]);
    assert.deepEqual(parseNatsUrls("tls://a:1,tls://b:2, tls://c:3", "--nats-url"), ["tls://a:1", "tls://b:2", "tls://c:3"]);
    assert.deepEqual(parseNatsUrls("tls://[::1]:4222", "--nats-url"), ["tls://[::1]:4222"]);
    const bad: [string, RegExp][] = [
      ["nats.example:4222", /"nats\.example:4222" is not tls:\/\/HOST:PORT/],
      ["tls://a:1,", /"" is not tls:\/\/HOST:PORT/],
      ["tls://a:1,http://b:2", /"http:\/\/b:2"/],
      ["tls://a", /"tls:\/\/a"/],
      ["tls://a:1/x", /"tls:\/\/a:1\/x"/],
      ["tls://a:1,tls://a:1", /names a server twice/],
    ];
    for (const [text, why] of bad) {
      assert.throws(() => parseNatsUrls(text, "--nats-url"), (e: Error) => e instanceof UsageError && e.message.startsWith("--nats-url: ") && why.test(e.message), text);
    }
  });

  it("reads the stream replica count from the flag, else the env variable, else 1; refuses 0, 6, 1.5, words, naming where it came from", () => {
    const p = (flag: string | undefined, env: Record<string, string> = {}) => parseStreamReplicas({ flag, env, flagName: "--nats-stream-replicas", envName: "SOVEREIGN_NATS_STREAM_REPLICAS" });
    assert.equal(p(undefined), 1);
    assert.equal(p(undefined, { SOVEREIGN_NATS_STREAM_REPLICAS: "" }), 1);
    assert.equal(p("3"), 3);
    assert.equal(p(undefined, { SOVEREIGN_NATS_STREAM_REPLICAS: "3" }), 3);
    assert.equal(p("1", { SOVEREIGN_NATS_STREAM_REPLICAS: "3" }), 1, "the flag wins");
    for (const bad of ["0", "6", "1.5", "three", "-1", ""]) {
      assert.throws(() => p(bad), (e: Error) => e instanceof UsageError && e.message.startsWith("--nats-stream-replicas: ") && e.message.includes("from 1 to 5"), bad);
    }
    assert.throws(() => p(undefined, { SOVEREIGN_NATS_STREAM_REPLICAS: "7" }), /^UsageError: --nats-stream-replicas \(from SOVEREIGN_NATS_STREAM_REPLICAS\): "7"/);
  });

  it("puts the replica count on every stream the control plane creates, the audit stream too (default 1)", () => {
    const all = (o: { replicas?: number }) => [
      intentsStreamConfig("fr", o), statusStreamConfig("fr", o), heartbeatsStreamConfig(o), auditStreamConfig(o), attestationsStreamConfig(o), memberKeysStreamConfig(o), auditIndexStreamConfig(o),
    ];
    for (const c of all({})) assert.equal(c.num_replicas, 1, c.name);
    for (const c of all({ replicas: 3 })) assert.equal(c.num_replicas, 3, c.name);
    // What else the audit stream promises is untouched by the replica count.
    const audit = auditStreamConfig({ replicas: 3 });
    assert.deepEqual([audit.deny_delete, audit.deny_purge, audit.storage], [true, true, "file"]);
  });

  describe("wired into both command lines", () => {
    let dir: string;
    let file: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "nats-opts-"));
      file = path.join(dir, "f");
      writeFileSync(file, "x");
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const urls = "tls://127.0.0.1:1,tls://127.0.0.1:2,tls://127.0.0.1:3";
    const controller = (extra: string[] = []) => ["--kubeconfig", file, "--nats-url", urls, "--nats-ca", file, "--nats-creds", file, "--grpc-listen", "127.0.0.1:9443",
      "--grpc-ca", file, "--grpc-cert", file, "--grpc-key", file, "--metrics-listen", "127.0.0.1:8080", ...extra];

    it("the control plane: every server, and the replica count from --nats-stream-replicas or SOVEREIGN_NATS_STREAM_REPLICAS", () => {
      const o = parseOptions(controller(["--nats-stream-replicas", "3"]));
      assert.deepEqual(o.natsServers, urls.split(","));
      assert.equal(o.natsStreamReplicas, 3);
      assert.equal(parseOptions(controller()).natsStreamReplicas, 1);
      assert.equal(parseOptions(controller(), { env: { SOVEREIGN_NATS_STREAM_REPLICAS: "3" } }).natsStreamReplicas, 3);
      assert.throws(() => parseOptions(controller(["--nats-stream-replicas", "9"])), /^UsageError: --nats-stream-replicas: "9"/);
    });

    it("the agent: every server", () => {
      const o = parseAgentOptions(["--cluster", "fr", "--kubeconfig", file, "--nats-url", urls, "--nats-ca", file, "--nats-creds", file, "--metrics-listen", "127.0.0.1:8081"]);
      assert.ok(o !== "help");
      assert.deepEqual(o.natsServers, urls.split(","));
    });
  });
});
