import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createUser, fromSeed } from "@nats-io/nkeys";

/**
 * The local federation's secrets: a small CA, TLS certificates for nats-server and the
 * control plane's gRPC server, a gRPC client certificate per member (and one for the
 * admin's kubectl plugin), and one NATS nkey identity per member plus the control
 * plane's. Everything lives under .federation/pki and is generated once: a second `up`
 * reuses it, so running clients keep working.
 *
 * Certificates are made with the `openssl` CLI: node:crypto can parse X.509 but not
 * issue it, openssl is on every machine this runs on, and an npm library
 * (node-forge, pkijs) would be a new runtime dependency for a development-only job.
 * NATS identities are nkeys from @nats-io/nkeys, which the NATS client already uses.
 */

export const CONTROL_PLANE_IDENTITY = "control-plane";
export const ADMIN_CLIENT = "admin";
/** The CN of the host kube-apiserver's proxy client certificate, the one name the query API trusts. */
export const FRONT_PROXY_CLIENT = "front-proxy-client";
/**
 * The name the aggregator checks the query API's serving certificate against:
 * <Service>.<namespace>.svc of the APIService's Service (charts.ts's release name + "-query").
 */
export const QUERY_SERVICE_DNS = "federation-control-plane-query.sovereign-system.svc";

export interface Pki {
  dir: string;
  ca: { cert: string; key: string };
  natsServer: { cert: string; key: string };
  grpcServer: { cert: string; key: string };
  /** gRPC client certificates by identity: each member, and `admin`. */
  grpcClients: Record<string, { cert: string; key: string }>;
  /** NATS nkey seed files by identity: each member, and `control-plane`. */
  natsSeeds: Record<string, string>;
  /**
   * The aggregation layer: a CA of its own for the host kube-apiserver's front proxy (so
   * no member or admin gRPC certificate can pass for it), the proxy's client certificate,
   * and the query API's serving certificate (signed by the local CA, the APIService's caBundle).
   */
  frontProxyCa: { cert: string; key: string };
  frontProxyClient: { cert: string; key: string };
  queryServer: { cert: string; key: string };
  /**
   * A JetStream cluster's routes: mutual TLS under a CA of their own, so that no member's
   * or the admin's gRPC client certificate (signed by the local CA) can join as a route
   * and read every account's traffic. One certificate, server and client, for every server.
   */
  natsRouteCa: { cert: string; key: string };
  natsRoute: { cert: string; key: string };
}

