// Entry point of the kubectl plugin (bin/kubectl-sovereign runs this with Node 24).

const argv = process.argv.slice(2);

// Completion runs on every TAB: answer it without loading the Kubernetes and gRPC clients.
if (argv[0] === "__complete") {
  const { complete, formatCompletion } = await import("./completion.ts");
  process.stdout.write(formatCompletion(complete(argv.slice(1))));
} else {
  const [{ runCli }, { fileSystemReader }, { KubeHostApi, KubeRawClient, loadClientConfig }, { FederationGrpcClient }, { systemClock }, { HostQueryClient }] = await Promise.all([
    import("./cli.ts"),
    import("../../scheduler/index.ts"),
    import("../../kube/index.ts"),
    import("../../federation/grpc/index.ts"),
    import("../../runtime/index.ts"),
    import("./query-client.ts"),
  ]);

  process.exitCode = await runCli({
    argv,
    env: {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      reader: fileSystemReader,
      clock: systemClock,
      environment: process.env,
      // kubectl's rules: --kubeconfig, else $KUBECONFIG's files merged, else ~/.kube/config; --context.
      kube: (flags) => {
        const config = loadClientConfig({ ...flags, environment: process.env });
        return {
          host: new KubeHostApi({ kubeConfig: config.kubeConfig }),
          query: new HostQueryClient({ raw: new KubeRawClient({ kubeConfig: config.kubeConfig, timeoutMs: 30_000 }), origin: config.origin }),
          namespace: config.namespace,
          origin: config.origin,
        };
      },
      // A CLI call is one attempt: a short deadline, so an unreachable endpoint fails fast.
      controlPlane: (p) => new FederationGrpcClient({ address: p.address, tls: p.tls, deadlineMs: 15_000, ...(p.serverName ? { serverName: p.serverName } : {}) }),
    },
  });
}
