// Schema pieces shared by the three kinds: conditions, label selectors, enums.
import { COUNTRY_CODES } from "../countries.ts";
import { CONDITION_REASON, DNS_SUBDOMAIN, LABEL_VALUE, MAX, QUALIFIED_NAME } from "../formats.ts";
import { bool, int64, list, map, object, str } from "../openapi.ts";
import type { ArraySchema, MapSchema, ObjectProperties, ObjectSchema, StringSchema } from "../openapi.ts";
import { CERTIFICATION_NAMES, CONDITION_STATUSES, JURISDICTIONS, LABEL_SELECTOR_OPERATORS } from "../types.ts";
import type { Condition, LabelSelector, LabelSelectorRequirement, ResidencyConstraints } from "../types.ts";

export function countryCode(description: string): StringSchema {
  return str(description, {
    enum: COUNTRY_CODES,
    maxLength: 2,
    enumReason: (v) =>
      /^[a-z]{2}$/.test(v) && (COUNTRY_CODES as readonly string[]).includes(v.toUpperCase())
        ? `${JSON.stringify(v)} is not an ISO 3166-1 alpha-2 code: codes are upper case ("${v.toUpperCase()}")`
        : `${JSON.stringify(v)} is not an ISO 3166-1 alpha-2 code`,
  });
}

export function jurisdiction(description: string): StringSchema {
  return str(description, { enum: JURISDICTIONS, maxLength: 4 });
}

export function certificationName(description: string): StringSchema {
  return str(description, { enum: CERTIFICATION_NAMES, maxLength: 16 });
}

export function labelValue(description: string): StringSchema {
  return str(description, { pattern: LABEL_VALUE, patternName: "a label value (letters, digits, '-', '_', '.', starting and ending alphanumeric)", maxLength: MAX.labelValue });
}

export function qualifiedName(description: string): StringSchema {
  return str(description, { pattern: QUALIFIED_NAME, patternName: "a qualified name such as example.com/key", minLength: 1, maxLength: MAX.qualifiedName });
}

export function objectName(description: string): StringSchema {
  return str(description, { pattern: DNS_SUBDOMAIN, patternName: "a DNS subdomain (lowercase letters, digits, '-' and '.')", minLength: 1, maxLength: MAX.dnsSubdomain });
}

export function labelMap(description: string, maxProperties = 64): MapSchema {
  return map(description, labelValue("A label value."), {
    maxProperties,
    rules: [
      {
        rule: `self.all(k, size(k) <= ${MAX.qualifiedName} && k.matches(r'${QUALIFIED_NAME}'))`,
        message: "keys must be qualified names such as example.com/key (at most 317 characters)",
        check: (self) => Object.keys(self).every((k) => k.length <= MAX.qualifiedName && new RegExp(QUALIFIED_NAME).test(k)),
      },
    ],
  });
}

const labelSelectorRequirement = object<LabelSelectorRequirement>({
  description: "A label selector requirement: a key, an operator and, for In and NotIn, the values.",
  properties: {
    key: qualifiedName("The label key the requirement applies to, e.g. residency.sovereignty.eu/country."),
    operator: str("How the key relates to the values: In, NotIn, Exists or DoesNotExist.", { enum: LABEL_SELECTOR_OPERATORS, maxLength: 12 }),
    values: list("The values for In and NotIn (at least one); must be empty or absent for Exists and DoesNotExist.", labelValue("A label value."), { maxItems: 64, listType: "atomic" }),
  },
  required: ["key", "operator"],
  rules: [
    {
      rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : true",
      message: "values must be non-empty when operator is In or NotIn",
      fieldPath: ".values",
      reason: "FieldValueRequired",
      check: (self) => (self.operator === "In" || self.operator === "NotIn" ? (self.values?.length ?? 0) > 0 : true),
    },
    {
      rule: "self.operator in ['Exists', 'DoesNotExist'] ? (!has(self.values) || size(self.values) == 0) : true",
      message: "values must be empty when operator is Exists or DoesNotExist",
      fieldPath: ".values",
      reason: "FieldValueForbidden",
      check: (self) => (self.operator === "Exists" || self.operator === "DoesNotExist" ? (self.values?.length ?? 0) === 0 : true),
    },
  ],
});

export function labelSelector(description: string): ObjectSchema<LabelSelector> {
  return object<LabelSelector>({
    description,
    properties: {
      matchLabels: labelMap("Labels the member cluster must carry, each with exactly this value. ANDed with matchExpressions."),
      matchExpressions: list("Requirements the member cluster's labels must all satisfy.", labelSelectorRequirement, { maxItems: 16, listType: "atomic" }),
    },
  });
}

const condition = object<Condition>({
  description: "A metav1.Condition: one aspect of the object's state, with when and why it last changed.",
  properties: {
    type: qualifiedName("The condition's type in CamelCase, e.g. Ready."),
    status: str("True, False or Unknown.", { enum: CONDITION_STATUSES, maxLength: 7 }),
    observedGeneration: int64("The metadata.generation the condition was computed from.", { minimum: 0 }),
    lastTransitionTime: str("When the status last changed (RFC 3339).", { format: "date-time", maxLength: 64 }),
    reason: str("A CamelCase machine-readable reason for the last transition.", { pattern: CONDITION_REASON, patternName: "a CamelCase reason", minLength: 1, maxLength: 1024 }),
    message: str("A human-readable explanation of the last transition.", { maxLength: 32768 }),
  },
  required: ["type", "status", "lastTransitionTime", "reason", "message"],
});

export function conditions(description: string): ArraySchema<ObjectSchema<Condition>> {
  return list(description, condition, { maxItems: 16, listType: "map", listMapKeys: ["type"] });
}

/** The fields of ResidencyConstraints, for the inline constraints and for ResidencyPolicy.spec, which adds to them. */
export const residencyConstraintProperties: ObjectProperties<ResidencyConstraints> = {
  allowedCountries: list(
    "ISO 3166-1 alpha-2 codes (upper case, e.g. FR, DE) of the countries a replica may run in. Empty or absent: no country constraint.",
    countryCode("An ISO 3166-1 alpha-2 country code, upper case."),
    { maxItems: 64, listType: "set" },
  ),
  allowedJurisdictions: list(
    "Jurisdictions (EU, EEA, NONE) a replica's cluster may be under. Empty or absent: no jurisdiction constraint.",
    jurisdiction("EU, EEA or NONE."),
    { maxItems: 3, listType: "set" },
  ),
  requiredCertifications: list(
    "Certifications a cluster must ALL hold, each valid (validUntil on or after today), e.g. [SecNumCloud, HDS].",
    certificationName("SecNumCloud, C5, HDS, EUCS-High, EUCS-HighPlus, GaiaX-L3 or ISO27001."),
    { maxItems: 7, listType: "set" },
  ),
  forbidExtraterritorialExposure: bool("If true, only clusters whose provider declares no extraterritorial exposure (spec.residency.extraterritorialExposure empty) are eligible, e.g. to exclude providers subject to the US CLOUD Act."),
  crossBorderFailover: bool("If true, failover may move replicas to a cluster in another allowed country; if false, replicas stay in the country they were placed in, even when its clusters fail."),
  clusterSelector: labelSelector(
    "A standard label selector over MemberCluster labels (including the mirrored residency.sovereignty.eu/* and certification.sovereignty.eu/* labels). Absent or empty: every cluster matches.",
  ),
};

export function residencyConstraints(description: string): ObjectSchema<ResidencyConstraints> {
  return object<ResidencyConstraints>({ description, properties: residencyConstraintProperties });
}
