import assert from "node:assert/strict";
import { parseAuditOptions, parseClustersOptions, parseExplainOptions, parseSince, parseStatusOptions } from "../../../../operator/src/cmd/kubectl-sovereign/live-options.ts";
import { parseTokenOptions } from "../../../../operator/src/cmd/kubectl-sovereign/token.ts";
import { NOW, NOW_ISO } from "../../../support/builders.ts";

const GRPC = ["--grpc-address", "127.0.0.1:20904", "--grpc-ca", "ca.pem", "--grpc-cert", "c.pem", "--grpc-key", "k.pem"];

describe("kubectl sovereign live command options", () => {
  it("status leaves the namespace to the context (then default), a table and the default kubeconfig", () => {
    assert.deepEqual(parseStatusOptions({ args: ["web"] }), { name: "web", namespace: undefined, output: "table", kube: { kubeconfig: undefined, context: undefined } });
  });

  it("reads short flags the way kubectl users type them (-n NS, -oyaml, --namespace=NS)", () => {
    assert.deepEqual(parseStatusOptions({ args: ["-n", "health", "patient-records", "-oyaml"] }), { name: "patient-records", namespace: "health", output: "yaml", kube: { kubeconfig: undefined, context: undefined } });
    assert.deepEqual(parseStatusOptions({ args: ["--namespace=health", "--output=json", "web", "--kubeconfig", "/k", "--context=host"] }), { name: "web", namespace: "health", output: "json", kube: { kubeconfig: "/k", context: "host" } });
  });

  it("clusters takes only -o, --kubeconfig and --context", () => {
    assert.deepEqual(parseClustersOptions({ args: ["-o", "json", "--kubeconfig", "/k"] }), { output: "json", kube: { kubeconfig: "/k", context: undefined } });
  });

  it("explain and audit go through the kubeconfig unless a --grpc-* flag or SOVEREIGN_GRPC_ADDRESS asks for the break-glass path", () => {
    const plain = parseExplainOptions({ args: ["web", "--context", "host"], environment: { SOVEREIGN_GRPC_CA: "ca.pem" } });
    assert.ok(plain !== "help");
    assert.equal(plain.grpc, undefined);
    assert.deepEqual(plain.kube, { kubeconfig: undefined, context: "host" });
    const viaEnv = parseAuditOptions({ args: ["web"], environment: { SOVEREIGN_GRPC_ADDRESS: "127.0.0.1:1", SOVEREIGN_GRPC_CA: "a", SOVEREIGN_GRPC_CERT: "b", SOVEREIGN_GRPC_KEY: "c" }, now: new Date(NOW) });
    assert.ok(viaEnv !== "help");
    assert.equal(viaEnv.grpc?.address, "127.0.0.1:1");
  });

  it("explain reads the gRPC endpoint from flags, and judges at --now", () => {
    const o = parseExplainOptions({ args: ["web", ...GRPC, "--now", "2027-07-01"], environment: {} });
    assert.ok(o !== "help");
    assert.deepEqual(o.grpc, { address: "127.0.0.1:20904", caFile: "ca.pem", certFile: "c.pem", keyFile: "k.pem", serverName: "localhost" });
    assert.equal(o.now?.toISOString(), "2027-07-01T00:00:00.000Z");
  });

  const serverNames = [
    { address: "127.0.0.1:1", flags: [], env: {}, expected: "localhost" },
    { address: "127.5.0.1:1", flags: [], env: {}, expected: "localhost" },
    { address: "[::1]:1", flags: [], env: {}, expected: "localhost" },
    { address: "localhost:1", flags: [], env: {}, expected: "localhost" },
    { address: "10.0.0.1:443", flags: [], env: {}, expected: undefined },
    { address: "cp.example:443", flags: [], env: {}, expected: undefined },
    { address: "127.0.0.1:1", flags: ["--grpc-server-name", "cp.internal"], env: {}, expected: "cp.internal" },
    { address: "127.0.0.1:1", flags: [], env: { SOVEREIGN_GRPC_SERVER_NAME: "from-env" }, expected: "from-env" },
  ];
  for (const c of serverNames) {
    it(`checks the server certificate of ${c.address}${c.flags.length ? ` ${c.flags.join(" ")}` : ""}${Object.keys(c.env).length ? " (name from env)" : ""} against ${c.expected ?? "the address's host"}`, () => {
      const o = parseExplainOptions({ args: ["web", ...GRPC, "--grpc-address", c.address, ...c.flags], environment: c.env });
      assert.ok(o !== "help");
      assert.equal(o.grpc?.serverName, c.expected);
    });
  }

  it("falls back to SOVEREIGN_* variables for each gRPC flag left out, one at a time", () => {
    const environment = { SOVEREIGN_GRPC_ADDRESS: "cp.example:443", SOVEREIGN_GRPC_CA: "env-ca", SOVEREIGN_GRPC_CERT: "env-cert", SOVEREIGN_GRPC_KEY: "env-key" };
    const o = parseAuditOptions({ args: ["web", "--grpc-cert", "flag-cert"], environment, now: new Date(NOW) });
    assert.ok(o !== "help");
    assert.deepEqual(o.grpc, { address: "cp.example:443", caFile: "env-ca", certFile: "flag-cert", keyFile: "env-key", serverName: undefined });
  });

  it("treats an empty variable as unset", () => {
    assert.throws(() => parseAuditOptions({ args: ["web", ...GRPC.slice(2)], environment: { SOVEREIGN_GRPC_ADDRESS: "" }, now: new Date(NOW) }), /needs --grpc-address \(or SOVEREIGN_GRPC_ADDRESS\)$/);
  });

  const sinceCases = [
    { text: "90s", expected: "2026-11-27T23:58:30.000Z" },
    { text: "30m", expected: "2026-11-27T23:30:00.000Z" },
    { text: "24h", expected: "2026-11-27T00:00:00.000Z" },
    { text: "7d", expected: "2026-11-21T00:00:00.000Z" },
    { text: "2026-11-01", expected: "2026-11-01T00:00:00.000Z" },
    { text: "2026-11-01T12:00:00+01:00", expected: "2026-11-01T11:00:00.000Z" },
  ];
  for (const c of sinceCases) {
    it(`reads --since ${c.text} as ${c.expected} at ${NOW_ISO}`, () => {
      assert.equal(parseSince(c.text, new Date(NOW))?.toISOString(), c.expected);
    });
  }

  it("audit passes --limit through and defaults it to 0 (no limit, as the API reads 0)", () => {
    const limited = parseAuditOptions({ args: ["web", ...GRPC, "--limit", "25"], environment: {}, now: new Date(NOW) });
    const all = parseAuditOptions({ args: ["web", ...GRPC], environment: {}, now: new Date(NOW) });
    assert.ok(limited !== "help" && all !== "help");
    assert.equal(limited.limit, 25);
    assert.equal(all.limit, 0);
    assert.equal(all.since, undefined);
  });

  it("token create takes the helm command's addresses from flags, else the environment, else leaves them unknown", () => {
    const env = { SOVEREIGN_GRPC_ADDRESS: "env:1", SOVEREIGN_NATS_URL: "tls://env:2" };
    const fromFlags = parseTokenOptions({ args: ["create", "fr", "--grpc-address", "flag:1", "--nats-url", "tls://flag:2"], environment: env });
    const fromEnv = parseTokenOptions({ args: ["create", "fr"], environment: env });
    const unknown = parseTokenOptions({ args: ["create", "fr"], environment: {} });
    assert.ok(fromFlags !== "help" && fromEnv !== "help" && unknown !== "help");
    assert.deepEqual([fromFlags.grpcAddress, fromFlags.natsUrl], ["flag:1", "tls://flag:2"]);
    assert.deepEqual([fromEnv.grpcAddress, fromEnv.natsUrl], ["env:1", "tls://env:2"]);
    assert.deepEqual([unknown.grpcAddress, unknown.natsUrl], [undefined, undefined]);
  });
});
