"use strict";
// What the bench measures, on which pools, and the goals of issue 7. Everything the report
// prints is declared here; run.js only schedules and report.js only formats.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const POOLS_DIR = path.join(__dirname, "..", "pools");

function version(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/** The children of one round; each is one pool in a fresh process. */
function pools() {
  const node = (file, extra = {}) => ({ command: "node", script: path.join(POOLS_DIR, file), extra });
  return [
    { id: "nbpool", label: "nbpool", ...node("nbpool.js") },
    { id: "piscina", label: `piscina ${version("piscina")} (threads)`, ...node("piscina.js") },
    { id: "tinypool", label: `tinypool ${version("tinypool")} (child_process, advanced IPC)`, ...node("tinypool.js") },
    { id: "bare1", label: "bare fork pool, 1 in flight per worker", ...node("bare-fork.js", { inflight: 1 }) },
    { id: "bare64", label: "bare fork pool, 64 in flight per worker", ...node("bare-fork.js", { inflight: 64 }) },
    { id: "python", label: "Python ProcessPoolExecutor (spawn)", command: "python", script: path.join(POOLS_DIR, "python_ppe.py"), extra: {} },
    { id: "kernel", label: "kernels", ...node("kernel.js"), needs: path.join(ROOT, "dist", "kernel", "client.js") },
  ];
}

const POOL_ENTRIES = ["nbpool", "piscina", "tinypool", "bare1", "bare64", "python"];

/**
 * The rows. `entries` lists what each row shows, in order; `subject` is the entry whose ratio
 * to every other entry is printed; `absent` entries have no such operation (shown as "—").
 */
const MEASURES = [
  { id: "startup", title: "start-up to first result, 2 workers", unit: "ms", better: "lower", digits: 1, entries: POOL_ENTRIES },
  { id: "tasks", title: "20k trivial tasks submitted one by one", unit: "µs/task", better: "lower", digits: 1, entries: POOL_ENTRIES },
  {
    id: "map",
    title: "map of 20k trivial items (Python: chunksize=1000)",
    unit: "µs/item",
    better: "lower",
    digits: 2,
    entries: POOL_ENTRIES,
    absent: { piscina: "no map", tinypool: "no map", bare1: "no map", bare64: "no map" },
  },
  { id: "cpu", title: "16 CPU-bound ~100 ms tasks", unit: "% of ideal", better: "higher", digits: 1, entries: POOL_ENTRIES },
  { id: "payload", title: "8 MiB Float64Array out and back (2 x 8 MiB / round trip)", unit: "MB/s", better: "higher", digits: 0, entries: POOL_ENTRIES },
  {
    id: "capture",
    title: "map of 20k: captured tslab cell function vs self-contained function",
    unit: "µs/item",
    better: "lower",
    digits: 2,
    entries: ["nbpool:cell", "nbpool:self"],
    subject: "nbpool:cell",
    ratioHeader: "cell ÷",
  },
  {
    id: "kernel",
    title: "kernel: trivial cell round trip, same client",
    unit: "ms",
    better: "lower",
    digits: 2,
    entries: ["kernel:nbpool", "kernel:tslab"],
    subject: "kernel:nbpool",
  },
];

const ENTRY_LABELS = {
  "nbpool:cell": "nbpool, tslab cell function (constant + helper)",
  "nbpool:self": "nbpool, self-contained function",
  "kernel:nbpool": "nbpool kernel",
  "kernel:tslab": `tslab ${version("tslab")} kernel`,
};

/**
 * Issue 7's goals. A ratio goal compares the subject's median with the anchor's median
 * (subject ÷ anchor, in the row's unit); an absolute goal compares the subject's median itself.
 */
const GOALS = [
  { measure: "tasks", anchor: "python", op: "<=", target: 0.25, text: "20k tasks one by one: nbpool ÷ Python PPE" },
  { measure: "tasks", anchor: "piscina", op: "<=", target: 0.5, text: "20k tasks one by one: nbpool ÷ piscina" },
  { measure: "map", anchor: "python", op: "<=", target: 1.0, text: "map of 20k: nbpool ÷ Python PPE map(chunksize=1000)" },
  { measure: "startup", anchor: "bare1", op: "<=", target: 1.2, text: "start-up, 2 workers: nbpool ÷ bare fork pool" },
  { measure: "cpu", op: ">=", target: 97, text: "16 CPU-bound tasks: nbpool, % of ideal" },
  { measure: "payload", anchor: "python", op: ">=", target: 1.5, text: "8 MiB round trip: nbpool MB/s ÷ Python PPE MB/s" },
  { measure: "capture", anchor: "nbpool:self", op: "<=", target: 1.1, text: "map: captured cell function ÷ self-contained" },
  { measure: "kernel", anchor: "kernel:tslab", op: "<=", target: 1.0, text: "kernel: trivial cell round trip, nbpool ÷ tslab" },
];

/** Workload sizes, the same for every pool. */
const WORKLOAD = {
  workers: 2,
  tasks: 20_000,
  mapItems: 20_000,
  mapReps: 5,
  payloadBytes: 8 * 1024 * 1024,
  payloadReps: 5,
  cpuTasks: 16,
  cpuTaskMs: 100,
  captureReps: 5,
  kernelReps: 30,
};

module.exports = { ROOT, pools, MEASURES, ENTRY_LABELS, GOALS, WORKLOAD, version };
