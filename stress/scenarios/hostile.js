"use strict";
// Hostile inputs to the pool: huge arguments and results, deeply nested data, functions that
// cannot travel, values whose getters throw, tasks that flood stdout, break the worker's IPC
// or throw things that are not errors, cache directories that are not safe. Each must end in
// a clear error (or a right result), and the pool must go on with its full worker count.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { Pool, CaptureError, SerializationError, WorkerCrashedError } = require("nbpool");
const { Checks, className, mib, within } = require("../lib/common");
const { startKernel, cell } = require("../lib/kernel");
const { orphansAfter, until } = require("../lib/procs");
const { withQuietHost } = require("../lib/quiet-host");

const SCALES = {
  long: { bigMiB: 256, floodMiB: 64, deep: 200_000 },
  short: { bigMiB: 256, floodMiB: 16, deep: 200_000 },
};

/** An error of class `cls` (a constructor, or a name) whose message matches `pattern`. */
function expectError(outcome, cls, pattern) {
  if (outcome.status !== "rejected") return `expected ${typeof cls === "string" ? cls : cls.name}, got ${outcome.status}`;
  const error = outcome.reason;
  const classOk = typeof cls === "string" ? error && error.name === cls : error instanceof cls;
  if (!classOk) return `expected ${typeof cls === "string" ? cls : cls.name}, got ${className(error)}: ${error && error.message}`;
  if (pattern && !pattern.test(String(error.message))) return `the message does not say what happened: "${error.message}"`;
  return undefined;
}

function expectValue(outcome, check) {
  if (outcome.status !== "fulfilled") return `expected a result, got ${outcome.status} ${outcome.reason ? `${className(outcome.reason)}: ${outcome.reason.message}` : ""}`;
  return check(outcome.value) ? undefined : `wrong result: ${String(JSON.stringify(outcome.value)).slice(0, 200)}`;
}

