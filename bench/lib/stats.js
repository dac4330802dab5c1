"use strict";
// Medians with min-max over rounds: the only statistics the bench reports.

function summarize(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

function median(values) {
  const s = summarize(values);
  return s === undefined ? NaN : s.median;
}

module.exports = { summarize, median };
