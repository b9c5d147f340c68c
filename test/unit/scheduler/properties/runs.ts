// 1,000 runs per property in `npm test`; `npm run test:property` sets FC_NUM_RUNS=100000.
// A failing run prints its seed; FC_SEED and FC_PATH replay it.
import type { Parameters } from "fast-check";

export function fcParams<T>(): Parameters<T> {
  const params: Parameters<T> = { numRuns: Number(process.env.FC_NUM_RUNS ?? "1000") };
  if (process.env.FC_SEED) params.seed = Number(process.env.FC_SEED);
  if (process.env.FC_PATH) params.path = process.env.FC_PATH;
  return params;
}
