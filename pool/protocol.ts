/**
 * The messages between an owner and its worker processes. Each IPC message is an array of
 * ops, so that everything queued in one turn of the event loop travels as one message
 * (one structured clone, one write): this batching is what makes small tasks cheap.
 * Ops are arrays with a numeric tag first; the shapes are listed next to the tags.
 */

/** How a worker finds the function to run. */
export type FunctionSpec =
  /** A captured function: the generated module exports build(data) -> function. */
  | { modulePath: string; data: unknown }
  /** task(module, exportName): a function exported by a module. */
  | { moduleUrl: string; exportName: string };

export const TO_WORKER = {
  /** [load, key, FunctionSpec] — make `key` callable; sent once per worker per key. */
  load: 0,
  /** [init, key, args] — run the initializer `key` before any task. */
  init: 1,
  /** [run, taskId, key, args] — call fn(...args). */
  run: 2,
  /** [chunk, taskId, key, items] — call fn(item) for each item, in order. */
  chunk: 3,
  /** [cancel, taskId] — skip the task if it has not started. */
  cancel: 4,
  /** [forget, key] — drop a loaded function (queued in order, after the tasks that use it). */
  forget: 5,
} as const;

export const TO_OWNER = {
  /** [ready, pid, time] — entry loaded and initializer done. */
  ready: 0,
  /** [ok, taskId, value | values, started, ended] */
  ok: 1,
  /** [error, taskId, WireError, started, ended, indexInChunk, valuesBeforeIt] */
  error: 2,
  /** [skipped, taskId] — cancelled before it started. */
  skipped: 3,
  /** [running, taskId] — a cancel arrived while the task was running (the owner kills the worker). */
  running: 4,
  /** [output, taskId | 0, stream (1 stdout, 2 stderr), text] */
  output: 5,
  /** [initError, WireError] — the initializer failed; the worker exits. */
  initError: 6,
} as const;

export type Op = unknown[];
