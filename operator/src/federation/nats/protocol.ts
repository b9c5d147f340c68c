/**
 * The one place that knows the federation's NATS subjects, JetStream stream and
 * consumer definitions, and the per-identity permissions derived from them. Everything
 * else (publishers, consumers, hack/federation's server config, the Join RPC) asks here,
 * so a renamed subject cannot leave a permission behind.
 *
 * Subjects (prefix sov.v1):
 *   sov.v1.<cluster>.intents.<workload-uid>   control plane -> member (stream per cluster)
 *   sov.v1.<cluster>.heartbeat                member -> control plane
 *   sov.v1.<cluster>.status.<workload-uid>    member -> control plane
 *   sov.v1.<cluster>.attest.<workload-uid>    member -> control plane (signed by the member, appended to the ledger)
 *   sov.audit.v1.<COUNTRY>                    control plane -> audit stream (append-only)
 *   sov.memberkeys.v1.<cluster>               control plane only: which key it declared for each member
 *
 * The audit trail has its own root: JetStream refuses streams whose subjects overlap,
 * and any sov.v1.<x>.<y> subject (sov.v1.audit.FR, say) would overlap the heartbeat
 * stream's sov.v1.*.heartbeat. It is also not cluster traffic: no member may touch it.
 *
 * The workload uid is the last token of intents and status so that the streams keep
 * only the newest message per workload (max_msgs_per_subject = 1): a member back from a
 * long outage catches up with the current state, not with a backlog.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { ConsumerConfig, StreamConfig } from "@nats-io/jetstream";
import { InvalidNameError } from "../errors.ts";

export const SUBJECT_PREFIX = "sov.v1";
export const AUDIT_PREFIX = "sov.audit.v1";
export const MEMBER_KEYS_PREFIX = "sov.memberkeys.v1";
/** The audit stream's read-side index (audit-index.ts): derived from the audit stream, never evidence itself. */
export const AUDIT_INDEX_PREFIX = "sov.auditidx.v1";

/**
 * Words a cluster may not be called: the names of other identities (the control plane,
 * its short form `cp`, the PKI's `admin` client certificate), and words that would read
 * ambiguously in subjects, account names and logs. A member called `admin` would get a
 * gRPC client certificate with the admin's file names and CN.
 */
export const RESERVED_CLUSTER_NAMES: ReadonlySet<string> = new Set([
  "audit", "control-plane", "controlplane", "cp", "admin", "all", "sov", "system", "sys",
]);

