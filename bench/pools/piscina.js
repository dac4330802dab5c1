"use strict";
// piscina (worker threads): the fastest in-process anchor. No map: that row shows "—".
const path = require("node:path");
const { main } = require("../lib/node-child.js");

const WORKLOADS = path.join(__dirname, "..", "lib", "workloads.js");
let Piscina;

main({
  load() {
    ({ Piscina } = require("piscina"));
  },
  start(cfg) {
    const pool = new Piscina({ filename: WORKLOADS, minThreads: cfg.workers, maxThreads: cfg.workers });
    return {
      run: (op, arg) => pool.run(arg, { name: op }),
      close: () => pool.destroy(),
    };
  },
});
