/**
 * The owner's view of what went wrong remotely: a worker error gets where it happened
 * (worker, pid, task index, input) and a stack that reads top-down like a local one —
 * the remote frames, then a marker frame, then the caller's frames at submit time.
 */
import * as path from "node:path";
import { serialize } from "node:v8";
import { inspect } from "node:util";
import { SerializationError, type RemoteDetails } from "./errors";
import type { Task } from "./task";
import type { WorkerProcess } from "./worker-process";

const PREVIEW_CHARS = 120;

export function preview(value: unknown): string {
  const text = inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: PREVIEW_CHARS });
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

/** The task's input: the failing item of a chunk, or the arguments of a call. */
function inputOf(task: Task, index: number): string {
  const payload = task.payload ?? [];
  if (task.kind === "chunk") return preview(payload[Math.max(index, 0)]);
  return payload.length === 1 ? preview(payload[0]) : `(${payload.map(preview).join(", ")})`;
}

const WORKER_DIR = path.join(__dirname, "worker") + path.sep;

/** The worker's own machinery (and Node's) is noise in a user's traceback. */
export function userFrames(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => !(/^\s+at /.test(line) && (line.includes(WORKER_DIR) || /\(node:|at node:/.test(line))))
    .join("\n");
}

export function withRemoteDetails(err: Error, task: Task, worker: WorkerProcess, index: number): void {
  const localStack = userFrames((task.callSite?.stack ?? "").split("\n").slice(1).join("\n"));
  const details: RemoteDetails = {
    pid: worker.pid,
    workerId: worker.id,
    taskIndex: task.firstIndex + Math.max(index, 0),
    input: inputOf(task, index),
    remoteStack: userFrames(err.stack ?? ""),
    localStack,
  };
  for (const [key, value] of Object.entries(details)) {
    Object.defineProperty(err, key, { value, enumerable: false, configurable: true, writable: true });
  }
  const marker = `    at <nbpool: task ${details.taskIndex} in worker ${details.workerId} (pid ${details.pid})>`;
  err.stack = [details.remoteStack, marker, localStack].filter(Boolean).join("\n");
}

/** Structured clone refused part of a task's payload: name which argument or item. */
export function findUnsendable(task: Task, error: unknown): SerializationError {
  const payload = task.payload ?? [];
  const reason = error instanceof Error ? error.message : String(error);
  for (let i = 0; i < payload.length; i++) {
    try {
      serialize(payload[i]);
    } catch {
      const what = task.kind === "chunk" ? `item ${task.firstIndex + i}` : `argument ${i + 1}`;
      return new SerializationError(
        `${what} cannot be sent to a worker: ${reason}. Values must survive structured clone (no functions, symbols, sockets or promises; class instances arrive as plain objects).`,
        what,
        error,
      );
    }
  }
  return new SerializationError(`the task cannot be sent to a worker: ${reason}`, "task", error);
}
