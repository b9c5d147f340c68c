import type { PeerCertificate } from "node:tls";

/**
 * Who is calling, from the verified client certificate. The TLS layer has already
 * checked the chain against our CA (client certificates are required); this decides
 * what the holder may do: a member may only Join as itself, an admin may Explain,
 * Simulate and read the audit trail.
 */
export type Peer =
  | { kind: "member"; cluster: string; subject: string }
  | { kind: "admin"; name: string; subject: string };

/** Maps a verified certificate to a Peer, or undefined when it grants nothing. */
export type IdentifyPeer = (cert: PeerCertificate | undefined) => Peer | undefined;

export const MEMBER_ORG = "sovereign-federation member";
export const ADMIN_ORG = "sovereign-federation admin";

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
}

/** Default mapping: O names the role, CN the member cluster or admin. Multi-valued fields grant nothing. */
export const identifyByOrganization: IdentifyPeer = (cert) => {
  const subject = cert?.subject;
  if (!subject) return undefined;
  const org = one(subject.O);
  const cn = one(subject.CN);
  if (!cn) return undefined;
  const text = `O=${org ?? ""}, CN=${cn}`;
  if (org === MEMBER_ORG) return { kind: "member", cluster: cn, subject: text };
  if (org === ADMIN_ORG) return { kind: "admin", name: cn, subject: text };
  return undefined;
};
