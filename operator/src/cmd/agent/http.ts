/** /metrics, /healthz and /readyz on one listener. */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { MetricsEndpoint } from "../../metrics/index.ts";

export async function serveHealth(params: {
  host: string;
  port: number;
  metrics: MetricsEndpoint;
  ready: () => { ok: boolean; reasons: string[] };
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const r = params.ready();
      res.writeHead(r.ok ? 200 : 503, { "content-type": "text/plain" }).end(r.ok ? "ok\n" : `${r.reasons.join("\n")}\n`);
    } else if (path === "/metrics") {
      params.metrics.metrics().then(
        (text) => res.writeHead(200, { "content-type": params.metrics.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(params.port, params.host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === "object" && address ? address.port : params.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
