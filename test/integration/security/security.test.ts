import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { connect as tlsConnect, createServer as createTlsServer } from "node:tls";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, nkeyAuthenticator } from "@nats-io/transport-node";
import { parse } from "yaml";
import { inboxPrefix, parseNatsSecret, streams } from "../../../operator/src/federation/index.ts";
import { readState } from "../../../hack/lib/federation/state.ts";
import { NATS_SINGLE_COMPONENT, natsComponentName } from "../../../hack/lib/federation/layout.ts";
import { federationStateDir, readFederationEnv } from "../env.ts";
import type { FederationEnv } from "../env.ts";
import { CHARTS, helmOk, REQUIRED_VALUES, SYSTEM_NAMESPACE } from "../charts/helpers.ts";
import { collectSecrets, findLeaks, secretsInText } from "./secrets.ts";

/**
 * Security properties checked on the running local federation (and on the charts as
 * rendered): least-privilege RBAC, mutual TLS 1.2+ on gRPC, TLS-only NATS, a durable
 * audit stream, and logs that never carry a secret. Every "refused" has its "accepted".
 */

interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Where a rule uses a wildcard: "verbs", "resources"... (a "*" anywhere, "pods/*" too). */
export function wildcardFields(rule: RbacRule): string[] {
  return (["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"] as const).filter((f) => (rule[f] ?? []).some((v) => v.includes("*")));
}

const AGENT_REQUIRED = [...REQUIRED_VALUES.agent];

function renderings(): { what: string; chart: string; args: string[] }[] {
  const out = [
    { what: "control-plane defaults", chart: CHARTS.controlPlane, args: [...REQUIRED_VALUES.controlPlane] as string[] },
    { what: "member-agent defaults", chart: CHARTS.agent, args: AGENT_REQUIRED },
  ];
  for (const [name, chart] of [["control-plane", CHARTS.controlPlane], ["member-agent", CHARTS.agent]] as const) {
    for (const f of readdirSync(path.join(chart, "ci")).filter((x) => x.endsWith(".yaml")).sort()) {
      const file = path.join(chart, "ci", f);
      // A ci/ values file is complete on its own (the charts' render test uses them so).
      out.push({ what: `${name} ci/${f}`, chart, args: ["-f", file] });
    }
  }
  return out;
}

/** Resolves with how an HTTP/2 gRPC request over TLS went: "answered <status>" or "refused: <error>". */
function grpcProbe(params: { address: string; ca: Buffer; cert?: Buffer; key?: Buffer; minVersion?: "TLSv1" | "TLSv1.2" | "TLSv1.3"; maxVersion?: "TLSv1.1" | "TLSv1.2" | "TLSv1.3" }): Promise<string> {
  const [host, port] = params.address.split(":");
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish("no answer within 10 s"), 10_000);
    const client = http2Connect(`https://${host}:${port}`, {
      servername: "localhost", ca: params.ca,
      ...(params.cert ? { cert: params.cert, key: params.key } : {}),
      minVersion: params.minVersion ?? "TLSv1.2", maxVersion: params.maxVersion ?? "TLSv1.3",
      // Lets the client offer TLS 1.0/1.1 at all, so a refusal is the server's.
      ciphers: "DEFAULT:@SECLEVEL=0",
    });
    let done = false;
    function finish(result: string) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.destroy();
      resolve(result);
    }
    client.on("error", (e: NodeJS.ErrnoException) => finish(`refused: ${e.code ?? ""} ${e.message}`));
    const req = client.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" });
    req.on("response", (h) => finish(`answered ${String(h[":status"])}`));
    req.on("error", (e: NodeJS.ErrnoException) => finish(`refused: ${e.code ?? ""} ${e.message}`));
    req.end(Buffer.alloc(5));
  });
}

/** A NATS connection over TLS with the control plane's nkey (the identity that owns the streams). */
function connectAsControlPlane(env: FederationEnv) {
  const secret = parseNatsSecret(readFileSync(env.natsCreds["control-plane"]!, "utf8"));
  if (!("nkeySeed" in secret)) throw new Error("the local federation's control-plane NATS secret is not an nkey seed");
  return connect({
    servers: env.natsUrl, tls: { ca: readFileSync(env.natsCa, "utf8") }, reconnect: false,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(secret.nkeySeed)),
    // Its permissions allow replies on its own inbox only.
    inboxPrefix: inboxPrefix("control-plane"),
  });
}

