// The public surface of the API package: types, decoder, condition helpers.
export * from "./types.ts";
export * from "./member-labels.ts";
export { ApiValidationError, decodeMemberCluster, decodeObject, decodeResidencyPolicy, decodeSovereignWorkload } from "./decode.ts";
export type { DecodeOptions, Issue } from "./decode.ts";
export { formatTime, getCondition, isConditionTrue, removeCondition, setCondition } from "./conditions.ts";
export type { ConditionUpdate } from "./conditions.ts";
export { isDate, isDateTime, QUANTITY } from "./formats.ts";
