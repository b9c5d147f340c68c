/** Metrics: interfaces everyone may import; prom-client stays inside this folder. */
export * from "./types.ts";
