/** The control plane's entry point: options once, JSON logs, graceful SIGTERM. */
import { pino } from "pino";
import { LeadershipLostError, systemClock } from "../../runtime/index.ts";
import { startControlPlane } from "./control-plane.ts";
import { parseOptions, UsageError, USAGE } from "./options.ts";

let options;
try {
  options = parseOptions(process.argv.slice(2), { env: process.env });
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}
const log = pino({ level: options.logLevel, base: { component: "control-plane" } });

// A control plane that loses its Lease has already stopped every writer (runtime/leader.ts)
// before anyone else could take the Lease. In a Deployment the kubelet would restart it;
// run as a plain process (the local federation, a systemd unit), it starts again itself
// as a candidate, with fresh caches, so losing the Lease never leaves the federation
// without a control plane.
const stopping = new AbortController();
let running: Awaited<ReturnType<typeof startControlPlane>> | undefined;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => {
    log.info({ signal: sig }, "stopping");
    stopping.abort();
    void running?.stop();
  });
}
for (;;) {
  try {
    running = await startControlPlane({ options, log });
    if (stopping.signal.aborted) await running.stop();
    await running.done;
    log.info("stopped");
    break;
  } catch (err) {
    if (err instanceof LeadershipLostError && !stopping.signal.aborted) {
      log.warn({ err }, "lost the Lease; every writer stopped; starting again as a candidate");
      await systemClock.sleep(1_000, stopping.signal).catch(() => undefined);
      if (!stopping.signal.aborted) continue;
      break;
    }
    log.error({ err }, "control plane stopped with an error");
    process.exitCode = 1;
    break;
  }
}
