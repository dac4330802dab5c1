"use strict";
// Kernel row: a trivial cell's round trip (execute_request until its execute_reply and idle
// status) through the nbpool kernel and through the stock tslab kernel, both driven by the
// project's own Jupyter client (dist/kernel/client.js), so both are measured the same way.
const path = require("node:path");
const { performance } = require("node:perf_hooks");
const { message, RESULT_MARK } = require("../lib/node-child.js");
const { median } = require("../lib/stats.js");

const ROOT = path.join(__dirname, "..", "..");
const CLIENT = path.join(ROOT, "dist", "kernel", "client.js");

const KERNELS = {
  "kernel:nbpool": [process.execPath, path.join(ROOT, "bin", "nbpool.js"), "kernel", "-f", "{connection_file}"],
  "kernel:tslab": [process.execPath, path.join(ROOT, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"],
};

async function openKernel(argv) {
  const { KernelClient } = require(CLIENT);
  return KernelClient.start({ argv, cwd: ROOT, readyTimeoutMs: 60_000 });
}

/** Median round trip of a trivial cell, after a warm-up, in ms. */
async function roundTrip(argv, reps) {
  const kernel = await openKernel(argv);
  try {
    for (let i = 0; i < 5; i++) await kernel.execute("1 + 1", { timeoutMs: 30_000 });
    const times = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const { reply } = await kernel.execute(`${i} + 1`, { timeoutMs: 30_000 });
      times.push(performance.now() - t0);
      if (reply.content.status !== "ok") throw new Error(`a trivial cell replied ${reply.content.status}`);
    }
    return median(times);
  } finally {
    await kernel.close();
  }
}

async function main() {
  const cfg = JSON.parse(process.argv[2] || "{}");
  const entries = [];
  for (const [entry, argv] of Object.entries(KERNELS)) {
    try {
      entries.push({ measure: "kernel", entry, value: await roundTrip(argv, cfg.kernelReps) });
    } catch (err) {
      entries.push({ measure: "kernel", entry, error: message(err) });
    }
  }
  process.stdout.write(`${RESULT_MARK}${JSON.stringify({ entries })}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
