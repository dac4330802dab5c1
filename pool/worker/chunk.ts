/** Running one map chunk in a worker: fn over each item, in order, one at a time. */

export type ChunkOutcome =
  | { values: unknown }
  /** `index` is the failing item's index in the chunk (-1 for a single call); `values` those before it. */
  | { error: unknown; index: number; values: unknown[] };

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}

export { now } from "../clock";

/**
 * Synchronous functions run in a tight loop; the first promise switches to awaiting each
 * item in turn, so an async function sees its items one at a time, as a sync one does.
 */
export function runChunk(fn: (item: unknown) => unknown, items: unknown[]): ChunkOutcome | Promise<ChunkOutcome> {
  const values = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    let value: unknown;
    try {
      value = fn(items[i]);
    } catch (error) {
      return { error, index: i, values: values.slice(0, i) };
    }
    if (isThenable(value)) return continueAsync(fn, items, i, value, values);
    values[i] = value;
  }
  return { values };
}

async function continueAsync(
  fn: (item: unknown) => unknown,
  items: unknown[],
  from: number,
  first: PromiseLike<unknown>,
  values: unknown[],
): Promise<ChunkOutcome> {
  let i = from;
  try {
    values[i] = await first;
    for (i = from + 1; i < items.length; i++) values[i] = await fn(items[i]);
  } catch (error) {
    return { error, index: i, values: values.slice(0, i) };
  }
  return { values };
}
