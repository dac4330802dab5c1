"use strict";
// Small pieces every scenario uses: a seeded random source (a run can be repeated exactly),
// a bounded wait for many promises (nothing is awaited forever), and a list of failed checks
// (a scenario reports every failure it saw, not only the first).

/** mulberry32: a tiny seeded PRNG. Returns a function giving floats in [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  next.pick = (list) => list[Math.floor(next() * list.length)];
  next.shuffle = (list) => {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  };
  next.bytes = (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
    return out;
  };
  return next;
}

/**
 * Settle every promise, all bounded by one deadline: [{ status: "fulfilled", value } |
 * { status: "rejected", reason } | { status: "pending" }]. "pending" is a failure to report:
 * an await that would have waited forever.
 */
async function settleWithin(promises, deadlineMs) {
  let timer;
  const deadline = new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs, { status: "pending" })));
  try {
    return await Promise.all(
      promises.map((p) =>
        Promise.race([
          Promise.resolve(p).then(
            (value) => ({ status: "fulfilled", value }),
            (reason) => ({ status: "rejected", reason }),
          ),
          deadline,
        ]),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
}

/** One promise, bounded: resolves to its outcome as settleWithin does. */
async function within(promise, deadlineMs) {
  return (await settleWithin([promise], deadlineMs))[0];
}

/** Failed checks of one scenario, each a sentence that says what was expected and what came. */
class Checks {
  constructor() {
    this.failures = [];
  }
  /** Record `message` (a string or a function making it) when `ok` is false; returns ok. */
  that(ok, message) {
    if (!ok) this.failures.push(typeof message === "function" ? message() : message);
    return ok;
  }
  fail(message) {
    this.failures.push(message);
  }
}

/** "RangeError", "WorkerCrashedError", "AbortError": the class a user would see. */
function className(error) {
  if (error === null || typeof error !== "object") return typeof error;
  if (error.name === "AbortError") return "AbortError";
  return error.constructor && error.constructor.name !== "Error" ? error.constructor.name : error.name || "Error";
}

function mib(bytes) {
  return Math.round((bytes / 1048576) * 10) / 10;
}

module.exports = { rng, settleWithin, within, Checks, className, mib };
