import assert from "node:assert/strict";
import fc from "fast-check";
import {
  auditStreamConfig, controlPlanePermissions, heartbeatsStreamConfig, statusStreamConfig, inboxPrefix, intentsConsumerConfig, intentsStreamConfig, InvalidNameError,
  LEGACY_STATUS_STREAM, memberAccount, memberAccountLimits, STATUS_STREAM_LIMITS, memberPermissions, memberServices, CONTROL_PLANE_ACCOUNT, parseSubject, streams, subjects, validateClusterName, validateCountry, validateWorkloadUid,
} from "../../../operator/src/federation/index.ts";

/** NATS wildcard match: '*' one token, '>' one or more trailing tokens. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

function permitted(list: { allow: string[]; deny?: string[] }, subject: string): boolean {
  // nats-server: deny wins over allow.
  return list.allow.some((a) => matches(a, subject)) && !(list.deny ?? []).some((d) => matches(d, subject));
}

const UID = "3f1c2a4e-7b7d-4a55-9c1e-0d8f6b9a1c20";

describe("federation subjects", () => {
  it("names every cluster subject under sov.v1.<cluster>, and audit subjects under their own root", () => {
    assert.equal(subjects.intent("fr", UID), `sov.v1.fr.intents.${UID}`);
    assert.equal(subjects.intentsAll("fr"), "sov.v1.fr.intents.*");
    assert.equal(subjects.heartbeat("ovh-par-1"), "sov.v1.ovh-par-1.heartbeat");
    assert.equal(subjects.status("de", UID), `sov.v1.de.status.${UID}`);
    assert.equal(subjects.audit("FR"), "sov.audit.v1.FR");
    assert.equal(streams.intents("fr"), "sov-intents-fr");
    assert.equal(streams.intentsConsumer("fr"), "sov-agent-fr");
  });

  it("parses back what it produces, and nothing else", () => {
    assert.deepEqual(parseSubject(subjects.intent("fr", UID)), { kind: "intent", cluster: "fr", workloadUid: UID });
    assert.deepEqual(parseSubject(subjects.status("de", UID)), { kind: "status", cluster: "de", workloadUid: UID });
    assert.deepEqual(parseSubject(subjects.heartbeat("fr")), { kind: "heartbeat", cluster: "fr" });
    assert.deepEqual(parseSubject(subjects.audit("DE")), { kind: "audit", country: "DE" });
    for (const s of ["sov.v1.fr.intents", "sov.v2.fr.heartbeat", "sov.v1.FR.heartbeat", "sov.v1.fr.intents.a.b", "sov.v1.*.heartbeat", "sov.audit.v1.fr", "sov.v1.audit.FR", "x.v1.fr.heartbeat"]) {
      assert.equal(parseSubject(s), undefined, s);
    }
  });

  for (const [bad, why] of [
    ["", /empty/], ["fr.de", /DNS-1123/], ["fr*", /DNS-1123/], ["*", /DNS-1123/], [">", /DNS-1123/], ["fr >", /DNS-1123/],
    ["FR", /DNS-1123/], ["-fr", /DNS-1123/], ["fr-", /DNS-1123/], ["fr\n", /DNS-1123/], ["fr\tde", /DNS-1123/], ["a".repeat(64), /longer than 63/],
    ["audit", /reserved/], ["control-plane", /reserved/], ["cp", /reserved/], ["admin", /reserved/], ["all", /reserved/],
  ] as const) {
    it(`refuses cluster name ${JSON.stringify(bad)} before it reaches a subject`, () => {
      for (const make of [() => subjects.heartbeat(bad), () => subjects.intent(bad, UID), () => streams.intents(bad), () => memberPermissions(bad), () => inboxPrefix({ member: bad })]) {
        assert.throws(make, (err: unknown) => err instanceof InvalidNameError && err.retryable === false && why.test(err.message) && err.field === "cluster");
      }
    });
  }

  it("gives every identity an inbox prefix no other identity's prefix equals or overlaps, whatever the member is called", () => {
    // A member called "cp" once got the control plane's inbox, hence its replies.
    const members = ["fr", "de", "fr-2", "m", "sov", "inbox", "c", "p", "cp", "cp-1", "x-cp", "control", "plane", "admin"];
    const prefixes = [inboxPrefix("control-plane")];
    for (const m of members) {
      try {
        prefixes.push(inboxPrefix({ member: m }));
      } catch (err) {
        assert.ok(err instanceof InvalidNameError && /reserved/.test(err.message), m); // refused is fine, colliding is not
      }
    }
    assert.equal(new Set(prefixes).size, prefixes.length);
    for (const a of prefixes) {
      assert.ok(!a.includes("*") && !a.includes(">") && !a.includes(" "), a);
      for (const b of prefixes) {
        if (a === b) continue;
        // Each identity subscribes to `<prefix>.>`: no subject under one may be under another.
        assert.ok(!matches(`${a}.>`, `${b}.x`) && !matches(`${b}.>`, `${a}.x`), `${a} overlaps ${b}`);
      }
    }
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), (m) => {
      let p: string;
      try {
        p = inboxPrefix({ member: m });
      } catch {
        return true;
      }
      return !matches(`${p}.>`, `${inboxPrefix("control-plane")}.x`) && !matches(`${inboxPrefix("control-plane")}.>`, `${p}.x`);
    }));
  });

  it("refuses workload uids and countries that are not single safe tokens", () => {
    for (const bad of ["", "a.b", "*", ">", "a b", "a\r\nPUB x 1"]) assert.throws(() => validateWorkloadUid(bad), InvalidNameError);
    for (const bad of ["fr", "FRA", "F", "*", "F.R", ""]) assert.throws(() => validateCountry(bad), InvalidNameError);
    assert.equal(validateWorkloadUid(UID), UID);
    assert.equal(validateCountry("FR"), "FR");
  });

  it("never yields a subject with a wildcard or an extra token, whatever the input (property)", () => {
    fc.assert(fc.property(fc.string(), fc.string(), (cluster, uid) => {
      let subject: string;
      try {
        subject = subjects.intent(cluster, uid);
      } catch (err) {
        assert.ok(err instanceof InvalidNameError);
        return;
      }
      assert.equal(subject.split(".").length, 5);
      assert.doesNotMatch(subject, /[*>\s]/);
      assert.equal(validateClusterName(cluster), cluster);
    }));
  });
});

describe("federation permissions", () => {
  const fr = memberPermissions("fr");
  const cp = controlPlanePermissions();

  it("lets member fr publish only its own heartbeat and status, and pull and ack only its own intents", () => {
    for (const s of [subjects.heartbeat("fr"), subjects.status("fr", UID), "$JS.API.CONSUMER.MSG.NEXT.sov-intents-fr.sov-agent-fr",
      "$JS.API.CONSUMER.INFO.sov-intents-fr.sov-agent-fr", "$JS.ACK.sov-intents-fr.sov-agent-fr.1.5.5.1700000000000000000.0"]) {
      assert.ok(permitted(fr.publish, s), `fr should publish ${s}`);
    }
    for (const s of [subjects.heartbeat("de"), subjects.status("de", UID), subjects.intent("fr", UID), subjects.intent("de", UID), subjects.audit("FR"),
      "$JS.API.CONSUMER.MSG.NEXT.sov-intents-de.sov-agent-de", "$JS.API.CONSUMER.INFO.sov-intents-de.sov-agent-de",
      "$JS.ACK.sov-intents-de.sov-agent-de.1.5.5.1.0", "$JS.API.STREAM.INFO.sov-intents-de", "$JS.API.STREAM.MSG.GET.sov-intents-de",
      "$JS.API.CONSUMER.CREATE.sov-intents-fr.x", "$JS.API.STREAM.PURGE.sov-intents-fr", "$JS.API.DIRECT.GET.sov-intents-de", "_INBOX.abc"]) {
      assert.ok(!permitted(fr.publish, s), `fr must not publish ${s}`);
    }
  });

  it("lets member fr subscribe only to its own inbox: never another member's inbox or any sov subject", () => {
    assert.ok(permitted(fr.subscribe, `${inboxPrefix({ member: "fr" })}.abc.1`));
    for (const s of [`${inboxPrefix({ member: "de" })}.abc.1`, `${inboxPrefix("control-plane")}.x`, "_INBOX.abc", subjects.intent("de", UID), subjects.intent("fr", UID), subjects.heartbeat("de"), "sov.v1.>", ">"]) {
      assert.ok(!permitted(fr.subscribe, s), `fr must not subscribe ${s}`);
    }
  });

  it("does not confuse members whose names share a prefix (fr and fr-2)", () => {
    const fr2 = memberPermissions("fr-2");
    assert.ok(!permitted(fr.publish, subjects.heartbeat("fr-2")));
    assert.ok(!permitted(fr2.publish, subjects.heartbeat("fr")));
    assert.ok(!permitted(fr.subscribe, `${inboxPrefix({ member: "fr-2" })}.x`));
  });

  it("lets the control plane publish intents and audit and read everything, but never speak for a member", () => {
    for (const s of [subjects.intent("de", UID), subjects.audit("DE"), "$JS.API.STREAM.CREATE.sov-audit", "$JS.ACK.sov-status.cp.1.1.1.1.0"]) {
      assert.ok(permitted(cp.publish, s), s);
    }
    for (const s of [subjects.heartbeat("fr"), subjects.status("fr", UID)]) assert.ok(!permitted(cp.publish, s), s);
    for (const s of [subjects.heartbeat("fr"), subjects.status("de", UID), subjects.intent("fr", UID), subjects.audit("DE"), `${inboxPrefix("control-plane")}.x`]) {
      assert.ok(permitted(cp.subscribe, s), s);
    }
  });
});

describe("federation NATS accounts", () => {
  it("gives every member its own account, never the control plane's", () => {
    const names = ["fr", "de", "fr-2", "fr2", "it"].map((m) => memberAccount(m));
    assert.deepEqual(names.slice(0, 3), ["MEMBER_FR", "MEMBER_DE", "MEMBER_FR_2"]);
    assert.equal(new Set([...names, CONTROL_PLANE_ACCOUNT]).size, names.length + 1);
  });

  it("lets a member import only its own consumer, acks, heartbeat and status, and publish none of the import-only ones", () => {
    const fr = memberServices("fr");
    for (const s of [subjects.heartbeat("de"), subjects.status("de", UID), subjects.intent("fr", UID), subjects.audit("FR"),
      "$JS.API.CONSUMER.MSG.NEXT.sov-intents-de.sov-agent-de", "$JS.ACK.sov-intents-de.sov-agent-de.1.1.1.1.0", "$JS.API.STREAM.INFO.sov-intents-fr"]) {
      assert.ok(!fr.some((svc) => matches(svc.subject, s)), `fr imports ${s}`);
    }
    // Pulled messages come as many answers to one request.
    assert.equal(fr.find((svc) => svc.subject.startsWith("$JS.API.CONSUMER.MSG.NEXT."))?.responseType, "stream");
    const perms = memberPermissions("fr");
    for (const svc of fr) assert.equal(permitted(perms.publish, svc.subject.replace(/>$/, "x")), !svc.importOnly, svc.subject);
    assert.ok(!permitted(perms.publish, "$JS.API.INFO"));
  });
});

describe("federation streams", () => {
  it("bounds the streams members write to, in bytes, message size, messages per subject and age", () => {
    for (const config of [heartbeatsStreamConfig(), statusStreamConfig("fr")]) {
      assert.ok((config.max_bytes ?? -1) > 0, `${config.name} max_bytes`);
      assert.ok((config.max_msgs ?? -1) > 0, `${config.name} max_msgs`);
      assert.ok((config.max_msg_size ?? -1) > 0, `${config.name} max_msg_size`);
      assert.equal(config.max_msgs_per_subject, 1, `${config.name} max_msgs_per_subject`);
      assert.ok((config.max_age ?? 0) > 0, `${config.name} max_age`);
    }
  });

  it("gives each member a status stream of its own, covering its status subjects only, so its flood evicts only its own reports", () => {
    const fr = statusStreamConfig("fr");
    const de = statusStreamConfig("de");
    assert.notEqual(fr.name, de.name);
    assert.deepEqual(fr.subjects, [subjects.statusAll("fr")]);
    assert.ok(fr.subjects!.every((s) => s.startsWith("sov.v1.fr.")), "no wildcard in the cluster token");
    assert.equal(fr.discard, "old", "a full stream drops the member's own oldest, never refuses its new reports");
    assert.equal(fr.max_msgs, STATUS_STREAM_LIMITS.maxMsgs);
    assert.notEqual(fr.name, LEGACY_STATUS_STREAM);
  });

  it("limits what one member's connection may send and hold", () => {
    const l = memberAccountLimits();
    assert.ok(l.maxPayload > 0 && l.maxPayload <= 1024 * 1024);
    assert.ok((statusStreamConfig("fr").max_msg_size ?? 0) >= l.maxPayload, "a status the member may send is one the stream accepts");
    assert.ok(l.maxSubscriptions > 0 && l.maxSubscriptions <= 1000);
    assert.ok(l.maxConnections > 0);
  });

  it("never overlap each other's subjects (JetStream refuses overlapping streams)", () => {
    const filters = [
      ...["fr", "de", "audit-x", "heartbeat", "status"].flatMap((m) => [...intentsStreamConfig(m).subjects ?? [], ...statusStreamConfig(m).subjects ?? []]),
      ...(heartbeatsStreamConfig().subjects ?? []), ...(auditStreamConfig().subjects ?? []),
    ];
    // Two filters overlap when some subject matches both: token by token, '*' matches anything.
    const overlap = (a: string, b: string) => {
      const x = a.split(".");
      const y = b.split(".");
      return x.length === y.length && x.every((t, i) => t === "*" || y[i] === "*" || t === y[i]);
    };
    for (const [i, a] of filters.entries()) for (const b of filters.slice(i + 1)) assert.ok(!overlap(a, b), `${a} overlaps ${b}`);
  });

  it("keeps the newest intent per workload, durably on file, acked explicitly and redelivered without limit", () => {
    const s = intentsStreamConfig("fr");
    assert.equal(s.name, "sov-intents-fr");
    assert.deepEqual(s.subjects, ["sov.v1.fr.intents.*"]);
    assert.equal(s.storage, "file");
    assert.equal(s.max_msgs_per_subject, 1);
    const c = intentsConsumerConfig("fr", { ackWaitMs: 1500 });
    assert.equal(c.durable_name, "sov-agent-fr");
    assert.equal(c.ack_policy, "explicit");
    assert.equal(c.ack_wait, 1_500_000_000);
    assert.equal(c.max_deliver, -1);
  });

  it("keeps audit records on file by age, refusing deletes and purges", () => {
    const a = auditStreamConfig({ auditRetentionDays: 10 });
    assert.equal(a.storage, "file");
    assert.equal(a.max_age, 10 * 86_400 * 1e9);
    assert.equal(a.deny_delete, true);
    assert.equal(a.deny_purge, true);
    assert.deepEqual(a.subjects, ["sov.audit.v1.*"]);
  });
});
