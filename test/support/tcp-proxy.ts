/**
 * A TCP proxy a test puts between a client and a server (an agent and nats-server, say)
 * to cut the link while both keep running: `cut()` destroys every open connection and
 * refuses new ones (accepted, then reset at once, as a dead link looks to the client),
 * `heal()` forwards again. Loopback only.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpProxyCounters {
  /** Connections accepted and forwarded. */
  accepted: number;
  /** Connections refused while cut. */
  refused: number;
  /** Connections destroyed by cut(). */
  cutConnections: number;
  /** Connections open now. */
  open: number;
  /** Bytes forwarded client → target, and target → client. */
  bytesUp: number;
  bytesDown: number;
  /** Times cut() and heal() took effect. */
  cuts: number;
  heals: number;
}

export class TcpProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<{ client: Socket; upstream: Socket }>();
  readonly #counters: TcpProxyCounters = { accepted: 0, refused: 0, cutConnections: 0, open: 0, bytesUp: 0, bytesDown: 0, cuts: 0, heals: 0 };
  #cut = false;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  /** Listens on 127.0.0.1 (`listenPort` 0, the default: any free port) and forwards to `target`. */
  static async start(params: { target: { host?: string; port: number }; listenPort?: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, { host: params.target.host ?? "127.0.0.1", port: params.target.port });
    server.on("connection", (client) => proxy.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(params.listenPort ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** host:port to give the client instead of the target's. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  get counters(): Readonly<TcpProxyCounters> {
    return { ...this.#counters, open: this.#pairs.size };
  }

  /** Drops every open connection (reset, not a clean close) and refuses new ones until heal(). */
  cut(): void {
    if (!this.#cut) this.#counters.cuts++;
    this.#cut = true;
    for (const pair of [...this.#pairs]) {
      this.#counters.cutConnections++;
      this.#drop(pair, true);
    }
  }

  heal(): void {
    if (this.#cut) this.#counters.heals++;
    this.#cut = false;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const pair of [...this.#pairs]) this.#drop(pair, true);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.#cut) {
      this.#counters.refused++;
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    this.#counters.accepted++;
    client.pause();
    const upstream = createConnection({ host: this.#target.host, port: this.#target.port });
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const end = () => this.#drop(pair, false);
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
    client.on("data", (chunk: Buffer) => {
      this.#counters.bytesUp += chunk.length;
    });
    upstream.on("data", (chunk: Buffer) => {
      this.#counters.bytesDown += chunk.length;
    });
    upstream.once("connect", () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  /** `reset`: as a link that dies looks (RST), not an orderly end of stream; else one side closed and the other follows. */
  #drop(pair: { client: Socket; upstream: Socket }, reset: boolean): void {
    if (!this.#pairs.delete(pair)) return;
    for (const s of [pair.client, pair.upstream]) {
      if (s.destroyed) continue;
      if (reset) s.resetAndDestroy();
      else s.destroy();
    }
  }
}
