"use strict";
// nbpool through its public API (dist/pool/index.js), plus the captured-cell row: the same
// map with a function compiled by tslab the way a notebook cell is (it reaches a constant and
// a helper of an earlier cell through `exports.NAME`) against a self-contained function.
const fs = require("node:fs");
const path = require("node:path");
const workloads = require("../lib/workloads.js");
const { main, timed, range, checkTrivial, collectGarbage, message } = require("../lib/node-child.js");
const { median } = require("../lib/stats.js");

const ROOT = path.join(__dirname, "..", "..");
const DIST = path.join(ROOT, "dist", "pool", "index.js");
let nbpool;

// Two cells, as a user would write them: the second one's function uses the first's names.
const CELLS = [
  "const STEP = 1;\nfunction addStep(x: number): number {\n  return x + STEP;\n}",
  "function cellTask(x: number): number {\n  return addStep(x);\n}",
];

main({
  load() {
    if (!fs.existsSync(DIST)) return { pending: "dist/pool/index.js is not built yet" };
    nbpool = require(DIST);
    if (typeof nbpool.Pool !== "function") return { pending: "dist/pool/index.js has no Pool export yet" };
    return undefined;
  },

  start(cfg) {
    const pool = new nbpool.Pool({ maxWorkers: cfg.workers });
    return {
      pool,
      run: (op, arg) => pool.submit(workloads[op], arg),
      map: (op, items) => pool.map(workloads[op], items),
      close: () => pool.shutdown({ wait: true }),
    };
  },

  async extraMeasures(handle, cfg, wanted) {
    if (!wanted("capture")) return [];
    const entries = [];
    const items = range(cfg.mapItems);
    const warmItems = items.slice(0, cfg.mapItems / 10);
    const fns = { self: workloads.trivial };
    try {
      // Loaded here, not at the top: TypeScript's compiler (~100 MB of heap and background
      // compilation) must not be in the process while start-up is timed.
      const { compileCells } = require("../lib/tslab-cells.js");
      fns.cell = (await compileCells(ROOT, CELLS)).cellTask;
      checkTrivial(await handle.pool.map(fns.cell, warmItems), "warm-up map of the cell function");
    } catch (err) {
      // Until capture carries a cell's names along, the row waits for it (with the reason)
      // rather than counting as a failure of the run.
      delete fns.cell;
      entries.push({ measure: "capture", entry: "nbpool:cell", pending: `capture cannot run a tslab cell function yet: ${message(err)}` });
    }
    // Alternate the two so that drift within the child hits both alike.
    const which = Object.keys(fns);
    const times = Object.fromEntries(which.map((w) => [w, []]));
    try {
      checkTrivial(await handle.pool.map(fns.self, warmItems), "warm-up map");
      for (let rep = 0; rep < cfg.captureReps; rep++) {
        for (const w of rep % 2 ? [...which].reverse() : which) {
          collectGarbage();
          const { ms, value } = await timed(() => handle.pool.map(fns[w], items));
          checkTrivial(value, `map of the ${w} function`);
          times[w].push((ms * 1000) / cfg.mapItems);
        }
      }
      for (const w of which) entries.push({ measure: "capture", entry: `nbpool:${w}`, value: median(times[w]) });
    } catch (err) {
      for (const w of which) entries.push({ measure: "capture", entry: `nbpool:${w}`, error: message(err) });
    }
    return entries;
  },
});
