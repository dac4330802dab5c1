"use strict";
// Interrupt storm: a kernel with a live pool is interrupted at random moments of maps,
// streams and submits in flight (by SIGINT to its process group and by interrupt_request, in
// turn). After each interrupt the next cell must run and return the right value, the pool
// must have its workers, and the workers the interrupt killed must be gone.
const { Checks, rng, within } = require("../lib/common");
const { startKernel, jsonCell } = require("../lib/kernel");
const { orphansAfter, sleep, until, workers } = require("../lib/procs");

const SCALES = {
  long: { interrupts: 20, workers: 2, maxDelayMs: 1500 },
  short: { interrupts: 3, workers: 2, maxDelayMs: 1200 },
};

const setup = (name, workers) => `
import { Pool } from "nbpool";
const storm = new Pool({ maxWorkers: ${workers}, name: ${JSON.stringify(name)}, progress: false });
function spin(ms: number) { const end = Date.now() + ms; while (Date.now() < end); return ms; }
async function nap(ms: number) { await new Promise((r) => setTimeout(r, ms)); return ms; }
function square(x: number) { return x * x; }
// (A cell cannot hold a top-level \`for await\` yet: the kernel answers SyntaxError.)
async function sumUnordered(ms: number[]) { let total = 0; for await (const v of storm.imapUnordered(nap, ms)) total += v; return total; }
console.log(JSON.stringify({ pids: storm.pids }));`;

/** A cell with pool work in flight for a second or two, in one of several shapes. */
function busyCell(random) {
  const ms = Array.from({ length: 10 }, () => random.int(50, 400));
  switch (random.int(0, 3)) {
    case 0:
      return `(await storm.map(spin, ${JSON.stringify(ms)}, { chunksize: 1 })).length`;
    case 1:
      return `await sumUnordered(${JSON.stringify(ms)})`;
    case 2:
      return `(await Promise.all(${JSON.stringify(ms)}.map((d) => storm.submit(spin, d)))).length`;
    default:
      // Synchronous work in the cell itself after the pool work started.
      return `const pending = storm.map(nap, ${JSON.stringify(ms)}, { chunksize: 2 });\nspin(${random.int(50, 300)});\n(await pending).length`;
  }
}

async function run(scale = "long", { seed = Date.now() % 1e9, log = () => {} } = {}) {
  const options = SCALES[scale];
  const random = rng(seed);
  const checks = new Checks();
  const name = `stress-storm-${process.pid}-${seed}`;
  const started = Date.now();
  const figures = { interrupts: 0, bySignal: 0, byMessage: 0, interruptedMidway: 0, finishedFirst: 0, nextCellCorrect: 0, workersReplaced: 0, hangs: 0 };
  const kernel = await startKernel();
  const known = new Set();
  try {
    const first = await jsonCell(kernel, setup(name, options.workers));
    first.pids.forEach((p) => known.add(p));
    for (let round = 1; round <= options.interrupts; round++) {
      const execution = within(kernel.execute(busyCell(random), { timeoutMs: 60_000 }), 60_000);
      await sleep(random.int(0, options.maxDelayMs));
      const mode = round % 2 ? "signal" : "message";
      await kernel.interrupt(mode);
      figures.interrupts++;
      figures[mode === "signal" ? "bySignal" : "byMessage"]++;
      const outcome = await execution;
      if (outcome.status !== "fulfilled") {
        figures.hangs++;
        checks.fail(`round ${round}: the interrupted cell ${outcome.status === "pending" ? "never answered" : `failed: ${outcome.reason && outcome.reason.message}`}`);
        break;
      }
      const reply = outcome.value.reply.content;
      if (reply.status === "ok") figures.finishedFirst++;
      else if (reply.ename === "AbortError") figures.interruptedMidway++;
      else checks.fail(`round ${round}: the interrupted cell answered ${reply.status} ${reply.ename}: ${reply.evalue}`);

      const k = round * 7 + 1;
      let next;
      try {
        next = await jsonCell(kernel, `console.log(JSON.stringify({ v: await storm.submit(square, ${k}), workers: storm.workerCount, pids: storm.pids }))`, 30_000);
      } catch (err) {
        checks.fail(`round ${round}: the cell after the interrupt failed: ${err.message}`);
        continue;
      }
      if (checks.that(next.v === k * k, `round ${round}: the next cell returned ${next.v}, not ${k * k}`)) figures.nextCellCorrect++;
      next.pids.forEach((p) => known.add(p));
      // Workers killed by the interrupt are gone; only the pool's current ones remain.
      const clean = await until(() => workers(name).every((w) => next.pids.includes(w.pid)), 5000);
      checks.that(clean, () => `round ${round}: worker processes outside the pool after the interrupt: ${workers(name).map((w) => w.pid).filter((p) => !next.pids.includes(p)).join(", ")}`);
    }
    figures.workersReplaced = known.size - options.workers;
    log(`interrupts: ${figures.interrupts} sent, ${figures.interruptedMidway} midway`);
    checks.that(!kernel.exited, "the kernel died during the storm");
  } finally {
    await kernel.close();
  }
  const orphans = await orphansAfter(name, [...known]);
  checks.that(orphans.length === 0, () => `worker processes left after the kernel shut down: ${orphans.join(", ")}`);
  return { name: "interrupts", seed, figures: { ...figures, orphans: orphans.length, seconds: (Date.now() - started) / 1000 }, failures: checks.failures, known: [] };
}

module.exports = { run, SCALES };
