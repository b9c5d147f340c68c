/** The control plane's controllers: workloads and member clusters, and the member reports they read. */
export { ReportBook } from "./reports.ts";
export * from "./workload/index.ts";
export * from "./membercluster/index.ts";
