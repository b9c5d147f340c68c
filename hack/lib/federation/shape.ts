/**
 * The federation's default shape, shared by `hack/federation up`, the demo and the test
 * suite, so the demo converges on a federation `npm test` left (and the other way round).
 *
 * `fr` and `de` are bare members (no agent): the NATS and gRPC contract tests speak for
 * them, and an agent would compete with those tests for the same intents. The four
 * members named like example MemberClusters (crds/examples/10-member-clusters.yaml) run
 * an agent each; stackit-eu01 and outscale-fr-2 get no API server and stay NotReady.
 */
export const DEFAULT_MEMBERS: readonly string[] = ["fr", "de", "ovh-par-1", "ovh-rbx-hds", "ionos-fra-1", "aws-fra-1"];

/**
 * Provider regions of the example MemberClusters (their spec.residency.region) and of the
 * bare members; kwok nodes are labelled with them so a pod's node says where it runs.
 */
export const EXAMPLE_REGIONS: Readonly<Record<string, string>> = {
  "ovh-par-1": "eu-west-par",
  "ovh-rbx-hds": "eu-west-rbx",
  "ionos-fra-1": "de-fra",
  "aws-fra-1": "eu-central-1",
  "stackit-eu01": "eu01",
  "outscale-fr-2": "eu-west-2",
};

/**
 * Which members run an agent when `--agents` is not given: those named like an example
 * MemberCluster, since only those have a MemberCluster on the host to report for.
 */
export function defaultAgents(members: readonly string[]): string[] {
  return members.filter((m) => m in EXAMPLE_REGIONS);
}
