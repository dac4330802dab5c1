/**
 * Waiting on many futures, as concurrent.futures does: asCompleted yields each future as it
 * finishes; wait returns the done and not-done sets when a condition is met. Both take any
 * promises, and both give up with a TimeoutError after `timeout` ms.
 */
import { createProgress } from "./display/progress";
import { TimeoutError } from "./errors";

export const FIRST_COMPLETED = "FIRST_COMPLETED";
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
export const ALL_COMPLETED = "ALL_COMPLETED";
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

export interface WaitOptions {
  /** Milliseconds to wait at most. */
  timeout?: number;
  /** asCompleted: show a progress bar (in a notebook, or on a TTY). Default true. */
  progress?: boolean;
  /** Stop waiting early (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Calls `onSettle(index, failed)` once per promise, however it settles. */
function watch<T>(futures: readonly PromiseLike<T>[], onSettle: (index: number, failed: boolean) => void): void {
  futures.forEach((f, i) => {
    Promise.resolve(f).then(
      () => onSettle(i, false),
      () => onSettle(i, true),
    );
  });
}

function checkTimeout(timeout: number | undefined): void {
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) throw new RangeError(`timeout must be a number of milliseconds >= 0, not ${timeout}`);
}

/**
 * Yield each future as it finishes (fulfilled, rejected or cancelled), first finished first:
 * `for await (const f of asCompleted(futures)) { try { use(await f) } catch (e) { ... } }`.
 * Throws TimeoutError if they are not all finished within `timeout` ms.
 */
export function asCompleted<T, F extends PromiseLike<T>>(futures: Iterable<F>, options: WaitOptions = {}): AsyncGenerator<F, void, undefined> {
  checkTimeout(options.timeout);
  // An async generator awaits what it yields: `yield future` would hand out the future's value,
  // and throw out of the caller's loop at the first failed future. So the futures travel boxed
  // through the generator and are unboxed here, by an iterator that awaits nothing it returns.
  const boxes = completions<T, F>(futures, options);
  const unbox = (r: IteratorResult<{ future: F }, void>): IteratorResult<F, void> => (r.done ? r : { done: false, value: r.value.future });
  const iterator: AsyncGenerator<F, void, undefined> = {
    next: () => boxes.next().then(unbox),
    return: (value) => boxes.return(value as void).then(unbox),
    throw: (error) => boxes.throw(error).then(unbox),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

async function* completions<T, F extends PromiseLike<T>>(futures: Iterable<F>, options: WaitOptions): AsyncGenerator<{ future: F }, void, undefined> {
  const list = [...new Set(futures)];
  const finished: number[] = [];
  const progress = createProgress({ label: "asCompleted", total: list.length, enabled: options.progress, unit: "futures" });
  let failures = 0;
  let wake: (() => void) | undefined;
  watch(list, (i, failed) => {
    finished.push(i);
    if (failed) failures++;
    wake?.();
  });
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  let yielded = 0;
  let end: "done" | "error" | "interrupted" | "cancelled" = "cancelled";
  try {
    while (yielded < list.length) {
      if (finished.length === 0) {
        options.signal?.throwIfAborted();
        const left = deadline - Date.now();
        if (left <= 0) throw new TimeoutError(`${list.length - yielded} of ${list.length} futures did not finish within ${options.timeout} ms`);
        await sleepUntilWoken(left, options.signal, (w) => (wake = w));
        wake = undefined;
        continue;
      }
      yielded++;
      progress.update(yielded, failures);
      yield { future: list[finished.shift()!] };
    }
    end = "done";
  } catch (error) {
    end = (error as { name?: unknown })?.name === "AbortError" ? "interrupted" : "error";
    throw error;
  } finally {
    progress.finish(end);
  }
}

/**
 * Wait until `returnWhen` holds (default ALL_COMPLETED) or `timeout` ms pass, and return which
 * futures are done and which are not. Never throws for the futures' own errors.
 */
export async function wait<F extends PromiseLike<unknown>>(
  futures: Iterable<F>,
  options: WaitOptions & { returnWhen?: ReturnWhen } = {},
): Promise<{ done: Set<F>; notDone: Set<F> }> {
  checkTimeout(options.timeout);
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  if (![FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED].includes(returnWhen)) {
    throw new TypeError(`returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, not ${String(returnWhen)}`);
  }
  const list = [...new Set(futures)];
  const done = new Set<F>();
  let failedOne = false;
  let wake: (() => void) | undefined;
  watch(list, (i, failed) => {
    done.add(list[i]);
    failedOne ||= failed;
    wake?.();
  });
  const satisfied = () =>
    done.size === list.length ||
    (returnWhen === FIRST_COMPLETED && done.size > 0) ||
    (returnWhen === FIRST_EXCEPTION && failedOne);
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  while (!satisfied()) {
    options.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleepUntilWoken(left, options.signal, (w) => (wake = w));
    wake = undefined;
  }
  const notDone = new Set(list.filter((f) => !done.has(f)));
  return { done: new Set(done), notDone };
}

/** Resolve when woken, after `ms`, or when the signal aborts; never keeps the process alive by itself longer than needed. */
function sleepUntilWoken(ms: number, signal: AbortSignal | undefined, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const finish = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", finish);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(finish, ms) : undefined;
    signal?.addEventListener("abort", finish, { once: true });
    setWake(finish);
  });
}
