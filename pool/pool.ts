/**
 * Pool: Python's ProcessPoolExecutor for TypeScript notebooks. Workers are fresh Node
 * processes; functions travel by capture (their source plus what they use); results come
 * back as futures, arrays or streams. The scheduling is in scheduler.ts, the processes in
 * worker-process.ts, the many-item calls in calls.ts; this file is the API and its checks.
 */
import { captureFunction, mapStack } from "./capture/index";
import { autoChunksize, runMap, runStream, type CallOptions, type CallRunner, type MapOptions, type Progress, type StreamOptions } from "./calls";
import { abortError, PoolClosedError } from "./errors";
import { Future } from "./future";
import { shmDirectory } from "./big-buffers";
import { clockOffset } from "./clock";
import { createProgress, PoolStats, Timeline } from "./display/index";
import { getHost } from "./host";
import { recommendedWorkers } from "./recommend";
import type { CallRecord, TaskRecord, WorkerRecord } from "./records";
import { registerPool, unregisterPool, type LivePool } from "./registry";
import { Scheduler } from "./scheduler";
import type { Task, TaskCallbacks } from "./task";
import { taskRefOf } from "./task-ref";
import { workerEnv } from "./worker-process";
import { now } from "./worker/chunk";

export interface PoolOptions {
  /** Worker processes (default: recommendedWorkers(), one per physical core). */
  maxWorkers?: number;
  /** Runs once in each worker before its first task (load a model, open a database). */
  initializer?: (...args: any[]) => unknown;
  initArgs?: unknown[];
  /** Replace a worker after this many tasks (protection against leaks). */
  maxTasksPerWorker?: number;
  /** Milliseconds a task may run; then it rejects with TaskTimeoutError and its worker is replaced. */
  taskTimeout?: number;
  /** Heap limit of each worker in MB (--max-old-space-size); past it the task fails with WorkerCrashedError. */
  memoryLimitMb?: number;
  /** End a worker idle this long (ms); it comes back when there is work. Default: keep workers. */
  idleTimeout?: number;
  /** Extra environment variables for the workers (merged over this process's). */
  env?: Record<string, string>;
  /** Working directory of the workers (default: this process's). */
  cwd?: string;
  /** A name for messages, process titles and displays. */
  name?: string;
  /** Progress bars for map/imap over many items (default true; shown only in a notebook or on a TTY). */
  progress?: boolean;
}

export interface ShutdownOptions {
  /** Drop the tasks that have not started (they reject with an AbortError). Default false. */
  cancelPending?: boolean;
  /** Wait until every worker has exited. Default true. */
  wait?: boolean;
  /** Kill the workers now, running tasks included (they reject with an AbortError). Default false. */
  kill?: boolean;
}

/** The calls of a pool, with options applied to each: `pool.with({ timeout: 1000 }).submit(fn, x)`. */
export interface PoolCalls {
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  map<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: MapOptions): Promise<Awaited<R>[]>;
  imap<T, R>(fn: (item: T) => R, items: Iterable<T> | AsyncIterable<T>, options?: StreamOptions): AsyncGenerator<Awaited<R>, void, undefined>;
  imapUnordered<T, R>(fn: (item: T) => R, items: Iterable<T> | AsyncIterable<T>, options?: StreamOptions): AsyncGenerator<Awaited<R>, void, undefined>;
}

type FunctionRef = { key: string; spec: Task["spec"] };

const HISTORY_LIMIT = 50_000;
let poolCount = 0;

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new RangeError(`${name} must be a positive integer, not ${value}`);
}

function nonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(typeof value === "number" && value >= 0)) throw new RangeError(`${name} must be a number of milliseconds >= 0, not ${value}`);
}

