/**
 * A task: one function call (submit) or one chunk of items (map, imap) on its way through
 * the pool. The same object is the record kept for stats() and timeline(); once settled,
 * everything heavy (arguments, callbacks, context) is dropped and only the record remains.
 */
import type { FunctionSpec } from "./protocol";
import type { TaskRecord } from "./records";

export interface TaskCallbacks {
  /** `value` is the result (run) or the array of results (chunk). */
  resolve(value: unknown): void;
  /** `partial` holds a chunk's results before the failing item. */
  reject(error: unknown, partial?: unknown[]): void;
}

export interface Task extends TaskRecord {
  /** The function to run, as a key workers load once, and how to load it. */
  key: string;
  spec: FunctionSpec | undefined;
  kind: "run" | "chunk";
  /** The arguments (run) or the items (chunk). */
  payload: unknown[] | undefined;
  /** The host context (the cell) the task was submitted from. */
  context: unknown;
  /** Run-time limit in ms, counted from when the task starts on a worker. */
  timeout?: number;
  callbacks: TaskCallbacks | undefined;
  state: "queued" | "sent" | "settled";
  /** The caller's stack at submit time, for the local half of a remote error's traceback. */
  callSite?: { stack?: string };
  /** Set when cancelled (the task may still be on a worker until it answers). */
  cancelled?: boolean;
  /** The copy that took over when this one was stuck behind a long task (see Scheduler.rescue). */
  rescuedBy?: Task;
  /** Times it was sent again because its worker died while no task was known to run. */
  retries?: number;
  /** The payload as sent, when big buffers in it went through /dev/shm (big-buffers.ts). */
  shipped?: unknown[];
}
