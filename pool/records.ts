/**
 * What a pool remembers about its tasks and workers, for stats() and timeline().
 * Times are milliseconds on the owner's clock: `performance.timeOrigin + performance.now()`
 * (worker timestamps are converted to it; both processes read the same wall clock).
 */

export type TaskOutcome = "ok" | "error" | "cancelled" | "timeout" | "crashed";

export interface TaskRecord {
  id: number;
  /** Which call made it ("map#3", "submit"), for grouping in the timeline. */
  call: number;
  /** Number of items the task carried (a map chunk carries several). */
  items: number;
  /** First item index within its call (map/imap), or 0. */
  firstIndex: number;
  submitted: number;
  /** Set when a worker starts running it. */
  started?: number;
  ended?: number;
  /** Worker id (1, 2, ... in start order) that ran it, if any. */
  worker?: number;
  outcome?: TaskOutcome;
}

export interface WorkerRecord {
  id: number;
  pid: number;
  spawned: number;
  /** When the worker reported ready (its entry loaded, initializer done). */
  ready?: number;
  exited?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** Why it ended: "shutdown", "idle", "recycled", "crashed", "timeout", "aborted", "memory". */
  reason?: string;
  tasksDone: number;
}

export interface CallRecord {
  id: number;
  kind: "map" | "imap" | "imapUnordered" | "submit";
  started: number;
  ended?: number;
  items: number;
}
