import { DNS_LABEL, EEA_ONLY_COUNTRIES, EU_COUNTRIES, IDENTIFIER, MAX } from "../formats.ts";
import { list, map, object, quantity, str } from "../openapi.ts";
import { CERTIFICATION_NAMES, TAINT_EFFECTS } from "../types.ts";
import type { Certification, MemberClusterSpec, MemberClusterStatus, Residency, Taint } from "../types.ts";
import { certificationName, conditions, countryCode, jurisdiction, labelValue, qualifiedName } from "./common.ts";
import type { KindDefinition } from "./kind.ts";

const celList = (codes: readonly string[]) => `[${codes.map((c) => `'${c}'`).join(", ")}]`;
const EU = new Set<string>(EU_COUNTRIES);
const EEA_ONLY = new Set<string>(EEA_ONLY_COUNTRIES);

const certification = object<Certification>({
  description: "A certification or attestation the provider holds for this cluster's infrastructure.",
  properties: {
    name: certificationName(
      "The scheme: SecNumCloud (ANSSI, France), C5 (BSI, Germany), HDS (health data hosting, France), EUCS-High, EUCS-HighPlus (ENISA), GaiaX-L3 (Gaia-X Label Level 3) or ISO27001.",
    ),
    version: labelValue('The scheme\'s version, e.g. "3.2" for SecNumCloud; mirrored as the value of the certification.sovereignty.eu/<name> label, hence label-value syntax.'),
    validUntil: str(
      'The last day the certification is valid, as a date ("2027-06-30"). From the next day on it no longer counts: the label is removed and policies requiring it no longer match.',
      { format: "date", maxLength: 10 },
    ),
  },
  required: ["name", "validUntil"],
});

const residency = object<Residency>({
  description:
    "Where the cluster is and under which law: the facts residency policies are checked against. Declared by the host's admin, never by the member agent. country and jurisdiction cannot change once set (a cluster does not move); certifications may.",
  properties: {
    country: {
      ...countryCode("ISO 3166-1 alpha-2 code (upper case) of the country the cluster's machines are in, e.g. FR or DE. Immutable."),
      rules: [{ rule: "self == oldSelf", message: "spec.residency.country is immutable: a cluster does not move country; create a new MemberCluster instead" }],
    },
    jurisdiction: {
      ...jurisdiction("EU for a cluster in an EU member state, EEA for Iceland, Liechtenstein or Norway, NONE elsewhere. Must agree with country. Immutable."),
      rules: [{ rule: "self == oldSelf", message: "spec.residency.jurisdiction is immutable: a cluster does not change jurisdiction; create a new MemberCluster instead" }],
    },
    region: labelValue("The provider's region name, e.g. eu-west-par; spread counts distinct regions and countries."),
    provider: str("The operator of the infrastructure, free text, e.g. OVHcloud.", { maxLength: 128 }),
    extraterritorialExposure: list(
      "Laws with reach outside the EU that the provider is subject to, e.g. [US-CLOUD-Act, US-FISA-702]; policies with forbidExtraterritorialExposure exclude any cluster that lists one. Required: [] declares no exposure; a missing list is never read as none.",
      str("A law's identifier, e.g. US-CLOUD-Act.", { pattern: IDENTIFIER, patternName: "an identifier (letters, digits, '-', '_', '.')", maxLength: 64 }),
      { maxItems: 16, listType: "set" },
    ),
    certifications: list(
      "The certifications the provider holds for this cluster, at most one per scheme. Only those whose validUntil is today or later count.",
      certification,
      { maxItems: CERTIFICATION_NAMES.length, listType: "map", listMapKeys: ["name"] },
    ),
  },
  required: ["country", "jurisdiction", "extraterritorialExposure"],
  rules: [
    {
      rule:
        `self.jurisdiction == 'EU' ? self.country in ${celList(EU_COUNTRIES)} : ` +
        `self.jurisdiction == 'EEA' ? self.country in ${celList(EEA_ONLY_COUNTRIES)} : ` +
        `!(self.country in ${celList([...EU_COUNTRIES, ...EEA_ONLY_COUNTRIES])})`,
      message: "spec.residency.jurisdiction must agree with spec.residency.country: EU for EU member states, EEA for IS, LI and NO, NONE for any other country",
      fieldPath: ".jurisdiction",
      check: (self) =>
        self.jurisdiction === "EU" ? EU.has(self.country) : self.jurisdiction === "EEA" ? EEA_ONLY.has(self.country) : !EU.has(self.country) && !EEA_ONLY.has(self.country),
    },
  ],
});