export class Pool implements PoolCalls, LivePool {
  readonly name: string;
  readonly maxWorkers: number;
  private readonly options: PoolOptions;
  private readonly scheduler: Scheduler;
  private closedFlag = false;
  private nextTaskId = 1;
  private submitCount = 0;
  private nextCallId = 1;
  private readonly history: Task[] = [];
  private readonly calls: CallRecord[] = [];
  private turnCallSite: { stack?: string } | undefined;

  constructor(options: PoolOptions = {}) {
    positiveInteger("maxWorkers", options.maxWorkers);
    positiveInteger("maxTasksPerWorker", options.maxTasksPerWorker);
    nonNegative("taskTimeout", options.taskTimeout);
    nonNegative("idleTimeout", options.idleTimeout);
    if (options.memoryLimitMb !== undefined && !(options.memoryLimitMb >= 16)) throw new RangeError(`memoryLimitMb must be at least 16, not ${options.memoryLimitMb}`);
    if (options.initArgs !== undefined && !Array.isArray(options.initArgs)) throw new TypeError("initArgs must be an array");
    this.options = options;
    this.name = options.name ?? `pool-${++poolCount}`;
    this.maxWorkers = options.maxWorkers ?? recommendedWorkers();
    const shmDir = shmDirectory();
    const init = options.initializer ? { ...this.resolve(options.initializer, "initializer"), args: options.initArgs ?? [] } : undefined;
    this.scheduler = new Scheduler({
      maxWorkers: this.maxWorkers,
      poolName: this.name,
      env: workerEnv(process.env, { ...options.env, NBPOOL_CLOCK_OFFSET: String(clockOffset()), ...(shmDir ? { NBPOOL_SHM_DIR: shmDir } : {}) }),
      shmDir,
      cwd: options.cwd,
      memoryLimitMb: options.memoryLimitMb,
      maxTasksPerWorker: options.maxTasksPerWorker,
      idleTimeout: options.idleTimeout,
      initializer: init,
      mapStack,
      nextTaskId: () => this.nextTaskId++,
      onSettled: (task) => this.record(task),
    });
    registerPool(this);
    this.scheduler.fillWorkers();
  }