function nested(depth) {
  let v = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

let fresh = 0;
/** A function never captured before (so the cache directory is consulted again). */
const freshTask = () => new Function("x", `return x + ${++fresh}`);

/** Cache directories that must be refused. Returns [label, dir, pattern] triples. */
function unsafeCacheDirs(root) {
  const out = [];
  const symlinkTarget = path.join(root, "target");
  fs.mkdirSync(symlinkTarget, { mode: 0o700 });
  fs.symlinkSync(symlinkTarget, path.join(root, "link"));
  out.push(["a symbolic link", path.join(root, "link"), /is a symbolic link/]);
  const open = path.join(root, "open");
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  out.push(["writable by others", open, /writable by others \(mode 777\)/]);
  fs.writeFileSync(path.join(root, "file"), "");
  out.push(["a file", path.join(root, "file"), /is not a directory/]);
  if (process.getuid && process.getuid() === 0) {
    const theirs = path.join(root, "theirs");
    fs.mkdirSync(theirs, { mode: 0o700 });
    fs.chownSync(theirs, 65534, 65534); // nobody
    out.push(["owned by another user", theirs, /belongs to user 65534, not to you/]);
  }
  const moduleLink = path.join(root, "modules-link");
  fs.mkdirSync(moduleLink, { mode: 0o700 });
  fs.symlinkSync(symlinkTarget, path.join(moduleLink, "modules"));
  out.push(["one whose modules/ is a symbolic link", moduleLink, /is a symbolic link/]);
  return out;
}

/** The pool cases: [name, async (pool, output) => reason-it-failed | undefined, what it measured]. */
function poolCases(options) {
  const big = options.bigMiB << 20;
  const cases = [];
  const add = (name, body) => cases.push({ name, body });

  add(`a ${options.bigMiB} MiB argument`, async (pool) => {
    const arg = new Uint8Array(big);
    arg[big - 1] = 7;
    return expectValue(await within(pool.submit((b) => b.length + b[b.length - 1], arg), 120_000), (v) => v === big + 7);
  });
  add(`a ${options.bigMiB} MiB result`, async (pool) =>
    expectValue(await within(pool.submit((n) => { const b = new Uint8Array(n); b[n - 1] = 9; return b; }, big), 120_000), (v) => v.length === big && v[big - 1] === 9));
  add(`a ${options.bigMiB} MiB string result`, async (pool) =>
    expectValue(await within(pool.submit((n) => "x".repeat(n), big), 120_000), (v) => typeof v === "string" && v.length === big));
  add(`${options.bigMiB} MiB in a map of 64 items`, async (pool) => {
    const items = Array.from({ length: 64 }, (_, i) => new Float64Array(big / 64 / 8).fill(i));
    return expectValue(await within(pool.map((a) => a[0] + a.length, items), 120_000), (v) => v.every((x, i) => x === i + big / 64 / 8));
  });
  add(`an argument nested ${options.deep} levels`, async (pool) =>
    expectError(await within(Promise.resolve().then(() => pool.submit((x) => 1, nested(options.deep))), 30_000), SerializationError, /argument 1 cannot be sent to a worker/));
  add(`a map item nested ${options.deep} levels`, async (pool) =>
    expectError(await within(pool.map((x) => 1, [1, nested(options.deep), 3], { chunksize: 1 }), 30_000), SerializationError, /item 1 cannot be sent/));
  add(`a result nested ${options.deep} levels`, async (pool) =>
    expectError(await within(pool.submit((d) => { let v = []; for (let i = 0; i < d; i++) v = [v]; return v; }, options.deep), 30_000), "SerializationError", /result cannot be sent back/));
  add("an error carrying data nested 200,000 levels", async (pool) =>
    expectError(await within(pool.submit(() => { let v = {}; for (let i = 0; i < 200000; i++) v = { v }; throw Object.assign(new RangeError("deep payload"), { payload: v }); }), 30_000), RangeError, /^deep payload$/));
  add("data nested 2,000 levels (round trip)", async (pool) =>
    expectValue(await within(pool.submit((v) => { let d = 0; while (v.length) { v = v[0]; d++; } return d; }, nested(2000)), 30_000), (v) => v === 2000));
  add("a native function", async (pool) => expectError(await within(Promise.resolve().then(() => pool.submit(Math.max, 1, 2)), 5000), CaptureError, /native function \(max\), which has no source/));
  add("a bound function", async (pool) => expectError(await within(Promise.resolve().then(() => pool.submit(function f(x) { return x; }.bind(null), 1)), 5000), CaptureError, /bound function/));
  add("a method that uses #private fields", async (pool) => {
    class Secret { #v = 1; read() { return this.#v; } }
    return expectError(await within(Promise.resolve().then(() => pool.submit(Secret.prototype.read)), 5000), CaptureError, /could not be parsed as a function/);
  });
  add("a method that uses super", async (pool) => {
    class Base { twice(x) { return 2 * x; } }
    class Derived extends Base { four(x) { return super.twice(x) * 2; } }
    return expectError(await within(Promise.resolve().then(() => pool.submit(Derived.prototype.four, 1)), 5000), CaptureError, /uses `super`/);
  });
  add("an argument whose getter throws", async (pool) =>
    expectError(await within(Promise.resolve().then(() => pool.submit((o) => 1, { get boom() { throw new Error("getter says no"); } })), 5000), SerializationError, /argument 1 cannot be sent to a worker: getter says no/));
  add("an argument that is a Proxy with throwing traps", async (pool) => {
    const hostile = new Proxy({}, { get() { throw new Error("trap"); }, ownKeys() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("trap"); } });
    return expectError(await within(Promise.resolve().then(() => pool.submit((o) => 1, hostile)), 5000), SerializationError, /argument 1 cannot be sent/);
  });
  add("a result whose getter throws", async (pool) =>
    expectError(await within(pool.submit(() => ({ get x() { throw new Error("result getter"); } })), 10_000), "SerializationError", /result cannot be sent back to the owner: result getter/));
  add("an error whose message and fields throw", async (pool) =>
    expectError(await within(pool.submit(() => { const e = new TypeError("x"); Object.defineProperty(e, "message", { get() { throw 1; } }); Object.defineProperty(e, "code", { enumerable: true, get() { throw new Error("nope"); } }); throw e; }), 10_000), TypeError));
  add("a thrown revoked Proxy", async (pool) =>
    expectError(await within(pool.submit(() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy; }), 10_000), Error, /a non-Error value was thrown/));
  add("a thrown Proxy of an Error whose traps throw", async (pool) =>
    expectError(await within(pool.submit(() => { throw new Proxy(new Error("p"), { get() { throw new Error("trap"); }, ownKeys() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("trap"); } }); }), 10_000), Error, /a non-Error value was thrown/));
  add("data that looks like nbpool's big-buffer marker, beside a big buffer", async (pool) => {
    const victim = path.join(os.tmpdir(), `nbpool-stress-victim-${process.pid}`);
    fs.writeFileSync(victim, "keep me");
    try {
      const lookalike = { __nbpoolShm: [victim, "Buffer", 7] };
      const r = await within(pool.submit((b, o) => [b.length, typeof o.__nbpoolShm], new Uint8Array(2 << 20), lookalike), 30_000);
      const why = expectValue(r, (v) => v[0] === 2 << 20 && v[1] === "object");
      return why ?? (fs.existsSync(victim) ? undefined : "the worker deleted a file named by user data");
    } finally {
      fs.rmSync(victim, { force: true });
    }
  });
  add("a SharedArrayBuffer argument", async (pool) =>
    expectError(await within(Promise.resolve().then(() => pool.submit((s) => s.byteLength, new SharedArrayBuffer(16))), 5000), SerializationError, /argument 1 cannot be sent/));
  add(`a task printing ${options.floodMiB} MiB through console.log`, async (pool, output, setContext) => {
    setContext("console");
    const r = await within(pool.submit((mib) => { const line = "y".repeat(1023); for (let i = 0; i < mib * 1024; i++) console.log(line); return "printed"; }, options.floodMiB), 120_000);
    const seen = output.byContext.get("console")?.stdout ?? 0;
    return expectValue(r, (v) => v === "printed") ?? (seen === options.floodMiB << 20 ? undefined : `the host received ${seen} bytes of ${options.floodMiB << 20}`);
  });
  add(`a task writing ${options.floodMiB} MiB straight to fd 1 and 2`, async (pool, output, setContext) => {
    setContext("raw");
    const r = await within(pool.submit((mib) => { const fs = require("fs"); const chunk = "z".repeat(1 << 20); for (let i = 0; i < mib; i++) { fs.writeSync(1, chunk); fs.writeSync(2, chunk); } return "written"; }, options.floodMiB), 120_000);
    const want = options.floodMiB << 20;
    const ok = await until(() => output.stdout >= want && output.stderr >= want, 10_000);
    return expectValue(r, (v) => v === "written") ?? (ok ? undefined : `the owner received ${output.stdout} + ${output.stderr} bytes of ${want} + ${want}`);
  });
  add("a task that closes its IPC channel", async (pool) =>
    expectError(await within(pool.submit(() => { process.disconnect(); return 1; }), 10_000), WorkerCrashedError, /exited with code 0 \(did the task call process\.exit\(\) or process\.disconnect\(\)\?\)/));
  add("an async task that closes its IPC channel", async (pool) =>
    expectError(await within(pool.submit(async () => { process.disconnect(); await new Promise((r) => setTimeout(r, 1000)); return 1; }), 10_000), WorkerCrashedError, /exited with code 0/));
  add("a task that breaks process.send", async (pool) =>
    expectError(await within(pool.submit(() => { process.send = undefined; return 1; }), 10_000), WorkerCrashedError, /exited with code 1/));
  add("unsafe cache directories", async (pool) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-stress-cache-"));
    const saved = process.env.NBPOOL_CACHE_DIR;
    const problems = [];
    try {
      for (const [label, dir, pattern] of unsafeCacheDirs(root)) {
        process.env.NBPOOL_CACHE_DIR = dir;
        const why = expectError(await within(Promise.resolve().then(() => pool.submit(freshTask(), 1)), 5000), CaptureError, pattern);
        if (why) problems.push(`${label}: ${why}`);
        if (fs.existsSync(path.join(dir, "modules")) && !label.includes("modules/")) problems.push(`${label}: nbpool wrote into it`);
      }
    } finally {
      if (saved === undefined) delete process.env.NBPOOL_CACHE_DIR;
      else process.env.NBPOOL_CACHE_DIR = saved;
      fs.rmSync(root, { recursive: true, force: true });
    }
    const after = expectValue(await within(pool.submit(freshTask(), 1), 10_000), (v) => typeof v === "number");
    return problems.length ? problems.join("; ") : after;
  });
  return cases;
}

