/**
 * The audit ledger: a hash chain per country of signed records (record.ts says the
 * format), how records are made (chain.ts) and verified offline (verify.ts). Pure apart
 * from node:crypto; the NATS writer and the kubectl commands build on it.
 */
export { attestationGaps, attestationSignedBy, signAttestation, type AttestationGap } from "./attestation.ts";
export { canonicalBytes, canonicalJson, NotCanonicalizableError, type Json } from "./canonical.ts";
export { headRecord, keyRecord, nextRecord, signRecord, tailOf, type ChainTail } from "./chain.ts";
export { KeyFormatError, keyIdOf, publicKeyFromHex, SigningKey, verifySignature } from "./keys.ts";
export { checkRecord, lineOf, parseAttestationBody, parseLine, ShapeError } from "./parse.ts";
export {
  hashOf, LEDGER_VERSION, PlacementAction, RecordType, signedPart, ZERO_HASH,
  type Attestation, type AttestationBody, type Body, type CertificationFact, type FactsBody, type HeadBody, type KeyBody,
  type LedgerRecord, type MemberKeyBody, type PlacementBody, type RequirementsBody, type UnsignedRecord,
} from "./record.ts";
export { residencyViolations } from "./residency.ts";
export { DEFAULT_ATTESTATION_PERIOD_MS, DEFAULT_ATTESTATION_SLACK_MS, splitLines, verifyLedger, type ChainSummary, type Finding, type KeySummary, type VerifyReport } from "./verify.ts";
