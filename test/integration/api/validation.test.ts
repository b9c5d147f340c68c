import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { BAD_CREATES, set, TEST_NAMESPACE, UNKNOWN_FIELDS, validMemberCluster, validResidencyPolicy, validSovereignWorkload } from "../../support/bad-manifests.ts";
import { host, installCrds } from "./kube.ts";
import type { Host } from "./kube.ts";

const SUITE = "test.sovereignty.eu/suite=api";
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("validation on the host API server", () => {
  let kube: Host;
  const run = randomBytes(3).toString("hex");

  function cleanup(): void {
    kube.run(["delete", "mc,rp", "-l", SUITE, "--ignore-not-found", "--wait=false"]);
    kube.run(["delete", "swl", "-n", TEST_NAMESPACE, "-l", SUITE, "--ignore-not-found", "--wait=false"]);
  }

  before(async () => {
    kube = host();
    await installCrds(kube);
    kube.run(["create", "namespace", TEST_NAMESPACE]);
    cleanup();
  });

  // Each test's objects go after it, so no test depends on what another left.
  afterEach(() => cleanup());

  it("accepts the valid base objects the bad ones are derived from (the control)", () => {
    for (const doc of [validMemberCluster(`ok-${run}`), validResidencyPolicy(`ok-${run}`), validSovereignWorkload(`ok-${run}`)]) {
      kube.ok(["create", "-f", "-"], JSON.stringify(doc));
    }
  });

  it(`has at least 30 bad manifests in its table (${BAD_CREATES.length})`, () => {
    assert.ok(BAD_CREATES.length >= 30);
  });

  BAD_CREATES.forEach((c, i) => {
    it(`rejects ${c.title}, naming ${c.field}`, () => {
      const doc = c.build(`bad-${i}-${run}`);
      if (c.rawPath) {
        // kubectl maps apiVersion and kind to a served resource first, and refuses to send this at all.
        const mapped = kube.run(["create", "-f", "-"], JSON.stringify(doc));
        assert.notEqual(mapped.status, 0, `kubectl created it: ${mapped.stdout}`);
        assert.match(mapped.stderr, new RegExp(`no matches for kind "${String(doc.kind)}" in version "${escape(String(doc.apiVersion))}"`), mapped.stderr);
        // The API server itself, posted the same body on the served version's path.
        const raw = kube.run(["create", "--raw", c.rawPath, "-f", "-"], JSON.stringify(doc));
        assert.notEqual(raw.status, 0, `the API server accepted it: ${raw.stdout}`);
        assert.match(raw.stderr, /Error from server \(BadRequest\)/, raw.stderr);
        assert.match(raw.stderr, c.reason, raw.stderr);
        return;
      }
      const r = kube.run(["create", ...(c.validate ? [`--validate=${c.validate}`] : []), "-f", "-"], JSON.stringify(doc));
      assert.notEqual(r.status, 0, `the API server accepted it: ${r.stdout}`);
      if (c.strictDecoding) {
        assert.match(r.stderr, /Error from server \(BadRequest\)/, r.stderr);
        assert.match(r.stderr, new RegExp(`"${escape(c.field)}[".]`), `the message does not name ${c.field}: ${r.stderr}`);
      } else {
        assert.match(r.stderr, / is invalid: /, r.stderr);
        assert.match(r.stderr, new RegExp(`${escape(c.field)}: `), `the message does not name ${c.field}: ${r.stderr}`);
      }
      assert.match(r.stderr, c.reason, r.stderr);
    });
  });

  describe("unknown fields", () => {
    UNKNOWN_FIELDS.forEach((c, i) => {
      it(`rejects ${c.title} under strict field validation (kubectl's default --validate=strict)`, () => {
        const r = kube.run(["create", "--validate=strict", "-f", "-"], JSON.stringify(c.build(`unknown-strict-${i}-${run}`)));
        assert.notEqual(r.status, 0, r.stdout);
        assert.match(r.stderr, new RegExp(`unknown field "${escape(c.field)}"`), r.stderr);
      });

      it(`prunes ${c.title} without strict validation (--validate=false): accepted, and the field is not stored`, () => {
        const doc = c.build(`unknown-pruned-${i}-${run}`);
        const r = kube.run(["create", "--validate=false", "-o", "json", "-f", "-"], JSON.stringify(doc));
        assert.equal(r.status, 0, r.stderr);
        let stored: unknown = JSON.parse(r.stdout);
        for (const key of c.storedPath.slice(0, -1)) stored = (stored as Record<string, unknown>)[key];
        assert.ok(stored && typeof stored === "object", "the parent of the unknown field is kept");
        assert.equal(c.storedPath.at(-1)! in stored, false, `${c.field} was stored`);
      });
    });

    it("keeps unknown fields inside the pod template's spec, which the member cluster validates", () => {
      const doc = set(validSovereignWorkload(`podspec-${run}`), "spec.template.spec.containers[0].ports", [{ containerPort: 8080 }]);
      const out = JSON.parse(kube.ok(["create", "-o", "json", "-f", "-"], JSON.stringify(doc))) as { spec: { template: { spec: { containers: Array<{ ports?: unknown }> } } } };
      assert.deepEqual(out.spec.template.spec.containers[0]?.ports, [{ containerPort: 8080 }]);
    });
  });

  describe("a MemberCluster's residency after creation", () => {
    let created = 0;
    let name = "";
    beforeEach(() => {
      name = `immutable-${run}-${++created}`;
      kube.ok(["create", "-f", "-"], JSON.stringify(validMemberCluster(name)));
    });

    it("refuses a change of country, naming spec.residency.country", () => {
      const r = kube.run(["patch", "mc", name, "--type=merge", "-p", JSON.stringify({ spec: { residency: { country: "DE" } } })]);
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stderr, /spec\.residency\.country: Invalid value: "string": spec\.residency\.country is immutable/);
    });

    it("refuses a change of jurisdiction, naming spec.residency.jurisdiction", () => {
      const r = kube.run(["patch", "mc", name, "--type=merge", "-p", JSON.stringify({ spec: { residency: { jurisdiction: "NONE" } } })]);
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stderr, /spec\.residency\.jurisdiction: Invalid value: "string": spec\.residency\.jurisdiction is immutable/);
    });

    it("accepts new certifications, a renewed validUntil, a new region and taints", () => {
      kube.ok(["patch", "mc", name, "--type=merge", "-p", JSON.stringify({
        spec: { residency: { region: "eu-west-par-2", certifications: [{ name: "SecNumCloud", version: "3.2", validUntil: "2029-06-30" }, { name: "HDS", validUntil: "2028-01-15" }] }, taints: [] },
      })]);
      const stored = JSON.parse(kube.ok(["get", "mc", name, "-o", "jsonpath={.spec.residency}"])) as { country: string; certifications: Array<{ name: string }> };
      assert.equal(stored.country, "FR");
      assert.deepEqual(stored.certifications.map((c) => c.name), ["SecNumCloud", "HDS"]);
    });
  });
});
