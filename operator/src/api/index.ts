// The public surface of the API package: types, decoder, condition helpers.
export * from "./types.ts";
export * from "./member-labels.ts";
export { ApiValidationError, decodeMemberCluster, decodeObject, decodeResidencyPolicy, decodeSovereignWorkload } from "./decode.ts";
export type { DecodeOptions, Issue } from "./decode.ts";
export { CONDITION_MESSAGE_MAX_BYTES, conditionMessage, formatTime, getCondition, isConditionTrue, removeCondition, setCondition } from "./conditions.ts";
export type { ConditionUpdate } from "./conditions.ts";
export { isDate, isDateTime, QUANTITY } from "./formats.ts";
export {
  ALLOWED_ADDED_CAPABILITIES, DEFAULT_POD_SECURITY_LEVEL, DEFAULT_SERVICE_ACCOUNT, describeViolations, isForbiddenNamespace, namespacePodSecurityLabels,
  POD_SECURITY_LABELS, POD_TEMPLATE_REASONS, podSecurityLevelOf, podTemplateViolations, RESERVED_NAMESPACE_PREFIX, SYSTEM_NAMESPACE,
} from "./pod-security.ts";
export type { PodTemplateViolation } from "./pod-security.ts";
