// Entry point of the kubectl plugin (bin/kubectl-sovereign runs this with Node 24).
import { runCli } from "./cli.ts";
import { fileSystemReader } from "../../scheduler/inputs.ts";
import { KubeHostApi } from "../../kube/host.ts";
import { systemClock } from "../../runtime/index.ts";
import { homedir } from "node:os";
import path from "node:path";

// kubectl's own order: --kubeconfig, then the first file of $KUBECONFIG, then ~/.kube/config.
function defaultKubeconfig(): string {
  const fromEnv = process.env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  return fromEnv ?? path.join(homedir(), ".kube", "config");
}

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    reader: fileSystemReader,
    clock: systemClock,
    hostApi: (kubeconfig) => new KubeHostApi({ source: { kubeconfigFile: kubeconfig ?? defaultKubeconfig() } }),
  },
});
