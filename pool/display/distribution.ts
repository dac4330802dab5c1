/** Summaries of a set of durations: percentiles, histogram bins, and busy time of intervals. */

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Nearest-rank percentile of an ascending array: the smallest value with at least p% of
 * the values at or below it. Always a value that was actually observed, which is what
 * one wants to read next to a histogram ("p99 = 212 ms" is a real task).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarise(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    min: sorted[0]!,
    mean: total / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

export interface Histogram {
  /** bins + 1 ascending edges; bin i holds values in [edges[i], edges[i+1]) (the last bin is closed). */
  edges: number[];
  counts: number[];
  log: boolean;
}

/**
 * Bin values into `bins` equal-width bins, or equal-ratio bins when the largest is more than
 * 20 times the smallest (task durations are skewed: a few slow tasks would squash the rest
 * into the first linear bin).
 */
export function histogram(values: readonly number[], bins = 20): Histogram | undefined {
  if (values.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const log = lo > 0 && hi / lo > 20;
  if (hi === lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.01);
  const toAxis = log ? Math.log : (v: number) => v;
  const fromAxis = log ? Math.exp : (v: number) => v;
  const a = toAxis(lo);
  const step = (toAxis(hi) - a) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === 0 ? lo : i === bins ? hi : fromAxis(a + i * step)));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const i = Math.floor((toAxis(v) - a) / step);
    counts[Math.min(bins - 1, Math.max(0, i))]!++;
  }
  return { edges, counts, log };
}

/** Total length of the union of intervals, each clipped to [from, to]. Overlaps count once. */
export function unionLength(intervals: Array<[number, number]>, from = -Infinity, to = Infinity): number {
  const clipped = intervals
    .map(([s, e]) => [Math.max(s, from), Math.min(e, to)] as [number, number])
    .filter(([s, e]) => e > s)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [s, e] of clipped) {
    if (s > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) {
      curEnd = e;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}