/** Where each file goes. Pure: `status` and `env` use it without generating anything. */
export function pkiLayout(opts: { stateDir: string; members: string[] }): Pki {
  // A member called like another identity would share its files (and, for admin, its
  // certificate's CN): it would be issued, or overwrite, the admin's client certificate.
  for (const m of opts.members) {
    if (m === ADMIN_CLIENT || m === CONTROL_PLANE_IDENTITY) throw new Error(`member "${m}" has the name of the PKI's ${m} identity`);
  }
  const dir = path.join(opts.stateDir, "pki");
  const pair = (name: string) => ({ cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}-key.pem`) });
  const grpcClients: Pki["grpcClients"] = {};
  for (const id of [...opts.members, ADMIN_CLIENT]) grpcClients[id] = pair(`grpc-client-${id}`);
  const natsSeeds: Pki["natsSeeds"] = {};
  for (const id of [...opts.members, CONTROL_PLANE_IDENTITY]) natsSeeds[id] = path.join(dir, "nats", `${id}.nk`);
  return {
    dir, ca: pair("ca"), natsServer: pair("nats-server"), grpcServer: pair("grpc-server"), grpcClients, natsSeeds,
    frontProxyCa: pair("front-proxy-ca"), frontProxyClient: pair("front-proxy-client"), queryServer: pair("query-server"),
    natsRouteCa: pair("nats-route-ca"), natsRoute: pair("nats-route"),
  };
}

function allFiles(pki: Pki): string[] {
  return [
    pki.ca.cert, pki.ca.key, pki.natsServer.cert, pki.natsServer.key, pki.grpcServer.cert, pki.grpcServer.key,
    ...Object.values(pki.grpcClients).flatMap((p) => [p.cert, p.key]),
    ...Object.values(pki.natsSeeds),
    pki.frontProxyCa.cert, pki.frontProxyCa.key, pki.frontProxyClient.cert, pki.frontProxyClient.key, pki.queryServer.cert, pki.queryServer.key,
    pki.natsRouteCa.cert, pki.natsRouteCa.key, pki.natsRoute.cert, pki.natsRoute.key,
  ];
}

/** True when every file exists, i.e. `ensurePki` would change nothing (bar renewals). */
export function pkiComplete(pki: Pki): boolean {
  return allFiles(pki).every((f) => existsSync(f));
}

/** The lines .federation/env gets, so any NATS or gRPC client can be pointed at them. */
export function securityEnv(pki: Pki): Record<string, string> {
  const env: Record<string, string> = { NATS_CA: pki.ca.cert, GRPC_CA: pki.ca.cert };
  for (const [id, seed] of Object.entries(pki.natsSeeds)) env[`NATS_CREDS_${envName(id)}`] = seed;
  for (const [id, pair] of Object.entries(pki.grpcClients)) {
    env[`GRPC_CERT_${envName(id)}`] = pair.cert;
    env[`GRPC_KEY_${envName(id)}`] = pair.key;
  }
  env.GRPC_SERVER_CERT = pki.grpcServer.cert;
  env.GRPC_SERVER_KEY = pki.grpcServer.key;
  env.FRONT_PROXY_CA = pki.frontProxyCa.cert;
  return env;
}

function envName(id: string): string {
  return id.toUpperCase().replaceAll("-", "_");
}

/** Public nkey of each NATS identity, read from its seed file. */
export function natsPublicKeys(pki: Pki): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [id, file] of Object.entries(pki.natsSeeds)) {
    keys[id] = fromSeed(new TextEncoder().encode(readFileSync(file, "utf8").trim())).getPublicKey();
  }
  return keys;
}

/** Renew a leaf certificate this long before it expires. */
const RENEW_BEFORE_S = 7 * 24 * 3600;
const VALID_DAYS = 365;

interface Leaf {
  pair: { cert: string; key: string };
  cn: string;
  org: string;
  /** A route is both: it dials its peers and accepts them. */
  usage: "serverAuth" | "clientAuth" | "serverAuth,clientAuth";
  /** Default: the local CA. */
  ca?: { cert: string; key: string };
  /** Extra DNS names of a server certificate. */
  dns?: string[];
}

/**
 * Creates whatever is missing or about to expire. A new CA invalidates every leaf, so
 * they are all reissued with it. Idempotent: a complete, valid PKI is left untouched.
 */
export function ensurePki(opts: { pki: Pki; openssl?: string; log?: (line: string) => void }): void {
  const { pki } = opts;
  const openssl = opts.openssl ?? "openssl";
  const log = opts.log ?? (() => undefined);
  mkdirSync(path.join(pki.dir, "nats"), { recursive: true, mode: 0o700 });

  const issueCa = (ca: { cert: string; key: string }, cn: string): boolean => {
    if (existsSync(ca.cert) && existsSync(ca.key) && !expiresSoon(openssl, ca.cert)) return false;
    log(`issuing the ${cn}`);
    run(openssl, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", ca.key, "-out", ca.cert, "-days", String(VALID_DAYS * 2),
      "-subj", `/O=sovereign-federation local/CN=sovereign-federation ${cn}`,
      "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    chmodSync(ca.key, 0o600);
    return true;
  };
  const caIssued = issueCa(pki.ca, "local CA");
  const frontProxyCaIssued = issueCa(pki.frontProxyCa, "front-proxy CA");
  const routeCaIssued = issueCa(pki.natsRouteCa, "NATS route CA");

  const leaves: Leaf[] = [
    { pair: pki.natsServer, cn: "nats-server", org: "sovereign-federation server", usage: "serverAuth" },
    { pair: pki.grpcServer, cn: "control-plane", org: "sovereign-federation server", usage: "serverAuth" },
    ...Object.entries(pki.grpcClients).map(([id, pair]): Leaf => ({
      pair,
      cn: id,
      // The gRPC server authorises by this: members may only Join as themselves, only
      // the admin may Explain, Simulate and read the audit trail.
      org: id === ADMIN_CLIENT ? "sovereign-federation admin" : "sovereign-federation member",
      usage: "clientAuth",
    })),
    { pair: pki.queryServer, cn: "query-server", org: "sovereign-federation server", usage: "serverAuth", dns: [QUERY_SERVICE_DNS] },
  ];
  const frontProxy: Leaf = { pair: pki.frontProxyClient, cn: FRONT_PROXY_CLIENT, org: "sovereign-federation front proxy", usage: "clientAuth", ca: pki.frontProxyCa };
  if (frontProxyCaIssued || !existsSync(frontProxy.pair.cert) || !existsSync(frontProxy.pair.key) || expiresSoon(openssl, frontProxy.pair.cert)) {
    log(`issuing client certificate ${path.basename(frontProxy.pair.cert)}`);
    issueLeaf({ openssl, ca: pki.frontProxyCa, leaf: frontProxy, dir: pki.dir });
  }
  const route: Leaf = { pair: pki.natsRoute, cn: "nats-route", org: "sovereign-federation server", usage: "serverAuth,clientAuth", ca: pki.natsRouteCa };
  if (routeCaIssued || !existsSync(route.pair.cert) || !existsSync(route.pair.key) || expiresSoon(openssl, route.pair.cert)) {
    log(`issuing route certificate ${path.basename(route.pair.cert)}`);
    issueLeaf({ openssl, ca: pki.natsRouteCa, leaf: route, dir: pki.dir });
  }
  for (const leaf of leaves) {
    if (!caIssued && existsSync(leaf.pair.cert) && existsSync(leaf.pair.key) && !expiresSoon(openssl, leaf.pair.cert)) continue;
    log(`issuing ${leaf.usage === "serverAuth" ? "server" : "client"} certificate ${path.basename(leaf.pair.cert)}`);
    issueLeaf({ openssl, ca: pki.ca, leaf, dir: pki.dir });
  }

  for (const [id, file] of Object.entries(pki.natsSeeds)) {
    if (existsSync(file)) continue;
    log(`creating NATS identity ${id}`);
    writeFileSync(file, new TextDecoder().decode(createUser().getSeed()) + "\n", { mode: 0o600 });
  }
}

function issueLeaf(opts: { openssl: string; ca: { cert: string; key: string }; leaf: Leaf; dir: string }): void {
  const { leaf } = opts;
  const csr = `${leaf.pair.cert}.csr`;
  const ext = `${leaf.pair.cert}.ext`;
  // Loopback only: the federation never listens elsewhere.
  const dns = ["localhost", ...(leaf.dns ?? [])].map((d) => `DNS:${d}`).join(",");
  const san = leaf.usage.startsWith("serverAuth") ? `subjectAltName=IP:127.0.0.1,IP:::1,${dns}\n` : `subjectAltName=URI:sovereign://${leaf.cn}\n`;
  writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${leaf.usage}\n${san}`);
  try {
    run(opts.openssl, [
      "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", leaf.pair.key, "-out", csr, "-subj", `/O=${leaf.org}/CN=${leaf.cn}`,
    ]);
    chmodSync(leaf.pair.key, 0o600);
    run(opts.openssl, [
      "x509", "-req", "-in", csr, "-CA", opts.ca.cert, "-CAkey", opts.ca.key,
      "-set_serial", `0x${randomBytes(16).toString("hex")}`, "-days", String(VALID_DAYS),
      "-extfile", ext, "-out", leaf.pair.cert,
    ]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

function expiresSoon(openssl: string, cert: string): boolean {
  try {
    execFileSync(openssl, ["x509", "-checkend", String(RENEW_BEFORE_S), "-noout", "-in", cert], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
}

function run(bin: string, args: string[]): void {
  try {
    execFileSync(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`${bin} ${args.slice(0, 2).join(" ")} failed: ${stderr.trim()}`, { cause: err });
  }
}
