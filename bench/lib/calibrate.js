"use strict";
// The CPU task's loop count, found once per run and handed to every pool, so that every Node
// pool runs the very same ~100 ms task. Python's interpreter is ~50x slower per iteration, so
// it gets its own count for the same duration (its ideal is timed in its own process anyway).
const { performance } = require("node:perf_hooks");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const { spin } = require("./workloads.js");

function timeSpin(n) {
  const t0 = performance.now();
  spin(n);
  return performance.now() - t0;
}

// The fastest of a few runs, not the median: other work on the machine only ever slows a
// run down, and a count calibrated under load would make the "~100 ms" task much shorter.
function calibrateNode(targetMs) {
  for (let i = 0; i < 5; i++) spin(1e6); // let the loop be optimised first
  const n = Math.round((1e7 * targetMs) / Math.min(timeSpin(1e7), timeSpin(1e7), timeSpin(1e7)));
  return Math.round((n * targetMs) / Math.min(timeSpin(n), timeSpin(n), timeSpin(n)));
}

/** /usr/bin/python3 as the brief asks, else whatever python3 is on PATH, else none. */
function findPython() {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    if (candidate.startsWith("/") && !fs.existsSync(candidate)) continue;
    const r = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

function calibratePython(python, script, targetMs) {
  const r = spawnSync(python, [script, "--calibrate", String(targetMs)], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python calibration failed: ${(r.stderr || r.error?.message || "").trim()}`);
  return JSON.parse(r.stdout);
}

module.exports = { calibrateNode, calibratePython, findPython };
