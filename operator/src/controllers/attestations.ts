/**
 * Member attestations into the audit ledger (leader-only, as every ledger write).
 *
 * MemberKeys declares each member's attestation key (the public half of its NATS nkey) as
 * a `member-key` record in the chain of the member's country: for every member known when
 * this control plane starts leading, for a member that joins, and for any other member the
 * first time one of its attestations arrives. Declared once: the declaration is remembered on the member-keys
 * stream (newest per member), so a restart or a new leader does not declare it again; a
 * changed key, or a member now in another country, is declared anew.
 *
 * AttestationAppender consumes what members attested (one at a time, in order) and
 * appends each valid one to its member's country chain. It checks what the verifier
 * cannot: that the subject it came on (which NATS lets only that member publish) names the
 * member it claims to be. It checks the signature against the declared key and that `seq`
 * moves forward, so nothing the verifier would flag is written. Anything else is
 * terminated (never redelivered) and counted by reason.
 */
import type { Logger } from "pino";
import type { MemberCluster } from "../api/index.ts";
import { parseSubject } from "../federation/index.ts";
import type { AttestationDelivery, DeclaredMemberKey } from "../federation/index.ts";
import { attestationSignedBy, keyIdOf, parseAttestationBody, RecordType, ShapeError } from "../ledger/index.ts";
import type { AttestationBody, Body, MemberKeyBody } from "../ledger/index.ts";
import type { AttestationResult, SovereignMetrics } from "../metrics/index.ts";
import type { Cache, Clock, Runnable } from "../runtime/index.ts";

/** Appends one record to a country's chain (LedgerWriter.append). */
export type LedgerAppend = (entry: { chain: string; type: RecordType; id: string; body: Body }) => Promise<unknown>;

export interface DeclaredKey {
  keyId: string;
  publicKey: string;
  chain: string;
}

/** How long a member's public key, once looked up (a Secret read), is taken as current. */
const KEY_LOOKUP_TTL_MS = 60_000;

export class MemberKeys {
  readonly #publicKeyOf: (member: string) => Promise<string | undefined>;
  readonly #clusters: Cache<MemberCluster>;
  readonly #index: { get(member: string): Promise<DeclaredMemberKey | undefined>; put(member: string, declared: DeclaredMemberKey): Promise<void> };
  readonly #append: LedgerAppend;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #known = new Map<string, DeclaredKey & { at: number }>();
  /** One declaration at a time per member. */
  readonly #inFlight = new Map<string, Promise<DeclaredKey | undefined>>();

  constructor(params: {
    /** The raw ed25519 public key (hex) of the member's NATS identity, if the host knows it. */
    publicKeyOf: (member: string) => Promise<string | undefined>;
    clusters: Cache<MemberCluster>;
    index: { get(member: string): Promise<DeclaredMemberKey | undefined>; put(member: string, declared: DeclaredMemberKey): Promise<void> };
    append: LedgerAppend;
    clock: Clock;
    log: Logger;
  }) {
    this.#publicKeyOf = params.publicKeyOf;
    this.#clusters = params.clusters;
    this.#index = params.index;
    this.#append = params.append;
    this.#clock = params.clock;
    this.#log = params.log;
  }

  /** Forgets what was looked up for `member`: the next ensure reads its key again (a Join may have handed out another identity). */
  forget(member: string): void {
    this.#known.delete(member);
  }

  /** The member's current key, declared in its country's chain first if it was not; undefined when the host knows no key or no country for it. */
  ensure(member: string): Promise<DeclaredKey | undefined> {
    const cached = this.#known.get(member);
    if (cached && this.#clock.now().getTime() - cached.at < KEY_LOOKUP_TTL_MS) return Promise.resolve(cached);
    const running = this.#inFlight.get(member);
    if (running) return running;
    const run = this.#ensure(member).finally(() => this.#inFlight.delete(member));
    this.#inFlight.set(member, run);
    return run;
  }

  async #ensure(member: string): Promise<DeclaredKey | undefined> {
    const chain = this.#clusters.get(member)?.spec.residency.country;
    const publicKey = await this.#publicKeyOf(member);
    if (!chain || !publicKey) {
      this.#known.delete(member);
      return undefined;
    }
    const keyId = keyIdOf(publicKey);
    const cached = this.#known.get(member);
    const declared = cached && cached.keyId === keyId && cached.chain === chain ? cached : await this.#index.get(member);
    if (!declared || declared.keyId !== keyId || declared.chain !== chain) {
      const body: MemberKeyBody = { member, keyId, publicKey };
      // The time keeps ids unique should a member come back to a key it had before.
      const recordId = `member-key:${member}:${keyId}:${this.#clock.now().getTime()}`;
      await this.#append({ chain, type: RecordType.MemberKey, id: recordId, body });
      await this.#index.put(member, { keyId, chain, recordId });
      this.#log.info({ member, chain, key: keyId, previous: declared?.keyId }, "declared a member's attestation key in the audit ledger");
    }
    const key = { keyId, publicKey, chain, at: this.#clock.now().getTime() };
    this.#known.set(member, key);
    return key;
  }
}

/** Why an attestation is refused, or the member, country and body to append. */
export function checkAttestation(params: { subject: string; data: Uint8Array }): { drop: AttestationResult; why: string } | { body: AttestationBody; member: string } {
  let body: AttestationBody;
  try {
    body = parseAttestationBody(params.data);
  } catch (err) {
    if (err instanceof ShapeError) return { drop: "malformed", why: err.message };
    throw err;
  }
  const a = body.attestation;
  const parsed = parseSubject(params.subject);
  if (parsed?.kind !== "attest" || parsed.cluster !== a.member || parsed.workloadUid !== a.workload.uid) {
    return { drop: "wrong_subject", why: `attestation of member ${a.member} for workload ${a.workload.uid} arrived on ${params.subject}` };
  }
  return { body, member: a.member };
}

export class AttestationAppender implements Runnable {
  readonly name = "attestations";
  readonly needLeaderElection = true;
  readonly #deliveries: (signal: AbortSignal) => AsyncIterable<AttestationDelivery>;
  readonly #keys: MemberKeys;
  readonly #clusters: Cache<MemberCluster>;
  readonly #append: LedgerAppend;
  readonly #metrics: Pick<SovereignMetrics, "attestation">;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** The seq last appended per member, by this process. */
  readonly #lastSeq = new Map<string, number>();
  #leading = false;

