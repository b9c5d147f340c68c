/**
 * An HTTPS proxy a test puts between one client (an agent) and a kube-apiserver, to count
 * that client's requests: it serves the API server's own certificate (the one the
 * client's kubeconfig trusts), forwards every request as it came (the client's token
 * included) and records method, path and when. Watches stream through. When the API
 * server is gone, the client's connection is dropped, as the dead server's would be.
 * Loopback only.
 */
import { Agent, createServer, request, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  watch: boolean;
  /** The API server's status code, or "no answer" when it could not be reached. */
  status: number | "no answer";
}

export interface RequestCount {
  total: number;
  watches: number;
  /** Requests the API server never answered (it was down). */
  unanswered: number;
  /** Requests by "METHOD path-without-query", most first. */
  byPath: [string, number][];
}

export class CountingApiProxy {
  readonly #server: Server;
  readonly #target: URL;
  readonly #agent: Agent;
  readonly #sockets = new Set<Socket>();
  readonly requests: ProxiedRequest[] = [];

  private constructor(server: Server, target: URL, ca: string | Buffer) {
    this.#server = server;
    this.#target = target;
    this.#agent = new Agent({ keepAlive: true, ca });
  }

  /** `cert`/`key`: what to serve (the API server's own); `ca`: what to trust upstream. */
  static async start(params: { target: string; cert: string | Buffer; key: string | Buffer; ca: string | Buffer }): Promise<CountingApiProxy> {
    const server = createServer({ cert: params.cert, key: params.key });
    const proxy = new CountingApiProxy(server, new URL(params.target), params.ca);
    server.on("request", (req, res) => proxy.#forward(req, res));
    server.on("connection", (s: Socket) => {
      proxy.#sockets.add(s);
      s.on("close", () => proxy.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  /** The requests that arrived in [from, to) (ms since the epoch). */
  count(params: { from: number; to: number }): RequestCount {
    const inside = this.requests.filter((r) => r.at >= params.from && r.at < params.to);
    const byPath = new Map<string, number>();
    for (const r of inside) {
      const key = `${r.method} ${r.path.split("?")[0]}${r.watch ? " (watch)" : ""}`;
      byPath.set(key, (byPath.get(key) ?? 0) + 1);
    }
    return {
      total: inside.length,
      watches: inside.filter((r) => r.watch).length,
      unanswered: inside.filter((r) => r.status === "no answer").length,
      byPath: [...byPath].sort((a, b) => b[1] - a[1]),
    };
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? "/";
    const record: ProxiedRequest = { at: Date.now(), method: req.method ?? "GET", path, watch: /[?&]watch=(true|1)/.test(path), status: "no answer" };
    this.requests.push(record);
    const up = request({
      host: this.#target.hostname, port: this.#target.port, method: req.method, path, agent: this.#agent,
      headers: { ...req.headers, host: this.#target.host },
    });
    // A server that is gone: the client sees its connection die, not an answer from us.
    const drop = () => {
      up.destroy();
      res.socket?.destroy();
    };
    up.on("error", drop);
    up.on("response", (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on("aborted", drop);
      answer.on("error", drop);
    });
    res.on("close", () => up.destroy());
    req.pipe(up);
  }
}
