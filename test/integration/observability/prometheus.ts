import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { waitFor } from "../../../operator/src/runtime/wait.ts";
import { freePort } from "../../support/processes.ts";

/**
 * A real Prometheus (Debian's /usr/bin/prometheus) started by a test: its own config and
 * storage in a temp folder, loopback only, and a small client for the HTTP API.
 */

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";

export interface ScrapeTarget {
  job: string;
  /** http://host:port/path */
  url: string;
  labels?: Record<string, string>;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
}

export interface RuleState {
  name: string;
  type: "alerting" | "recording";
  health: string;
  lastError?: string;
  state?: string;
  alerts?: { labels: Record<string, string>; state: string }[];
}

/** The query failed on the server (bad PromQL, evaluation error): not "no data". */
export class PrometheusQueryError extends Error {
  override readonly name = "PrometheusQueryError";
  readonly retryable = false;
}

function scrapeConfigs(targets: readonly ScrapeTarget[]): object[] {
  const jobs = new Map<string, ScrapeTarget[]>();
  for (const t of targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t]);
  return [...jobs].map(([job, ts]) => {
    const paths = new Set(ts.map((t) => new URL(t.url).pathname));
    if (paths.size !== 1) throw new Error(`job ${job}: targets with different metrics paths (${[...paths].join(", ")})`);
    return {
      job_name: job,
      metrics_path: [...paths][0],
      static_configs: ts.map((t) => ({ targets: [new URL(t.url).host], ...(t.labels ? { labels: t.labels } : {}) })),
    };
  });
}

export class Prometheus {
  readonly url: string;
  readonly dir: string;
  readonly log: string;
  readonly #proc: ChildProcess;

  private constructor(opts: { url: string; dir: string; log: string; proc: ChildProcess }) {
    this.url = opts.url;
    this.dir = opts.dir;
    this.log = opts.log;
    this.#proc = opts.proc;
  }

  static async start(opts: { targets: readonly ScrapeTarget[]; ruleFiles: readonly string[]; scrapeIntervalSeconds: number; timeoutMs?: number }): Promise<Prometheus> {
    if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} not found (apt-get install prometheus, or set PROMETHEUS_BIN)`);
    const dir = mkdtempSync(path.join(tmpdir(), "sovereign-prometheus-"));
    const config = path.join(dir, "prometheus.yml");
    const interval = `${opts.scrapeIntervalSeconds}s`;
    writeFileSync(config, stringify({
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: opts.ruleFiles,
      scrape_configs: scrapeConfigs(opts.targets),
    }));
    const port = await freePort();
    const log = path.join(dir, "prometheus.log");
    const out = createWriteStream(log);
    const proc = spawn(PROMETHEUS_BIN, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=2h",
      `--web.console.templates=${dir}`,
      `--web.console.libraries=${dir}`,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.pipe(out);
    proc.stderr?.pipe(out);
    const prom = new Prometheus({ url: `http://127.0.0.1:${port}`, dir, log, proc });
    try {
      await waitFor(async () => {
        if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}; log: ${log}`);
        return (await fetch(`${prom.url}/-/ready`)).ok;
      }, { what: `prometheus ready on ${prom.url} (log: ${log})`, timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 200 });
    } catch (err) {
      await prom.stop({ keepDir: true });
      throw err;
    }
    return prom;
  }

  async #api<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${this.url}${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== "success") throw new PrometheusQueryError(`${pathAndQuery}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** An instant query; throws on a PromQL or evaluation error, returns [] for no data. */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.#api<{ resultType: string; result: Sample[] | [number, string] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (data.resultType === "scalar") return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as Sample[];
  }

  async targets(): Promise<ActiveTarget[]> {
    return (await this.#api<{ activeTargets: ActiveTarget[] }>("/api/v1/targets?state=active")).activeTargets;
  }

  async rules(): Promise<RuleState[]> {
    return (await this.#api<{ groups: { rules: RuleState[] }[] }>("/api/v1/rules")).groups.flatMap((g) => g.rules);
  }

  /** Values of a label over the series a selector matches (what Grafana's label_values() asks). */
  async labelValues(opts: { label: string; match: string }): Promise<string[]> {
    return this.#api<string[]>(`/api/v1/label/${encodeURIComponent(opts.label)}/values?match[]=${encodeURIComponent(opts.match)}`);
  }

  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      const exited = new Promise((resolve) => this.#proc.once("exit", resolve));
      this.#proc.kill("SIGTERM");
      const timer = setTimeout(() => this.#proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
