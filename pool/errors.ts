/**
 * The errors a pool user can meet. Each says what happened and, where there is one, what to
 * do about it. Built-in error classes thrown in a worker come back as themselves (see
 * error-wire.ts); these are the pool's own.
 */

/** Base class of the pool's own errors, so `err instanceof PoolError` catches them all. */
export class PoolError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

/** A function (or something it uses) cannot be sent to a worker. Thrown at submit time. */
export class CaptureError extends PoolError {
  /** The identifier (or path into data, like `config.transform`) that cannot travel. */
  readonly identifier?: string;
  constructor(message: string, options?: { identifier?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.identifier = options?.identifier;
  }
}

/** An argument or a result that structured clone refuses. */
export class SerializationError extends PoolError {
  /** "argument 2", "result", "item 17": which value it was. */
  readonly what: string;
  constructor(message: string, what: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.what = what;
  }
}

/** The worker running the task died: exit, signal, out of memory. */
export class WorkerCrashedError extends PoolError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** In words: "exited with code 3", "killed by SIGKILL", "ran out of memory (heap limit 64 MB)". */
  readonly reason: string;
  /** The last lines the worker wrote to stderr. */
  readonly stderr: string;
  readonly pid: number;
  readonly workerId: number;
  /** Index of the task (its first item for a map chunk) within its call. */
  readonly taskIndex?: number;
  constructor(info: {
    exitCode: number | null;
    signal: string | null;
    reason: string;
    stderr: string;
    pid: number;
    workerId: number;
    taskIndex?: number;
  }) {
    const tail = info.stderr.trim() ? `\n--- last lines of the worker's stderr ---\n${info.stderr.trimEnd()}` : "";
    super(`worker ${info.workerId} (pid ${info.pid}) ${info.reason} while running the task${tail}`);
    this.exitCode = info.exitCode;
    this.signal = info.signal;
    this.reason = info.reason;
    this.stderr = info.stderr;
    this.pid = info.pid;
    this.workerId = info.workerId;
    this.taskIndex = info.taskIndex;
  }
}

/** The task ran past its timeout; its worker was killed and replaced. */
export class TaskTimeoutError extends PoolError {
  readonly timeout: number;
  constructor(timeout: number, detail = "") {
    super(`task did not finish within ${timeout} ms; its worker was killed and replaced${detail}`);
    this.timeout = timeout;
  }
}

/** A wait (map's overall `timeout`, asCompleted, wait) ran out of time. */
export class TimeoutError extends PoolError {}

/** The pool cannot run anything (its initializer failed, or workers cannot start). */
export class BrokenPoolError extends PoolError {}

/** The pool was shut down; it takes no new work. */
export class PoolClosedError extends PoolError {}

/** An error thrown in a worker whose class is not a built-in: its name and fields are kept. */
export class RemoteError extends Error {
  /** The remote class name, e.g. "ValidationError". */
  remoteName: string;
  constructor(name: string, message: string) {
    super(message);
    this.remoteName = name;
  }
  override get name(): string {
    return this.remoteName;
  }
}

/**
 * Cancellation follows Node: an aborted task rejects with an error named "AbortError"
 * (a DOMException, as `AbortSignal.abort()` makes), carrying the signal's reason as `cause`.
 */
export function abortError(message: string, reason?: unknown): Error {
  const err = new DOMException(message, "AbortError");
  if (reason !== undefined) Object.defineProperty(err, "cause", { value: reason, configurable: true, writable: true });
  return err;
}

/** Details of where a remote error happened, set on every error that crossed from a worker. */
export interface RemoteDetails {
  pid: number;
  workerId: number;
  /** Index of the item within its call (map/imap), or of the submit within the pool. */
  taskIndex: number;
  /** A short preview of the task's input (the item, or the arguments). */
  input: string;
  /** The worker's stack, frames mapped back to where the code came from (a cell). */
  remoteStack: string;
  /** The caller's frames at submit time (the local half of the traceback). */
  localStack: string;
}
