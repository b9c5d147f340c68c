// prom-client collectors built from the definitions table, so a name, its help and its
// labels are written in one place only.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { MetricDefinition } from "./definitions.ts";

type LabelOf<D extends MetricDefinition> = D["labelNames"][number] & string;

function checkType(def: MetricDefinition, type: MetricDefinition["type"]): void {
  // A wrong type would only show up as a promtool complaint in production.
  if (def.type !== type) throw new TypeError(`metric ${def.name}: defined as a ${def.type}, built as a ${type}`);
}

export function counter<D extends MetricDefinition>(registry: Registry, def: D): Counter<LabelOf<D>> {
  checkType(def, "counter");
  return new Counter({ name: def.name, help: def.help, labelNames: def.labelNames as LabelOf<D>[], registers: [registry] });
}

export function gauge<D extends MetricDefinition>(registry: Registry, def: D, collect?: () => void): Gauge<LabelOf<D>> {
  checkType(def, "gauge");
  return new Gauge({
    name: def.name, help: def.help, labelNames: def.labelNames as LabelOf<D>[], registers: [registry],
    ...(collect ? { collect } : {}),
  });
}

export function histogram<D extends MetricDefinition>(registry: Registry, def: D): Histogram<LabelOf<D>> {
  checkType(def, "histogram");
  if (!def.buckets) throw new TypeError(`metric ${def.name}: a histogram needs buckets`);
  return new Histogram({
    name: def.name, help: def.help, labelNames: def.labelNames as LabelOf<D>[], buckets: [...def.buckets], registers: [registry],
  });
}
