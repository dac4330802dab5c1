"use strict";
// Everything the rounds produced, per (measure, entry): values, failures, pending notes,
// and the summaries and goal verdicts computed from them.
const { summarize } = require("./stats.js");
const { MEASURES, GOALS } = require("./plan.js");

/** The (measure, entry) pairs a child is expected to produce: entries named `id` or `id:...`. */
function expectedOf(childId) {
  const pairs = [];
  for (const m of MEASURES) {
    for (const e of m.entries) {
      if ((e === childId || e.startsWith(`${childId}:`)) && !(m.absent && e in m.absent)) pairs.push([m.id, e]);
    }
  }
  return pairs;
}

class Results {
  constructor() {
    this.cells = new Map();
    /** Failures outside the rows (a pool that would not close): printed after the table. */
    this.problems = [];
  }

  cell(measure, entry) {
    const key = `${measure}|${entry}`;
    if (!this.cells.has(key)) this.cells.set(key, { values: [], aux: {}, errors: new Map(), pending: undefined });
    return this.cells.get(key);
  }

  /** Record one child's entries; whatever it was expected to report and did not is a failure. */
  addChild(childId, entries) {
    const seen = new Set();
    let pending;
    let startupError;
    for (const e of entries) {
      if (!MEASURES.some((m) => m.id === e.measure)) {
        this.problems.push(`${e.entry}: ${e.measure}: ${e.error ?? e.pending ?? e.value}`);
        continue;
      }
      const c = this.cell(e.measure, e.entry);
      seen.add(`${e.measure}|${e.entry}`);
      if (e.pending !== undefined) {
        c.pending = e.pending;
        if (e.measure === "startup") pending = e.pending; // the whole pool is not there yet
      }
      else if (e.error !== undefined) {
        c.errors.set(e.error, (c.errors.get(e.error) ?? 0) + 1);
        if (e.measure === "startup") startupError = e.error;
      } else {
        c.values.push(e.value);
        for (const [k, v] of Object.entries(e.aux ?? {})) (c.aux[k] ??= []).push(v);
      }
    }
    for (const [m, e] of expectedOf(childId)) {
      if (seen.has(`${m}|${e}`)) continue;
      if (pending !== undefined) this.cell(m, e).pending = pending;
      else this.addFailure(m, e, startupError ?? "the child reported nothing for this row");
    }
  }

  /** The whole child failed (crash, timeout) or could not run: every row it feeds says so. */
  failChild(childId, text, { pending = false } = {}) {
    for (const [m, e] of expectedOf(childId)) {
      if (pending) this.cell(m, e).pending = text;
      else this.addFailure(m, e, text);
    }
  }

  /** The child was left out of this run on purpose (--only). */
  skipChild(childId, text) {
    for (const [m, e] of expectedOf(childId)) this.cell(m, e).skipped = text;
  }

  addFailure(measure, entry, text) {
    const c = this.cell(measure, entry);
    c.errors.set(text, (c.errors.get(text) ?? 0) + 1);
  }

  /** Median with min-max and failure notes, per measure and entry, in the plan's order. */
  summary(rounds) {
    return MEASURES.map((m) => ({
      ...m,
      rows: m.entries.map((entry) => {
        if (m.absent && entry in m.absent) return { entry, absent: m.absent[entry] };
        const c = this.cell(m.id, entry);
        const aux = Object.fromEntries(Object.entries(c.aux).map(([k, vs]) => [k, summarize(vs).median]));
        const errors = [...c.errors].map(([text, count]) => ({ text, count }));
        return { entry, ...summarize(c.values), values: c.values, aux, errors, pending: c.pending, skipped: c.skipped, rounds };
      }),
    }));
  }
}

function medianOf(measures, measureId, entry) {
  const m = measures.find((x) => x.id === measureId);
  return m.rows.find((r) => r.entry === entry)?.median;
}

/** Each goal with its ratio (or absolute value) and PASS / FAIL / pending. */
function judgeGoals(measures) {
  return GOALS.map((g) => {
    const m = measures.find((x) => x.id === g.measure);
    const subject = m.subject ?? "nbpool";
    const mine = medianOf(measures, g.measure, subject);
    const theirs = g.anchor ? medianOf(measures, g.measure, g.anchor) : 1;
    const value = mine === undefined || theirs === undefined ? undefined : mine / theirs;
    const pass = value === undefined ? undefined : g.op === "<=" ? value <= g.target : value >= g.target;
    return { ...g, subject, value, status: pass === undefined ? "pending" : pass ? "PASS" : "FAIL" };
  });
}

module.exports = { Results, judgeGoals, expectedOf };
