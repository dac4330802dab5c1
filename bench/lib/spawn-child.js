"use strict";
// Run one bench child in its own process group and read its BENCH_RESULT line. When the
// child ends (or runs out of time) its group is killed, and any process that still carries
// the child's tag in its environment (a pool worker in a group of its own) is found, killed
// and reported: no worker outlives its round to slow down the next one.
const fs = require("node:fs");
const { spawn } = require("node:child_process");
const { randomUUID } = require("node:crypto");

// The line every child ends with (lib/node-child.js, pools/python_ppe.py write it).
const RESULT_MARK = "BENCH_RESULT ";
const TAG_VAR = "NBPOOL_BENCH_CHILD";
const live = new Set();

function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** Kill the processes whose environment holds `tag`; returns their command lines (Linux /proc). */
function killTagged(tag) {
  const needle = `${TAG_VAR}=${tag}\0`;
  const found = [];
  let pids = [];
  try {
    pids = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return found; // no /proc: nothing to check with
  }
  for (const pid of pids) {
    try {
      if (!`${fs.readFileSync(`/proc/${pid}/environ`, "latin1")}\0`.includes(needle)) continue;
      found.push(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim());
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function tail(text, lines = 8) {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Resolves to { entries, leaked } (leaked: command lines of processes that outlived the
 * child); rejects with a message fit for a table cell.
 */
function runChild(command, args, { cwd, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const tag = randomUUID();
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, [TAG_VAR]: tag },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr = (stderr + d).slice(-8192)));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`could not start ${command}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      killGroup(child);
      live.delete(child);
      const leaked = killTagged(tag);
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK));
      if (line) return resolve({ entries: JSON.parse(line.slice(RESULT_MARK.length)).entries, leaked });
      const why = timedOut ? `timed out after ${timeoutMs / 1000} s` : `exited with ${signal ?? `code ${code}`} and no result`;
      reject(new Error(`${why}${stderr.trim() ? `: ${tail(stderr)}` : ""}`));
    });
  });
}

/** On Ctrl-C, take the running child's whole group down with us. */
function killAll() {
  for (const child of live) killGroup(child);
}

module.exports = { runChild, killAll };
