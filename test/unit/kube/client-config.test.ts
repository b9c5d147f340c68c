// kubectl's kubeconfig rules, which the plugin follows: --kubeconfig alone, else every file
// of $KUBECONFIG merged (first file wins for a name and for current-context), --context,
// and the context's namespace as the default of -n.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubeError, loadClientConfig } from "../../../operator/src/kube/index.ts";

function kubeconfig(p: { current?: string; clusters: [string, string][]; contexts: [string, string, string?][] }): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Config",
    clusters: p.clusters.map(([name, server]) => ({ name, cluster: { server } })),
    users: [{ name: "u", user: { token: "t" } }],
    contexts: p.contexts.map(([name, cluster, namespace]) => ({ name, context: { cluster, user: "u", ...(namespace ? { namespace } : {}) } })),
    ...(p.current ? { "current-context": p.current } : {}),
  });
}

describe("kubeconfig loading as kubectl does it (kube/client-config.ts)", () => {
  let dir: string;
  let a: string;
  let b: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "kubeconfig-"));
    a = path.join(dir, "a");
    b = path.join(dir, "b");
    writeFileSync(a, kubeconfig({ current: "host", clusters: [["host", "https://127.0.0.1:1"], ["shared", "https://first"]], contexts: [["host", "host", "customers"], ["shared", "shared"]] }));
    writeFileSync(b, kubeconfig({ current: "other", clusters: [["other", "https://127.0.0.1:2"], ["shared", "https://second"]], contexts: [["other", "other"], ["shared", "shared", "ignored"]] }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("merges $KUBECONFIG's files: the first current-context and the first entry of a name win", () => {
    const c = loadClientConfig({ environment: { KUBECONFIG: `${a}:${b}` } });
    assert.equal(c.context, "host");
    assert.equal(c.namespace, "customers");
    assert.equal(c.kubeConfig.getCluster("shared")?.server, "https://first");
    assert.equal(c.kubeConfig.getCluster("other")?.server, "https://127.0.0.1:2");
    assert.match(c.origin, /^\$KUBECONFIG \(/);
    const reversed = loadClientConfig({ environment: { KUBECONFIG: `${b}:${a}` } });
    assert.equal(reversed.context, "other");
    assert.equal(reversed.kubeConfig.getCluster("shared")?.server, "https://second");
  });

  it("--context picks a context of any merged file; a context without a namespace leaves -n's default to the caller", () => {
    const c = loadClientConfig({ context: "other", environment: { KUBECONFIG: `${a}:${b}` } });
    assert.equal(c.kubeConfig.getCurrentCluster()?.server, "https://127.0.0.1:2");
    assert.equal(c.namespace, undefined);
    assert.throws(() => loadClientConfig({ context: "nope", environment: { KUBECONFIG: a } }), (e: unknown) => e instanceof KubeError && /context "nope" is not in .*contexts: host, shared/.test(e.message));
  });

  it("--kubeconfig wins over $KUBECONFIG; a missing file of several in $KUBECONFIG is skipped, a named one is an error", () => {
    assert.equal(loadClientConfig({ kubeconfig: b, environment: { KUBECONFIG: a } }).context, "other");
    assert.equal(loadClientConfig({ environment: { KUBECONFIG: `${path.join(dir, "missing")}:${a}` } }).context, "host");
    assert.throws(() => loadClientConfig({ kubeconfig: path.join(dir, "missing"), environment: {} }), /cannot load kubeconfig/);
  });

  it("falls back to ~/.kube/config without --kubeconfig or $KUBECONFIG", () => {
    assert.throws(() => loadClientConfig({ environment: {}, home: dir }), new RegExp(`cannot load kubeconfig ${dir}/\\.kube/config`));
  });
});
