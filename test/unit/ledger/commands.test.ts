import assert from "node:assert/strict";
import { runAuditLedger } from "../../../operator/src/cmd/kubectl-sovereign/audit-ledger.ts";
import type { AuditLedgerEnvironment } from "../../../operator/src/cmd/kubectl-sovereign/audit-ledger.ts";
import type { ExportRequest } from "../../../operator/src/gen/sovereign/v1/audit.ts";
import { generateLedger } from "./generate.ts";

const GRPC = ["--grpc-address", "127.0.0.1:1", "--grpc-ca", "ca.pem", "--grpc-cert", "c.pem", "--grpc-key", "k.pem"];

function harness(lines: string[]) {
  const asked: ExportRequest[] = [];
  const written = new Map<string, string>();
  let stdout = "";
  let stderr = "";
  const env: AuditLedgerEnvironment = {
    stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), environment: {}, now: new Date("2026-12-01T00:00:00Z"),
    files: { readBytes: async (p) => Buffer.from(written.get(p) ?? ""), writeText: async (p, t) => void written.set(p, t) },
    connect: async () => ({
      exportLedger: async function* (req: ExportRequest) {
        asked.push(req);
        for (const line of lines) if (!req.keysOnly || line.includes('"type":"key"')) yield { line };
      },
      close: () => undefined,
    }),
  };
  return { env, asked, written, out: () => ({ stdout, stderr }) };
}

describe("kubectl sovereign audit export and keys", () => {
  it("exports the control plane's lines to -o FILE as JSON Lines, which verify then accepts", async () => {
    const gen = generateLedger();
    const h = harness(gen.lines);
    assert.equal(await runAuditLedger("export", ["--country", "FR", "--since", "7d", "--until", "2026-12-01", "-o", "trail.jsonl", ...GRPC], h.env), 0);
    assert.deepEqual(h.asked, [{ country: "FR", range: { since: new Date("2026-11-24T00:00:00Z"), until: new Date("2026-12-01T00:00:00Z") }, keysOnly: false }]);
    assert.equal(h.written.get("trail.jsonl"), gen.data.toString());
    assert.match(h.out().stderr, /^exported 31 records of 2 chains \(DE, FR\) to trail\.jsonl\n$/);
    assert.equal(await runAuditLedger("verify", ["trail.jsonl"], h.env), 0, h.out().stdout);
  });

  it("refuses a country that is not a code and a --since after --until, before connecting", async () => {
    const h = harness([]);
    await assert.rejects(runAuditLedger("export", ["--country", "france", ...GRPC], h.env), /--country: "france"/);
    await assert.rejects(runAuditLedger("export", ["--since", "2026-12-02", "--until", "2026-12-01", ...GRPC], h.env), /--since is after --until/);
    assert.deepEqual(h.asked, []);
  });

  it("lists every chain's signing keys with their validity, the rotation and who signed it", async () => {
    const gen = generateLedger();
    const h = harness(gen.lines);
    assert.equal(await runAuditLedger("keys", [...GRPC], h.env), 0);
    const rows = h.out().stdout.trim().split("\n");
    assert.match(rows[0]!, /^CHAIN +KEY ID +VALID FROM +VALID UNTIL +INTRODUCED +PUBLIC KEY \(ED25519\)$/);
    assert.equal(rows.length, 4);
    assert.match(rows[2]!, new RegExp(`^FR +${gen.keys.first.keyId} +\\S+ +2026-11-28T10:00:26\\.000Z +anchor \\(self-signed\\)`));
    assert.match(rows[3]!, new RegExp(`^FR +${gen.keys.second.keyId} +\\S+ +\\(current\\) +rotation, signed by ${gen.keys.first.keyId} +${gen.keys.second.publicKey}$`));
    assert.equal(h.asked[0]!.keysOnly, true);
  });
});
