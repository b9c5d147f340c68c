import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAgentOptions } from "../../../operator/src/cmd/agent/options.ts";
import { parseOptions } from "../../../operator/src/cmd/controller/options.ts";
import { namespaceOf, UsageError } from "../../../operator/src/cmd/flags.ts";

describe("the processes' own namespace (--namespace, else the downward API's POD_NAMESPACE)", () => {
  it("takes the flag first, then POD_NAMESPACE, then sovereign-system", () => {
    const table: Array<{ flag?: string; env: Record<string, string | undefined>; want: string }> = [
      { flag: "platform", env: { POD_NAMESPACE: "other" }, want: "platform" },
      { env: { POD_NAMESPACE: "platform" }, want: "platform" },
      { env: { POD_NAMESPACE: "" }, want: "sovereign-system" },
      { env: {}, want: "sovereign-system" },
      { flag: "a", env: {}, want: "a" },
      { flag: "a".repeat(63), env: {}, want: "a".repeat(63) },
    ];
    for (const { flag, env, want } of table) assert.equal(namespaceOf({ flag, env }), want, JSON.stringify({ flag, env }));
  });

  it("refuses a name Kubernetes would refuse, naming where it came from", () => {
    for (const bad of ["Platform", "-platform", "platform-", "plat_form", "a".repeat(64), "plat.form"]) {
      assert.throws(() => namespaceOf({ flag: bad, env: {} }), (e: unknown) => e instanceof UsageError && e.message.startsWith("--namespace:"), bad);
      assert.throws(() => namespaceOf({ flag: undefined, env: { POD_NAMESPACE: bad } }), (e: unknown) => e instanceof UsageError && e.message.startsWith("POD_NAMESPACE:"), bad);
    }
  });

  describe("wired into both command lines", () => {
    let dir: string;
    let file: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "ns-opts-"));
      file = path.join(dir, "f");
      writeFileSync(file, "x");
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const controller = () => ["--kubeconfig", file, "--nats-url", "tls://127.0.0.1:4222", "--nats-ca", file, "--nats-creds", file, "--grpc-listen", "127.0.0.1:9443",
      "--grpc-ca", file, "--grpc-cert", file, "--grpc-key", file, "--metrics-listen", "127.0.0.1:8080"];
    const agent = () => ["--cluster", "fr", "--kubeconfig", file, "--nats-url", "tls://127.0.0.1:4222", "--nats-ca", file, "--nats-creds", file, "--metrics-listen", "127.0.0.1:8081"];

    it("the control plane keeps its tokens and (unless told otherwise) its Lease in its namespace", () => {
      const fromPod = parseOptions(controller(), { env: { POD_NAMESPACE: "platform" } });
      assert.equal(fromPod.namespace, "platform");
      assert.equal(fromPod.leaderElectionNamespace, "platform");
      const both = parseOptions([...controller(), "--namespace", "ops", "--leader-election-namespace", "leases"], { env: { POD_NAMESPACE: "platform" } });
      assert.deepEqual([both.namespace, both.leaderElectionNamespace], ["ops", "leases"]);
      const outside = parseOptions(controller());
      assert.deepEqual([outside.namespace, outside.leaderElectionNamespace], ["sovereign-system", "sovereign-system"]);
      assert.throws(() => parseOptions([...controller(), "--leader-election-namespace", "No"]), UsageError);
    });

    it("the agent keeps its credentials and the guard's parameter in its namespace", () => {
      const fromPod = parseAgentOptions(agent(), { env: { POD_NAMESPACE: "platform" } });
      assert.ok(fromPod !== "help");
      assert.equal(fromPod.namespace, "platform");
      const flag = parseAgentOptions([...agent(), "--namespace", "ops"], { env: { POD_NAMESPACE: "platform" } });
      assert.ok(flag !== "help");
      assert.equal(flag.namespace, "ops");
      const outside = parseAgentOptions(agent());
      assert.ok(outside !== "help");
      assert.equal(outside.namespace, "sovereign-system");
    });
  });
});
