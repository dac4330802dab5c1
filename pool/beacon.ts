/**
 * Which task a worker is running, readable after the worker died. A worker answers in
 * batches, so when it dies the owner's idea of "its first unanswered task" can be wrong:
 * that task may have finished, its result still in the batch that died with the worker.
 * Before each task the worker writes the task's id and start time into a 16-byte file (one
 * pwrite, ~1 µs; in /dev/shm where there is one); after a crash or on a timeout the owner
 * reads it, and blames the task that was really running. Tasks that had finished are run
 * again (their results were lost); none is blamed for another's crash.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface BeaconReading {
  taskId: number;
  /** When it started, on the shared wall clock (ms). */
  started: number;
}

/** Owner side: a beacon file for one worker. */
export class Beacon {
  readonly file: string;

  constructor(dir: string, workerId: number) {
    this.file = path.join(dir, `worker-${process.pid}-${workerId}`);
    fs.writeFileSync(this.file, Buffer.alloc(16), { mode: 0o600 });
  }

  read(): BeaconReading | undefined {
    try {
      const bytes = fs.readFileSync(this.file);
      if (bytes.length < 16) return undefined;
      const taskId = bytes.readDoubleLE(0);
      return taskId > 0 ? { taskId, started: bytes.readDoubleLE(8) } : undefined;
    } catch {
      return undefined;
    }
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }
}

/** Worker side: returns the function that marks a task as started (a no-op without a file). */
export function openBeacon(file: string | undefined): (taskId: number, started: number) => void {
  if (!file) return () => {};
  let fd: number;
  try {
    fd = fs.openSync(file, "r+");
  } catch {
    return () => {};
  }
  const record = Buffer.alloc(16);
  return (taskId, started) => {
    record.writeDoubleLE(taskId, 0);
    record.writeDoubleLE(started, 8);
    fs.writeSync(fd, record, 0, 16, 0);
  };
}
