import assert from "node:assert/strict";
import fc from "fast-check";
import { validMemberCluster, validResidencyPolicy, validSovereignWorkload } from "../support/bad-manifests.ts";
import { readFederationEnv } from "../integration/env.ts";
import type { FederationEnv } from "../integration/env.ts";
import { connectAs, ensureMemberClusters } from "../integration/federation/helpers.ts";
import { memberStreamClusters } from "../../operator/src/federation/index.ts";
import {
  controlPlaneStart, fcParams, fieldsNamed, hostHttp, mutatedManifest, namesAField, reportRate, runsFor, suiteTimeout, until,
  type Doc, type HostHttp, type Mutation,
} from "./support/fuzz.ts";

/**
 * Mutated SovereignWorkloads, ResidencyPolicies and MemberClusters through the real host
 * API server (its CRD schemas, CEL rules and the workload admission): each is accepted,
 * or refused with a 4xx whose message names a field the case broke; never a 5xx. The
 * accepted ones go to the real control plane, which must stay up (same process, /healthz
 * answering) and give every accepted workload a Scheduled condition. Every object is
 * deleted again.
 */

const NAMESPACE = "fuzz";
const LABELS = { "test.sovereignty.eu/suite": "fuzz" };
const GROUP = "/apis/sovereignty.eu/v1alpha1";

interface Kind {
  title: string;
  base: () => Doc;
  collection: string;
  namePrefix: string;
}

function withMeta(doc: Doc, name: string, namespaced: boolean): Doc {
  const metadata = { name, labels: LABELS, ...(namespaced ? { namespace: NAMESPACE } : {}) };
  return { ...doc, metadata };
}

const workloadBase = (): Doc => {
  const d = validSovereignWorkload("fuzz-base") as Doc;
  const spec = d.spec as Record<string, unknown>;
  // Quantities to break, and a policy that exists, so accepted cases reach the scheduler proper.
  const template = spec.template as { spec: { containers: Record<string, unknown>[] } };
  template.spec.containers[0]!.resources = { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } };
  spec.residencyPolicy = "fuzz-policy";
  spec.replicas = 2;
  spec.failover = { enabled: true, tolerationSeconds: 30 };
  return withMeta(d, "fuzz-base", true);
};

const KINDS: Kind[] = [
  { title: "SovereignWorkload", base: workloadBase, collection: `${GROUP}/namespaces/${NAMESPACE}/sovereignworkloads`, namePrefix: "fuzz-swl" },
  { title: "ResidencyPolicy", base: () => withMeta(validResidencyPolicy("fuzz-base") as Doc, "fuzz-base", false), collection: `${GROUP}/residencypolicies`, namePrefix: "fuzz-rp" },
  { title: "MemberCluster", base: () => withMeta(validMemberCluster("fuzz-base") as Doc, "fuzz-base", false), collection: `${GROUP}/memberclusters`, namePrefix: "fuzz-mc" },
];

interface Refusal {
  code: number;
  message: string;
}

function refusalOf(body: string): Refusal {
  try {
    const s = JSON.parse(body) as { code?: number; message?: string };
    return { code: s.code ?? 0, message: s.message ?? body };
  } catch {
    return { code: 0, message: body };
  }
}

