import type { Logger } from "pino";
import type { Clock } from "./clock.ts";

/** An Event as a controller records it: about one object, with a reason and a message. */
export interface RecordedEvent {
  /** The object's identity for aggregation (its uid, or kind/namespace/name). */
  about: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/**
 * client-go's EventBroadcaster with its correlator, reduced to what the controllers
 * need: `record` returns at once (a worker never waits for an Event, no pod waits for
 * one); Events go out in the background, a few at a time; the same event (object,
 * reason, message) recorded again while the first is still queued is one Event with a
 * count, and recorded again within `windowMs` after it went out is dropped (the
 * correlator's spam filter). The queue is bounded: when full, new events are dropped
 * and counted, never held in memory without end.
 */
export class EventRecorder<E extends RecordedEvent> {
  readonly #send: (event: E & { count: number; at: Date }) => Promise<void>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #windowMs: number;
  /** Events waiting to go out, by aggregation key (insertion order = send order). */
  readonly #queued = new Map<string, { event: E; count: number; at: Date }>();
  /** When each event last went out, for the spam window (oldest first). */
  readonly #sent = new Map<string, number>();
  #inFlight = 0;
  #idle: (() => void)[] = [];
  /** Events dropped because the queue was full. */
  dropped = 0;
  /** Events not sent because the same one went out within the window. */
  suppressed = 0;

  constructor(params: {
    send: (event: E & { count: number; at: Date }) => Promise<void>;
    clock: Clock;
    log: Logger;
    /** Events in flight at once. Default 2. */
    concurrency?: number;
    /** Distinct events waiting at most. Default 1000. */
    maxQueued?: number;
    /** The same event is not sent again within this long. Default 10 min (client-go's). */
    windowMs?: number;
  }) {
    this.#send = params.send;
    this.#clock = params.clock;
    this.#log = params.log;
    this.#concurrency = params.concurrency ?? 2;
    this.#maxQueued = params.maxQueued ?? 1000;
    this.#windowMs = params.windowMs ?? 600_000;
  }

  /** Queues `event` and returns at once. */
  record(event: E): void {
    const key = JSON.stringify([event.about, event.type, event.reason, event.message]);
    const now = this.#clock.now();
    this.#prune(now.getTime());
    const queued = this.#queued.get(key);
    if (queued) {
      queued.count++;
      return;
    }
    if (this.#sent.has(key)) {
      this.suppressed++;
      return;
    }
    if (this.#queued.size >= this.#maxQueued) {
      this.dropped++;
      return;
    }
    this.#queued.set(key, { event, count: 1, at: now });
    this.#pump();
  }

  /** Resolves once nothing is queued or in flight (tests, shutdown). */
  flush(): Promise<void> {
    if (this.#queued.size === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  get pending(): number {
    return this.#queued.size + this.#inFlight;
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queued.size > 0) {
      const [key, entry] = this.#queued.entries().next().value as [string, { event: E; count: number; at: Date }];
      this.#queued.delete(key);
      this.#inFlight++;
      this.#sent.delete(key);
      this.#sent.set(key, this.#clock.now().getTime());
      this.#send({ ...entry.event, count: entry.count, at: entry.at })
        .catch((err: unknown) => this.#log.warn({ err, reason: entry.event.reason, about: entry.event.about }, "could not record an Event"))
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (this.#queued.size === 0 && this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }

  #prune(now: number): void {
    for (const [key, at] of this.#sent) {
      if (now - at < this.#windowMs) break;
      this.#sent.delete(key);
    }
  }
}
