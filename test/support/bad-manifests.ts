// Valid base objects, and the table of broken variants the API server must reject and the
// offline decoder must reject too (test/integration/api/validation.test.ts and
// test/unit/api/decode-agrees-with-server.test.ts read the same table). Each
// case names the field the error message must name and the reason it must give; the
// base objects are created first as a control, so a rejection cannot come from
// something else being wrong.
import { COUNTRY_CODES } from "../../operator/src/api/index.ts";
import { memberCluster, residencyPolicy, sovereignWorkload } from "./builders.ts";

export const TEST_NAMESPACE = "api-validation";
const SUITE_LABELS = { "test.sovereignty.eu/suite": "api" };

type Doc = Record<string, unknown>;

/** A valid MemberCluster using every field of the spec, as plain JSON to break. */
export function validMemberCluster(name: string): Doc {
  return memberCluster({
    name,
    labels: SUITE_LABELS,
    residency: { certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" }] },
    taints: [{ key: "maintenance", value: "true", effect: "NoSchedule" }],
    status: null,
  }) as unknown as Doc;
}

export function validResidencyPolicy(name: string): Doc {
  return residencyPolicy({
    name,
    labels: SUITE_LABELS,
    spec: {
      allowedCountries: ["FR", "DE"],
      allowedJurisdictions: ["EU"],
      requiredCertifications: ["HDS"],
      forbidExtraterritorialExposure: true,
      crossBorderFailover: false,
      clusterSelector: { matchLabels: { "residency.sovereignty.eu/country": "FR" }, matchExpressions: [{ key: "tier", operator: "In", values: ["gold"] }] },
      podSecurity: { level: "baseline", allowedServiceAccounts: ["records-reader"] },
    },
  }) as unknown as Doc;
}

export function validSovereignWorkload(name: string): Doc {
  return sovereignWorkload({
    name,
    namespace: TEST_NAMESPACE,
    labels: SUITE_LABELS,
    spec: {
      residencyPolicy: "health-fr-hds",
      residency: { allowedCountries: ["FR"] },
      placement: { mode: "Divided", maxClusters: 2, spread: { minCountries: 1 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          // What a sovereign workload may do, so the bad cases below differ from it in one field only.
          containers: [{ name: "app", image: "registry.example.eu/app:1", securityContext: { privileged: false, capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] } } }],
          volumes: [{ name: "scratch", emptyDir: {} }],
          hostNetwork: false,
          serviceAccountName: "default",
        },
      },
    },
  }) as unknown as Doc;
}

/** Sets a dotted path; "a.b[1].c" indexes lists. */
export function set(doc: Doc, path: string, value: unknown): Doc {
  const keys = path.split(".").flatMap((k) => k.split(/\[(\d+)\]/).filter((p) => p !== ""));
  let cur = doc as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return doc;
}

export interface BadCase {
  title: string;
  /** Builds the broken object under the given name. */
  build: (name: string) => Doc;
  /** The field the message must name, as the API server prints it. */
  field: string;
  /** The reason the message must give. */
  reason: RegExp;
  /**
   * kubectl's --validate. Default: kubectl's own default, strict server-side field
   * validation. "false" where strict decoding answers first with a different error, to
   * reach the schema check; the strict answer is then a case of its own.
   */
  validate?: "false";
  /** The rejection is a strict decoding error (400 BadRequest), not a schema violation (422 Invalid). */
  strictDecoding?: true;
  /**
   * The API path the object is POSTed to with `kubectl create --raw`, for an apiVersion the
   * API does not serve: kubectl alone would refuse it before sending ("no matches for
   * kind"), so the server's own check is reached only by posting to the served version.
   */
  rawPath?: string;
}

const mc = (path: string, value: unknown) => (name: string) => set(validMemberCluster(name), path, value);
const rp = (path: string, value: unknown) => (name: string) => set(validResidencyPolicy(name), path, value);
const swl = (path: string, value: unknown) => (name: string) => set(validSovereignWorkload(name), path, value);

const served = "/apis/sovereignty.eu/v1alpha1";
/** The server's answer to a body whose apiVersion is not the one of the path it is posted to. */
const apiVersionMismatch = (given: string) => new RegExp(`the API version in the data \\(${given.replaceAll(".", "\\.")}\\) does not match the expected API version \\(sovereignty\\.eu/v1alpha1\\)`);

const countriesA = COUNTRY_CODES.slice(0, 65);