// A DNS-1123 label: what Kubernetes allows for most names, minus dots. Dots would split
// the subject into extra tokens; '*', '>' and whitespace would make it a wildcard or
// break the protocol line. Lowercase only, so `FR` and `fr` cannot be two identities.
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_CLUSTER_NAME = 63;
// metadata.uid is a UUID; accept any single token of safe characters so tests and
// other id schemes work, but never a separator or wildcard.
const UID = /^[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?$/;
const COUNTRY = /^[A-Z]{2}$/;

/** Throws InvalidNameError unless `name` can be a cluster's subject token and stream suffix. */
export function validateClusterName(name: string, field = "cluster"): string {
  if (typeof name !== "string" || name.length === 0) throw new InvalidNameError(field, String(name), "is empty");
  if (name.length > MAX_CLUSTER_NAME) throw new InvalidNameError(field, name, `is longer than ${MAX_CLUSTER_NAME} characters`);
  if (!CLUSTER_NAME.test(name)) {
    throw new InvalidNameError(field, name, "is not a DNS-1123 label (lowercase letters, digits and '-', no dots, wildcards or spaces)");
  }
  if (RESERVED_CLUSTER_NAMES.has(name)) throw new InvalidNameError(field, name, "is reserved by the federation protocol");
  return name;
}

export function validateWorkloadUid(uid: string, field = "workload.uid"): string {
  if (typeof uid !== "string" || uid.length === 0) throw new InvalidNameError(field, String(uid), "is empty");
  if (uid.length > 128 || !UID.test(uid)) throw new InvalidNameError(field, uid, "is not a single subject token (letters, digits, '-', '_')");
  return uid;
}

export function validateCountry(country: string, field = "country"): string {
  if (typeof country !== "string" || !COUNTRY.test(country)) {
    throw new InvalidNameError(field, String(country), "is not an ISO 3166-1 alpha-2 code in capitals");
  }
  return country;
}

/** Subjects of one member cluster, and the control plane's own. */
export const subjects = {
  /** Every intent for `cluster` (the intents stream's subject filter). */
  intentsAll(cluster: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.intents.*`;
  },
  intent(cluster: string, workloadUid: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.intents.${validateWorkloadUid(workloadUid)}`;
  },
  heartbeat(cluster: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.heartbeat`;
  },
  statusAll(cluster: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.status.*`;
  },
  status(cluster: string, workloadUid: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.status.${validateWorkloadUid(workloadUid)}`;
  },
  attestationsAll(cluster: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.attest.*`;
  },
  attestation(cluster: string, workloadUid: string): string {
    return `${SUBJECT_PREFIX}.${validateClusterName(cluster)}.attest.${validateWorkloadUid(workloadUid)}`;
  },
  audit(country: string): string {
    return `${AUDIT_PREFIX}.${validateCountry(country)}`;
  },
  memberKey(cluster: string): string {
    return `${MEMBER_KEYS_PREFIX}.${validateClusterName(cluster)}`;
  },
  /** Filters that span clusters; only the control plane reads these. */
  allHeartbeats: `${SUBJECT_PREFIX}.*.heartbeat`,
  allStatus: `${SUBJECT_PREFIX}.*.status.*`,
  allAudit: `${AUDIT_PREFIX}.*`,
  allAttestations: `${SUBJECT_PREFIX}.*.attest.*`,
  allMemberKeys: `${MEMBER_KEYS_PREFIX}.*`,
  /** A chain's key and member-key records in the audit index. */
  auditIndexKeys(country: string): string {
    return `${AUDIT_INDEX_PREFIX}.k.${validateCountry(country)}`;
  },
  allAuditIndex: `${AUDIT_INDEX_PREFIX}.>`,
} as const;

/**
 * Parses a subject this protocol produced. Returns undefined for anything else, so a
 * consumer can refuse a message whose subject does not match the cluster it claims.
 */
export function parseSubject(subject: string):
  | { kind: "intent" | "status" | "attest"; cluster: string; workloadUid: string }
  | { kind: "heartbeat"; cluster: string }
  | { kind: "audit"; country: string }
  | undefined {
  const t = subject.split(".");
  try {
    if (t.length === 4 && t[0] === "sov" && t[1] === "audit" && t[2] === "v1") return { kind: "audit", country: validateCountry(t[3]!) };
    if (t[0] !== "sov" || t[1] !== "v1") return undefined;
    if (t.length === 4 && t[3] === "heartbeat") return { kind: "heartbeat", cluster: validateClusterName(t[2]!) };
    if (t.length === 5 && (t[3] === "intents" || t[3] === "status" || t[3] === "attest")) {
      return { kind: t[3] === "intents" ? "intent" : t[3], cluster: validateClusterName(t[2]!), workloadUid: validateWorkloadUid(t[4]!) };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** JetStream names. Stream and consumer names may not contain '.', '*', '>' or spaces; cluster names never do. */
export const streams = {
  intents(cluster: string): string {
    return `${INTENTS_STREAM_PREFIX}${validateClusterName(cluster)}`;
  },
  /** The durable consumer the member agent of `cluster` pulls from. */
  intentsConsumer(cluster: string): string {
    return `sov-agent-${validateClusterName(cluster)}`;
  },
  heartbeats: "sov-heartbeats",
  /** One member's workload statuses: a stream per member, so one member's limits are its own. */
  status(cluster: string): string {
    return `${STATUS_STREAM_PREFIX}${validateClusterName(cluster)}`;
  },
  audit: "sov-audit",
  attestations: "sov-attestations",
  /** The control plane's durable consumer that appends attestations to the ledger. */
  attestationsConsumer: "sov-attestations-ledger",
  memberKeys: "sov-member-keys",
  auditIndex: "sov-audit-index",
} as const;

/** Every member's status stream is named this plus the cluster name. */
export const STATUS_STREAM_PREFIX = "sov-status-";
/** Every member's intents stream is named this plus the cluster name. */
export const INTENTS_STREAM_PREFIX = "sov-intents-";

/**
 * The status stream shared by all members before each had its own. Its subjects overlap
 * the per-member streams', which JetStream refuses, so the control plane removes it at
 * start (ensureSharedStreams); the agents re-report what they run when they restart.
 */
export const LEGACY_STATUS_STREAM = "sov-status";

/**
 * Inbox prefix of each identity. Replies (publish acks, pulled messages) go to inbox
 * subjects; a member allowed to subscribe to `_INBOX.>` could read the messages pulled
 * by every other member. Each member gets its own prefix and may subscribe only there.
 *
 * The control plane and the members live under different second tokens (`cp` vs `m`),
 * so no member name, whatever it is, can produce the control plane's prefix or a prefix
 * one of whose subjects another identity's `<prefix>.>` would match: cluster names are
 * a single token (no dots), so `_INBOX_sov.m.<a>` and `_INBOX_sov.m.<b>` differ in
 * the third token whenever a != b.
 */
export const INBOX_ROOT = "_INBOX_sov";
export function inboxPrefix(identity: { member: string } | "control-plane"): string {
  return identity === "control-plane" ? `${INBOX_ROOT}.cp` : `${INBOX_ROOT}.m.${validateClusterName(identity.member)}`;
}

const MINUTE_NS = 60 * 1_000_000_000;
const DAY_NS = 24 * 60 * MINUTE_NS;

export interface StreamOptions {
  /** Window in which a repeated Nats-Msg-Id is stored once. */
  duplicateWindowMs?: number;
  /** How long audit records are kept. */
  auditRetentionDays?: number;
  /** Memory storage for throwaway test streams; the default is file storage. */
  storage?: StorageType;
  /**
   * Copies of every stream, one per server (default 1): 3 on a JetStream cluster of three,
   * so that one server's loss loses no acknowledged message and leaves a quorum to
   * accept new ones. The audit stream too: evidence must outlive a disk.
   */
  replicas?: number;
}

const ms2ns = (ms: number) => ms * 1_000_000;

/** The intents stream of one member cluster. */
export function intentsStreamConfig(cluster: string, options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.intents(cluster),
    description: `Placement intents for member cluster ${cluster}`,
    subjects: [subjects.intentsAll(cluster)],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    // Level-based: only the newest intent per workload matters; the older one is
    // dropped even if unacknowledged, and the member never applies stale state.
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    duplicate_window: ms2ns(options.duplicateWindowMs ?? 2 * 60_000),
    num_replicas: options.replicas ?? 1,
    // Intents are instructions, never deleted by a member: only the control plane
    // (which owns the stream) can purge, and members have no stream API access.
    allow_rollup_hdrs: false,
    // The agent's resync after a (re)connect reads the newest intent of every workload
    // with a batched direct get; its account imports only this stream's direct-get subject.
    allow_direct: true,
  };
}

export interface ConsumerOptions {
  /** How long an unacknowledged intent waits before it is delivered again. */
  ackWaitMs?: number;
  maxDeliver?: number;
}

/**
 * The member's durable pull consumer on its intents stream. Created by the control
 * plane (members cannot create or change consumers); explicit acks so an agent that
 * dies before applying an intent gets it again after `ack_wait`.
 */
export function intentsConsumerConfig(cluster: string, options: ConsumerOptions = {}): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: streams.intentsConsumer(cluster),
    description: `Member agent of ${cluster}`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ms2ns(options.ackWaitMs ?? 30_000),
    // Unlimited redeliveries: an intent must never be dropped because an agent was
    // crash-looping; the per-subject limit keeps the backlog at one per workload.
    max_deliver: options.maxDeliver ?? -1,
    filter_subject: subjects.intentsAll(cluster),
  };
}

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Bounds of what one member's connection may send and hold, enforced by nats-server as
 * the limits of the member's account (one user per account, so they are per user).
 * A status carries pod phases, not templates: 256 KiB is generous. An agent needs a
 * handful of subscriptions (its inbox, one per consumer) and one or two connections
 * (a restart overlaps the old one for a moment); the caps leave room for that, not for
 * a member that opens thousands to exhaust the server.
 */
export function memberAccountLimits(): { maxPayload: number; maxSubscriptions: number; maxConnections: number } {
  return { maxPayload: 256 * KIB, maxSubscriptions: 64, maxConnections: 32 };
}

/*
 * Storage bounds of the streams members write to (heartbeats, status). Members have no
 * JetStream of their own (their accounts have it disabled) and write only through their
 * imports, so these bounds, max_msgs_per_subject = 1 and the server-wide store limits
 * are what cap a member's footprint. Statuses have a stream per member
 * (statusStreamConfig): a compromised member publishing status for many made-up workload
 * uids (each a new subject) fills its own stream up to its own limits and, discard
 * being "old", evicts only its own oldest records; the other members' statuses are in
 * streams it cannot write to. The heartbeat stream stays shared: a member has exactly
 * one heartbeat subject, so it cannot add subjects there.
 */
export function heartbeatsStreamConfig(options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.heartbeats,
    description: "Member heartbeats (newest per cluster)",
    subjects: [subjects.allHeartbeats],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    max_msgs_per_subject: 1,
    // A heartbeat is a few hundred bytes; one per cluster is kept.
    max_msg_size: 64 * KIB,
    max_msgs: 10_000,
    max_bytes: 16 * MIB,
    // An hour-old heartbeat says only that the cluster is gone; keep the stream small.
    max_age: 60 * MINUTE_NS,
    discard: DiscardPolicy.Old,
    duplicate_window: ms2ns(options.duplicateWindowMs ?? 2 * 60_000),
    num_replicas: options.replicas ?? 1,
    // Direct get lets the control plane read the last heartbeat of a cluster without a consumer.
    allow_direct: true,
  };
}