const taint = object<Taint>({
  description: "A taint, as on a node: workloads whose pod template does not tolerate it are not placed on the cluster (NoSchedule), or are moved off it (NoExecute).",
  properties: {
    key: qualifiedName("The taint key, e.g. maintenance."),
    value: labelValue("The taint value, matched by tolerations with operator Equal."),
    effect: str("NoSchedule (no new replicas) or NoExecute (no new replicas, and existing ones are moved).", { enum: TAINT_EFFECTS, maxLength: 10 }),
  },
  required: ["key", "effect"],
});

const spec = object<MemberClusterSpec>({
  description: "What the host's admin declares about a member cluster.",
  properties: {
    residency,
    taints: list("Taints on the whole cluster, e.g. during maintenance.", taint, { maxItems: 32, listType: "map", listMapKeys: ["key", "effect"] }),
  },
  required: ["residency"],
});

const status = object<MemberClusterStatus>({
  description: "What the control plane observes about the member cluster.",
  properties: {
    observedGeneration: { type: "integer", format: "int64", minimum: 0, description: "The metadata.generation this status was computed from." },
    conditions: conditions("Ready: heartbeats from the member agent are fresh. Joined: an agent has joined as this cluster."),
    lastHeartbeatTime: str("When the member agent's last heartbeat arrived (RFC 3339).", { format: "date-time", maxLength: 64 }),
    allocatable: map("Resources the member cluster can give to workloads, as quantities, e.g. {cpu: \"64\", memory: 256Gi, pods: \"1100\"}.", quantity("A resource quantity."), {
      maxProperties: 32,
    }),
    validCertifications: list(
      "Names of the certifications valid at the last reconcile, sorted; the Certifications column of kubectl get mc.",
      certificationName("A certification scheme."),
      { maxItems: CERTIFICATION_NAMES.length, listType: "set" },
    ),
  },
});

export const memberCluster: KindDefinition = {
  kind: "MemberCluster",
  plural: "memberclusters",
  singular: "membercluster",
  shortNames: ["mc"],
  scope: "Cluster",
  description:
    "A member cluster of the federation and its residency facts: country, jurisdiction, provider, certifications and exposure to extraterritorial laws. Declared by the host's admin; a member agent that joins binds to it and cannot change spec.residency.",
  spec,
  status,
  metadataName: str("The cluster's name, a DNS label: it is used in NATS subjects and label values.", {
    maxLength: MAX.dnsLabel,
    rules: [
      {
        rule: `self.matches(r'${DNS_LABEL}')`,
        message: "metadata.name must be a DNS label (lowercase letters, digits and '-', at most 63 characters): it is used in NATS subjects and labels",
        check: (self) => new RegExp(DNS_LABEL).test(self),
      },
    ],
  }),
  printerColumns: [
    { name: "Country", type: "string", jsonPath: ".spec.residency.country", description: "ISO 3166-1 alpha-2 code of the cluster's country." },
    { name: "Jurisdiction", type: "string", jsonPath: ".spec.residency.jurisdiction", description: "EU, EEA or NONE." },
    { name: "Certifications", type: "string", jsonPath: ".status.validCertifications", description: "Certifications valid at the last reconcile." },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "Whether the member agent's heartbeats are fresh." },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};
