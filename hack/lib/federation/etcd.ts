import path from "node:path";
import type { Component } from "./component.ts";
import { httpGet } from "./http.ts";
import type { Layout } from "./layout.ts";

/** One etcd shared by every API server; each keeps its own --etcd-prefix. */
export function etcdComponent(opts: { layout: Layout; binary: string }): Component {
  const { layout } = opts;
  const client = `http://127.0.0.1:${layout.etcdClientPort}`;
  const peer = `http://127.0.0.1:${layout.etcdPeerPort}`;
  return {
    name: "etcd",
    binary: opts.binary,
    args: [
      "--name=federation",
      `--data-dir=${path.join(layout.stateDir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=federation=${peer}`,
      "--listen-metrics-urls=",
      "--quota-backend-bytes=4294967296",
      "--auto-compaction-mode=periodic",
      "--auto-compaction-retention=5m",
      // A throwaway test store: skipping fsync saves seconds per bring-up on a slow
      // disk and nothing here must survive a machine crash.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    log: path.join(layout.logDir, "etcd.log"),
    ports: [layout.etcdClientPort, layout.etcdPeerPort],
    endpoint: client,
    ready: async () => {
      const r = await httpGet({ url: `${client}/health` });
      return r.status === 200 && JSON.parse(r.body).health === "true";
    },
  };
}
