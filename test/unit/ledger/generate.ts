// A valid ledger export, generated: two countries' chains, a key rotation, member keys and
// attestations, placements whose facts satisfy their requirements, and a head per chain.
import {
  canonicalBytes, headRecord, keyRecord, lineOf, nextRecord, PlacementAction, RecordType, SigningKey, tailOf,
} from "../../../operator/src/ledger/index.ts";
import type { Attestation, ChainTail, FactsBody, LedgerRecord, PlacementBody, RequirementsBody } from "../../../operator/src/ledger/index.ts";

export const FEDERATION = "fed-3b1f0c2e";
const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);

export const FACTS: Record<string, FactsBody> = {
  FR: { country: "FR", jurisdiction: "EU", region: "eu-west-par", provider: "OVHcloud", extraterritorialExposure: [], certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2027-06-30" }, { name: "HDS", version: "1.1", validUntil: "2028-01-31" }] },
  DE: { country: "DE", jurisdiction: "EU", region: "eu-central-fra", provider: "IONOS", extraterritorialExposure: [], certifications: [{ name: "C5", version: "2020", validUntil: "2027-12-31" }] },
};
export const REQUIREMENTS: Record<string, RequirementsBody> = {
  FR: { allowedCountries: ["FR"], allowedJurisdictions: ["EU"], requiredCertifications: ["HDS", "SecNumCloud"], forbidExtraterritorialExposure: true },
  DE: { allowedCountries: ["DE", "FR"], allowedJurisdictions: ["EU"], requiredCertifications: ["C5"], forbidExtraterritorialExposure: false },
};
const CLUSTER: Record<string, string> = { FR: "ovh-par-1", DE: "ionos-fra-1" };

export interface Generated {
  lines: string[];
  /** The export as written: one line each, a final newline. */
  data: Buffer;
  keys: { first: SigningKey; second: SigningKey; member: SigningKey };
  records: LedgerRecord[];
}

export function placement(country: string, i: number, over: Partial<PlacementBody> = {}): PlacementBody {
  return {
    action: i % 5 === 4 ? PlacementAction.Evicted : PlacementAction.Placed,
    workload: { namespace: "health", name: `w-${i % 7}`, uid: `uid-${i % 7}` },
    generation: 1 + (i % 3),
    cluster: CLUSTER[country]!,
    country,
    replicas: i % 5 === 4 ? 0 : 1 + (i % 4),
    decidedBy: "control-plane/scheduler",
    reasons: i % 5 === 4 ? ["Rescheduled"] : [],
    fromCluster: "",
    facts: FACTS[country]!,
    residencyPolicy: country === "FR" ? "health-restricted" : "",
    requirements: REQUIREMENTS[country]!,
    ...over,
  };
}

/**
 * `perChain` placements in each of FR and DE; FR rotates its key half way and carries a
 * member key with `attestations` attestations. Keys are made fresh unless given.
 */
export function generateLedger({ perChain = 12, attestations = 3, keys, federation = FEDERATION }: {
  perChain?: number;
  attestations?: number;
  keys?: Generated["keys"];
  federation?: string;
} = {}): Generated {
  const k = keys ?? { first: SigningKey.generate(), second: SigningKey.generate(), member: SigningKey.generate() };
  const records: LedgerRecord[] = [];
  const heads: LedgerRecord[] = [];
  let clock = T0;
  const tick = () => new Date((clock += 1000));
  for (const chain of ["DE", "FR"]) {
    const out: LedgerRecord[] = [];
    let tail: ChainTail | undefined;
    let signer = k.first;
    const push = (r: LedgerRecord) => {
      out.push(r);
      tail = tailOf(r);
    };
    push(keyRecord({ federation, chain, tail, key: k.first, time: tick() }));
    if (chain === "FR" && attestations > 0) {
      push(nextRecord({ federation, chain, tail, type: RecordType.MemberKey, id: `member-key:${CLUSTER.FR}`, time: tick(), signer, body: { member: CLUSTER.FR!, keyId: k.member.keyId, publicKey: k.member.publicKey } }));
    }
    let attested = 0;
    for (let i = 0; i < perChain; i++) {
      if (chain === "FR" && i === Math.floor(perChain / 2)) {
        push(keyRecord({ federation, chain, tail, key: k.second, previous: k.first, time: tick() }));
        signer = k.second;
      }
      push(nextRecord({ federation, chain, tail, type: RecordType.Placement, id: `audit:${chain}:${i}`, time: tick(), signer, body: placement(chain, i) }));
      if (chain === "FR" && attested < attestations && i % 2 === 1) {
        attested++;
        const attestation: Attestation = { member: CLUSTER.FR!, workload: { namespace: "health", name: `w-${i % 7}`, uid: `uid-${i % 7}` }, deployment: `w-${i % 7}`, pods: 1 + (i % 4), seq: attested, observedAt: new Date(clock).toISOString() };
        push(nextRecord({ federation, chain, tail, type: RecordType.Attestation, id: `attestation:${CLUSTER.FR}:${attested}`, time: tick(), signer, body: { attestation, memberKey: k.member.keyId, memberSig: k.member.sign(canonicalBytes(attestation)) } }));
      }
    }
    records.push(...out);
    heads.push(headRecord({ federation, chain, first: out[0], last: out.at(-1), since: undefined, until: undefined, time: tick(), signer }));
  }
  const lines = [...records, ...heads].map(lineOf);
  return { lines, data: Buffer.from(lines.join("\n") + "\n"), keys: k, records: [...records, ...heads] };
}

export function dataOf(lines: readonly string[]): Buffer {
  return Buffer.from(lines.join("\n") + "\n");
}

/**
 * Re-links and re-signs every chain after `edit` changed the records (as a control plane
 * would have written them), with the key each record was signed with, and signs fresh
 * heads: a ledger whose hashes and signatures are all good, whatever `edit` did.
 */
export function resign(gen: Generated, edit: (records: LedgerRecord[]) => LedgerRecord[]): Generated {
  const byKey = new Map([gen.keys.first, gen.keys.second].map((k) => [k.keyId, k]));
  const edited = edit(gen.records.filter((r) => r.type !== RecordType.Head).map((r) => structuredClone(r)));
  const out: LedgerRecord[] = [];
  const heads: LedgerRecord[] = [];
  for (const chain of [...new Set(edited.map((r) => r.chain))].sort()) {
    let tail: ChainTail | undefined;
    const chainOut: LedgerRecord[] = [];
    for (const r of edited.filter((x) => x.chain === chain)) {
      const signer = byKey.get(r.key)!;
      const next = nextRecord({ federation: r.federation, chain, tail, type: r.type, id: r.id, time: new Date(r.time), body: r.body, signer });
      chainOut.push(next);
      tail = tailOf(next);
    }
    out.push(...chainOut);
    const last = chainOut.at(-1)!;
    heads.push(headRecord({ federation: last.federation, chain, first: chainOut[0], last, since: undefined, until: undefined, time: new Date(Date.parse(last.time) + 1000), signer: byKey.get(last.key)! }));
  }
  const records = [...out, ...heads];
  const lines = records.map(lineOf);
  return { lines, data: dataOf(lines), keys: gen.keys, records };
}
