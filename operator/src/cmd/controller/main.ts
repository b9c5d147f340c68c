/** The control plane's entry point: options once, JSON logs, graceful SIGTERM. */
import { pino } from "pino";
import { startControlPlane } from "./control-plane.ts";
import { parseOptions, UsageError, USAGE } from "./options.ts";

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}
const log = pino({ level: options.logLevel, base: { component: "control-plane" } });
const running = await startControlPlane({ options, log });
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => {
    log.info({ signal: sig }, "stopping");
    void running.stop();
  });
}
try {
  await running.done;
  log.info("stopped");
} catch (err) {
  log.error({ err }, "control plane stopped with an error");
  process.exitCode = 1;
}
