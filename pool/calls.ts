/**
 * map, imap and imapUnordered: many items, one function, cut into chunks (tasks) so that
 * small items do not each pay a round trip. map waits for all results in input order;
 * imap streams them in input order, imapUnordered as they finish; both keep a bounded
 * number of chunks in flight, so an endless input and a slow consumer use bounded memory.
 */
import { abortError, TimeoutError } from "./errors";
import type { Task } from "./task";

export interface CallOptions {
  /** Abort the call: queued tasks are dropped, running ones have their workers killed. */
  signal?: AbortSignal;
  /** Milliseconds the whole call may take; then it rejects with TimeoutError and stops its tasks. */
  timeout?: number;
}

export interface MapOptions extends CallOptions {
  /** Items per task. Default: enough chunks for 4 per worker (map), 1 for streams of unknown length. */
  chunksize?: number;
  /** Show a progress bar (in a notebook, or on a TTY). Default: the pool's `progress` option. */
  progress?: boolean;
}

export interface StreamOptions extends MapOptions {
  /** Chunks in flight at most (default: 2 per worker). */
  window?: number;
}

/** What a call needs from its pool. */
export interface CallRunner {
  readonly maxWorkers: number;
  /** Make a chunk task (not yet queued) for the call. */
  chunk(items: unknown[], firstIndex: number, callbacks: Task["callbacks"]): Task;
  enqueue(task: Task): void;
  cancel(task: Task, error: unknown): boolean;
  progress(total: number | undefined): Progress;
  /** Called once when the call ends, however it ends. */
  end(): void;
}

export interface Progress {
  update(done: number, failed: number): void;
  finish(state: "done" | "error" | "interrupted" | "cancelled"): void;
}

export function autoChunksize(items: number, workers: number): number {
  return Math.max(1, Math.ceil(items / (workers * 4)));
}

function checkChunksize(chunksize: number | undefined): void {
  if (chunksize !== undefined && !(Number.isInteger(chunksize) && chunksize >= 1)) {
    throw new RangeError(`chunksize must be a positive integer, not ${chunksize}`);
  }
}

/** Stop every task of a call: queued ones always; running ones too when `kill` (abort, timeout). */
function stopTasks(run: CallRunner, tasks: Iterable<Task>, error: unknown, kill: boolean): void {
  for (const t of tasks) if (kill || t.state === "queued") run.cancel(t, error);
}

/** Watches a call's signal and deadline; calls `stop` with the error once. */
function guard(options: CallOptions, what: string, stop: (error: unknown) => void): () => void {
  const { signal, timeout } = options;
  if (timeout !== undefined && !(timeout >= 0)) throw new RangeError(`timeout must be a number of milliseconds >= 0, not ${timeout}`);
  const onAbort = () => stop(abortError(`${what} was aborted`, signal!.reason));
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = timeout === undefined ? undefined : setTimeout(() => stop(new TimeoutError(`${what} did not finish within ${timeout} ms`)), timeout);
  if (signal?.aborted) queueMicrotask(onAbort);
  return () => {
    signal?.removeEventListener("abort", onAbort);
    if (timer) clearTimeout(timer);
  };
}

export function runMap(run: CallRunner, items: unknown[], options: MapOptions): Promise<unknown[]> {
  checkChunksize(options.chunksize);
  const n = items.length;
  if (n === 0) {
    run.end();
    return Promise.resolve([]);
  }
  const size = options.chunksize ?? autoChunksize(n, run.maxWorkers);
  const results = new Array<unknown>(n);
  const tasks: Task[] = [];
  const progress = run.progress(n);
  let done = 0;
  let settled = false;
  return new Promise<unknown[]>((resolve, reject) => {
    const finish = (error?: unknown, kill = false) => {
      if (settled) return;
      settled = true;
      unguard();
      if (error !== undefined) {
        stopTasks(run, tasks, error, kill);
        progress.finish(isAbort(error) ? "interrupted" : "error");
        reject(error);
      } else {
        progress.finish("done");
        resolve(results);
      }
      run.end();
    };
    const unguard = guard(options, "map", (error) => finish(error, true));
    for (let first = 0; first < n; first += size) {
      const chunk = items.slice(first, first + size);
      tasks.push(
        run.chunk(chunk, first, {
          resolve(values) {
            const out = values as unknown[];
            for (let i = 0; i < out.length; i++) results[first + i] = out[i];
            done += out.length;
            progress.update(done, 0);
            if (done === n) finish();
          },
          reject(error) {
            // An item that threw is a failed item; one stopped by an interrupt or abort is not.
            if (!isAbort(error)) progress.update(done + 1, 1);
            finish(error);
          },
        }),
      );
    }
    for (const t of tasks) run.enqueue(t);
  });
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown })?.name === "AbortError";
}

