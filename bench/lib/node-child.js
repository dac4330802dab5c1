"use strict";
// The measuring routine of every Node pool child (bench/pools/*.js). A child is one pool in
// one fresh process for one round: it measures start-up first (while the process is new),
// then the steady-state workloads, and prints one `BENCH_RESULT {json}` line for run.js.
//
// A pool is given to main() as an adapter:
//   load(cfg)         require the library (timed apart: start-up is construction to first
//                     result); may return { pending: "why" } when the library is not there yet
//   start(cfg)        construct the pool with exactly cfg.workers workers; returns a handle:
//     run(op, arg)      one task; op is a name from workloads.js
//     map(op, items)    optional: the pool's own map
//     close()           end the pool and its workers
//   extraMeasures(handle, cfg, wanted)  optional: more entries (nbpool's captured-cell row);
//                     must not throw

const { performance } = require("node:perf_hooks");
const v8 = require("node:v8");
const vm = require("node:vm");
const workloads = require("./workloads.js");
const { median } = require("./stats.js");

const RESULT_MARK = "BENCH_RESULT ";
// A measure that hangs fails alone, and the child goes on to the next one.
const MEASURE_TIMEOUT_MS = 30_000;

// A full collection between measures, so one measure's garbage is not the next one's cost.
// Got this way rather than with --expose-gc so that no flag leaks into the pools' workers
// (fork passes the parent's execArgv on).
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc");

function readConfig() {
  return JSON.parse(process.argv[2] || "{}");
}

function report(entries) {
  process.stdout.write(`${RESULT_MARK}${JSON.stringify({ entries })}\n`);
}

function message(err) {
  if (err && typeof err === "object" && "message" in err) return `${err.name || "Error"}: ${err.message}`;
  return String(err);
}

/** Fill an array whose every element the echo check can recompute (so a transferred input is fine). */
function makePayload(bytes) {
  const array = new Float64Array(bytes / 8);
  for (let i = 0; i < array.length; i++) array[i] = i * 0.5;
  return array;
}

function checkPayload(out, length) {
  if (!(out instanceof Float64Array)) {
    const kind = out === null ? "null" : typeof out === "object" ? out.constructor?.name ?? "object" : typeof out;
    throw new Error(`payload came back as ${kind}, not a Float64Array`);
  }
  if (out.length !== length) throw new Error(`payload came back with ${out.length} elements, sent ${length}`);
  for (let i = 0; i < length; i++) {
    if (out[i] !== i * 0.5) throw new Error(`payload element ${i} came back as ${out[i]}, sent ${i * 0.5}`);
  }
}

function checkTrivial(results, what) {
  for (let i = 0; i < results.length; i++) {
    if (results[i] !== i + 1) throw new Error(`${what}: result ${i} was ${results[i]}, expected ${i + 1}`);
  }
}

function range(n) {
  return Array.from({ length: n }, (_, i) => i);
}

/** Time `fn`, in milliseconds. */
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/**
 * The steady-state measures, in order. Each returns { value, aux? } or throws. The payload
 * comes first: after 20k small messages the same pipe moves 8 MiB up to twice as slowly in
 * every Node pool tried (heap state in owner and worker), which says nothing about payloads.
 */