  constructor(params: {
    deliveries: (signal: AbortSignal) => AsyncIterable<AttestationDelivery>;
    keys: MemberKeys;
    clusters: Cache<MemberCluster>;
    append: LedgerAppend;
    metrics: Pick<SovereignMetrics, "attestation">;
    clock: Clock;
    log: Logger;
  }) {
    this.#deliveries = params.deliveries;
    this.#keys = params.keys;
    this.#clusters = params.clusters;
    this.#append = params.append;
    this.#metrics = params.metrics;
    this.#clock = params.clock;
    this.#log = params.log;
  }

  /**
   * A member joined (on whichever replica served the Join): its key is read again, and
   * declared now when this replica leads; otherwise the leader declares it at the
   * member's first attestation.
   */
  memberJoined(member: string): void {
    this.#keys.forget(member);
    if (!this.#leading) return;
    this.#keys.ensure(member).catch((err: unknown) => this.#log.warn({ err, member }, "could not declare a joined member's attestation key yet"));
  }

  async start(signal: AbortSignal): Promise<void> {
    this.#leading = true;
    signal.addEventListener("abort", () => {
      this.#leading = false;
    }, { once: true });
    // Members the host knows now get their keys declared before anything they attest.
    for (const mc of this.#clusters.list()) {
      if (signal.aborted) return;
      await this.#keys.ensure(mc.metadata.name).catch((err: unknown) => this.#log.warn({ err, member: mc.metadata.name }, "could not declare a member's attestation key yet"));
    }
    while (!signal.aborted) {
      try {
        for await (const d of this.#deliveries(signal)) await this.handle(d);
      } catch (err) {
        if (signal.aborted) return;
        this.#log.warn({ err }, "reading member attestations failed; starting again");
      }
      // Ended or failed without being stopped (the connection closed): read again, not in a tight loop.
      await this.#clock.sleep(1000, signal).catch(() => undefined);
    }
  }

  /** One delivery: appended and acked, refused and terminated, or (appending failed) delivered again later. */
  async handle(d: AttestationDelivery): Promise<AttestationResult | "retry"> {
    const checked = checkAttestation(d);
    if ("drop" in checked) return this.#drop(d, checked.drop, checked.why);
    const { body, member } = checked;
    const a = body.attestation;
    if (!this.#clusters.get(member)) return this.#drop(d, "unknown_member", `no MemberCluster ${member} on the host`);
    let key: DeclaredKey | undefined;
    try {
      key = await this.#keys.ensure(member);
    } catch (err) {
      this.#log.warn({ err, member }, "could not declare the member's attestation key; the attestation waits");
      d.nak(1000);
      return "retry";
    }
    if (!key) return this.#drop(d, "no_key", `the host knows no NATS key of member ${member}`);
    if (body.memberKey !== key.keyId || !attestationSignedBy(body, key.publicKey)) {
      return this.#drop(d, "bad_signature", `not signed by member ${member}'s declared key ${key.keyId}`);
    }
    const last = this.#lastSeq.get(member);
    if (last !== undefined && a.seq <= last) return this.#drop(d, "replay", `seq ${a.seq} is not after ${last}, the last appended for ${member}`);
    try {
      await this.#append({ chain: key.chain, type: RecordType.Attestation, id: `attestation:${member}:${a.seq}`, body });
    } catch (err) {
      this.#log.warn({ err, member, seq: a.seq }, "could not append an attestation; it is delivered again");
      d.nak(1000);
      return "retry";
    }
    this.#lastSeq.set(member, a.seq);
    this.#metrics.attestation({ result: "appended" });
    await d.ack().catch((err: unknown) => this.#log.warn({ err, member, seq: a.seq }, "could not acknowledge an appended attestation (a redelivery is stored once: same record id)"));
    return "appended";
  }

  #drop(d: AttestationDelivery, reason: AttestationResult, why: string): AttestationResult {
    this.#log.warn({ subject: d.subject, seq: d.streamSequence, reason, why }, "dropping an attestation");
    this.#metrics.attestation({ result: reason });
    d.term(why.slice(0, 200));
    return reason;
  }
}
