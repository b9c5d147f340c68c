import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { kwokComponent, OWN_KWOK_STAGES_DIR } from "../../../hack/lib/federation/kwok.ts";
import { makeLayout } from "../../../hack/lib/federation/layout.ts";
import type { Tools } from "../../../hack/lib/federation/tools.ts";

interface Stage {
  kind: string;
  metadata: { name: string };
  spec: { resourceRef: { kind: string }; selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] }; next: { statusTemplate: string } };
}

// The integration test (test/integration/local-federation/kwok-readiness.test.ts) shows the
// stage at work after a real outage; this one that every kwok gets it, and what it selects.
describe("hack/federation: our kwok stage that sets pods Ready again after an API server outage", function () {
  const stage = parse(readFileSync(path.join(OWN_KWOK_STAGES_DIR, "pod-ready-again.yaml"), "utf8")) as Stage;

  it("selects only live Running pods whose Ready condition is False, and sets it True", function () {
    assert.equal(stage.kind, "Stage");
    assert.equal(stage.spec.resourceRef.kind, "Pod");
    const byKey = new Map(stage.spec.selector.matchExpressions.map((e) => [e.key, e]));
    assert.equal(byKey.get(".metadata.deletionTimestamp")?.operator, "DoesNotExist");
    assert.deepEqual(byKey.get(".status.phase")?.values, ["Running"], "Pending pods are kwok's own pod-ready stage's");
    const ready = byKey.get('.status.conditions.[] | select( .type == "Ready" ) | .status');
    assert.deepEqual([ready?.operator, ready?.values], ["In", ["False"]]);
    assert.match(stage.spec.next.statusTemplate, /range \.status\.conditions/);
    assert.match(stage.spec.next.statusTemplate, /status: "True"/);
  });

  it("is passed to every member's kwok after kwok's stock stages", function () {
    const stock = mkdtempSync(path.join(os.tmpdir(), "kwok-stages-"));
    for (const f of ["pod-ready.yaml", "node-initialize.yaml"]) writeFileSync(path.join(stock, f), "");
    const tools = { kwok: "/bin/kwok", kwokStages: stock } as Tools;
    const layout = makeLayout({ root: "/r", stateDir: "/r/.federation", basePort: 30000, members: ["fr", "de"], nodesPerMember: 2 });
    for (const cluster of layout.clusters.filter((c) => c.role === "member")) {
      const configs = kwokComponent({ layout, cluster, tools }).args.filter((a) => a.startsWith("--config=")).map((a) => a.slice("--config=".length));
      assert.deepEqual(configs, [path.join(stock, "node-initialize.yaml"), path.join(stock, "pod-ready.yaml"), path.join(OWN_KWOK_STAGES_DIR, "pod-ready-again.yaml")], cluster.name);
    }
  });
});
