/**
 * The entry every worker process runs. It loads functions (captured modules or module
 * exports), runs tasks one at a time in the order they arrive, and sends results back in
 * batches. It knows nothing about scheduling: the owner decides what runs where, kills
 * what must stop, and replaces what died.
 *
 * Kept small on purpose: every millisecond here is start-up time of every worker.
 */
import { inspect } from "node:util";
import { encodeError, type WireError } from "../error-wire";
import { TO_OWNER, TO_WORKER, type FunctionSpec, type Op } from "../protocol";
import { runChunk, isThenable, now, type ChunkOutcome } from "./chunk";
import { restoreBig, stashBig } from "../big-buffers";
import { openBeacon } from "../beacon";

/** Where big results travel (set by the owner; see big-buffers.ts). */
const SHM_DIR = process.env.NBPOOL_SHM_DIR || null;

type Fn = (...args: unknown[]) => unknown;
type Loaded = Fn | Promise<Fn> | { failed: WireError };

const [, , workerId = "?", poolName = ""] = process.argv;
process.title = `nbpool-worker ${poolName ? poolName + " " : ""}${workerId}`;

/** A synchronous task longer than this lets the worker read its messages before the next one. */
const YIELD_AFTER_MS = 5;

/** Tells the owner which task runs, in a way that survives this process's death. */
const markStarted = openBeacon(process.argv[5]);

const functions = new Map<string, Loaded>();
/** Tasks waiting to run, oldest first (a head index avoids O(n) shifts). */
let queue: Op[] = [];
let head = 0;
const cancelled = new Set<number>();
/** The task running now (0: none). Output written meanwhile is attributed to it. */
let running = 0;
/** True while an async task, load or initializer is being awaited: the queue waits. */
let busy = false;

let outbox: Op[] = [];
let lastFlush = 0;

function send(op: Op): void {
  outbox.push(op);
}

/** Send everything queued in one message; isolate what structured clone refuses. */
function flush(): void {
  if (outbox.length === 0 || !process.connected) return;
  const ops = outbox;
  outbox = [];
  lastFlush = now();
  try {
    process.send!(ops);
  } catch {
    for (const op of ops) sendAlone(op);
  }
}

function sendAlone(op: Op): void {
  try {
    process.send!([op]);
  } catch (err) {
    if (op[0] !== TO_OWNER.ok) return;
    const [, id, , started, ended] = op;
    const wire = encodeError(new TypeError(`the task's result cannot be sent back to the owner: ${(err as Error).message}`));
    wire.name = "SerializationError";
    wire.ctor = "SerializationError";
    process.send!([[TO_OWNER.error, id, wire, started, ended, -1, []]]);
  }
}

// Output written by task code travels with the results, tagged with the task, so the owner
// can show it in the cell that submitted the task (and before the task's result).
function captureOutput(stream: NodeJS.WriteStream, fd: 1 | 2): void {
  stream.write = function write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
    send([TO_OWNER.output, running, fd, text]);
    // A long task that prints progress should be seen while it runs, not at its end.
    if (now() - lastFlush > 50) flush();
    const cb = typeof encoding === "function" ? encoding : callback;
    if (typeof cb === "function") process.nextTick(cb as () => void);
    return true;
  } as typeof stream.write;
}

function load(key: string, spec: FunctionSpec): void {
  try {
    if ("modulePath" in spec) {
      const build = require(spec.modulePath) as (data: unknown) => Fn;
      functions.set(key, build(spec.data));
    } else {
      const pending = importExport(spec.moduleUrl, spec.exportName);
      pending.catch(() => {}); // reported to each task that uses it, not as an unhandled rejection
      functions.set(key, pending);
    }
  } catch (err) {
    functions.set(key, { failed: encodeError(err) });
  }
}

async function importExport(moduleUrl: string, exportName: string): Promise<Fn> {
  const mod = (await import(moduleUrl)) as Record<string, unknown>;
  let fn = mod[exportName];
  // A CommonJS module imported from ESM puts module.exports on `default`.
  if (fn === undefined && mod.default && typeof mod.default === "object") fn = (mod.default as Record<string, unknown>)[exportName];
  if (typeof fn !== "function") {
    throw new TypeError(`${moduleUrl} has no exported function "${exportName}" (found ${fn === undefined ? "nothing" : typeof fn})`);
  }
  return fn as Fn;
}

function onMessage(ops: Op[]): void {
  for (const op of ops) {
    switch (op[0]) {
      case TO_WORKER.load:
        load(op[1] as string, op[2] as FunctionSpec);
        break;
      case TO_WORKER.init:
      case TO_WORKER.forget:
      case TO_WORKER.run:
      case TO_WORKER.chunk:
        queue.push(op);
        break;
      case TO_WORKER.cancel:
        if (op[1] === running) send([TO_OWNER.running, running]);
        else cancelled.add(op[1] as number);
        break;
    }
  }
  pump();
}