/**
 * Per-member bounds of the status stream. A member reports one subject per workload it
 * runs: 50,000 is far above what one member runs, and a status is well under a KiB, so
 * the bytes cap binds only a member that sends large statuses for made-up workloads. On
 * a control plane restart the replay (the newest of each subject) is at most this many
 * messages per member, each refused or taken by an index lookup, none kept unless the
 * host placed the workload there.
 */
export const STATUS_STREAM_LIMITS = { maxMsgs: 50_000, maxBytes: 64 * MIB } as const;

/** The status stream of one member cluster (sov.v1.<cluster>.status.*). */
export function statusStreamConfig(cluster: string, options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.status(cluster),
    description: `Workload status reported by member cluster ${cluster} (newest per workload)`,
    subjects: [subjects.statusAll(cluster)],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    max_msgs_per_subject: 1,
    // As large as a member may publish at all (memberAccountLimits), no larger.
    max_msg_size: memberAccountLimits().maxPayload,
    max_msgs: STATUS_STREAM_LIMITS.maxMsgs,
    max_bytes: STATUS_STREAM_LIMITS.maxBytes,
    // The agent reports a workload only when what it says changes, so a steady workload's
    // newest status can be old; one not refreshed for a month is of a workload long gone.
    max_age: 30 * DAY_NS,
    discard: DiscardPolicy.Old,
    duplicate_window: ms2ns(options.duplicateWindowMs ?? 2 * 60_000),
    num_replicas: options.replicas ?? 1,
    allow_direct: true,
  };
}

