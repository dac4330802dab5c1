"use strict";
// Back-pressure: imap and imapUnordered over endless async iterables, read by slow consumers
// (two at once on one pool). The pool may pull only a bounded number of items ahead of what
// was consumed, memory stays flat however much flows through, and when a consumer stops the
// source is closed and nothing is left running.
const { Pool } = require("nbpool");
const { Checks, mib, rng, within } = require("../lib/common");
const { orphansAfter, sleep, until } = require("../lib/procs");

const SCALES = {
  long: { items: 3000, itemBytes: 1 << 20, workers: 2, chunksizes: [1, 8], deadlineMs: 240_000 },
  short: { items: 200, itemBytes: 64 << 10, workers: 2, chunksizes: [1, 4], deadlineMs: 60_000 },
};

/** The worker's side: small results, so what the owner holds is the input it pulled. */
function measure(item) {
  return { i: item.i, bytes: item.payload.length, first: item.payload[0] };
}

/** An endless source; `state` sees how far it was pulled and whether it was closed. */
async function* endless(state, itemBytes) {
  try {
    for (let i = 0; ; i++) {
      state.pulled++;
      yield { i, payload: Buffer.alloc(itemBytes, i % 251) };
      if (i % 16 === 0) await sleep(0); // a source that really is asynchronous
    }
  } finally {
    state.closed = true;
  }
}

/** One slow consumer: reads `items` results, checks each, then stops reading. */
async function consume(pool, method, chunksize, options, random) {
  const state = { pulled: 0, closed: false };
  const window = options.workers * 2; // the default: 2 chunks in flight per worker
  const bound = (window + 1) * chunksize;
  let consumed = 0;
  let maxAhead = 0;
  let wrong = 0;
  const seen = new Set();
  for await (const r of pool[method](measure, endless(state, options.itemBytes), { chunksize })) {
    if (r.bytes !== options.itemBytes || r.first !== r.i % 251 || (method === "imap" && r.i !== consumed) || seen.has(r.i)) wrong++;
    seen.add(r.i);
    consumed++;
    maxAhead = Math.max(maxAhead, state.pulled - consumed);
    if (consumed >= options.items) break;
    // Slow: a few ms per item, sometimes a longer pause.
    await sleep(random() < 0.02 ? 50 : random.int(0, 3));
  }
  await until(() => state.closed, 5000);
  return { method, chunksize, consumed, pulled: state.pulled, maxAhead, bound, wrong, closed: state.closed };
}

async function run(scale = "long", { seed = Date.now() % 1e9, log = () => {} } = {}) {
  const options = SCALES[scale];
  const random = rng(seed);
  const checks = new Checks();
  const name = `stress-backpressure-${process.pid}-${seed}`;
  const pool = new Pool({ maxWorkers: options.workers, name, progress: false });
  const streams = [];
  let rssBase = 0;
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 20);
  const started = Date.now();
  try {
    // Warm up, then take the baseline.
    await pool.map(measure, [{ i: 0, payload: Buffer.alloc(options.itemBytes) }]);
    rssBase = process.memoryUsage().rss;
    rssMax = rssBase;
    for (const chunksize of options.chunksizes) {
      // Two slow consumers at once, one ordered, one not.
      const outcomes = await Promise.all(["imap", "imapUnordered"].map((m) => within(consume(pool, m, chunksize, options, random), options.deadlineMs)));
      for (const o of outcomes) {
        if (o.status !== "fulfilled") {
          checks.fail(`a stream ${o.status === "pending" ? `did not finish within ${options.deadlineMs} ms` : `failed: ${o.reason && o.reason.stack}`}`);
          continue;
        }
        const s = o.value;
        streams.push(s);
        const what = `${s.method} (chunksize ${s.chunksize})`;
        checks.that(s.wrong === 0, `${what}: ${s.wrong} results were wrong, repeated or out of order`);
        checks.that(s.maxAhead <= s.bound, `${what}: pulled up to ${s.maxAhead} items ahead of the consumer; the bound is ${s.bound}`);
        checks.that(s.closed, `${what}: the source was not closed when the consumer stopped`);
      }
      log(`backpressure: chunksize ${chunksize} done`);
    }
    // Stopping early leaves nothing behind: every task settles, workers are all there.
    const settled = await until(() => pool.records().tasks.every((t) => t.outcome !== undefined), 15_000);
    checks.that(settled, "tasks of the stopped streams were still unsettled 15 s later");
    checks.that(await until(() => pool.workerCount === options.workers, 10_000), `the pool has ${pool.workerCount} workers, not ${options.workers}`);
    const after = await within(pool.map((x) => x + 1, [1, 2]), 30_000);
    checks.that(after.status === "fulfilled" && after.value.join() === "2,3", "the pool does not compute after the streams");
  } finally {
    clearInterval(sampler);
    await pool.shutdown({ kill: true });
  }
  const orphans = await orphansAfter(name);
  checks.that(orphans.length === 0, () => `worker processes left after shutdown: ${orphans.join(", ")}`);
  const consumed = streams.reduce((a, s) => a + s.consumed, 0);
  return {
    name: "backpressure",
    seed,
    figures: {
      streams: streams.length,
      itemsConsumed: consumed,
      mibThrough: mib(consumed * options.itemBytes),
      maxAheadByStream: Object.fromEntries(streams.map((s) => [`${s.method}/chunksize ${s.chunksize}`, `${s.maxAhead} (bound ${s.bound})`])),
      ownerRssGrowthMiB: mib(rssMax - rssBase),
      orphans: orphans.length,
      seconds: (Date.now() - started) / 1000,
    },
    failures: checks.failures,
    known: [],
  };
}

module.exports = { run, SCALES };
