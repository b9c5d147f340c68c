// A synthetic federation and workload mix for the scheduler benchmark: mostly EU
// clusters with a realistic share of exposed, expired, tainted and NotReady ones, and
// workloads spread over the data classes of the examples (public, EU personal data,
// French health data, SecNumCloud), both placement modes, caps and spread.
import type { Certification, ClusterView, PlacementRequest, ResidencyConstraints } from "../../operator/src/scheduler/index.ts";
import { pick } from "./random.ts";

const GiB = 2 ** 30;
const EU = ["FR", "DE", "NL", "IT", "ES", "BE", "AT", "PL", "SE", "FI", "IE", "PT", "DK", "CZ"] as const;
const PROVIDERS = ["ovh", "ionos", "scaleway", "outscale", "stackit", "aws", "azure", "gcp", "hetzner", "telekom"] as const;
const HYPERSCALERS = new Set(["aws", "azure", "gcp"]);

function certifications(random: () => number, country: string): Certification[] {
  const out: Certification[] = [];
  const validUntil = () => (random() < 0.1 ? "2025-12-31" : pick(random, ["2027-06-30", "2028-01-31", "2026-12-31"]));
  if (country === "FR" && random() < 0.6) out.push({ name: "SecNumCloud", version: "3.2", validUntil: validUntil() });
  if (country === "FR" && random() < 0.5) out.push({ name: "HDS", version: "1.1", validUntil: validUntil() });
  if (country === "DE" && random() < 0.7) out.push({ name: "C5", version: "2020", validUntil: validUntil() });
  if (random() < 0.8) out.push({ name: "ISO27001", version: "2022", validUntil: validUntil() });
  return out;
}

export function syntheticClusters(random: () => number, count: number): ClusterView[] {
  const clusters: ClusterView[] = [];
  for (let i = 0; i < count; i++) {
    const outsideEu = random() < 0.05;
    const country = outsideEu ? pick(random, ["CH", "US", "GB"]) : pick(random, EU);
    const provider = pick(random, PROVIDERS);
    clusters.push({
      name: `${provider}-${country.toLowerCase()}-${String(i).padStart(4, "0")}`,
      ready: random() < 0.95,
      country,
      jurisdiction: outsideEu ? "NONE" : "EU",
      region: `${country.toLowerCase()}-${Math.floor(random() * 3)}`,
      provider,
      extraterritorialExposure: HYPERSCALERS.has(provider) ? ["US-CLOUD-Act", "US-FISA-702"] : [],
      certifications: certifications(random, country),
      taints: random() < 0.05 ? [{ key: "maintenance", value: "true", effect: "NoSchedule" }] : [],
      labels: { tier: pick(random, ["gold", "silver", "bronze"]) },
      free: random() < 0.05 ? undefined as never : { cpuMilli: Math.floor(random() * 128_000), memoryBytes: Math.floor(random() * 512) * GiB, pods: Math.floor(random() * 1_100) },
    });
    if (clusters[i]!.free === undefined) delete clusters[i]!.free;
  }
  return clusters;
}

const DATA_CLASSES: readonly ResidencyConstraints[] = [
  {},
  { allowedJurisdictions: ["EU"], forbidExtraterritorialExposure: true },
  { allowedCountries: ["FR"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true },
  { allowedCountries: ["FR"], requiredCertifications: ["SecNumCloud"], forbidExtraterritorialExposure: true, clusterSelector: { matchLabels: { tier: "gold" } } },
  { allowedCountries: ["DE"], requiredCertifications: ["C5"] },
  { clusterSelector: { matchExpressions: [{ key: "residency.sovereignty.eu/country", operator: "In", values: ["FR", "DE", "NL"] }, { key: "certification.sovereignty.eu/iso27001", operator: "Exists" }] } },
];

export function syntheticWorkloads(random: () => number, count: number): PlacementRequest[] {
  const out: PlacementRequest[] = [];
  for (let i = 0; i < count; i++) {
    const constraints = [pick(random, DATA_CLASSES)];
    if (random() < 0.3) constraints.push({ allowedCountries: [pick(random, EU), pick(random, EU)] });
    const duplicated = random() < 0.25;
    const maxClusters = random() < 0.5 ? 1 + Math.floor(random() * 5) : undefined;
    const minCountries = random() < 0.3 ? 1 + Math.floor(random() * 2) : undefined;
    out.push({
      workload: `bench/w${i}`,
      replicas: duplicated ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * 20),
      mode: duplicated ? "Duplicated" : "Divided",
      ...(maxClusters !== undefined ? { maxClusters: Math.max(maxClusters, minCountries ?? 1) } : {}),
      ...(minCountries !== undefined ? { minCountries } : {}),
      constraints,
      tolerations: random() < 0.1 ? [{ key: "maintenance", operator: "Exists" }] : [],
      perReplica: { cpuMilli: pick(random, [100, 250, 500, 1_000, 2_000]), memoryBytes: pick(random, [128 * 2 ** 20, GiB, 4 * GiB]) },
    });
  }
  return out;
}