/**
 * The audit stream: append-only evidence for auditors. File storage retained by age;
 * deletes and purges are refused by the server itself. Durability: JetStream fsyncs
 * every `sync_interval` (2 minutes by default), so an acknowledged record could be lost
 * on an OS crash; the server that hosts this stream must run with
 * `jetstream { sync_interval: always }` (hack/federation does; the chart must too).
 */
export function auditStreamConfig(options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.audit,
    description: "Placement audit trail: every placement, move and eviction",
    subjects: [subjects.allAudit],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    max_age: (options.auditRetentionDays ?? 400) * DAY_NS,
    discard: DiscardPolicy.Old,
    duplicate_window: ms2ns(options.duplicateWindowMs ?? 2 * 60_000),
    num_replicas: options.replicas ?? 1,
    deny_delete: true,
    deny_purge: true,
    allow_rollup_hdrs: false,
    // A chain's pending records go as one atomic batch (LedgerWriter): one fsync for many.
    allow_atomic: true,
  };
}

/**
 * Member attestations on their way to the ledger: every one kept (not only the newest per
 * workload) until the control plane has appended it, so a control plane that was down
 * appends what members attested meanwhile and the trail shows no silence that was not
 * there. Bounded like the status stream members write to; a day covers any restart.
 */
export function attestationsStreamConfig(options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.attestations,
    description: "Member attestations, signed by each member, until the control plane appends them to the ledger",
    subjects: [subjects.allAttestations],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    max_msg_size: 16 * KIB,
    max_msgs: 1_000_000,
    max_bytes: 256 * MIB,
    max_age: 24 * 60 * MINUTE_NS,
    discard: DiscardPolicy.Old,
    duplicate_window: ms2ns(options.duplicateWindowMs ?? 2 * 60_000),
    num_replicas: options.replicas ?? 1,
  };
}

