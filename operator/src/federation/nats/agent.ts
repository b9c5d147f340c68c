/**
 * The member agent's side of the NATS protocol: its intents as an IntentSource (the
 * durable consumer for new ones, a batched direct get for the resync) and its reports
 * as a ReportPublisher, plus the connection's state for readiness and resyncs.
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Heartbeat } from "../../gen/sovereign/v1/heartbeat.ts";
import type { PlacementIntent } from "../../gen/sovereign/v1/intent.ts";
import type { WorkloadStatus } from "../../gen/sovereign/v1/status.ts";
import { FederationError } from "../errors.ts";
import type { IntentDelivery, IntentSource, ReportPublisher } from "../interfaces.ts";
import { codecs } from "./codecs.ts";
import { checkIntentFor } from "./jetstream.ts";
import type { DurableSubscription, FederationClient } from "./jetstream.ts";
import { streams, subjects, validateClusterName } from "./protocol.ts";

/** Messages per direct-get request; the server caps a batch, so the resync pages. */
const DIRECT_BATCH = 256;

/** One member's intents: new ones from its durable consumer, all current ones on demand. */
export class NatsIntentSource implements IntentSource {
  readonly #client: FederationClient;
  readonly #cluster: string;
  readonly #log: Logger | undefined;
  #subscription: DurableSubscription<PlacementIntent> | undefined;
  #jsm: Promise<JetStreamManager> | undefined;

  constructor(params: { client: FederationClient; cluster: string; log?: Logger }) {
    this.#client = params.client;
    this.#cluster = validateClusterName(params.cluster);
    this.#log = params.log;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<IntentDelivery> {
    this.#subscription = this.#client.intents(this.#cluster);
    for await (const d of this.#subscription) {
      yield { intent: d.message, ack: () => d.ack(), nak: (delayMs) => d.nak(delayMs) };
    }
  }

  /**
   * The stream keeps one message per workload subject (max_msgs_per_subject = 1), so
   * every stored message is the newest intent of its workload: reading the stream from
   * its first sequence to its last is "the latest of each", in pages.
   */
  async latest(): Promise<PlacementIntent[]> {
    this.#jsm ??= this.#client.manager();
    const jsm = await this.#jsm;
    const stream = streams.intents(this.#cluster);
    const check = checkIntentFor(this.#cluster);
    const out = new Map<string, PlacementIntent>();
    let seq = 1;
    for (;;) {
      let got = 0;
      let pending = 0;
      try {
        const batch = await jsm.direct.getBatch(stream, { seq, batch: DIRECT_BATCH, next_by_subj: subjects.intentsAll(this.#cluster) });
        for await (const m of batch) {
          got++;
          seq = m.seq + 1;
          pending = m.pending;
          try {
            const intent = codecs.intent.decode(m.data, m.subject);
            check(intent, m.subject);
            out.set(intent.workload!.uid, intent);
          } catch (err) {
            // The consumer terminates such a message; the resync just leaves it out.
            this.#log?.error({ err, subject: m.subject, seq: m.seq }, "leaving an intent that breaks the federation contract out of the resync");
          }
        }
      } catch (err) {
        // An empty stream (or nothing after `seq`) answers 404 "no results".
        if (isNoResults(err)) break;
        if (isNoResponders(err)) {
          throw new FederationError(
            `the intents stream ${stream} does not exist yet: the control plane creates it once MemberCluster ${JSON.stringify(this.#cluster)} is declared on the host (kubectl get mc ${this.#cluster})`,
            { retryable: true, cause: err },
          );
        }
        throw new FederationError(`direct get of ${stream} from sequence ${seq} failed`, { retryable: true, cause: err });
      }
      if (got === 0 || pending <= 0) break;
    }
    return [...out.values()];
  }

  async stop(): Promise<void> {
    await this.#subscription?.stop();
  }
}

function isNoResponders(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (/no responders/i.test(e.message)) return true;
  return false;
}

function isNoResults(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (/no results|message not found|\b404\b/i.test(e.message)) return true;
  }
  return false;
}

/** The member's heartbeat and status, published with their idempotency keys. */
export class NatsReportPublisher implements ReportPublisher {
  readonly #client: FederationClient;

  constructor(params: { client: FederationClient }) {
    this.#client = params.client;
  }

  async publishHeartbeat(heartbeat: Heartbeat): Promise<void> {
    await this.#client.publish.heartbeat(heartbeat);
  }

  async publishStatus(status: WorkloadStatus): Promise<void> {
    await this.#client.publish.status(status);
  }
}