  /** True once shutdown() was called. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Run fn(...args) in a worker. The future rejects with the worker's error, or an AbortError when cancelled. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    return this.submitWith({}, fn, args, this.submit);
  }

  /** fn over every item, results in input order. Small items travel in chunks. */
  map<T, R>(fn: (item: T) => R, items: Iterable<T>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    try {
      const ref = this.resolve(fn, "task");
      const list = Array.isArray(items) ? items : Array.from(items);
      return runMap(this.runner(ref, "map", list.length, options, this.map), list, options) as Promise<Awaited<R>[]>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** fn over every item, streamed in input order, with a bounded number of chunks in flight. */
  imap<T, R>(fn: (item: T) => R, items: Iterable<T> | AsyncIterable<T>, options: StreamOptions = {}): AsyncGenerator<Awaited<R>, void, undefined> {
    return this.stream(fn, items, options, true, this.imap) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /** Like imap, but each result as soon as it is ready. */
  imapUnordered<T, R>(fn: (item: T) => R, items: Iterable<T> | AsyncIterable<T>, options: StreamOptions = {}): AsyncGenerator<Awaited<R>, void, undefined> {
    return this.stream(fn, items, options, false, this.imapUnordered) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /** The same calls with per-call options: `pool.with({ signal, timeout }).submit(fn, x)`. */
  with(options: CallOptions & MapOptions): PoolCalls {
    const merge = <O extends object>(o?: O) => ({ ...options, ...o });
    const view: PoolCalls = {
      submit: (fn, ...args) => this.submitWith(options, fn, args, view.submit),
      map: (fn, items, o) => this.map(fn, items, merge(o)),
      imap: (fn, items, o) => this.imap(fn, items, merge(o)),
      imapUnordered: (fn, items, o) => this.imapUnordered(fn, items, merge(o)),
    };
    return view;
  }

  /**
   * Stop the pool. By default it finishes the queued and running tasks, then ends the
   * workers; `cancelPending` drops the queued ones, `kill` stops the running ones too.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (!this.closedFlag) {
      this.closedFlag = true;
      unregisterPool(this);
    }
    await this.scheduler.shutdown(
      { cancelPending: options.cancelPending ?? false, kill: options.kill ?? false, wait: options.wait ?? true },
      () => abortError(`the pool ${this.name} was shut down before the task ran`),
    );
  }

  /** `await using pool = new Pool()`: shut down (waiting for its tasks) at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /**
   * Cancel the tasks submitted from `context` (every task when undefined): queued ones never
   * run, running ones have their workers killed and replaced. Used by the kernel on interrupt.
   * Returns how many tasks were cancelled.
   */
  interrupt(context?: unknown): number {
    return this.scheduler.interrupt(context, () => abortError("interrupted: the task was cancelled"));
  }

  /** @internal Kill every worker now (process exit). */
  killWorkers(): void {
    for (const w of this.scheduler.workers) w.kill("shutdown");
  }

  /** What the pool recorded: tasks (the last 50,000 settled, and those not settled yet), workers, calls. */
  records(): { tasks: TaskRecord[]; workers: WorkerRecord[]; calls: CallRecord[] } {
    return {
      tasks: [...this.history, ...this.scheduler.unsettled()].map(taskRecord),
      workers: this.scheduler.workerRecords.map((w) => ({ ...w })),
      calls: this.calls.map((c) => ({ ...c })),
    };
  }

  /** Counts by outcome, queue wait and run time, throughput, and each worker's pid, RSS and CPU time. */
  stats(): PoolStats {
    return new PoolStats({ ...this.records(), name: this.name });
  }

  /**
   * What the workers did, as a Gantt chart: the last map/imap call by default, or a call
   * (`{ call: id }`) or a time window (`{ window: { from, to } }`, owner clock in ms).
   */
  timeline(options: { call?: number; window?: { from: number; to: number }; width?: number } = {}): Timeline {
    return new Timeline({ ...this.records(), call: options.call, window: options.window, slots: this.maxWorkers }, { width: options.width });
  }

  /** Workers alive now. */
  get workerCount(): number {
    return this.scheduler.workers.size;
  }

  /** Worker process ids alive now. */
  get pids(): number[] {
    return [...this.scheduler.workers].map((w) => w.pid);
  }

  // --- internals ----------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closedFlag) throw new PoolClosedError(`the pool ${this.name} was shut down; create a new Pool to run more tasks`);
    if (this.scheduler.broken) throw this.scheduler.broken;
  }

  private resolve(fn: unknown, role: "task" | "initializer"): FunctionRef {
    if (role === "task") this.checkOpen();
    const ref = taskRefOf(fn);
    if (ref) return { key: ref.key, spec: { moduleUrl: ref.moduleUrl, exportName: ref.exportName } };
    if (typeof fn !== "function") throw new TypeError(`expected a function or task(module, exportName) as the ${role}, got ${fn === null ? "null" : typeof fn}`);
    const captured = captureFunction(fn as (...args: unknown[]) => unknown, { role });
    return { key: captured.key, spec: { modulePath: captured.modulePath, data: captured.data } };
  }

  private newTask(ref: FunctionRef, kind: Task["kind"], payload: unknown[], firstIndex: number, call: number, callbacks: TaskCallbacks, callSite: object, timeout?: number): Task {
    return {
      id: this.nextTaskId++,
      call,
      items: kind === "chunk" ? payload.length : 1,
      firstIndex,
      submitted: now(),
      key: ref.key,
      spec: ref.spec,
      kind,
      payload,
      context: getHost()?.currentContext(),
      timeout: timeout ?? this.options.taskTimeout,
      callbacks,
      state: "queued",
      callSite,
    };
  }

  private submitWith(options: CallOptions, fn: unknown, args: unknown[], caller: Function): Future<any> {
    const ref = this.resolve(fn, "task");
    nonNegative("timeout", options.timeout);
    const callSite = this.callSite(caller);
    let task: Task;
    const { future, resolve, reject } = Future.attach<unknown>({
      state: () => (this.scheduler.isRunning(task) ? "running" : "pending"),
      cancel: (reason) => this.scheduler.cancel(task, abortError("the future was cancelled", reason)),
    });
    const signal = options.signal;
    if (!signal) {
      task = this.newTask(ref, "run", args, this.submitCount++, 0, { resolve, reject }, callSite, options.timeout);
      this.scheduler.enqueue(task);
      return future;
    }
    const onAbort = () => this.scheduler.cancel(task, abortError("the task was aborted", signal.reason));
    const settled = () => signal.removeEventListener("abort", onAbort);
    task = this.newTask(ref, "run", args, this.submitCount++, 0, {
      resolve: (value) => (settled(), resolve(value)),
      reject: (error) => (settled(), reject(error)),
    }, callSite, options.timeout);
    if (signal.aborted) {
      this.scheduler.cancel(task, abortError("the task was aborted", signal.reason));
      return future;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    this.scheduler.enqueue(task);
    return future;
  }

  private stream(fn: unknown, items: Iterable<unknown> | AsyncIterable<unknown>, options: StreamOptions, ordered: boolean, caller: Function): AsyncGenerator<unknown, void, undefined> {
    const ref = this.resolve(fn, "task");
    const known = Array.isArray(items) ? items.length : 0;
    return runStream(this.runner(ref, ordered ? "imap" : "imapUnordered", known, options, caller), items, options, ordered);
  }

  /**
   * The caller's stack, for the local half of a remote error's traceback. Capturing a stack
   * costs more than the rest of a submit, so one capture serves every submit made in the
   * same synchronous run (a submit loop is one call site).
   */
  private callSite(caller: Function): { stack?: string } {
    if (this.turnCallSite) return this.turnCallSite;
    const callSite: { stack?: string } = {};
    Error.captureStackTrace(callSite, caller);
    this.turnCallSite = callSite;
    queueMicrotask(() => (this.turnCallSite = undefined));
    return callSite;
  }

  private runner(ref: FunctionRef, kind: CallRecord["kind"], items: number, options: MapOptions, caller: Function): CallRunner {
    const callSite: { stack?: string } = {};
    Error.captureStackTrace(callSite, caller);
    const record: CallRecord = { id: this.nextCallId++, kind, started: now(), items };
    this.calls.push(record);
    if (this.calls.length > 1000) this.calls.splice(0, this.calls.length - 1000);
    const showProgress = options.progress ?? this.options.progress ?? true;
    return {
      maxWorkers: this.maxWorkers,
      chunk: (chunk, firstIndex, callbacks) => this.newTask(ref, "chunk", chunk, firstIndex, record.id, callbacks!, callSite),
      enqueue: (task) => this.scheduler.enqueue(task),
      cancel: (task, error) => this.scheduler.cancel(task, error),
      progress: (total) => (showProgress ? this.progress(kind, total) : NO_PROGRESS),
      end: () => {
        record.ended = now();
      },
    };
  }

  private progress(kind: string, total: number | undefined): Progress {
    return createProgress({ label: kind, total });
  }

  private record(task: Task): void {
    task.callbacks = undefined;
    task.callSite = undefined;
    this.history.push(task);
    if (this.history.length > HISTORY_LIMIT * 1.2) this.history.splice(0, this.history.length - HISTORY_LIMIT);
  }
}

const NO_PROGRESS: Progress = { update() {}, finish() {} };

/** A copy of a task's record fields, without its live parts. */
function taskRecord(t: Task): TaskRecord {
  const { id, call, items, firstIndex, submitted, started, ended, worker, outcome } = t;
  return { id, call, items, firstIndex, submitted, started, ended, worker, outcome };
}

export { autoChunksize };
