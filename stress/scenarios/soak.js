"use strict";
// Soak: many small tasks through one pool in a kernel, batch after batch of cells. Every
// result must be right; the kernel's memory and the number of worker processes must stay
// bounded (workers are recycled on the way, so recycling is soaked too).
const { Checks, mib } = require("../lib/common");
const { startKernel, jsonCell } = require("../lib/kernel");
const { orphansAfter, rssOf, workers } = require("../lib/procs");

const SCALES = {
  long: { tasks: 200_000, batch: 10_000, workers: 2, maxTasksPerWorker: 25_000, warmupBatches: 3, maxHeapGrowthMiB: 48, maxRssGrowthMiB: 300 },
  short: { tasks: 20_000, batch: 5_000, workers: 2, maxTasksPerWorker: 4_000, warmupBatches: 1, maxHeapGrowthMiB: 48, maxRssGrowthMiB: 300 },
};

const setup = (name, o) => `
import { Pool } from "nbpool";
const soak = new Pool({ maxWorkers: ${o.workers}, maxTasksPerWorker: ${o.maxTasksPerWorker}, name: ${JSON.stringify(name)}, progress: false });
function inc(x: number) { return x + 1; }
async function runBatch(base: number, n: number) {
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(soak.submit(inc, base + i));
  const out = await Promise.all(futures);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (out[i] !== base + i + 1) wrong++;
  // A full collection first: what is measured is what the kernel keeps, not what V8 has not swept yet.
  (globalThis as { gc?: () => void }).gc?.();
  return { wrong, n: out.length, workers: soak.workerCount, heap: process.memoryUsage().heapUsed };
}
console.log(JSON.stringify({ pids: soak.pids }));`;

/** One batch: `n` single submits, every result checked in the kernel (the function is set up once). */
const batch = (base, n) => `console.log(JSON.stringify(await runBatch(${base}, ${n})))`;

async function run(scale = "long", { log = () => {} } = {}) {
  const options = SCALES[scale];
  const checks = new Checks();
  const name = `stress-soak-${process.pid}-${Date.now() % 1e9}`;
  const started = Date.now();
  // --expose-gc lets each batch measure the heap after a full collection (workers inherit it; harmless).
  const kernel = await startKernel({ env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim() } });
  const rss = [];
  const heap = [];
  let done = 0;
  let wrong = 0;
  let maxWorkerCount = 0;
  let maxWorkerProcesses = 0;
  try {
    await jsonCell(kernel, setup(name, options));
    for (let base = 0; base < options.tasks; base += options.batch) {
      const n = Math.min(options.batch, options.tasks - base);
      const out = await jsonCell(kernel, batch(base, n), 120_000);
      done += out.n;
      wrong += out.wrong;
      maxWorkerCount = Math.max(maxWorkerCount, out.workers);
      maxWorkerProcesses = Math.max(maxWorkerProcesses, workers(name).length);
      rss.push(rssOf(kernel.pid));
      heap.push(out.heap);
      if (rss.length % 5 === 0) log(`soak: ${done} tasks, kernel RSS ${mib(rss[rss.length - 1])} MiB`);
    }
  } catch (err) {
    checks.fail(`the soak stopped after ${done} tasks: ${err.message}`);
  } finally {
    await kernel.close();
  }
  const orphans = await orphansAfter(name);
  const base = rss[Math.min(options.warmupBatches, rss.length) - 1] ?? NaN;
  const growth = Math.max(...rss.slice(options.warmupBatches)) - base;
  checks.that(done === options.tasks, `${done} of ${options.tasks} tasks ran`);
  checks.that(wrong === 0, `${wrong} results were wrong`);
  // A retiring worker finishes its queue while its replacement starts: at most twice the size.
  checks.that(maxWorkerCount <= 2 * options.workers && maxWorkerProcesses <= 2 * options.workers, `up to ${Math.max(maxWorkerCount, maxWorkerProcesses)} workers for a pool of ${options.workers}`);
  // The pool keeps the records of its last 50,000 tasks (stats, timeline): the heap fills up to
  // that, then stays flat. Anything growing with the task count beyond it is a leak.
  const heapGrowth = Math.max(...heap.slice(options.warmupBatches)) - (heap[Math.min(options.warmupBatches, heap.length) - 1] ?? NaN);
  checks.that(!(mib(heapGrowth) > options.maxHeapGrowthMiB), `the kernel's heap (after a full GC) grew by ${mib(heapGrowth)} MiB after warm-up (bound ${options.maxHeapGrowthMiB} MiB)`);
  checks.that(!(mib(growth) > options.maxRssGrowthMiB), `the kernel's RSS grew by ${mib(growth)} MiB after warm-up (bound ${options.maxRssGrowthMiB} MiB)`);
  checks.that(orphans.length === 0, () => `worker processes left after the kernel shut down: ${orphans.join(", ")}`);
  return {
    name: "soak",
    figures: {
      tasks: done,
      wrongResults: wrong,
      kernelRssMiB: { afterWarmup: mib(base), max: mib(Math.max(...rss)), last: mib(rss[rss.length - 1]) },
      kernelRssGrowthMiB: mib(growth),
      kernelHeapAfterGcMiB: { afterWarmup: mib(heap[options.warmupBatches - 1]), last: mib(heap[heap.length - 1]) },
      kernelHeapGrowthMiB: mib(heapGrowth),
      kernelRssSeriesMiB: rss.map((r) => Math.round(r / 1048576)),
      kernelHeapAfterGcSeriesMiB: heap.map((h) => Math.round(h / 1048576)),
      maxWorkerCount,
      maxWorkerProcesses,
      workersRecycledEvery: options.maxTasksPerWorker,
      orphans: orphans.length,
      seconds: (Date.now() - started) / 1000,
      tasksPerSecond: Math.round(done / ((Date.now() - started) / 1000)),
    },
    failures: checks.failures,
    known: [],
  };
}

module.exports = { run, SCALES };
