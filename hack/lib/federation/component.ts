/**
 * One server process of the local federation: how to start it and how to tell that it
 * is ready. Readiness is a condition polled with a deadline, never a fixed wait.
 */
export interface Component {
  /** Unique and human-readable: "etcd", "kube-apiserver (fr)". */
  name: string;
  binary: string;
  args: string[];
  log: string;
  /** Loopback ports it listens on, checked free before start. */
  ports: number[];
  /** Writes config files, keys and certificates; idempotent. */
  prepare?: () => Promise<void> | void;
  /**
   * True when a running process was started from a configuration that `prepare` would
   * now write differently (e.g. nats-server before TLS and auth); `up` restarts it.
   */
  outdated?: () => boolean;
  /** Runs right after `up` started the process (e.g. registers the nodes kwok will take over). */
  afterStart?: () => void;
  /** Runs once the component is ready in `up` (e.g. writes the kubeconfig). */
  onReady?: () => void;
  /** Resolves true once the component serves; no side effects (`status` calls it). */
  ready: () => Promise<boolean>;
  /** Shown by `status` beside the health. */
  endpoint: string;
}
