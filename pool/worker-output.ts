/**
 * Where what a worker prints goes: to the cell that submitted the task (through the host),
 * or, with no host, to this process's own stdout/stderr.
 */
import { getHost } from "./host";
import type { WorkerProcess } from "./worker-process";

export function forward(context: unknown, stream: "stdout" | "stderr", text: string): void {
  const host = getHost();
  if (host) host.write(context, stream, text);
  else process[stream].write(text);
}

/**
 * V8's out-of-memory report (GC log, native stack) is noise in a cell: the task's
 * WorkerCrashedError says what happened. Keep its one "FATAL ERROR" line.
 */
export function withoutCrashReport(w: WorkerProcess, text: string): string {
  if (!w.dying && !/^<--- Last few GCs --->|^FATAL ERROR:/m.test(text)) return text;
  w.dying = true;
  return text
    .split("\n")
    .filter((line) => line.startsWith("FATAL ERROR:"))
    .map((line) => `${line}\n`)
    .join("");
}
