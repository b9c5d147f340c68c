// The audit trail is a signed ledger: tests that append to it go through a LedgerWriter
// with the federation's own signing key (the Secret the control plane created, or creates
// here first), so they share its chains the way a second control plane would, without
// forking them or leaving records an export could not verify.
import { KubeHostApi } from "../../../operator/src/kube/index.ts";
import { LedgerWriter, loadLedgerKeys, placementBodyOf } from "../../../operator/src/federation/index.ts";
import type { FederationClient } from "../../../operator/src/federation/index.ts";
import { nextRecord, RecordType, SigningKey } from "../../../operator/src/ledger/index.ts";
import type { LedgerRecord } from "../../../operator/src/ledger/index.ts";
import type { AuditRecord } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import type { FederationEnv } from "../env.ts";

export async function federationLedger(env: FederationEnv, cp: FederationClient): Promise<LedgerWriter> {
  const host = new KubeHostApi({ source: { kubeconfigFile: env.hostKubeconfig } });
  const keys = await loadLedgerKeys({ host, namespace: "sovereign-system" });
  return new LedgerWriter({ publisher: cp.publish, jsm: () => cp.manager(), keys });
}

/** A well-formed record signed by a key of nobody's: what an identity without the right to write the trail would try. */
export function forgedRecord(record: AuditRecord): LedgerRecord {
  return nextRecord({ federation: "forged", chain: record.country, tail: undefined, type: RecordType.Placement, id: record.recordId, time: new Date(), body: placementBodyOf(record), signer: SigningKey.generate() });
}
