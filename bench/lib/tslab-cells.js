"use strict";
// Compile and run notebook cells with tslab's own executor, as the stock tslab kernel does,
// so that the functions the bench ships are real cell code (`exports.NAME` for earlier
// cells' names, bare names within a cell), not an imitation of it.
const { createConverter } = require("tslab/dist/converter");
const { createExecutor } = require("tslab/dist/executor");

/** Run `cells` in order from `rootDir`; returns the cells' top-level names (tslab's locals). */
async function compileCells(rootDir, cells) {
  let node;
  const convs = {
    get node() {
      return (node ??= createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      throw new Error("browser cells are not used by the bench");
    },
    close() {
      node?.close();
    },
  };
  const diagnostics = [];
  const sink = { log() {}, error: (...args) => diagnostics.push(args.map(String).join(" ")) };
  const executor = createExecutor(rootDir, convs, sink);
  try {
    for (const [i, cell] of cells.entries()) {
      if (!(await executor.execute(cell))) throw new Error(`cell ${i + 1} failed: ${diagnostics.join("; ")}`);
    }
    return executor.locals;
  } finally {
    convs.close(); // the compiler only; the cells' values stay alive
  }
}

module.exports = { compileCells };
