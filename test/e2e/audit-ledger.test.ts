import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FederationClient, parseNatsSecret } from "../../operator/src/federation/index.ts";
import { canonicalBytes, lineOf, parseLine, RecordType } from "../../operator/src/ledger/index.ts";
import type { AttestationBody, LedgerRecord } from "../../operator/src/ledger/index.ts";
import { REPO, runPlugin } from "../unit/cmd/kubectl-sovereign/run-plugin.ts";
import { workloadManifest, World } from "./support/world.ts";

/**
 * Member attestations end to end, on the small shape (ovh-par-1 in France, ionos-fra-1 in
 * Germany, both with agents; hack/federation starts agents with --attestation-interval 10s):
 * a workload runs on both members, one agent is stopped long enough to miss its periods and
 * started again, and the ledger exported with `kubectl sovereign audit export` verifies
 * offline with attestations from both members and the stopped agent's silence shown as a
 * gap. An attestation's pod count changed in the file is a finding naming it; an old
 * attestation the member publishes again is refused by the control plane as a replay.
 */
describe("member attestations in the audit ledger, end to end (kubectl sovereign audit export and verify)", function () {
  this.timeout(300_000);
  const ns = "e2e-audit-ledger";
  const name = "attested";
  const STOPPED = "ionos-fra-1";
  const RUNNING = "ovh-par-1";
  const TARGET_LABEL = "e2e.sovereignty.eu/audit-ledger";
  /** The local federation's agents attest every workload at least every 10 s; verify is told so. */
  const PERIOD = ["--attestation-period", "10s", "--attestation-slack", "5s"];
  let world: World;
  let tmp: string;
  let pluginEnv: NodeJS.ProcessEnv;

  before(async function () {
    world = await World.ready({ namespace: ns });
    tmp = mkdtempSync(path.join(tmpdir(), "audit-ledger-e2e-"));
    pluginEnv = {
      PATH: `${REPO}bin:${path.dirname(world.kubectlBin)}:${process.env.PATH}`,
      HOME: tmp,
      KUBECONFIG: world.env.hostKubeconfig,
      SOVEREIGN_GRPC_ADDRESS: world.env.controlPlaneGrpcAddress,
      SOVEREIGN_GRPC_CA: world.env.grpcCa,
      SOVEREIGN_GRPC_CERT: world.env.vars.GRPC_CERT_ADMIN,
      SOVEREIGN_GRPC_KEY: world.env.vars.GRPC_KEY_ADMIN,
    };
  });

  afterEach(async function () {
    await world.auditor.check(this.currentTest?.title ?? "step");
  });

  after(async function () {
    const startAgent = () => {
      try {
        world.component("start", `agent-${STOPPED}`);
      } catch {
        // already running
      }
    };
    const unlabel = () => {
      world.kubectl(["label", "membercluster", RUNNING, STOPPED, `${TARGET_LABEL}-`]);
    };
    await world?.finish({ namespace: ns, cleanup: [startAgent, unlabel] });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function exportLedger(file: string): Promise<LedgerRecord[]> {
    const r = await runPlugin({ args: ["audit", "export", "-o", file], env: pluginEnv });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(file, "utf8").trim().split("\n").map((l) => parseLine(Buffer.from(l)));
  }

  const attestationsOf = (records: readonly LedgerRecord[], member: string, uid: string) =>
    records.filter((r) => r.type === RecordType.Attestation).map((r) => (r.body as AttestationBody).attestation).filter((a) => a.member === member && a.workload.uid === uid);

  it("exports a trail that verifies clean with both members' attestations and the stopped agent's gap; a changed pod count is a finding naming its record", async function () {
    // Only these two members: a bare member (fr, de) another suite's in-process agent left
    // Ready for a few seconds would otherwise hold a replica nobody runs for the hour below.
    world.kubectl(["label", "--overwrite", "membercluster", RUNNING, STOPPED, `${TARGET_LABEL}=audited`]);
    world.apply([workloadManifest({
      namespace: ns, name, replicas: 2,
      residency: { allowedCountries: ["FR", "DE"], forbidExtraterritorialExposure: true, clusterSelector: { matchLabels: { [TARGET_LABEL]: "audited" } } },
      // One replica in each country: France (ovh-par-1) and Germany (ionos-fra-1).
      placement: { maxClusters: 2, spread: { minCountries: 2 } },
      // The replica stays on the stopped member: the trail must show silence, not a move.
      failover: { tolerationSeconds: 3600 },
    })]);
    const w = await world.untilStatus(ns, name, "Ready with one replica on each member", (x) =>
      x.status?.readyReplicas === 2 && (x.status?.placements ?? []).length === 2, 120_000);
    const uid = w.metadata.uid!;
    await world.untilPods(uid, { [RUNNING]: 1, [STOPPED]: 1 });
    const file = path.join(tmp, "trail.jsonl");
    // Both members attested the running pod before anything is stopped.
    await world.until("both members attested one ready pod", async () => {
      const records = await exportLedger(file);
      return [RUNNING, STOPPED].every((m) => attestationsOf(records, m, uid).some((a) => a.pods === 1));
    }, 90_000);

    world.component("stop", `agent-${STOPPED}`);
    let stoppedAt: number;
    try {
      stoppedAt = Date.now();
      // Long enough to be a gap (10 s period + 5 s slack): the running member attested three more periods meanwhile.
      await world.until(`${RUNNING} attested three periods while ${STOPPED}'s agent was stopped`, async () => {
        const records = await exportLedger(file);
        return attestationsOf(records, RUNNING, uid).filter((a) => Date.parse(a.observedAt) > stoppedAt + 1000).length >= 3;
      }, 120_000);
    } finally {
      world.component("start", `agent-${STOPPED}`);
    }
    await world.untilMemberReady(STOPPED, true, 90_000);
    await world.until(`${STOPPED} attested again after its restart`, async () => {
      const r = await exportLedger(file);
      return attestationsOf(r, STOPPED, uid).some((a) => Date.parse(a.observedAt) > stoppedAt + 15_000);
    }, 90_000);

    const verified = await runPlugin({ args: ["audit", "verify", file, ...PERIOD], env: pluginEnv });
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /No findings\./);
    const counts = Object.fromEntries([...verified.stdout.matchAll(/attested +(\S+): (\d+) attestations? signed by the member/g)].map((m) => [m[1], Number(m[2])]));
    assert.ok((counts[RUNNING] ?? 0) > 0 && (counts[STOPPED] ?? 0) > 0, verified.stdout);
    const gaps = [...verified.stdout.matchAll(/^ {2}gap (\S+) (\S+): (\S+) to (\S+) \((\d+)s\)$/gm)];
    const stoppedGap = gaps.find((g) => g[1] === STOPPED && g[2] === `${ns}/${name}`);
    assert.ok(stoppedGap, `a gap for ${STOPPED}'s ${ns}/${name}:\n${verified.stdout}`);
    assert.ok(Number(stoppedGap[5]) > 15, stoppedGap[0]);
    // Positive control of the gap's cause: the member whose agent kept running shows none for this workload.
    assert.ok(!gaps.some((g) => g[1] === RUNNING && g[2] === `${ns}/${name}`), verified.stdout);

    // Tamper: one of the stopped member's attestations now claims another pod count.
    const lines = readFileSync(file, "utf8").trim().split("\n");
    const at = lines.findIndex((l) => {
      const r = parseLine(Buffer.from(l));
      return r.type === RecordType.Attestation && (r.body as AttestationBody).attestation.member === STOPPED;
    });
    assert.ok(at >= 0);
    const target = parseLine(Buffer.from(lines[at]!));
    const body = target.body as AttestationBody;
    lines[at] = lineOf({ ...target, body: { ...body, attestation: { ...body.attestation, pods: body.attestation.pods + 3 } } });
    const tampered = path.join(tmp, "tampered.jsonl");
    writeFileSync(tampered, `${lines.join("\n")}\n`);
    const found = await runPlugin({ args: ["audit", "verify", tampered, ...PERIOD], env: pluginEnv });
    assert.equal(found.status, 1, found.stdout + found.stderr);
    assert.match(found.stdout, new RegExp(`line ${at + 1}, record ${target.id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*signature of the attestation does not verify`));
  });

  it("refuses an old attestation the member publishes again (a replay), and appends the member's new ones", async function () {
    const file = path.join(tmp, "replay.jsonl");
    const before = await exportLedger(file);
    const old = before.find((r) => r.type === RecordType.Attestation && (r.body as AttestationBody).attestation.member === RUNNING);
    assert.ok(old, "an attestation of the running member to replay");
    const dropped = async () => {
      const text = await (await fetch(world.env.controlPlaneMetricsUrl)).text();
      return Number(/^sovereign_attestations_dropped_total\{reason="replay"\} (\d+)/m.exec(text)?.[1] ?? "NaN");
    };
    const droppedBefore = await dropped();
    assert.ok(Number.isFinite(droppedBefore), "the control plane exports sovereign_attestations_dropped_total{reason=\"replay\"}");
    // The member's own identity: what it signed before, published again on its own subject.
    const client = await FederationClient.connect({
      servers: world.env.vars.NATS_URL!, identity: { member: RUNNING },
      secret: parseNatsSecret(readFileSync(world.env.vars.NATS_CREDS_OVH_PAR_1!, "utf8")), caPem: readFileSync(world.env.vars.NATS_CA!, "utf8"),
    });
    try {
      // A new Nats-Msg-Id: JetStream stores it, so it is the control plane that must refuse it.
      const b = old.body as AttestationBody;
      await client.js.publish(`sov.v1.${RUNNING}.attest.${b.attestation.workload.uid}`, canonicalBytes(b), { msgID: `replay-${Date.now()}` });
    } finally {
      await client.drain();
    }
    await world.until("the control plane counted the replay", async () => (await dropped()) > droppedBefore, 60_000);
    const after = await world.until("the running member's attestations still appended after the replay", async () => {
      const r = await exportLedger(file);
      const latest = Math.max(...before.filter((x) => x.type === RecordType.Attestation).map((x) => (x.body as AttestationBody).attestation.seq));
      return r.some((x) => x.type === RecordType.Attestation && (x.body as AttestationBody).attestation.member === RUNNING && (x.body as AttestationBody).attestation.seq > latest) ? r : false;
    }, 60_000);
    // Appended once only: the replayed seq is not in the chain twice.
    const seq = (old.body as AttestationBody).attestation.seq;
    assert.equal(after.filter((x) => x.type === RecordType.Attestation && (x.body as AttestationBody).attestation.member === RUNNING && (x.body as AttestationBody).attestation.seq === seq).length, 1);
    const verified = await runPlugin({ args: ["audit", "verify", file, ...PERIOD], env: pluginEnv });
    assert.equal(verified.status, 0, verified.stdout);
  });
});