async function run(scale = "long", { log = () => {} } = {}) {
  const options = SCALES[scale];
  const checks = new Checks();
  const name = `stress-hostile-${process.pid}-${Date.now() % 1e9}`;
  const started = Date.now();
  const results = [];
  const pids = new Set();
  await withQuietHost(async (output, setContext) => {
    const pool = new Pool({ maxWorkers: 2, name, progress: false });
    try {
      for (const { name: label, body } of poolCases(options)) {
        const t0 = Date.now();
        let why;
        try {
          why = await body(pool, output, setContext);
        } catch (err) {
          why = `threw in the owner: ${err && err.stack}`;
        }
        pool.pids.forEach((p) => pids.add(p));
        // The pool goes on: full worker count, right results.
        const whole = await until(() => pool.workerCount === 2, 10_000);
        const after = await within(pool.map((x) => x * 3, [1, 2, 3]), 30_000);
        const goesOn = whole && after.status === "fulfilled" && after.value.join() === "3,6,9";
        const ms = Date.now() - t0;
        results.push({ case: label, ok: !why && goesOn, ms, detail: why });
        checks.that(!why, () => `${label}: ${why}`);
        checks.that(goesOn, `${label}: the pool did not go on afterwards (${pool.workerCount} workers, map ${after.status})`);
        log(`hostile: ${label} ${why ? "FAILED" : "ok"} (${ms} ms)`);
      }
    } finally {
      pool.records().workers.forEach((w) => pids.add(w.pid));
      await pool.shutdown({ kill: true });
    }
  });
  const orphans = await orphansAfter(name, [...pids]);
  checks.that(orphans.length === 0, () => `worker processes left after shutdown: ${orphans.join(", ")}`);
  return {
    name: "hostile",
    figures: {
      cases: results.length,
      passed: results.filter((r) => r.ok).length,
      byCase: Object.fromEntries(results.map((r) => [r.case, `${r.ok ? "ok" : "FAILED"} ${r.ms} ms`])),
      ownerRssMiB: mib(process.memoryUsage().rss),
      orphans: orphans.length,
      seconds: (Date.now() - started) / 1000,
    },
    failures: checks.failures,
    known: [],
  };
}

