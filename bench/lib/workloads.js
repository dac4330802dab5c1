"use strict";
// The workloads every Node pool runs. Each function is self-contained (no outer variables,
// only JS globals) so that a pool that ships functions by source (nbpool) runs exactly the
// code that piscina, tinypool and the bare fork pool load from this file by name.
// python_ppe.py has the same three in Python.

/** The trivial task: per-task overhead is all that is left to measure. */
function trivial(x) {
  return x + 1;
}

/** The CPU task: a deterministic FNV-style hash loop; `n` is calibrated to ~100 ms once per run. */
function spin(n) {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ i, 16777619);
  return h >>> 0;
}

/** The payload task: the array goes out and comes back; the bench verifies what came back. */
function echo(array) {
  return array;
}

module.exports = { trivial, spin, echo };