export const BAD_CREATES: BadCase[] = [
  // apiVersion: without this check the decoder would rewrite the document to v1alpha1 in silence.
  { title: "MemberCluster of version sovereignty.eu/v1beta1, which is not served", build: mc("apiVersion", "sovereignty.eu/v1beta1"), field: "apiVersion", reason: apiVersionMismatch("sovereignty.eu/v1beta1"), rawPath: `${served}/memberclusters` },
  { title: "MemberCluster of another group, sovereign.eu/v1alpha1", build: mc("apiVersion", "sovereign.eu/v1alpha1"), field: "apiVersion", reason: apiVersionMismatch("sovereign.eu/v1alpha1"), rawPath: `${served}/memberclusters` },
  { title: "SovereignWorkload of version sovereignty.eu/v1, which is not served", build: swl("apiVersion", "sovereignty.eu/v1"), field: "apiVersion", reason: apiVersionMismatch("sovereignty.eu/v1"), rawPath: `${served}/namespaces/${TEST_NAMESPACE}/sovereignworkloads` },

  // MemberCluster
  { title: "country XX, not an ISO 3166-1 code", build: mc("spec.residency.country", "XX"), field: "spec.residency.country", reason: /Unsupported value: "XX"/ },
  { title: "country fr, lower case", build: mc("spec.residency.country", "fr"), field: "spec.residency.country", reason: /Unsupported value: "fr"/ },
  { title: "country EU, a union, not a country", build: mc("spec.residency.country", "EU"), field: "spec.residency.country", reason: /Unsupported value: "EU"/ },
  { title: "country as a number", build: mc("spec.residency.country", 250), field: "spec.residency.country", reason: /must be of type string|Invalid value: "integer"|expected string/ },
  { title: "country missing", build: mc("spec.residency.country", undefined), field: "spec.residency.country", reason: /Required value/ },
  {
    title: "MemberCluster without extraterritorialExposure ([] must declare no exposure)",
    build: mc("spec.residency.extraterritorialExposure", undefined),
    field: "spec.residency.extraterritorialExposure",
    reason: /Required value/,
  },
  { title: "jurisdiction not in EU|EEA|NONE", build: mc("spec.residency.jurisdiction", "Europe"), field: "spec.residency.jurisdiction", reason: /Unsupported value: "Europe"/ },
  { title: "jurisdiction with a Cyrillic Е (unicode look-alike)", build: mc("spec.residency.jurisdiction", "\u0415U"), field: "spec.residency.jurisdiction", reason: /Unsupported value/ },
  { title: "jurisdiction NONE for a cluster in France", build: mc("spec.residency.jurisdiction", "NONE"), field: "spec.residency.jurisdiction", reason: /must agree with spec\.residency\.country/ },
  { title: "unknown certification", build: mc("spec.residency.certifications[0].name", "SOC2"), field: "spec.residency.certifications[0].name", reason: /Unsupported value: "SOC2"/ },
  { title: "certification name with a zero-width space", build: mc("spec.residency.certifications[0].name", "SecNum\u200bCloud"), field: "spec.residency.certifications[0].name", reason: /Unsupported value/ },
  { title: "validUntil with month 13", build: mc("spec.residency.certifications[0].validUntil", "2027-13-01"), field: "spec.residency.certifications[0].validUntil", reason: /must be of type date|in body must be of type date/ },
  { title: "validUntil in day/month/year order", build: mc("spec.residency.certifications[0].validUntil", "30/06/2027"), field: "spec.residency.certifications[0].validUntil", reason: /must be of type date/ },
  { title: "validUntil on 30 February", build: mc("spec.residency.certifications[0].validUntil", "2027-02-30"), field: "spec.residency.certifications[0].validUntil", reason: /must be of type date/ },
  { title: "validUntil missing", build: mc("spec.residency.certifications[0].validUntil", undefined), field: "spec.residency.certifications[0].validUntil", reason: /Required value/ },
  {
    title: "the same certification twice",
    build: (name) => set(validMemberCluster(name), "spec.residency.certifications", [{ name: "HDS", validUntil: "2027-01-01" }, { name: "HDS", validUntil: "2028-01-01" }]),
    field: "spec.residency.certifications[1]",
    reason: /Duplicate value/,
  },
  { title: "certification version that cannot be a label value", build: mc("spec.residency.certifications[0].version", "3.2 beta"), field: "spec.residency.certifications[0].version", reason: /should match/ },
  {
    title: "17 extraterritorial laws (oversized list)",
    build: mc("spec.residency.extraterritorialExposure", Array.from({ length: 17 }, (_, i) => `LAW-${i}`)),
    field: "spec.residency.extraterritorialExposure",
    reason: /Too many: 17: must have at most 16 items/,
  },
  { title: "region longer than 63 characters", build: mc("spec.residency.region", "r".repeat(64)), field: "spec.residency.region", reason: /Too long: may not be (longer|more) than 63/ },
  { title: "taint effect PreferNoSchedule", build: mc("spec.taints[0].effect", "PreferNoSchedule"), field: "spec.taints[0].effect", reason: /Unsupported value: "PreferNoSchedule"/ },
  {
    title: "taints as an object instead of a list, without strict decoding",
    build: mc("spec.taints", { key: "maintenance", effect: "NoSchedule" }),
    field: "spec.taints",
    reason: /must be of type array/,
    validate: "false",
  },
  {
    title: "taints as an object instead of a list, under strict decoding (kubectl's default), which reports the object's keys as unknown fields",
    build: mc("spec.taints", { key: "maintenance", effect: "NoSchedule" }),
    field: "spec.taints",
    reason: /strict decoding error: unknown field "spec\.taints\.(effect|key)"/,
    strictDecoding: true,
  },
  { title: "name with dots (it names NATS subjects)", build: (name) => set(validMemberCluster(`${name}.par`), "spec.residency.country", "FR"), field: "metadata.name", reason: /must be a DNS label/ },

  // ResidencyPolicy
  { title: "allowedCountries with XX", build: rp("spec.allowedCountries", ["FR", "XX"]), field: "spec.allowedCountries[1]", reason: /Unsupported value: "XX"/ },
  { title: "allowedCountries with lower-case de", build: rp("spec.allowedCountries", ["de"]), field: "spec.allowedCountries[0]", reason: /Unsupported value: "de"/ },
  { title: "allowedCountries with a duplicate", build: rp("spec.allowedCountries", ["FR", "FR"]), field: "spec.allowedCountries[1]", reason: /Duplicate value: "FR"/ },
  { title: "65 allowedCountries (oversized list)", build: rp("spec.allowedCountries", countriesA), field: "spec.allowedCountries", reason: /Too many: 65: must have at most 64 items/ },
  { title: "allowedJurisdictions with lower-case eu", build: rp("spec.allowedJurisdictions", ["EU", "eu"]), field: "spec.allowedJurisdictions[1]", reason: /Unsupported value: "eu"/ },
  { title: "unknown required certification", build: rp("spec.requiredCertifications", ["SecNumCloud", "FedRAMP"]), field: "spec.requiredCertifications[1]", reason: /Unsupported value: "FedRAMP"/ },
  { title: "forbidExtraterritorialExposure as a string", build: rp("spec.forbidExtraterritorialExposure", "yes"), field: "spec.forbidExtraterritorialExposure", reason: /must be of type boolean|Invalid value: "string"/ },
  { title: "In selector without values", build: rp("spec.clusterSelector.matchExpressions", [{ key: "tier", operator: "In" }]), field: "spec.clusterSelector.matchExpressions[0].values", reason: /values must be non-empty when operator is In or NotIn/ },
  { title: "NotIn selector with empty values", build: rp("spec.clusterSelector.matchExpressions", [{ key: "tier", operator: "NotIn", values: [] }]), field: "spec.clusterSelector.matchExpressions[0].values", reason: /values must be non-empty/ },
  { title: "Exists selector with values", build: rp("spec.clusterSelector.matchExpressions", [{ key: "tier", operator: "Exists", values: ["gold"] }]), field: "spec.clusterSelector.matchExpressions[0].values", reason: /values must be empty when operator is Exists or DoesNotExist/ },
  { title: "selector operator Equals", build: rp("spec.clusterSelector.matchExpressions", [{ key: "tier", operator: "Equals", values: ["gold"] }]), field: "spec.clusterSelector.matchExpressions[0].operator", reason: /Unsupported value: "Equals"/ },
  { title: "matchLabels key that is not a label key", build: rp("spec.clusterSelector.matchLabels", { "bad key!": "x" }), field: "spec.clusterSelector.matchLabels", reason: /keys must be qualified names/ },

  // SovereignWorkload
  { title: "negative replicas", build: swl("spec.replicas", -1), field: "spec.replicas", reason: /should be greater than or equal to 0/ },
  { title: "a million replicas", build: swl("spec.replicas", 1_000_000), field: "spec.replicas", reason: /should be less than or equal to 10000/ },
  { title: "replicas as a string", build: swl("spec.replicas", "3"), field: "spec.replicas", reason: /must be of type integer|Invalid value: "string"/ },
  { title: "fractional replicas", build: swl("spec.replicas", 2.5), field: "spec.replicas", reason: /must be of type integer|Invalid value: "number"/ },
  { title: "placement mode Spread", build: swl("spec.placement.mode", "Spread"), field: "spec.placement.mode", reason: /Unsupported value: "Spread"/ },
  { title: "spread.minCountries above maxClusters", build: swl("spec.placement.spread.minCountries", 3), field: "spec.placement.spread.minCountries", reason: /must not exceed spec\.placement\.maxClusters/ },
  { title: "maxClusters 0", build: swl("spec.placement.maxClusters", 0), field: "spec.placement.maxClusters", reason: /should be greater than or equal to 1/ },
  { title: "negative failover tolerationSeconds", build: swl("spec.failover.tolerationSeconds", -5), field: "spec.failover.tolerationSeconds", reason: /should be greater than or equal to 0/ },
  { title: "failover tolerationSeconds of a day", build: swl("spec.failover.tolerationSeconds", 86400), field: "spec.failover.tolerationSeconds", reason: /should be less than or equal to 3600/ },
  { title: "no pod template", build: swl("spec.template", undefined), field: "spec.template", reason: /Required value/ },
  { title: "pod template without containers", build: swl("spec.template.spec.containers", []), field: "spec.template.spec.containers", reason: /should have at least 1 items/ },
  { title: "residencyPolicy that is not an object name", build: swl("spec.residencyPolicy", "Health_Policy"), field: "spec.residencyPolicy", reason: /should match/ },
  { title: "inline allowedCountries with XX", build: swl("spec.residency.allowedCountries", ["XX"]), field: "spec.residency.allowedCountries[0]", reason: /Unsupported value: "XX"/ },
  { title: "In selector without values, inline", build: swl("spec.residency.clusterSelector", { matchExpressions: [{ key: "tier", operator: "In" }] }), field: "spec.residency.clusterSelector.matchExpressions[0].values", reason: /values must be non-empty/ },

  // What a sovereign workload's pods may not be (api/pod-security.ts), refused by the CRD's CEL rules.
  { title: "a privileged container", build: swl("spec.template.spec.containers[0].securityContext", { privileged: true }), field: "spec.template.spec.containers[0].securityContext.privileged", reason: /may not run privileged containers/ },
  {
    title: "a privileged init container",
    build: swl("spec.template.spec.initContainers", [{ name: "init", image: "registry.example.eu/init:1", securityContext: { privileged: true } }]),
    field: "spec.template.spec.initContainers[0].securityContext.privileged",
    reason: /may not run privileged containers/,
  },
  {
    title: "a privileged ephemeral container",
    build: swl("spec.template.spec.ephemeralContainers", [{ name: "debug", image: "registry.example.eu/debug:1", securityContext: { privileged: true } }]),
    field: "spec.template.spec.ephemeralContainers[0].securityContext.privileged",
    reason: /may not run privileged containers/,
  },
  { title: "hostNetwork", build: swl("spec.template.spec.hostNetwork", true), field: "spec.template.spec.hostNetwork", reason: /may not use the member's network namespace/ },
  { title: "hostPID", build: swl("spec.template.spec.hostPID", true), field: "spec.template.spec.hostPID", reason: /may not use the member's PID namespace/ },
  { title: "hostIPC", build: swl("spec.template.spec.hostIPC", true), field: "spec.template.spec.hostIPC", reason: /may not use the member's IPC namespace/ },
  {
    title: "a hostPath volume",
    build: swl("spec.template.spec.volumes", [{ name: "scratch", emptyDir: {} }, { name: "root", hostPath: { path: "/" } }]),
    field: "spec.template.spec.volumes[1].hostPath",
    reason: /may not mount a path of the member's nodes/,
  },
  {
    title: "an added capability beyond NET_BIND_SERVICE",
    build: swl("spec.template.spec.containers[0].securityContext", { capabilities: { add: ["NET_BIND_SERVICE", "SYS_ADMIN"] } }),
    field: "spec.template.spec.containers[0].securityContext.capabilities.add[1]",
    reason: /may add no capability but NET_BIND_SERVICE/,
  },
  { title: "serviceAccountName that is not a name", build: swl("spec.template.spec.serviceAccountName", "Admin User"), field: "spec.template.spec.serviceAccountName", reason: /should match/ },
  { title: "a policy's podSecurity level privileged", build: rp("spec.podSecurity.level", "privileged"), field: "spec.podSecurity.level", reason: /Unsupported value: "privileged"/ },
];

/** Unknown fields: rejected under strict field validation (kubectl's default), pruned otherwise. */
export const UNKNOWN_FIELDS: Array<{ title: string; build: (name: string) => Doc; field: string; storedPath: string[] }> = [
  { title: "a misspelt spec.residency.contry on a MemberCluster", build: mc("spec.residency.contry", "DE"), field: "spec.residency.contry", storedPath: ["spec", "residency", "contry"] },
  { title: "a misspelt spec.replica on a SovereignWorkload", build: swl("spec.replica", 9), field: "spec.replica", storedPath: ["spec", "replica"] },
  { title: "an unknown spec.allowedRegions on a ResidencyPolicy", build: rp("spec.allowedRegions", ["eu-west-par"]), field: "spec.allowedRegions", storedPath: ["spec", "allowedRegions"] },
];
