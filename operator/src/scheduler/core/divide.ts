/**
 * Splits `total` replicas over clusters in proportion to `weights`, never giving a
 * cluster more than its `caps` entry, with the largest-remainder method (ties to the
 * earlier index: callers pass clusters in name order). Integer arithmetic on the
 * products keeps the result exact, so it cannot differ between machines.
 *
 * Returns the shares, or null when the caps together hold fewer than `total`.
 */
export function divideProportionally({ total, weights, caps }: {
  total: number;
  weights: readonly number[];
  caps: readonly number[];
}): number[] | null {
  const n = weights.length;
  const shares = new Array<number>(n).fill(0);
  let remaining = total;
  let active: number[] = [];
  for (let i = 0; i < n; i++) if (caps[i]! > 0) active.push(i);

  while (remaining > 0 && active.length > 0) {
    let weightSum = 0;
    for (const i of active) weightSum += weights[i]!;
    // All-zero weights: nothing to be proportional to, so share equally.
    const w = (i: number): number => (weightSum > 0 ? weights[i]! : 1);
    const sum = weightSum > 0 ? weightSum : active.length;

    // Water-filling: clusters whose proportional share exceeds their cap take the cap,
    // and the rest is shared again among the others.
    const saturated = active.filter((i) => remaining * w(i) >= caps[i]! * sum);
    if (saturated.length > 0) {
      for (const i of saturated) {
        shares[i]! += caps[i]!;
        remaining -= caps[i]!;
      }
      const done = new Set(saturated);
      active = active.filter((i) => !done.has(i));
      continue;
    }
    const remainders: { i: number; r: number }[] = [];
    let given = 0;
    for (const i of active) {
      const product = remaining * w(i);
      let floor = Math.floor(product / sum);
      // Guard against the float quotient rounding up across an integer.
      if (floor * sum > product) floor--;
      shares[i]! += floor;
      given += floor;
      remainders.push({ i, r: product - floor * sum });
    }
    remaining -= given;
    remainders.sort((a, b) => b.r - a.r || a.i - b.i);
    for (let j = 0; j < remaining; j++) shares[remainders[j]!.i]! += 1;
    remaining = 0;
  }
  return remaining > 0 ? null : shares;
}