describe("security checks on the local federation", function () {
  this.timeout(180_000);
  let env: FederationEnv;

  before(function () {
    env = readFederationEnv();
  });

  describe("chart RBAC", function () {
    it("flags a wildcard wherever it is (the check's positive control)", function () {
      assert.deepEqual(wildcardFields({ apiGroups: [""], resources: ["pods"], verbs: ["get"] }), []);
      assert.deepEqual(wildcardFields({ apiGroups: ["*"], resources: ["pods"], verbs: ["*"] }), ["apiGroups", "verbs"]);
      assert.deepEqual(wildcardFields({ apiGroups: ["apps"], resources: ["deployments/*"], verbs: ["get"] }), ["resources"]);
      assert.deepEqual(wildcardFields({ nonResourceURLs: ["/metrics*"], verbs: ["get"] }), ["nonResourceURLs"]);
    });

    it("no rule of either chart, whatever its values, uses a wildcard, and neither binds cluster-admin", function () {
      let rules = 0;
      const bad: string[] = [];
      for (const r of renderings()) {
        const docs = helmOk(env, ["template", "sovereign", r.chart, "--namespace", SYSTEM_NAMESPACE, ...r.args]).split(/^---\s*$/m)
          .map((d) => parse(d) as { kind?: string; metadata?: { name?: string }; rules?: RbacRule[]; roleRef?: { name?: string } } | null)
          .filter((d) => d?.kind);
        for (const d of docs) {
          if ((d!.kind === "ClusterRoleBinding" || d!.kind === "RoleBinding") && d!.roleRef?.name === "cluster-admin") bad.push(`${r.what}: ${d!.kind} ${d!.metadata?.name} binds cluster-admin`);
          if (d!.kind !== "Role" && d!.kind !== "ClusterRole") continue;
          for (const [i, rule] of (d!.rules ?? []).entries()) {
            rules++;
            const fields = wildcardFields(rule);
            if (fields.length) bad.push(`${r.what}: ${d!.kind} ${d!.metadata?.name} rule ${i}: * in ${fields.join(", ")}: ${JSON.stringify(rule)}`);
          }
        }
      }
      assert.ok(rules >= 10, `only ${rules} RBAC rules rendered: is the check looking at the charts at all?`);
      assert.deepEqual(bad, []);
    });
  });

  describe("the control plane's gRPC server", function () {
    const files = () => ({
      ca: readFileSync(env.grpcCa),
      cert: readFileSync(env.vars.GRPC_CERT_ADMIN!),
      key: readFileSync(env.vars.GRPC_KEY_ADMIN!),
    });

    it("answers a client with a certificate over TLS 1.2 and 1.3 (positive control)", async function () {
      const { ca, cert, key } = files();
      for (const v of ["TLSv1.2", "TLSv1.3"] as const) {
        assert.equal(await grpcProbe({ address: env.controlPlaneGrpcAddress, ca, cert, key, minVersion: v, maxVersion: v }), "answered 200", v);
      }
    });

    it("refuses TLS 1.0 and 1.1, which this client can speak (shown against a local server that accepts them)", async function () {
      const { ca, cert, key } = files();
      // Control: the same client settings complete a TLS 1.1 handshake with a server that allows it.
      const pki = path.dirname(env.grpcCa);
      const lenient = createTlsServer({ key: readFileSync(path.join(pki, "grpc-server-key.pem")), cert: readFileSync(path.join(pki, "grpc-server.pem")), minVersion: "TLSv1", ciphers: "DEFAULT:@SECLEVEL=0" }, (s) => s.end());
      await new Promise<void>((r) => lenient.listen(0, "127.0.0.1", r));
      try {
        const port = (lenient.address() as { port: number }).port;
        const protocol = await new Promise<string>((resolve, reject) => {
          const s = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca, minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" }, () => {
            resolve(s.getProtocol() ?? "");
            s.destroy();
          });
          s.on("error", reject);
        });
        assert.equal(protocol, "TLSv1.1");
      } finally {
        lenient.close();
      }
      // Offering TLS 1.0 and 1.1 only: the server refuses the version itself (an alert), whatever the certificate.
      const r = await grpcProbe({ address: env.controlPlaneGrpcAddress, ca, cert, key, minVersion: "TLSv1", maxVersion: "TLSv1.1" });
      assert.match(r, /^refused: .*(PROTOCOL_VERSION|protocol version|UNSUPPORTED_PROTOCOL)/i, r);
    });

    it("refuses a client that presents no certificate, over TLS 1.2 and 1.3", async function () {
      const { ca } = files();
      for (const v of ["TLSv1.2", "TLSv1.3"] as const) {
        const r = await grpcProbe({ address: env.controlPlaneGrpcAddress, ca, minVersion: v, maxVersion: v });
        assert.match(r, /^refused: /, `${v}: ${r}`);
      }
    });
  });

  describe("nats-server", function () {

    /** What a client that never starts TLS gets: the INFO line, then (after CONNECT and PING) never a PONG. */
    function plaintextClient(port: number): Promise<string> {
      return new Promise((resolve, reject) => {
        let text = "";
        const timer = setTimeout(() => {
          socket.destroy();
          resolve(text);
        }, 10_000);
        const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n'));
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
          text += chunk;
        });
        socket.on("close", () => {
          clearTimeout(timer);
          resolve(text);
        });
        socket.on("error", (e) => (text ? undefined : reject(e)));
      });
    }

    it("has no listener without TLS: clients must do TLS, and the other listeners are off or TLS-only (every server of a cluster)", async function () {
      assert.equal(env.natsMonitorUrls.length, env.natsUrls.length, "a monitoring endpoint per server");
      for (const [i, monitor] of env.natsMonitorUrls.entries()) {
        const port = Number(new URL(env.natsUrls[i]!).port);
        const varz = (await (await fetch(`${monitor.replace(/\/$/, "")}/varz`)).json()) as Record<string, unknown>;
        assert.equal(varz.tls_required, true, `${monitor}: the client port requires TLS`);
        assert.equal(varz.port, port);
        // Listeners other than the client port: none at all (gateway, leafnodes, websocket, MQTT),
        // and a cluster's routes only with TLS (mutual: verify).
        for (const key of ["cluster", "gateway", "leaf", "websocket", "mqtt"] as const) {
          const block = varz[key] as { port?: number; cluster_port?: number; tls_required?: boolean; tls_verify?: boolean } | undefined;
          const listens = block?.port || block?.cluster_port;
          assert.ok(!listens || block?.tls_required === true, `${monitor}: ${key} listens on ${listens} without TLS`);
          if (key === "cluster" && listens) assert.equal(block?.tls_verify, true, `${monitor}: routes accept peers without a certificate`);
        }
        if (env.natsUrls.length > 1) assert.ok((varz.cluster as { cluster_port?: number } | undefined)?.cluster_port, `${monitor}: a server of a cluster of ${env.natsUrls.length} reports no route listener`);
        const answer = await plaintextClient(port);
        assert.match(answer, /^INFO .*"tls_required":true/, "the server says TLS is required");
        assert.doesNotMatch(answer, /PONG/, "a plain-text client must never get a PONG");
      }
    });

    it("answers PING with PONG over TLS with credentials (positive control)", async function () {
      const nc = await connectAsControlPlane(env);
      try {
        const rtt = await nc.rtt();
        assert.ok(rtt >= 0);
      } finally {
        await nc.close();
      }
    });

    it("keeps the audit stream on file storage, on a server that fsyncs every write (sync_interval: always)", async function () {
      const nc = await connectAsControlPlane(env);
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info(streams.audit);
        assert.equal(info.config.storage, "file", `the audit stream's storage: ${info.config.storage}`);
        assert.equal(info.config.deny_delete, true);
        assert.equal(info.config.deny_purge, true);
        // On a JetStream cluster, a copy on every server: one disk's loss loses no evidence.
        assert.equal(info.config.num_replicas, env.natsStreamReplicas, `the audit stream's replicas on a federation of ${env.natsUrls.length} nats-server(s)`);
      } finally {
        await nc.close();
      }
      // The running server's own configuration file (the -c of the recorded process), and what it reports.
      const proc = readState(federationStateDir())?.processes.find((p) => p.component === NATS_SINGLE_COMPONENT || p.component === natsComponentName(1));
      assert.ok(proc?.args, "the federation records nats-server's command line");
      const i = proc.args.findIndex((a) => a === "-c" || a === "--config");
      const configFile = path.resolve(env.root, proc.args[i + 1]!);
      const config = readFileSync(configFile, "utf8");
      const jetstream = /jetstream\s*\{([^}]*)\}/.exec(config)?.[1] ?? "";
      assert.match(jetstream, /^\s*sync_interval:\s*always\s*$/m, `${configFile}'s jetstream block: ${jetstream}`);
      const jsz = (await (await fetch(`${env.natsMonitorUrl.replace(/\/$/, "")}/varz`)).json()) as { jetstream?: { config?: { sync_always?: boolean; sync_interval?: number } } };
      const reported = jsz.jetstream?.config;
      if (reported && ("sync_always" in reported || "sync_interval" in reported)) assert.equal(reported.sync_always, true, JSON.stringify(reported));
    });
  });

  describe("logs", function () {
    it("the scanner finds a token, a seed and a key in a log line (positive control)", function () {
      const dir = mkdtempSync(path.join(os.tmpdir(), "leak-"));
      const seed = "SUAIBDPBAUTWCWBKIO6XTTZWRPGIWKHO4BSQVBUXQ2Y2AR6TTFGAGBGFGY";
      const key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n-----END PRIVATE KEY-----\n";
      const secrets = [...secretsInText(`${seed}\n${key}`, "fixture"), { kind: "token" as const, source: "tokens.csv", value: "0123456789abcdef0123456789abcdef" }];
      assert.deepEqual([...new Set(secrets.map((s) => s.kind))].sort(), ["nkey-seed", "private-key", "token"]);
      writeFileSync(path.join(dir, "a.log"), `{"msg":"ok"}\n{"msg":"connecting","seed":"${seed}"}\n`);
      writeFileSync(path.join(dir, "b.log"), `{"key":${JSON.stringify(key)}}\nAuthorization: Bearer 0123456789abcdef0123456789abcdef\n`);
      writeFileSync(path.join(dir, "c.log"), "nothing here\n");
      const { leaks, files } = findLeaks({ secrets, logDir: dir });
      assert.equal(files, 3);
      assert.deepEqual([...new Set(leaks.map((l) => `${l.file}:${l.line}:${l.secret.kind}`))].sort(), ["a.log:2:nkey-seed", "b.log:1:private-key", "b.log:2:token"]);
    });

    it("no token, nkey seed or private key of this run appears in any line under .federation/logs", function () {
      const stateDir = federationStateDir();
      const secrets = collectSecrets(stateDir);
      const count = (kind: string) => secrets.filter((s) => s.kind === kind).length;
      // It must have found what the run used: the admin token, a seed per NATS identity, the PKI's keys.
      assert.ok(count("token") >= 1, `tokens found: ${count("token")}`);
      assert.ok(count("nkey-seed") >= Object.keys(env.natsCreds).length, `seeds found: ${count("nkey-seed")} for ${Object.keys(env.natsCreds).length} identities`);
      assert.ok(count("private-key") >= 3, `private keys found: ${count("private-key")}`);
      const { leaks, files, lines } = findLeaks({ secrets, logDir: path.join(stateDir, "logs") });
      assert.ok(files >= 5 && lines > 100, `scanned ${files} log files, ${lines} lines: are the logs where they should be?`);
      assert.deepEqual(leaks.map((l) => `${l.file}:${l.line}: ${l.secret.kind} from ${l.secret.source}`), []);
      console.log(`      scanned ${files} log files (${lines} lines) for ${secrets.length} secret values: none found`);
    });
  });
});
