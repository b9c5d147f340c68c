// Entry point of the kubectl plugin (bin/kubectl-sovereign runs this with Node 24).
import { runCli } from "./cli.ts";
import { fileSystemReader } from "../../scheduler/inputs.ts";

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    reader: fileSystemReader,
    clock: () => Date.now(),
  },
});
