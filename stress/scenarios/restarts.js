"use strict";
// Restart loop: a kernel with live pools (one busy in a cell that is still running, one
// stuck in a synchronous loop, one idle) is restarted the ways Jupyter restarts kernels:
// shutdown_request with restart, SIGTERM, and SIGKILL of its process group (a forced
// restart, where nothing in the kernel gets to run). No worker process may survive any.
const { Checks, rng } = require("../lib/common");
const { startKernel, jsonCell } = require("../lib/kernel");
const { isAlive, orphansAfter, until, workers } = require("../lib/procs");

const SCALES = {
  long: { restarts: 20 },
  short: { restarts: 3 },
};

const MODES = ["request", "sigterm", "sigkill"];

const setup = (name) => `
import { Pool } from "nbpool";
const busy = new Pool({ maxWorkers: 2, name: ${JSON.stringify(`${name}-busy`)}, progress: false });
const stuck = new Pool({ maxWorkers: 1, name: ${JSON.stringify(`${name}-stuck`)}, progress: false });
const idle = new Pool({ maxWorkers: 1, name: ${JSON.stringify(`${name}-idle`)}, progress: false });
function spin(ms: number) { const end = Date.now() + ms; while (Date.now() < end); return ms; }
stuck.submit(() => { for (;;); }).catch(() => {});
await idle.submit((x: number) => x + 1, 1);
console.log(JSON.stringify({ pids: [...busy.pids, ...stuck.pids, ...idle.pids] }));`;

async function run(scale = "long", { seed = Date.now() % 1e9, log = () => {} } = {}) {
  const options = SCALES[scale];
  const random = rng(seed);
  const checks = new Checks();
  const prefix = `stress-restart-${process.pid}-${seed}`;
  const started = Date.now();
  const byMode = Object.fromEntries(MODES.map((m) => [m, 0]));
  let workersSeen = 0;
  let survivors = 0;
  let slowestExitMs = 0;
  for (let round = 1; round <= options.restarts; round++) {
    const name = `${prefix}-${round}`;
    const mode = MODES[(round - 1) % MODES.length];
    const kernel = await startKernel();
    let pids = [];
    try {
      pids = (await jsonCell(kernel, setup(name))).pids;
      workersSeen += pids.length;
      // A cell still running a map when the restart comes.
      const running = kernel.execute(`(await busy.map(spin, ${JSON.stringify(Array.from({ length: 8 }, () => random.int(200, 600)))}, { chunksize: 1 })).length`, { timeoutMs: 60_000 });
      running.catch(() => {});
      await until(() => workers(`${name}-busy`).length > 0, 5000);
      await new Promise((r) => setTimeout(r, random.int(50, 400)));
      const gone = Date.now();
      if (mode === "request") {
        const reply = await kernel.shutdown({ restart: true, timeoutMs: 20_000 });
        checks.that(reply.content.restart === true, `round ${round}: shutdown_reply did not echo restart`);
      } else {
        kernel.kill(mode === "sigterm" ? "SIGTERM" : "SIGKILL");
        const exit = await kernel.waitExit(20_000);
        if (mode === "sigterm") checks.that(exit.code === 0, `round ${round}: the kernel exited with ${exit.code ?? exit.signal} on SIGTERM`);
      }
      byMode[mode]++;
      const allGone = await until(() => pids.every((p) => !isAlive(p)) && workers(name).length === 0, 10_000);
      slowestExitMs = Math.max(slowestExitMs, Date.now() - gone);
      checks.that(allGone, `round ${round} (${mode}): workers still alive 10 s after the kernel went`);
    } catch (err) {
      checks.fail(`round ${round} (${mode}): ${err.message}`);
    } finally {
      await kernel.close({ graceful: false });
    }
    const left = await orphansAfter(name, pids, 1000);
    survivors += left.length;
    checks.that(left.length === 0, () => `round ${round} (${mode}): worker processes survived the restart: ${left.join(", ")}`);
    log(`restarts: round ${round} (${mode}) done`);
  }
  return {
    name: "restarts",
    seed,
    figures: { restarts: options.restarts, byMode, workersSeen, survivors, slowestWorkerExitAfterKernelMs: slowestExitMs, seconds: (Date.now() - started) / 1000 },
    failures: checks.failures,
    known: [],
  };
}

module.exports = { run, SCALES };
