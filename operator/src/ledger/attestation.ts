/**
 * Member attestations: what a member's agent signs with its own key (its NATS nkey, which
 * is ed25519), and the gaps in time between them an auditor is shown.
 *
 * The member signs the canonical bytes (canonical.ts) of the attestation alone, not the
 * ledger record around it: the control plane links and signs that record later, and the
 * member's signature must stay checkable whatever chain position it lands at. A statement
 * the control plane made up, or changed (another pod count, another workload), fails the
 * member's signature; one it replays carries a `seq` already seen, which verify.ts finds.
 */
import { canonicalBytes } from "./canonical.ts";
import { publicKeyFromHex, verifySignature } from "./keys.ts";
import type { SigningKey } from "./keys.ts";
import type { Attestation, AttestationBody } from "./record.ts";

/** The attestation body a member publishes: the statement, its key id and its signature. */
export function signAttestation(attestation: Attestation, key: SigningKey): AttestationBody {
  return { attestation, memberKey: key.keyId, memberSig: key.sign(canonicalBytes(attestation)) };
}

/** True when `body` is signed by the member key whose raw public key is `publicKeyHex`. */
export function attestationSignedBy(body: AttestationBody, publicKeyHex: string): boolean {
  try {
    return verifySignature(publicKeyFromHex(publicKeyHex), canonicalBytes(body.attestation), body.memberSig);
  } catch {
    return false;
  }
}

/** An attested workload whose attestations are farther apart than the period allows. */
export interface AttestationGap {
  member: string;
  workload: { namespace: string; name: string; uid: string };
  /** observedAt of the attestation before the gap and of the one after it. */
  from: string;
  to: string;
  seconds: number;
}

/**
 * The gaps in each (member, workload)'s attestations: two consecutive ones (by observedAt)
 * more than `periodMs + slackMs` apart. An agent attests every workload at least once a
 * period, so such a gap is time in which nobody confirmed what ran there (the agent down,
 * its member cut off): information for the auditor, not a finding, since it breaks no
 * signature or chain. What comes before the first and after the last attestation is not a
 * gap: the workload may simply not have run there.
 */
export function attestationGaps({ attestations, periodMs, slackMs }: {
  attestations: Iterable<Pick<Attestation, "member" | "workload" | "observedAt">>;
  periodMs: number;
  slackMs: number;
}): AttestationGap[] {
  const series = new Map<string, { member: string; workload: Attestation["workload"]; times: number[] }>();
  for (const a of attestations) {
    const key = JSON.stringify([a.member, a.workload.uid]);
    const s = series.get(key) ?? { member: a.member, workload: a.workload, times: [] };
    s.times.push(Date.parse(a.observedAt));
    series.set(key, s);
  }
  const gaps: AttestationGap[] = [];
  for (const s of series.values()) {
    const times = s.times.sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) {
      const d = times[i]! - times[i - 1]!;
      if (d > periodMs + slackMs) {
        gaps.push({ member: s.member, workload: { ...s.workload }, from: new Date(times[i - 1]!).toISOString(), to: new Date(times[i]!).toISOString(), seconds: Math.round(d / 1000) });
      }
    }
  }
  return gaps.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.member < b.member ? -1 : 1));
}