/** Run queued tasks until the queue is empty or a task has to be awaited. */
function pump(): void {
  while (!busy && head < queue.length) {
    const op = queue[head++];
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (op[0] === TO_WORKER.forget) {
      functions.delete(op[1] as string);
      continue;
    }
    if (op[0] === TO_WORKER.init) {
      runInitializer(op[1] as string, op[2] as unknown[]);
      continue;
    }
    const id = op[1] as number;
    if (cancelled.delete(id)) {
      send([TO_OWNER.skipped, id]);
      continue;
    }
    const loaded = functions.get(op[2] as string);
    const started = now();
    if (loaded === undefined || typeof loaded === "object" && "failed" in loaded) {
      const wire = loaded ? loaded.failed : encodeError(new Error(`nbpool internal: function ${String(op[2])} was never loaded`));
      send([TO_OWNER.error, id, wire, started, now(), -1, []]);
      continue;
    }
    running = id;
    markStarted(id, started);
    if (isThenable(loaded)) {
      await_(loaded.then((fn) => (functions.set(op[2] as string, fn), execute(op, fn))), op, started);
    } else {
      const outcome = execute(op, loaded);
      if (isThenable(outcome)) await_(outcome, op, started);
      else report(op, outcome, started);
      // After a long task, read the mail before the next one: it may be a cancel for it.
      if (!busy && now() - started > YIELD_AFTER_MS && head < queue.length) {
        running = 0;
        flush();
        setImmediate(pump);
        return;
      }
    }
  }
  if (!busy) running = 0;
  flush();
}

function execute(op: Op, fn: Fn): ChunkOutcome | Promise<ChunkOutcome> {
  const payload = op[4] ? restoreBig(op[3] as unknown[]) : (op[3] as unknown[]);
  if (op[0] === TO_WORKER.chunk) return runChunk(fn, payload);
  let value: unknown;
  try {
    value = fn(...payload);
  } catch (err) {
    return { error: err, index: -1, values: [] };
  }
  if (isThenable(value)) {
    return Promise.resolve(value).then(
      (v) => ({ values: v }),
      (err) => ({ error: err, index: -1, values: [] }),
    );
  }
  return { values: value };
}

function report(op: Op, outcome: ChunkOutcome, started: number): void {
  const id = op[1] as number;
  if ("error" in outcome) {
    send([TO_OWNER.error, id, encodeError(outcome.error), started, now(), outcome.index, outcome.values]);
    return;
  }
  // A run's value is one value; a chunk's is the array of its items' values.
  const single = op[0] !== TO_WORKER.chunk;
  const { values, stashed } = stashBig(single ? [outcome.values] : (outcome.values as unknown[]), SHM_DIR);
  send([TO_OWNER.ok, id, single ? values[0] : values, started, now(), stashed]);
}

function await_(promise: Promise<ChunkOutcome>, op: Op, started: number): void {
  busy = true;
  promise.then(
    (outcome) => report(op, outcome, started),
    (err) => report(op, { error: err, index: -1, values: [] }, started),
  ).finally(() => {
    busy = false;
    running = 0;
    pump();
  });
}

function runInitializer(key: string, args: unknown[]): void {
  const loaded = functions.get(key);
  const fail = (err: unknown) => {
    send([TO_OWNER.initError, loaded && typeof loaded === "object" && "failed" in loaded ? loaded.failed : encodeError(err)]);
    flush();
    process.exitCode = 1;
    process.disconnect?.();
  };
  if (!loaded || typeof loaded === "object" && "failed" in loaded) return fail(new Error("the initializer could not be loaded"));
  busy = true;
  Promise.resolve(loaded)
    .then((fn) => fn(...args))
    .then(
      () => {
        busy = false;
        send([TO_OWNER.ready, process.pid, now()]);
        pump();
      },
      fail,
    );
}

/**
 * process.stdout/stderr are made on first use, and making them costs milliseconds of every
 * worker's start: wrap each (captureOutput) when it is first asked for, not before.
 */
function captureWhenUsed(name: "stdout" | "stderr", fd: 1 | 2): void {
  const original = Object.getOwnPropertyDescriptor(process, name);
  if (!original?.get || !original.configurable) return captureOutput(process[name], fd);
  let stream: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: original.enumerable,
    get() {
      if (!stream) {
        stream = original.get!.call(process) as NodeJS.WriteStream;
        captureOutput(stream, fd);
        // Opening the stream made the fd non-blocking; raw writes to it (fs.writeSync, native
        // code, children that inherit it) would then fail with EAGAIN whenever the pipe to the
        // owner is full. Blocking, they wait for the owner to read, as in any program.
        (stream as unknown as { _handle?: { setBlocking?(on: boolean): unknown } })._handle?.setBlocking?.(true);
      }
      return stream;
    },
  });
}

captureWhenUsed("stdout", 1);
captureWhenUsed("stderr", 2);
process.on("message", onMessage);
// A promise a task left behind rejected with nobody listening: say so, but do not take the
// worker down, and with it the task running now, which did nothing wrong.
process.on("unhandledRejection", (reason) => {
  process.stderr.write(`nbpool worker: a promise rejected with nobody handling it (did a task forget an await?): ${inspect(reason, { depth: 2 })}\n`);
});
// The owner closed the channel (shutdown) or died: either way this worker's job is over.
// (A worker busy in a synchronous loop cannot see this; the owner's orphan watch kills it.)
process.on("disconnect", () => process.exit());
// A send after the owner closed the channel (a shutdown while this worker was starting) fails
// with EPIPE as an 'error' event; unhandled, it would print a crash into the user's cell.
process.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE" && err.code !== "ERR_IPC_CHANNEL_CLOSED") throw err;
  process.exit();
});
if (process.argv[4] !== "init") send([TO_OWNER.ready, process.pid, now()]);
flush();
