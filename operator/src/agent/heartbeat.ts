/** The heartbeat's allocatable: the sum over the member's Ready nodes. Pure. */
import type { Resources } from "../gen/sovereign/v1/residency.ts";
import type { Node } from "../kube/index.ts";
import { QUANTITY } from "../api/index.ts";

const PATTERN = new RegExp(QUANTITY);
const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * A node's allocatable in base units, by the API's one quantity grammar; NaN when it
 * does not read. (scheduler/quantity.ts reads the same grammar but is not exported
 * through the scheduler's index; this reader can go once it is.)
 */
export function quantityValue(text: string): number {
  const m = PATTERN.exec(text);
  if (!m) return NaN;
  if (m[2]) return Number(m[1]) * BINARY[m[2]]!;
  if (m[3]) return Number(`${m[1]}e${DECIMAL[m[3]]!}`);
  if (m[4]) return Number(`${m[1]}e${m[4]}`);
  return Number(m[1]);
}

/** Whole units, rounded down as the scheduler reads capacity; float noise (0.1 * 1000) absorbed. */
function floorUnits(x: number): number {
  const nearest = Math.round(x);
  return Math.abs(x - nearest) < 1e-9 * Math.max(1, Math.abs(x)) ? nearest : Math.floor(x);
}

function cpuText(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

function memoryText(b: number): string {
  for (const [suffix, size] of [["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]] as const) {
    if (b > 0 && b % size === 0) return `${b / size}${suffix}`;
  }
  return String(b);
}

/**
 * Ready nodes only: a NotReady node's capacity is not there to schedule on. A node with
 * a quantity that cannot be read contributes nothing for that resource rather than
 * failing the heartbeat (rounding down, as the scheduler reads capacity).
 */
export function allocatableOf(nodes: readonly Node[]): Resources {
  let cpu = 0;
  let memory = 0;
  let pods = 0;
  const read = (text: string | undefined, scale: number) => {
    const v = text === undefined ? NaN : quantityValue(text);
    return Number.isFinite(v) && v > 0 ? floorUnits(v * scale) : 0;
  };
  for (const n of nodes) {
    if (!n.ready) continue;
    cpu += read(n.allocatable.cpu, 1000);
    memory += read(n.allocatable.memory, 1);
    pods += read(n.allocatable.pods, 1);
  }
  return { cpu: cpuText(cpu), memory: memoryText(memory), pods: String(pods) };
}
