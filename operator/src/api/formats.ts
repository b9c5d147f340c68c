// Kubernetes' own syntax rules, as regular expressions that mean the same in RE2 (the API
// server) and in JavaScript (the offline decoder).

export const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
export const LABEL_VALUE = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
export const QUALIFIED_NAME = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
export const CONDITION_REASON = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";
export const IDENTIFIER = "^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
/**
 * Kubernetes' resource.Quantity (k8s.io/apimachinery/pkg/api/resource, ParseQuantity): a
 * sign, digits with an optional fraction, then one suffix: binary (Ki..Ei), decimal
 * (n u m k M G T P E, or none), or an exponent e/E with an INTEGER. The OpenAPI pattern
 * Kubernetes publishes for int-or-string quantities lets the exponent have a fraction
 * (`1e1.5`), which ParseQuantity refuses; this is ParseQuantity's grammar, used by the CRD,
 * the offline decoder and the scheduler's reader alike. The capture groups (number,
 * binary suffix, decimal suffix, exponent) are what scheduler/quantity.ts reads; the
 * pattern means the same in RE2 and JavaScript.
 */
export const QUANTITY = "^([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?[0-9]+))?$";

export const MAX = {
  dnsLabel: 63,
  dnsSubdomain: 253,
  labelValue: 63,
  /** prefix (DNS subdomain, 253) + "/" + name (63) */
  qualifiedName: 317,
} as const;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date "YYYY-MM-DD" that exists (no 2026-02-30), as OpenAPI `format: date`. */
export function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp, as OpenAPI `format: date-time`. */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m || !isDate(m[1]!)) return false;
  return Number(m[2]) < 24 && Number(m[3]) < 60 && Number(m[4]) < 61 && !Number.isNaN(Date.parse(value));
}

/** EU member states, plus the outermost regions and Åland, which have their own ISO codes and are inside the EU. */
export const EU_COUNTRIES = [
  "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
  "AX", "GF", "GP", "MF", "MQ", "RE", "YT",
] as const;

/** EEA members outside the EU. */
export const EEA_ONLY_COUNTRIES = ["IS", "LI", "NO"] as const;