type Completion = { first: number; size: number; values: unknown[]; error?: unknown; hasError: boolean };

/** imap (ordered) and imapUnordered: pull input as there is room, yield results as they come. */
export async function* runStream(
  run: CallRunner,
  source: Iterable<unknown> | AsyncIterable<unknown>,
  options: StreamOptions,
  ordered: boolean,
): AsyncGenerator<unknown, void, undefined> {
  checkChunksize(options.chunksize);
  const known = Array.isArray(source) ? source.length : undefined;
  const size = options.chunksize ?? (known !== undefined ? autoChunksize(known, run.maxWorkers) : 1);
  const window = options.window ?? run.maxWorkers * 2;
  const iterator = Symbol.asyncIterator in source ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (source as Iterable<unknown>)[Symbol.iterator]();
  const progress = run.progress(known);
  const live = new Set<Task>();
  /** Completed chunks not yet yielded, by first index. */
  const completed = new Map<number, Completion>();
  let nextToYield = 0; // ordered: first index of the next chunk to yield
  let pulled = 0;
  let exhausted = false;
  let done = 0;
  let failed = 0;
  let wake: (() => void) | undefined;
  let stopped: unknown;
  let state: "done" | "error" | "interrupted" | "cancelled" = "done";

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unguard = guard(options, ordered ? "imap" : "imapUnordered", (error) => {
    stopped ??= error;
    stopTasks(run, live, error, true);
    notify();
  });

  const submitChunk = (chunk: unknown[], first: number) => {
    const task = run.chunk(chunk, first, {
      resolve(values) {
        live.delete(task);
        completed.set(first, { first, size: chunk.length, values: values as unknown[], hasError: false });
        done += chunk.length;
        progress.update(done, failed);
        notify();
      },
      reject(error, partial) {
        live.delete(task);
        completed.set(first, { first, size: chunk.length, values: partial ?? [], error, hasError: true });
        // The reporter counts failed items among the done ones; an item stopped by an
        // interrupt or abort did not fail.
        done += partial?.length ?? 0;
        if (!isAbort(error)) {
          done++;
          failed++;
        }
        progress.update(done, failed);
        notify();
      },
    });
    live.add(task);
    run.enqueue(task);
  };

  try {
    for (;;) {
      if (stopped !== undefined) throw stopped;
      // Fill the window: chunks in flight plus chunks done but not yet yielded.
      while (!exhausted && live.size + completed.size < window) {
        const chunk: unknown[] = [];
        while (chunk.length < size) {
          const next = await iterator.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          chunk.push(next.value);
        }
        if (chunk.length) submitChunk(chunk, pulled);
        pulled += chunk.length;
        if (stopped !== undefined) throw stopped;
      }
      const ready = ordered ? completed.get(nextToYield) : completed.values().next().value;
      if (ready) {
        completed.delete(ready.first);
        nextToYield = ready.first + ready.size;
        for (const value of ready.values) yield value;
        if (ready.hasError) throw ready.error;
        continue;
      }
      if (exhausted && live.size === 0 && completed.size === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } catch (error) {
    state = isAbort(error) ? "interrupted" : "error";
    throw error;
  } finally {
    unguard();
    if (state === "done" && (live.size > 0 || !exhausted)) state = "cancelled";
    // The consumer stopped early, or something failed: queued chunks are not wanted any more.
    stopTasks(run, live, stopped ?? abortError("the stream was closed before its tasks ran"), stopped !== undefined);
    progress.finish(state);
    if (!exhausted) await iterator.return?.();
    run.end();
  }
}
