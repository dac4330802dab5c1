/**
 * A Future is a Promise you can also ask about and cancel, like Python's
 * concurrent.futures.Future: `state`, `done`, `cancel()`. `await` it as any promise.
 *
 * A future that fails and is never awaited does not crash the process with an unhandled
 * rejection: its error is kept for whoever asks (await, then, wait, asCompleted), as
 * Python keeps an exception on its future.
 */

export type FutureState = "pending" | "running" | "fulfilled" | "rejected" | "cancelled";

interface FutureControl {
  /** Reports whether the task is queued or already on a worker. */
  state(): "pending" | "running";
  cancel(reason?: unknown): boolean;
}

export class Future<T> extends Promise<T> {
  // then()/catch()/finally() return plain promises: a derived promise is not a task.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #state: "fulfilled" | "rejected" | "cancelled" | undefined;
  #control: FutureControl | undefined;

  /** Accepts a Promise executor too, so Promise statics called on Future keep working. */
  constructor(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void) => void) {
    super(executor);
  }

  /** "pending" (queued), "running" (on a worker), "fulfilled", "rejected" or "cancelled". */
  get state(): FutureState {
    return this.#state ?? this.#control?.state() ?? "pending";
  }

  /** True once it has a result, an error, or was cancelled. */
  get done(): boolean {
    return this.#state !== undefined;
  }

  /**
   * Cancel the task: a queued task never runs; a running one has its worker killed (and
   * replaced). The future rejects with an error named "AbortError". Returns false when it
   * was already done.
   */
  cancel(reason?: unknown): boolean {
    if (this.#state !== undefined || !this.#control) return false;
    return this.#control.cancel(reason);
  }

  /** @internal Used by the pool: attach the task behind this future. */
  static attach<T>(control: FutureControl): { future: Future<T>; resolve(value: T): void; reject(error: unknown): void } {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const future = new Future<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    future.#control = control;
    return {
      future,
      resolve(value: T) {
        future.#state = "fulfilled";
        future.#control = undefined;
        resolve(value);
      },
      reject(error: unknown) {
        future.#state = isAbort(error) ? "cancelled" : "rejected";
        future.#control = undefined;
        // The error is kept for whoever awaits; never an unhandled rejection by itself.
        Promise.prototype.then.call(future, undefined, ignore);
        reject(error);
      },
    };
  }
}

function ignore(): void {}

export function isAbort(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}
