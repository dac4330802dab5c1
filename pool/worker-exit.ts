/**
 * What a worker's death means for the task it was running, in words a user can act on.
 */
import { abortError, TaskTimeoutError, WorkerCrashedError } from "./errors";
import type { Task } from "./task";
import type { WorkerProcess } from "./worker-process";

export function describeExit(code: number | null, signal: string | null, stderr: string, memoryLimitMb?: number): string {
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr)) {
    return `ran out of memory (heap limit ${memoryLimitMb !== undefined ? `${memoryLimitMb} MB` : "Node's default"})`;
  }
  if (signal) return `was killed by ${signal}`;
  // The worker exits by itself (code 0) when its IPC channel closes, so a task that closed it lands here too.
  if (code === 0) return "exited with code 0 (did the task call process.exit() or process.disconnect()?)";
  return `exited with code ${code}`;
}

/**
 * The error for the task a worker was running when it ended: a timeout, a shutdown, or a
 * crash (with the exit code or signal, the reason, the tail of stderr, and the caller's frames).
 */
export function runningTaskError(
  w: WorkerProcess,
  head: Task,
  exitCode: number | null,
  signal: string | null,
  memoryLimitMb?: number,
): { outcome: "timeout" | "cancelled" | "crashed"; error: Error } {
  if (w.killReason === "timeout") return { outcome: "timeout", error: new TaskTimeoutError(head.timeout ?? 0, ` (worker ${w.id}, pid ${w.pid})`) };
  if (w.killReason === "shutdown") return { outcome: "cancelled", error: abortError("the pool was shut down while the task ran") };
  const stderr = w.stderr();
  const error = new WorkerCrashedError({
    exitCode,
    signal,
    stderr,
    pid: w.pid,
    workerId: w.id,
    taskIndex: head.firstIndex,
    reason: describeExit(exitCode, signal, stderr, memoryLimitMb),
  });
  if (head.callSite?.stack) error.stack = `${error.stack}\n${head.callSite.stack.split("\n").slice(1).join("\n")}`;
  return { outcome: "crashed", error };
}
