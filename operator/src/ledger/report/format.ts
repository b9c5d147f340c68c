// Small formatting shared by the renderers: durations and instants as a person reads them.

/** A duration in its two largest units: "45s", "12m 05s", "3h 20m", "2d 4h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

/** An instant to the second, UTC, without the ISO "T" and milliseconds: "2026-11-28 10:00:05Z". */
export function instant(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

/** A share as a whole percentage, "n/a" for nothing to share. */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.floor((part / whole) * 1000) / 10}%` : "n/a";
}
