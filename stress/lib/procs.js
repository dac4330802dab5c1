"use strict";
// Processes as /proc shows them: which nbpool workers are alive, whose they are, how much
// memory a process holds. Workers are found by their title ("nbpool-worker <pool> <id>",
// which /proc/<pid>/cmdline shows), so a worker is found even after it was re-parented.
const fs = require("node:fs");

/** Live (not zombie) process ids. */
function pids() {
  return fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number);
}

/** { ppid, state } from /proc/<pid>/stat, or undefined when the process is gone. */
function stat(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Whether a process runs. A zombie (dead, not yet reaped, common for orphans in containers) does not. */
function isAlive(pid) {
  const s = stat(pid);
  return s !== undefined && s.state !== "Z";
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

/**
 * Live nbpool worker processes whose pool name starts with `poolPrefix` (all workers when
 * empty): [{ pid, ppid, title }].
 */
function workers(poolPrefix = "") {
  const wanted = `nbpool-worker ${poolPrefix}`;
  const out = [];
  for (const pid of pids()) {
    const title = cmdline(pid);
    if (!title.startsWith(wanted)) continue;
    const s = stat(pid);
    if (s && s.state !== "Z") out.push({ pid, ppid: s.ppid, title });
  }
  return out;
}

/** Resident set size of a process in bytes (VmRSS), or NaN when it is gone. */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll until `condition()` holds or `timeoutMs` passes; resolves to whether it held. A bound, not a speed claim. */
async function until(condition, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/**
 * Orphans of a scenario: its workers (found by pool-name prefix, plus any pid it was told
 * about) still alive `graceMs` after the owner said they should be gone. Killed afterwards, so
 * one failing scenario does not leave load behind for the next one.
 */
async function orphansAfter(poolPrefix, knownPids = [], graceMs = 5000) {
  const alive = () => {
    const found = new Set(workers(poolPrefix).map((w) => w.pid));
    for (const pid of knownPids) if (isAlive(pid)) found.add(pid);
    return [...found];
  };
  await until(() => alive().length === 0, graceMs);
  const left = alive();
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return left;
}

module.exports = { isAlive, stat, cmdline, workers, rssOf, sleep, until, orphansAfter };
