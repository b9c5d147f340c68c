import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { X509Certificate } from "node:crypto";
import { ensurePki, natsPublicKeys, pkiComplete, pkiLayout, securityEnv } from "../../../hack/lib/federation/security.ts";

describe("local federation PKI (hack/lib/federation/security.ts)", function () {
  // openssl issues a dozen keys and certificates; slow on a busy machine.
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "pki-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("issues a CA, server and per-member client certificates and NATS identities, once", () => {
    const pki = pkiLayout({ stateDir: dir, members: ["fr", "de", "it"] });
    assert.equal(pkiComplete(pki), false);
    ensurePki({ pki });
    assert.equal(pkiComplete(pki), true);
    const before = readFileSync(pki.grpcClients.fr!.cert, "utf8");
    const seeds = natsPublicKeys(pki);
    ensurePki({ pki });
    assert.equal(readFileSync(pki.grpcClients.fr!.cert, "utf8"), before, "a second run reissued a certificate");
    assert.deepEqual(natsPublicKeys(pki), seeds, "a second run replaced a NATS identity");
    assert.deepEqual(Object.keys(seeds).sort(), ["control-plane", "de", "fr", "it"]);
    assert.equal(new Set(Object.values(seeds)).size, 4);
    for (const key of [pki.ca.key, pki.grpcServer.key, pki.grpcClients.fr!.key, pki.natsSeeds.fr!]) {
      assert.equal(statSync(key).mode & 0o077, 0, `${key} is readable by others`);
    }
  });

  it("signs every certificate with the CA, for the right use and name", () => {
    const pki = pkiLayout({ stateDir: dir, members: ["fr"] });
    ensurePki({ pki });
    const ca = new X509Certificate(readFileSync(pki.ca.cert));
    const cert = (f: string) => new X509Certificate(readFileSync(f));
    const server = cert(pki.grpcServer.cert);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(server.checkIP("127.0.0.1"));
    assert.ok(server.checkHost("localhost"));
    const member = cert(pki.grpcClients.fr!.cert);
    assert.ok(member.verify(ca.publicKey));
    assert.match(member.subject, /O=sovereign-federation member/);
    assert.match(member.subject, /CN=fr/);
    assert.match(cert(pki.grpcClients.admin!.cert).subject, /O=sovereign-federation admin/);
    const purpose = (f: string) => execFileSync("openssl", ["x509", "-in", f, "-noout", "-ext", "extendedKeyUsage"], { encoding: "utf8" });
    assert.match(purpose(pki.grpcClients.fr!.cert), /TLS Web Client Authentication/);
    assert.doesNotMatch(purpose(pki.grpcClients.fr!.cert), /Server Authentication/);
    assert.match(purpose(pki.natsServer.cert), /TLS Web Server Authentication/);
  });

  it("names every file in .federation/env, one NATS identity and one client certificate per member", () => {
    const pki = pkiLayout({ stateDir: dir, members: ["fr", "de"] });
    const env = securityEnv(pki);
    for (const k of ["NATS_CA", "GRPC_CA", "NATS_CREDS_FR", "NATS_CREDS_DE", "NATS_CREDS_CONTROL_PLANE", "GRPC_CERT_FR", "GRPC_KEY_FR", "GRPC_CERT_DE", "GRPC_KEY_DE", "GRPC_CERT_ADMIN", "GRPC_KEY_ADMIN", "GRPC_SERVER_CERT", "GRPC_SERVER_KEY"]) {
      assert.ok(env[k]?.startsWith(dir), `${k} missing`);
    }
  });

  it("refuses a member named like the admin or control-plane identity (it would share their certificate or seed)", () => {
    for (const m of ["admin", "control-plane"]) {
      assert.throws(() => pkiLayout({ stateDir: dir, members: ["fr", m] }), new RegExp(`"${m}"`));
    }
  });
});
