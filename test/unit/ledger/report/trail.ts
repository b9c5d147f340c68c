// Signed trails for the report's tests, built as the control plane writes them: one chain
// per country (its key record first), placements with the member's facts and the
// workload's requirements, member keys and member-signed attestations in the member's
// country, and a head per chain signed at export time. `verifyLedger` finds nothing in
// what `export()` returns unless a test edits it.
import {
  canonicalBytes, headRecord, keyRecord, lineOf, nextRecord, PlacementAction, RecordType, SigningKey, tailOf,
} from "../../../../operator/src/ledger/index.ts";
import type { Attestation, ChainTail, FactsBody, LedgerRecord, PlacementBody, RequirementsBody } from "../../../../operator/src/ledger/index.ts";

export const FEDERATION = "fed-report-7c1d";
export const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
export const MIN = 60_000;

export const CLUSTERS: Record<string, FactsBody> = {
  "ovh-par-1": { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [], certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" }, { name: "HDS", version: "1.1", validUntil: "2028-01-31" }] },
  "ovh-par-2": { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [], certifications: [{ name: "HDS", version: "1.1", validUntil: "2028-01-31" }] },
  "ionos-fra-1": { country: "DE", jurisdiction: "EU", region: "eu-central-fra", provider: "IONOS", extraterritorialExposure: [], certifications: [{ name: "C5", version: "2020", validUntil: "2027-12-31" }, { name: "HDS", version: "1.0", validUntil: "2027-09-30" }] },
};
export const REQUIRES_HDS: RequirementsBody = { allowedCountries: ["FR", "DE"], allowedJurisdictions: ["EU"], requiredCertifications: ["HDS"], forbidExtraterritorialExposure: true };

export interface WorkloadId { namespace: string; name: string; uid: string }
export const WEB: WorkloadId = { namespace: "health", name: "patient-portal", uid: "3f6c2a10-0000-4000-8000-000000000001" };
export const DB: WorkloadId = { namespace: "health", name: "records-db", uid: "3f6c2a10-0000-4000-8000-000000000002" };

export class Trail {
  readonly key = SigningKey.generate();
  readonly #members = new Map<string, { key: SigningKey; seq: number }>();
  readonly #tails = new Map<string, ChainTail | undefined>();
  readonly #records: LedgerRecord[] = [];
  readonly #firsts = new Map<string, LedgerRecord>();
  readonly #facts: Record<string, FactsBody>;
  #n = 0;

  constructor({ facts = CLUSTERS }: { facts?: Record<string, FactsBody> } = {}) {
    this.#facts = facts;
  }

  #append(chain: string, make: (tail: ChainTail | undefined) => LedgerRecord): LedgerRecord {
    const r = make(this.#tails.get(chain));
    this.#tails.set(chain, tailOf(r));
    this.#records.push(r);
    if (!this.#firsts.has(chain)) this.#firsts.set(chain, r);
    return r;
  }

  #chain(chain: string, at: number): void {
    if (!this.#tails.has(chain)) this.#append(chain, (tail) => keyRecord({ federation: FEDERATION, chain, tail, key: this.key, time: new Date(at) }));
  }

  countryOf(cluster: string): string {
    const f = this.#facts[cluster];
    if (!f) throw new Error(`no facts for cluster ${cluster}`);
    return f.country;
  }

  /** A placement change: `cluster` holds `replicas` of `workload` from `at` (ms since epoch). */
  placement({ at, workload, cluster, replicas, action, reasons = [], fromCluster = "", decidedBy = "control-plane/sovereign-control-plane-0", requirements = REQUIRES_HDS, facts }: {
    at: number;
    workload: WorkloadId;
    cluster: string;
    replicas: number;
    action?: PlacementBody["action"];
    reasons?: string[];
    fromCluster?: string;
    decidedBy?: string;
    requirements?: RequirementsBody | null;
    facts?: FactsBody | null;
  }): LedgerRecord {
    const country = this.countryOf(cluster);
    this.#chain(country, at);
    const body: PlacementBody = {
      action: action ?? (replicas === 0 ? PlacementAction.Evicted : fromCluster ? PlacementAction.Moved : PlacementAction.Placed),
      workload: { ...workload }, generation: 1, cluster, country, replicas, decidedBy, reasons, fromCluster,
      facts: facts === undefined ? this.#facts[cluster]! : facts, residencyPolicy: "health-data", requirements,
    };
    const id = `audit:${workload.uid}:${cluster}:${++this.#n}`;
    return this.#append(country, (tail) => nextRecord({ federation: FEDERATION, chain: country, tail, type: RecordType.Placement, id, time: new Date(at), body, signer: this.key }));
  }

  /** What `member` signed: `pods` of `workload` run there, observed at `at`. */
  attest({ at, member, workload, pods }: { at: number; member: string; workload: WorkloadId; pods: number }): LedgerRecord {
    const country = this.countryOf(member);
    this.#chain(country, at);
    let m = this.#members.get(member);
    if (!m) {
      const key = SigningKey.generate();
      m = { key, seq: 0 };
      this.#members.set(member, m);
      this.#append(country, (tail) => nextRecord({ federation: FEDERATION, chain: country, tail, type: RecordType.MemberKey, id: `member-key:${member}`, time: new Date(at), body: { member, keyId: key.keyId, publicKey: key.publicKey }, signer: this.key }));
    }
    const attestation: Attestation = { member, workload: { ...workload }, deployment: workload.name, pods, seq: ++m.seq, observedAt: new Date(at).toISOString() };
    return this.#append(country, (tail) => nextRecord({
      federation: FEDERATION, chain: country, tail, type: RecordType.Attestation, id: `attestation:${member}:${m.seq}`, time: new Date(at),
      body: { attestation, memberKey: m.key.keyId, memberSig: m.key.sign(canonicalBytes(attestation)) }, signer: this.key,
    }));
  }

  /** Attestations of `member` every `everyMs` from `from` to `to` (inclusive of `from`). */
  attestEvery({ from, to, everyMs, member, workload, pods }: { from: number; to: number; everyMs: number; member: string; workload: WorkloadId; pods: number }): void {
    for (let t = from; t <= to; t += everyMs) this.attest({ at: t, member, workload, pods });
  }

  /**
   * The export as 'audit export' writes it: the chains in country order, then a head per
   * chain signed at `at`. With `since`, as the control plane exports from a time: each
   * chain's key records, then its records from `since` on.
   */
  export({ at, since }: { at: number; since?: number }): { lines: string[]; data: Buffer } {
    const chains = [...this.#tails.keys()].sort();
    const inRange = (r: LedgerRecord) => since === undefined || Date.parse(r.time) >= since;
    const records = chains.flatMap((c) => this.#records.filter((r) => r.chain === c && (inRange(r) || r.type === RecordType.Key)));
    const heads = chains.map((chain) => {
      const mine = this.#records.filter((r) => r.chain === chain && inRange(r));
      return headRecord({
        federation: FEDERATION, chain, first: since === undefined ? this.#firsts.get(chain) : mine[0], last: mine.at(-1),
        since: since === undefined ? undefined : new Date(since), until: undefined, time: new Date(at), signer: this.key,
      });
    });
    const lines = [...records, ...heads].map(lineOf);
    return { lines, data: Buffer.from(`${lines.join("\n")}\n`) };
  }
}

/**
 * The story the tests and the screenshot tell: patient-portal runs 3 replicas on ovh-par-1
 * (FR), the member attests every 2 minutes (from 09:01:30) until its agent goes quiet after 09:19:30, the
 * control plane loses it at 09:30 and fails over to ionos-fra-1 (DE), which attests from
 * then on; at 09:45 it scales to 4. records-db runs 2 replicas on ovh-par-2 (FR) all along,
 * unattested. Exported at 10:00.
 */
export function failoverTrail({ attestations = true }: { attestations?: boolean } = {}): { trail: Trail; lines: string[]; data: Buffer } {
  const t = new Trail();
  t.placement({ at: T0, workload: WEB, cluster: "ovh-par-1", replicas: 3 });
  t.placement({ at: T0 + 1 * MIN, workload: DB, cluster: "ovh-par-2", replicas: 2 });
  if (attestations) t.attestEvery({ from: T0 + 90_000, to: T0 + 20 * MIN, everyMs: 2 * MIN, member: "ovh-par-1", workload: WEB, pods: 3 });
  t.placement({ at: T0 + 30 * MIN, workload: WEB, cluster: "ovh-par-1", replicas: 0, reasons: ["Failover"] });
  t.placement({ at: T0 + 30 * MIN, workload: WEB, cluster: "ionos-fra-1", replicas: 3, reasons: ["Failover"], fromCluster: "ovh-par-1" });
  if (attestations) t.attestEvery({ from: T0 + 30 * MIN + 20_000, to: T0 + 44 * MIN, everyMs: 2 * MIN, member: "ionos-fra-1", workload: WEB, pods: 3 });
  t.placement({ at: T0 + 45 * MIN, workload: WEB, cluster: "ionos-fra-1", replicas: 4, decidedBy: "control-plane/sovereign-control-plane-1" });
  if (attestations) t.attestEvery({ from: T0 + 45 * MIN + 15_000, to: T0 + 59 * MIN, everyMs: 2 * MIN, member: "ionos-fra-1", workload: WEB, pods: 4 });
  return { trail: t, ...t.export({ at: T0 + 60 * MIN }) };
}
