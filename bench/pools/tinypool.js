"use strict";
// tinypool in child_process mode with structured-clone IPC: the process-mode Node anchor.
const path = require("node:path");
const { main } = require("../lib/node-child.js");

const WORKLOADS = path.join(__dirname, "..", "lib", "workloads.js");
let Tinypool;

main({
  async load() {
    ({ Tinypool } = await import("tinypool")); // tinypool is ESM-only
  },
  start(cfg) {
    const pool = new Tinypool({
      filename: WORKLOADS,
      runtime: "child_process",
      serialization: "advanced",
      // tinypool starts its processes with an environment of its own (only TINYPOOL_WORKER_ID)
      // unless told otherwise. Give it ours, as every other pool has: without
      // NODE_EXTRA_CA_CERTS its workers would start ~25-40 ms sooner than anyone else's.
      env: process.env,
      minThreads: cfg.workers,
      maxThreads: cfg.workers,
    });
    return {
      run: (op, arg) => pool.run(arg, { name: op }),
      close: () => pool.destroy(),
    };
  },
});
