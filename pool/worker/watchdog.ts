/**
 * A worker must not outlive its owner. When the owner dies (even by SIGKILL) the IPC
 * channel closes and main.ts exits on "disconnect" — but only if its event loop is free.
 * A task stuck in a synchronous loop never sees that event, so a tiny thread watches the
 * parent pid instead and kills the process when it changes (the orphan was re-parented).
 */
import { Worker } from "node:worker_threads";

const WATCH = `
const { workerData } = require("node:worker_threads");
setInterval(() => {
  if (process.ppid !== workerData.ppid) process.kill(workerData.pid, "SIGKILL");
}, 250);
`;

export function startOrphanWatchdog(): void {
  const thread = new Worker(WATCH, {
    eval: true,
    workerData: { ppid: process.ppid, pid: process.pid },
    // The watchdog needs almost nothing; keep its heap small.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
    stdout: false,
    stderr: false,
  });
  thread.unref();
}
