/**
 * One clock for an owner and its workers: wall-clock milliseconds, sub-millisecond
 * resolution, from the machine's monotonic clock (which every process shares) plus an offset
 * the owner measures once and hands to its workers (NBPOOL_CLOCK_OFFSET). Timestamps taken
 * in a worker and in its owner can then be compared exactly (queue wait, run time, the
 * timeline), and a worker does not load perf_hooks at start-up to get there.
 */

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

let offset: number | undefined = process.env.NBPOOL_CLOCK_OFFSET ? Number(process.env.NBPOOL_CLOCK_OFFSET) : undefined;

/** The offset to hand to workers (owner side; measured on first use). */
export function clockOffset(): number {
  offset ??= performance.timeOrigin + performance.now() - monotonicMs();
  return offset;
}

/** Milliseconds since the epoch, comparable across an owner and its workers. */
export function now(): number {
  return monotonicMs() + (offset ?? clockOffset());
}