/**
 * The control plane's consumer of attestations. One unacknowledged message at a time:
 * the ledger needs each member's attestations in the order the member signed them (their
 * `seq` must grow along the chain), and a redelivery must not overtake a newer one.
 */
export function attestationsConsumerConfig(options: ConsumerOptions = {}): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: streams.attestationsConsumer,
    description: "Control plane: member attestations into the audit ledger",
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ms2ns(options.ackWaitMs ?? 30_000),
    max_deliver: options.maxDeliver ?? -1,
    max_ack_pending: 1,
    filter_subject: subjects.allAttestations,
  };
}

/** Which key the control plane declared for each member (newest per member): what keeps a declaration from being appended twice. */
export function memberKeysStreamConfig(options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.memberKeys,
    description: "Member attestation keys the control plane declared in the ledger (newest per member)",
    subjects: [subjects.allMemberKeys],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    max_msgs_per_subject: 1,
    max_msg_size: 4 * KIB,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? 1,
    allow_direct: true,
  };
}

/**
 * The audit stream's read-side index: small entries (record id, chain, audit stream
 * sequence) on a subject per workload and per chain's keys, so that a query by workload
 * or an export's key records read only what they return. Derived data, rebuilt from the
 * audit stream when behind: kept as long as the audit records it points to.
 */
export function auditIndexStreamConfig(options: StreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.auditIndex,
    description: "Read-side index of the audit stream (per workload, per chain's keys)",
    subjects: [subjects.allAuditIndex],
    retention: RetentionPolicy.Limits,
    storage: options.storage ?? StorageType.File,
    max_age: (options.auditRetentionDays ?? 400) * DAY_NS,
    max_msg_size: 4 * KIB,
    discard: DiscardPolicy.Old,
    // Two control planes index the same records during a leader change: stored once.
    duplicate_window: ms2ns(options.duplicateWindowMs ?? 10 * 60_000),
    num_replicas: options.replicas ?? 1,
    allow_direct: true,
  };
}

/** NATS publish/subscribe permissions, in nats-server config terms. */
export interface NatsPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
}

/**
 * What a member agent may do: pull and ack its own intents, publish its own heartbeat
 * and status, receive replies on its own inbox. Nothing else: no `$JS.API.>` (that would
 * let it read any stream), no `allow_responses` (that would let it publish to any reply
 * subject it learns), no stream or consumer management.
 */
export function memberPermissions(cluster: string): NatsPermissions {
  // The same subjects as the account's imports: a second layer should the imports widen.
  return {
    publish: {
      allow: memberServices(cluster).filter((s) => !s.importOnly).map((s) => s.subject),
    },
    subscribe: {
      allow: [`${inboxPrefix({ member: cluster })}.>`],
    },
  };
}