describe("fuzz: mutated manifests through the real host API server", function () {
  this.timeout(suiteTimeout("apiServer"));
  let env: FederationEnv;
  let http: HostHttp;
  let startedAt = 0;
  /** Accepted SovereignWorkloads, kept until their Scheduled condition is checked. */
  const accepted: string[] = [];
  /** What each accepted workload's case changed, to print when one gets no condition. */
  const mutationsOf = new Map<string, Mutation[]>();
  /** Everything created, by URL, deleted in after() whatever happened. */
  const created = new Set<string>();
  let counter = 0;

  async function remove(url: string): Promise<void> {
    const r = await http.send("DELETE", url);
    if (r.status >= 500) throw new Error(`DELETE ${url}: ${r.status} ${r.body}`);
    created.delete(url);
  }

  before(async () => {
    env = readFederationEnv();
    ensureMemberClusters(env);
    http = hostHttp(env.hostKubeconfig);
    const ns = await http.send("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
    assert.ok(ns.status === 201 || ns.status === 409, `namespace ${NAMESPACE}: ${ns.status} ${ns.body}`);
    const policy = { apiVersion: "sovereignty.eu/v1alpha1", kind: "ResidencyPolicy", metadata: { name: "fuzz-policy", labels: LABELS }, spec: { allowedCountries: ["FR"], allowedJurisdictions: ["EU"] } };
    const p = await http.send("POST", `${GROUP}/residencypolicies`, policy);
    assert.ok(p.status === 201 || p.status === 409, `fuzz-policy: ${p.status} ${p.body}`);
    startedAt = await controlPlaneStart(env.controlPlaneMetricsUrl);
  });

  after(async function () {
    this.timeout(180_000 + created.size * 50);
    if (!http) return;
    for (const url of [...created]) await remove(url).catch(() => undefined);
    await http.send("DELETE", `${GROUP}/residencypolicies/fuzz-policy`).catch(() => undefined);
  });

  for (const kind of KINDS) {
    it(`${kind.title}: accepted, or refused with a 4xx naming a field it broke; never a 5xx`, async () => {
      // Control: the base itself is accepted, so a refusal below comes from a mutation.
      const controlName = `${kind.namePrefix}-control-${process.pid}`;
      const c = await http.send("POST", kind.collection, withMeta(kind.base(), controlName, kind.collection.includes("/namespaces/")));
      assert.equal(c.status, 201, `the unmutated ${kind.title} is accepted: ${c.body}`);
      created.add(`${kind.collection}/${controlName}`);
      await remove(`${kind.collection}/${controlName}`);

      const runs = Math.max(1, Math.round(runsFor("apiServer") / KINDS.length));
      const t0 = performance.now();
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(mutatedManifest(kind.base), async ({ doc, mutations }: { doc: Doc; mutations: Mutation[] }) => {
          const name = `${kind.namePrefix}-${process.pid}-${++counter}`;
          const body = withMeta(doc, name, kind.collection.includes("/namespaces/"));
          const r = await http.send("POST", `${kind.collection}?fieldValidation=Strict`, body);
          assert.ok(r.status < 500, `5xx from the API server: ${r.status} ${r.body}`);
          if (r.status === 201) {
            const url = `${kind.collection}/${name}`;
            created.add(url);
            if (kind.title === "SovereignWorkload") {
              accepted.push(name);
              mutationsOf.set(name, mutations);
            }
            else await remove(url);
            return;
          }
          refused++;
          const refusal = refusalOf(r.body);
          assert.ok(r.status >= 400, `neither accepted nor refused: ${r.status} ${r.body}`);
          const fields = fieldsNamed(mutations);
          assert.ok(namesAField(refusal.message, fields), `refused (${r.status}) without naming any of ${JSON.stringify(fields)}: ${refusal.message}`);
        }),
        { ...fcParams("apiServer"), numRuns: runs },
      );
      reportRate(`API server ${kind.title} (${refused} refused)`, runs, t0);
      if (kind.title === "MemberCluster") {
        // Each accepted member got NATS streams from the control plane, which reserve storage
        // on the server: deleted again, they go (repeated runs would use the reservation up).
        const cp = await connectAs(env, "control-plane");
        try {
          const jsm = await cp.manager();
          const mine = async () => (await memberStreamClusters(jsm)).filter((c) => c.startsWith(`${kind.namePrefix}-${process.pid}-`));
          const left = await mine();
          await until(`the NATS streams of the ${left.length} fuzzed members still listed removed`, 120_000, async () => ((await mine()).length === 0 ? true : undefined));
        } finally {
          await cp.drain().catch(() => undefined);
        }
      }
      assert.equal(await controlPlaneStart(env.controlPlaneMetricsUrl), startedAt, "the control plane was not restarted (same process start time) and answers /healthz");
    });
  }

  it("the control plane stays up and gives every accepted workload a Scheduled condition", async function () {
    const url = (name: string) => `${GROUP}/namespaces/${NAMESPACE}/sovereignworkloads/${name}`;
    // Deadlines grow with the count: 100,000 cases accept thousands of workloads.
    const deadlineMs = 120_000 + accepted.length * 50;
    this.timeout(2 * deadlineMs + 120_000);
    let missing: string[] = [];
    const noCondition = await until("a Scheduled condition on every accepted workload", deadlineMs, async () => {
      // The whole namespace (the suite's own): a case may have changed the labels.
      const r = await http.send("GET", `${GROUP}/namespaces/${NAMESPACE}/sovereignworkloads`);
      type Listed = { metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
      const byName = new Map((JSON.parse(r.body) as { items: Listed[] }).items.map((w) => [w.metadata.name, w]));
      missing = [];
      for (const name of accepted) {
        const scheduled = byName.get(name)?.status?.conditions?.find((x) => x.type === "Scheduled");
        if (!scheduled) missing.push(name);
        // When it cannot schedule, it says why.
        else if (scheduled.status === "False") assert.ok(scheduled.reason && scheduled.message, `${name}: Scheduled=False without reason and message`);
      }
      return missing.length === 0 ? missing : undefined;
    }).catch((err: unknown) => {
      const shown = missing.slice(0, 5).map((n) => `${n}: ${JSON.stringify(mutationsOf.get(n)).slice(0, 400)}`);
      throw new Error(`${String(err)}: ${missing.length} of ${accepted.length} without one, e.g.\n${shown.join("\n")}`);
    });
    assert.deepEqual(noCondition, []);
    console.log(`      ${accepted.length} mutated workloads accepted, each with a Scheduled condition`);
    assert.equal(await controlPlaneStart(env.controlPlaneMetricsUrl), startedAt, "the control plane was not restarted");
    for (const name of accepted) await remove(url(name));
    await until("every fuzzed workload deleted (finalizers done)", deadlineMs, async () => {
      const r = await http.send("GET", `${GROUP}/namespaces/${NAMESPACE}/sovereignworkloads?labelSelector=test.sovereignty.eu%2Fsuite%3Dfuzz`);
      return (JSON.parse(r.body) as { items: unknown[] }).items.length === 0 || undefined;
    });
  });
});
