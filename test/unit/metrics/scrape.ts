// Reads Prometheus text exposition (0.0.4) back into families, so tests assert on what a
// scraper sees rather than on prom-client's objects. Covers what prom-client writes:
// HELP/TYPE lines and `name{k="v",...} value` samples without timestamps. (The npm
// parse-prometheus-text-format drops a histogram's labels when `le` comes first, as
// prom-client writes it, so it cannot serve here.)

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const SUFFIXES = ["_bucket", "_sum", "_count"];

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: "untyped", help: "", samples: [] }));
    return f;
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === "HELP") family(name).help = rest;
      else family(name).type = rest;
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const [, k, v] of (labelText ?? "").matchAll(LABEL)) labels[k as string] = (v as string).replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    const base = families.has(name) ? name : (SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : "")).find((b) => b && families.has(b)) ?? name);
    family(base).samples.push({ name, labels, value: Number(value) });
  }
  return families;
}

/** The one sample of `name` whose labels include `labels`; throws if none or several. */
export function sampleOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const matches = [...families.values()].flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`${matches.length} samples of ${name}${JSON.stringify(labels)}`);
  return (matches[0] as Sample).value;
}

/** Label names of a family's samples, `le` excluded. */
export function labelNamesOf(f: Family): string[] {
  return [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)).filter((k) => k !== "le"))].sort();
}

/** The `le` bounds of one series of a histogram, +Inf excluded, ascending. */
export function bucketsOf(f: Family, labels: Record<string, string> = {}): number[] {
  return f.samples
    .filter((s) => s.name === `${f.name}_bucket` && s.labels.le !== "+Inf" && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => Number(s.labels.le))
    .sort((a, b) => a - b);
}

/** How many series (label sets) a family has; a histogram's series counted once, not per bucket. */
export function seriesCount(f: Family): number {
  const keys = f.samples.map((s) => {
    const { le: _le, ...rest } = s.labels;
    return JSON.stringify(Object.entries(rest).sort());
  });
  return new Set(keys).size;
}
