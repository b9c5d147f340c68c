import https from "node:https";
import http from "node:http";
import { layoutPorts, makeLayout, PORTS_PER_FEDERATION } from "./layout.ts";

export interface HttpGetOptions {
  url: string;
  /** PEM of the CA that signed the server's certificate; the check is strict when given. */
  ca?: string | Buffer;
  token?: string;
  /** Health endpoints of kube-controller-manager and kube-scheduler use self-signed certs. */
  insecure?: boolean;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/**
 * A plain GET for health checks. The federation scripts run before anything else of
 * ours, and need custom CAs per request, which node:https gives without extra setup.
 */
export function httpGet(opts: HttpGetOptions): Promise<HttpResponse> {
  const url = new URL(opts.url);
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(
      url,
      {
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        ...(url.protocol === "https:" ? { ca: opts.ca, rejectUnauthorized: !opts.insecure } : {}),
        timeout: opts.timeoutMs ?? 3000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${opts.url} timed out`)));
    req.on("error", reject);
  });
}

/** Whether something already listens on a loopback port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = http.createServer();
    srv.once("error", () => resolve(true));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

/**
 * The first base port, from `from` upwards, at which every port of a federation with
 * these members is free: for a second federation beside a running one (tests, benchmarks).
 */
export async function freeBasePort(opts: { from: number; members: string[] }): Promise<number> {
  for (let base = opts.from; base + PORTS_PER_FEDERATION <= 65535; base += PORTS_PER_FEDERATION) {
    const layout = makeLayout({ root: "/", stateDir: "/", basePort: base, members: opts.members, nodesPerMember: 1 });
    const used = await Promise.all(layoutPorts(layout).map(portInUse));
    if (!used.some(Boolean)) return base;
  }
  throw new Error(`no free block of ${PORTS_PER_FEDERATION} loopback ports from ${opts.from} up`);
}
