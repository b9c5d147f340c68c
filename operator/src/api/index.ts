// The public surface of the API package: types, decoder, condition helpers.
export * from "./types.ts";
export { ApiValidationError, decodeMemberCluster, decodeObject, decodeResidencyPolicy, decodeSovereignWorkload } from "./decode.ts";
export type { DecodeOptions, Issue } from "./decode.ts";
