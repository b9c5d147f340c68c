// Entry point of the kubectl plugin (bin/kubectl-sovereign runs this with Node 24).
import { homedir } from "node:os";
import path from "node:path";

const argv = process.argv.slice(2);

// Completion runs on every TAB: answer it without loading the Kubernetes and gRPC clients.
if (argv[0] === "__complete") {
  const { complete, formatCompletion } = await import("./completion.ts");
  process.stdout.write(formatCompletion(complete(argv.slice(1))));
} else {
  const [{ runCli }, { fileSystemReader }, { KubeHostApi }, { FederationGrpcClient }, { systemClock }] = await Promise.all([
    import("./cli.ts"),
    import("../../scheduler/index.ts"),
    import("../../kube/index.ts"),
    import("../../federation/grpc/index.ts"),
    import("../../runtime/index.ts"),
  ]);

  // kubectl's own order: --kubeconfig, then the first file of $KUBECONFIG, then ~/.kube/config.
  const defaultKubeconfig = (): string => {
    const fromEnv = process.env.KUBECONFIG?.split(path.delimiter).find(Boolean);
    return fromEnv ?? path.join(homedir(), ".kube", "config");
  };

  process.exitCode = await runCli({
    argv,
    env: {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      reader: fileSystemReader,
      clock: systemClock,
      environment: process.env,
      hostApi: (kubeconfig) => new KubeHostApi({ source: { kubeconfigFile: kubeconfig ?? defaultKubeconfig() } }),
      // A CLI call is one attempt: a short deadline, so an unreachable endpoint fails fast.
      controlPlane: (p) => new FederationGrpcClient({ address: p.address, tls: p.tls, deadlineMs: 15_000, ...(p.serverName ? { serverName: p.serverName } : {}) }),
    },
  });
}