const MEASURES = {
  // A fresh array each time, built outside the timing, so a pool that transfers is not penalised.
  async payload(pool, cfg) {
    const length = cfg.payloadBytes / 8;
    checkPayload(await pool.run("echo", makePayload(cfg.payloadBytes)), length);
    const times = [];
    for (let rep = 0; rep < cfg.payloadReps; rep++) {
      const input = makePayload(cfg.payloadBytes);
      const { ms, value } = await timed(() => pool.run("echo", input));
      checkPayload(value, length);
      times.push(ms);
    }
    const roundTripMs = median(times);
    return { value: (2 * cfg.payloadBytes) / 1e6 / (roundTripMs / 1000), aux: { roundTripMs } };
  },

  // All submitted, then all awaited: the pool may pipeline and batch as it likes.
  async tasks(pool, cfg) {
    const warm = await Promise.all(range(cfg.tasks / 10).map((i) => pool.run("trivial", i)));
    checkTrivial(warm, "warm-up");
    const { ms, value } = await timed(() => Promise.all(range(cfg.tasks).map((i) => pool.run("trivial", i))));
    checkTrivial(value, "tasks");
    return { value: (ms * 1000) / cfg.tasks };
  },

  // One map of 20k lasts only a few ms, so it is repeated and the median kept.
  async map(pool, cfg) {
    if (!pool.map) return { absent: true };
    const items = range(cfg.mapItems);
    checkTrivial(await pool.map("trivial", items.slice(0, cfg.mapItems / 10)), "warm-up map");
    const times = [];
    for (let rep = 0; rep < cfg.mapReps; rep++) {
      const { ms, value } = await timed(() => pool.map("trivial", items));
      checkTrivial(value, "map");
      times.push((ms * 1000) / cfg.mapItems);
    }
    return { value: median(times) };
  },

  // Ideal = cpuTasks * t_single / workers, t_single timed here in the child's main thread.
  async cpu(pool, cfg) {
    const expected = workloads.spin(cfg.spinN);
    const singles = [];
    for (let rep = 0; rep < 3; rep++) singles.push((await timed(() => workloads.spin(cfg.spinN))).ms);
    const single = median(singles);
    await Promise.all(range(cfg.workers).map(() => pool.run("spin", Math.floor(cfg.spinN / 20))));
    const { ms, value } = await timed(() => Promise.all(range(cfg.cpuTasks).map(() => pool.run("spin", cfg.spinN))));
    for (const h of value) if (h !== expected) throw new Error(`CPU task returned ${h}, expected ${expected}`);
    const ideal = (cfg.cpuTasks * single) / cfg.workers;
    return { value: (100 * ideal) / ms, aux: { singleMs: single, wallMs: ms, idealMs: ideal } };
  },
};

/**
 * Load the library and start the pool, timing construction through the first result.
 * Returns the pool, or undefined after filling `entries` with why there is none.
 */
async function startPool(adapter, cfg, entries, wanted) {
  const failAll = (key, text) => {
    for (const m of ["startup", ...Object.keys(MEASURES)]) if (wanted(m)) entries.push({ measure: m, entry: cfg.id, [key]: text });
  };
  let pool;
  try {
    const loaded = await timed(() => adapter.load(cfg));
    if (loaded.value && loaded.value.pending) {
      failAll("pending", loaded.value.pending);
      return undefined;
    }
    const started = await timed(async () => {
      pool = await adapter.start(cfg);
      return withTimeout(pool.run("trivial", 1), MEASURE_TIMEOUT_MS, "the first task");
    });
    if (started.value !== 2) throw new Error(`first task returned ${started.value}, expected 2`);
    if (wanted("startup")) entries.push({ measure: "startup", entry: cfg.id, value: started.ms, aux: { loadMs: loaded.ms } });
    return pool;
  } catch (err) {
    failAll("error", `start-up failed: ${message(err)}`);
    if (pool) await pool.close().catch(() => {});
    return undefined;
  }
}

/** Run every measure for one pool and report. Never throws: failures become entries. */
async function runChild(adapter) {
  const cfg = readConfig();
  const entries = [];
  const wanted = (m) => !cfg.measures || cfg.measures.includes(m);
  const pool = await startPool(adapter, cfg, entries, wanted);
  if (pool) {
    for (const [name, measure] of Object.entries(MEASURES)) {
      if (!wanted(name)) continue;
      try {
        collectGarbage();
        const r = await withTimeout(measure(pool, cfg), MEASURE_TIMEOUT_MS, `the ${name} measure`);
        if (!r.absent) entries.push({ measure: name, entry: cfg.id, value: r.value, aux: r.aux });
      } catch (err) {
        entries.push({ measure: name, entry: cfg.id, error: message(err) });
      }
    }
    if (adapter.extraMeasures) entries.push(...(await adapter.extraMeasures(pool, cfg, wanted)));
    try {
      await withTimeout(pool.close(), 10_000, "closing the pool");
    } catch (err) {
      entries.push({ measure: "close", entry: cfg.id, error: message(err) });
    }
  }
  report(entries);
}

function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Entry point of a child: run, report, and exit even if a pool leaves handles open. */
function main(adapter) {
  runChild(adapter).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

module.exports = { main, timed, range, checkTrivial, collectGarbage, message, RESULT_MARK };
