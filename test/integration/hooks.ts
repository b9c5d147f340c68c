import { natsClusterFromEnv, startLocalFederation, type LocalFederation } from "../../hack/lib/federation/index.ts";
import { federationStateDir, repoRoot } from "./env.ts";

/**
 * Mocha root hooks for the integration suite: bring the local federation up once per
 * run (or reuse one that is already healthy) and take it down afterwards if this run
 * started it. KEEP_FEDERATION=1 leaves it running for the next run.
 * FEDERATION_NATS_CLUSTER=3 asks for a JetStream cluster of three nats-servers (the
 * chaos scripts set it); unset, whatever federation runs is reused as it is.
 */
let federation: LocalFederation | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    // The first run on a fresh machine builds every tool from source; later runs reuse them.
    this.timeout(90 * 60 * 1000);
    const natsCluster = natsClusterFromEnv(process.env.FEDERATION_NATS_CLUSTER);
    federation = await startLocalFederation({
      ...(natsCluster !== undefined ? { natsCluster } : {}),
      root: repoRoot,
      stateDir: federationStateDir(),
      envBasePort: process.env.FEDERATION_BASE_PORT,
      keep: process.env.KEEP_FEDERATION === "1",
      progress: (line) => console.log(`[federation] ${line}`),
    });
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await federation?.stop();
  },
};