/**
 * NATS accounts. Per-user permissions check what a client publishes, never the reply
 * subject it names, and JetStream answers (API responses, pulled messages, publish
 * acks) with the server's own rights: a member allowed `$JS.API.CONSUMER.INFO` on its
 * own consumer could name `sov.v1.de.heartbeat` as the reply and have the server write
 * into de's heartbeat (or intents, or the audit trail). Accounts close that: the
 * streams and the control plane live in one account, each member in its own, and a
 * member reaches the control plane's account only through the service imports below.
 * A service import rewrites the reply subject to a one-off `_R_` subject and delivers
 * the answer inside the requesting member's account, so whatever reply subject a
 * member names, the answer can only land in its own account, where nothing is stored.
 */
export const CONTROL_PLANE_ACCOUNT = "SOV";

/** The member's account: `MEMBER_FR`, `MEMBER_FR_2` (cluster names have no '_', so this is one-to-one). */
export function memberAccount(cluster: string): string {
  return `MEMBER_${validateClusterName(cluster).toUpperCase().replaceAll("-", "_")}`;
}

/** A subject the control plane's account exports as a service to one member's account, which imports it. */
export interface MemberService {
  subject: string;
  /** `stream`: more than one answer per request (a pull request gets every pulled message). */
  responseType: "singleton" | "stream";
  /**
   * Imported but never published by the member's user (its permissions leave it out):
   * the import exists only for its side effect on the server (see memberServices).
   */
  importOnly?: true;
}

/**
 * Everything a member can reach in the control plane's account: its own consumer's
 * info, pull and ack subjects, the direct get of its own intents stream, and its own
 * heartbeat and status subjects. Heartbeats and status are services too, not a stream
 * export from the member's account: a stream
 * import keeps the publisher's reply subject, so JetStream's publish ack would be sent
 * in the control plane's account to any subject the member names (the same hole);
 * through a service import the ack comes back to the member's own inbox.
 */
export function memberServices(cluster: string): MemberService[] {
  const stream = streams.intents(cluster);
  const consumer = streams.intentsConsumer(cluster);
  return [
    { subject: subjects.heartbeat(cluster), responseType: "singleton" },
    { subject: subjects.statusAll(cluster), responseType: "singleton" },
    { subject: subjects.attestationsAll(cluster), responseType: "singleton" },
    // The client's consumers.get() and consume() read the consumer's info.
    { subject: `$JS.API.CONSUMER.INFO.${stream}.${consumer}`, responseType: "singleton" },
    // One pull request is answered by up to a batch of messages and idle heartbeats.
    { subject: `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, responseType: "stream" },
    // Pulled messages carry a $JS.ACK reply subject in the control plane's account.
    { subject: `$JS.ACK.${stream}.${consumer}.>`, responseType: "singleton" },
    // The resync's batched direct get of the member's own intents stream (many answers
    // per request). Exactly this subject: not `.>`, which would add the per-subject form.
    { subject: `$JS.API.DIRECT.GET.${stream}`, responseType: "stream" },
    // nats-server gives an account without JetStream a responder on all of `$JS.API.>`
    // that answers "JetStream not enabled for account", and that answer races the
    // imported service's. It leaves the responder out when the account imports
    // `$JS.API.INFO` (server/jetstream.go, enableJetStreamInfoServiceImportOnly), so
    // the member imports it; its user may not publish there, so the control plane's
    // account info stays unreadable.
    { subject: "$JS.API.INFO", responseType: "singleton", importOnly: true },
  ];
}

/**
 * The control plane publishes intents and audit records, manages streams and
 * consumers, and reads everything. It may NOT publish heartbeats, status or attestations:
 * it must not be able to speak for a member either (deny wins over allow in nats-server).
 */
export function controlPlanePermissions(): NatsPermissions {
  return {
    publish: {
      allow: [
        `${SUBJECT_PREFIX}.*.intents.*`,
        subjects.allAudit,
        subjects.allMemberKeys,
        subjects.allAuditIndex,
        "$JS.API.>",
        "$JS.ACK.>",
      ],
      deny: [subjects.allHeartbeats, subjects.allStatus, subjects.allAttestations],
    },
    subscribe: {
      allow: [`${SUBJECT_PREFIX}.>`, `${AUDIT_PREFIX}.>`, `${inboxPrefix("control-plane")}.>`],
    },
  };
}