/**
 * The hostile cases that need a notebook: a cell value whose getter throws while the pool
 * captures it, and a function that cannot travel; the next cell must still run.
 */
async function runInKernel({ log = () => {} } = {}) {
  const checks = new Checks();
  const name = `stress-hostile-kernel-${process.pid}-${Date.now() % 1e9}`;
  const kernel = await startKernel();
  const results = {};
  try {
    const setup = await cell(kernel, `import { Pool } from "nbpool";\nconst hp = new Pool({ maxWorkers: 1, name: ${JSON.stringify(name)}, progress: false });\nawait hp.submit((x: number) => x + 1, 1)`);
    checks.that(setup.status === "ok" && setup.text === "2", `the setup cell failed: ${setup.ename}: ${setup.evalue}`);
    const cases = [
      ["a cell value whose getter throws during capture", `const cfg = { get secret(): number { throw new Error("no peeking"); } };\nfunction useCfg(x: number) { return cfg.secret + x; }\nawait hp.submit(useCfg, 1)`, /CaptureError/, /cfg/],
      ["a cell value that is a Proxy with throwing traps", `const trap = new Proxy({ a: 1 }, { get() { throw new Error("trap"); }, ownKeys() { throw new Error("trap"); } });\nfunction useTrap(x: number) { return (trap as any).a + x; }\nawait hp.submit(useTrap, 1)`, /CaptureError/, /trap/],
      ["a closure over a local", `function makeAdder(n: number) { return (x: number) => x + n; }\nawait hp.submit(makeAdder(2), 1)`, /CaptureError/, /`n` is a local/],
    ];
    for (const [label, code, ename, evalue] of cases) {
      const out = await cell(kernel, code);
      const ok = out.status === "error" && ename.test(out.ename) && evalue.test(out.evalue);
      checks.that(ok, `${label}: expected ${ename} naming ${evalue}, got ${out.status} ${out.ename}: ${out.evalue}`);
      const next = await cell(kernel, "await hp.submit((x: number) => x * 10, 4)");
      checks.that(next.status === "ok" && next.text === "40", `${label}: the next cell did not run (${next.status} ${next.ename}: ${next.evalue})`);
      results[label] = ok ? `${out.ename}: ${out.evalue.split("\n")[0].slice(0, 160)}` : "FAILED";
      log(`hostile (kernel): ${label} ${ok ? "ok" : "FAILED"}`);
    }
  } finally {
    await kernel.close();
  }
  const orphans = await orphansAfter(name);
  checks.that(orphans.length === 0, () => `worker processes left after the kernel shut down: ${orphans.join(", ")}`);
  return { name: "hostile-kernel", figures: { cases: results, orphans: orphans.length }, failures: checks.failures, known: [] };
}

module.exports = { run, runInKernel, SCALES };
