"use strict";
// Driving a real nbpool kernel through our own zeromq client (dist/kernel/client.js), the
// way Jupyter does: its own process group, a connection file, signed messages.
const path = require("node:path");
const { KernelClient } = require("../../dist/kernel/client.js");

const ROOT = path.resolve(__dirname, "..", "..");

/** Start a kernel in the repository root (so cells can `import { Pool } from "nbpool"`). */
function startKernel(options = {}) {
  return KernelClient.start({ cwd: ROOT, readyTimeoutMs: 60_000, ...options });
}

/**
 * Run a cell: { status, ename, evalue, stdout, stderr, text } where text is the
 * execute_result's text/plain. Never waits past `timeoutMs` (rejects instead).
 */
async function cell(kernel, code, timeoutMs = 60_000) {
  const run = await kernel.execute(code, { timeoutMs });
  const result = run.outputs.find((m) => m.header.msg_type === "execute_result");
  const c = run.reply.content;
  return {
    status: c.status,
    ename: c.ename,
    evalue: c.evalue,
    stdout: run.stdout,
    stderr: run.stderr,
    text: result ? result.content.data["text/plain"] : undefined,
  };
}

/** Run a cell whose last stdout line is JSON; returns it parsed, or throws saying what came instead. */
async function jsonCell(kernel, code, timeoutMs = 60_000) {
  const out = await cell(kernel, code, timeoutMs);
  const last = out.stdout.trim().split("\n").pop();
  try {
    if (out.status !== "ok") throw new Error("not ok");
    return JSON.parse(last);
  } catch {
    throw new Error(`the cell did not print JSON (status ${out.status}${out.ename ? `, ${out.ename}: ${out.evalue}` : ""}); stdout: ${out.stdout.slice(-500)}; stderr: ${out.stderr.slice(-500)}`);
  }
}

module.exports = { ROOT, startKernel, cell, jsonCell };
