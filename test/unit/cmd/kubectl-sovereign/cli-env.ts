// An in-process CliEnvironment for unit tests: captured output, files from a map, a
// fixed clock, and the host and control plane given by each test (or refused).
import type { CliEnvironment } from "../../../../operator/src/cmd/kubectl-sovereign/cli.ts";
import type { ClientParams, ControlPlaneClient } from "../../../../operator/src/cmd/kubectl-sovereign/control-plane.ts";
import type { HostApi } from "../../../../operator/src/kube/index.ts";
import type { KubeFlags } from "../../../../operator/src/cmd/kubectl-sovereign/live-options.ts";
import { HostQueryClient, type RawJson } from "../../../../operator/src/cmd/kubectl-sovereign/query-client.ts";
import { TestClock } from "../../../../operator/src/runtime/index.ts";
import { NOW_ISO } from "../../../support/builders.ts";

export type TestEnv = CliEnvironment & { out: string[]; err: string[]; opened: ClientParams[]; kubeOpened: KubeFlags[]; stdoutText(): string; stderrText(): string };

export function testEnv(opts: {
  files?: Record<string, string>;
  environment?: Record<string, string>;
  host?: Partial<HostApi>;
  controlPlane?: Partial<ControlPlaneClient>;
  /** The host's aggregated query API, as raw JSON answers (paths asked are the test's to record). */
  query?: Partial<RawJson>;
  /** The kubeconfig context's namespace. */
  contextNamespace?: string;
} = {}): TestEnv {
  const out: string[] = [];
  const err: string[] = [];
  const opened: ClientParams[] = [];
  const kubeOpened: KubeFlags[] = [];
  const files = opts.files ?? {};
  return {
    out,
    err,
    opened,
    kubeOpened,
    stdoutText: () => out.join(""),
    stderrText: () => err.join(""),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    clock: new TestClock(NOW_ISO),
    environment: opts.environment ?? {},
    // The real host and control plane are exercised in test/integration/kubectl-sovereign.
    kube: (flags) => {
      if (!opts.host && !opts.query) throw new Error("no host API in this test");
      kubeOpened.push(flags);
      const origin = flags.kubeconfig ? `kubeconfig ${flags.kubeconfig}` : "the default kubeconfig ($KUBECONFIG, then ~/.kube/config)";
      const refuse = () => { throw new Error("no query API in this test"); };
      const query = new HostQueryClient({ raw: { getJson: async () => refuse(), getLines: async function* () { yield* ([] as string[]); refuse(); }, ...opts.query }, origin });
      return { host: (opts.host ?? {}) as HostApi, query, namespace: opts.contextNamespace, origin };
    },
    controlPlane: (params) => {
      if (!opts.controlPlane) throw new Error("no control plane in this test");
      opened.push(params);
      return { close: () => {}, ...opts.controlPlane } as ControlPlaneClient;
    },
    reader: {
      readFile: async (path) => {
        if (!(path in files)) throw new Error(`ENOENT: no such file, open '${path}'`);
        return files[path]!;
      },
      listDirectory: async () => undefined,
      readStdin: async () => "",
    },
  };
}

/** The gRPC connection every live-command test passes, as files the env can read. */
export const GRPC_FILES = { "ca.pem": "CA", "admin.pem": "CERT", "admin-key.pem": "KEY" };
export const GRPC_ENVIRONMENT = {
  SOVEREIGN_GRPC_ADDRESS: "127.0.0.1:20904", SOVEREIGN_GRPC_CA: "ca.pem", SOVEREIGN_GRPC_CERT: "admin.pem", SOVEREIGN_GRPC_KEY: "admin-key.pem",
};
