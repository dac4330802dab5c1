/**
 * The scheduler: which task runs on which worker, and what happens when a worker answers,
 * dies, or must be stopped. It is to nbpool what the executor manager thread is to
 * CPython's ProcessPoolExecutor, without the thread: everything happens on the owner's
 * event loop, so there is no lock and no state a crash can leave half-updated.
 *
 * Invariants:
 * - A worker runs its tasks one at a time, in the order sent, and answers in that order
 *   (in batches); `worker.inflight` is that order. Which one runs now, its beacon says
 *   (supervision.ts): timeouts, cancels and crashes go to that task and no other.
 * - Every task is settled exactly once: by its worker's answer, by a cancel, or by its
 *   worker's death. A task whose worker died before answering it, not because of it, is
 *   sent again (it may have run: its answer died with the worker).
 * - Every live worker is in `workers`; a dead one is replaced while the pool is open.
 */
import { discardStashed, restoreBig, stashBig } from "./big-buffers";
import { decodeError, type WireError } from "./error-wire";
import { BrokenPoolError } from "./errors";
import { TO_OWNER, TO_WORKER, type Op } from "./protocol";
import type { WorkerRecord } from "./records";
import { withRemoteDetails, findUnsendable } from "./remote";
import type { Task } from "./task";
import { TaskQueue } from "./task-queue";
import { forward, withoutCrashReport } from "./worker-output";
import { runningOn, Supervision } from "./supervision";
import { describeExit, runningTaskError } from "./worker-exit";
import { WorkerProcess, type WorkerListener } from "./worker-process";
import { now } from "./worker/chunk";

export interface SchedulerOptions {
  maxWorkers: number;
  poolName: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  memoryLimitMb?: number;
  maxTasksPerWorker?: number;
  idleTimeout?: number;
  initializer?: { key: string; spec: Task["spec"]; args: unknown[] };
  /** Rewrites remote stack frames in generated modules to their origin (capture). */
  mapStack: (stack: string) => string;
  /** Where big buffers travel (big-buffers.ts); null: by IPC only. */
  shmDir: string | null;
  /** A new task id (for the copy of a rescued task). */
  nextTaskId: () => number;
  /** Called with every settled task (for the pool's records). */
  onSettled: (task: Task) => void;
}

/** Keep about this much work (ms) queued on each worker, so it never waits for the owner. */
const PIPELINE_TARGET_MS = 2;
const MAX_DEPTH = 128;
/** Functions a worker keeps loaded; the oldest is forgotten beyond this. */
const MAX_LOADED = 256;
/** A task that was on this many workers that died while none of their tasks ran is blamed. */
const MAX_UNEXPLAINED_RETRIES = 2;
/** Workers that die before becoming ready this many times in a row mean the pool cannot start. */
const MAX_BOOT_FAILURES = 3;

export class Scheduler implements WorkerListener {
  readonly workers = new Set<WorkerProcess>();
  readonly workerRecords: WorkerRecord[] = [];
  /** Set when the pool cannot run anything any more (its initializer failed). */
  broken?: Error;
  closing = false;

  private readonly queue = new TaskQueue();
  private readonly sent = new Map<number, Task>();
  private nextWorkerId = 1;
  private dispatchQueued = false;
  // One until tasks are measured: an unknown task may be long, and must not queue behind another.
  private depth = 1;
  private meanRunMs = NaN;
  private bootFailures = 0;
  private readonly supervision: Supervision;
  private readonly exitWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions) {
    this.supervision = new Supervision((copy) => {
      this.queue.retry(copy);
      this.scheduleDispatch();
    }, options.nextTaskId);
  }

  get queuedCount(): number {
    return this.queue.size;
  }

  /** Start workers up to maxWorkers (at construction, so the first map finds them warm). */
  fillWorkers(): void {
    let live = 0;
    for (const w of this.workers) if (!w.retiring) live++;
    while (live < this.options.maxWorkers && !this.closing && !this.broken) {
      this.spawnWorker();
      live++;
    }
  }

  enqueue(task: Task): void {
    this.queue.push(task);
    this.scheduleDispatch();
  }

  /** Cancel a task that has not settled: reject it now; stop it where it is. */
  cancel(task: Task, error: unknown): boolean {
    while (task.rescuedBy) task = task.rescuedBy;
    if (task.state === "settled" || task.cancelled) return false;
    this.queue.cancelled(task);
    task.cancelled = true;
    // A task on a worker stays on the books until the worker answers (or dies).
    const onWorker = task.state === "sent";
    this.settle(task, "cancelled", error, undefined, !onWorker);
    const worker = onWorker ? this.workerOf(task) : undefined;
    if (worker) this.supervision.stop(worker, task);
    return true;
  }

  /** Cancel every unsettled task submitted in `context` (all when undefined). */
  interrupt(context: unknown, error: () => unknown): number {
    let count = 0;
    const matches = (t: Task) => context === undefined || t.context === context;
    for (const t of [...this.queue.all(), ...this.sent.values()]) {
      if (matches(t) && this.cancel(t, error())) count++;
    }
    return count;
  }

  /** Stop taking work; end the workers when what must run has run. */
  async shutdown(options: { cancelPending: boolean; kill: boolean; wait: boolean }, error: () => unknown): Promise<void> {
    this.closing = true;
    if (options.cancelPending || options.kill) {
      // Pending = not started: queued here, or waiting behind the running task on a worker.
      const waiting = [...this.sent.values()].filter((t) => !this.isRunning(t));
      for (const t of [...this.queue.all(), ...waiting]) this.cancel(t, error());
    }
    if (options.kill) {
      for (const t of [...this.sent.values()]) this.cancel(t, error());
      for (const w of this.workers) w.kill("shutdown");
    }
    this.closeIdleWorkers();
    if (options.wait && this.workers.size > 0) await new Promise<void>((resolve) => this.exitWaiters.push(resolve));
  }

  /** Tasks not settled yet: waiting here or on a worker. */
  unsettled(): Task[] {
    return [...this.queue.all(), ...this.sent.values()].filter((t) => t.state !== "settled");
  }

  /** A task is running when its worker says so (its beacon), or, without one, when it is the first one its worker has not answered. */
  isRunning(task: Task): boolean {
    while (task.rescuedBy) task = task.rescuedBy;
    const worker = task.state === "sent" ? this.workerOf(task) : undefined;
    return worker !== undefined && runningOn(worker).task === task;
  }

  // --- dispatch -------------------------------------------------------------------------

  private scheduleDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => this.dispatch());
  }

  private dispatch(): void {
    this.dispatchQueued = false;
    if (this.queuedCount === 0) return;
    if (this.broken) {
      for (let t = this.queue.next(); t; t = this.queue.next()) this.settle(t, "error", this.broken);
      return;
    }
    if (!this.closing) this.fillWorkers();
    const ready = [...this.workers].filter((w) => !w.retiring && !w.exited);
    // One task at a time to each worker in turn, so a burst spreads evenly.
    let assigned = true;
    while (assigned) {
      assigned = false;
      for (const w of ready) {
        if (w.retiring || w.stalled || w.inflight.length >= this.depth) continue;
        const task = this.queue.next();
        if (!task) break;
        this.assign(w, task);
        assigned = true;
      }
    }
    for (const w of ready) w.flush();
  }

  private assign(w: WorkerProcess, task: Task): void {
    if (!w.loaded.has(task.key)) {
      w.send([TO_WORKER.load, task.key, task.spec]);
      w.loaded.add(task.key);
      if (w.loaded.size > MAX_LOADED) {
        const oldest = w.loaded.values().next().value as string;
        w.loaded.delete(oldest);
        w.send([TO_WORKER.forget, oldest]);
      }
    }
    task.state = "sent";
    task.worker = w.id;
    w.inflight.push(task);
    this.sent.set(task.id, task);
    const { values, stashed } = stashBig(task.payload!, this.options.shmDir);
    if (stashed) task.shipped = values;
    w.send([task.kind === "run" ? TO_WORKER.run : TO_WORKER.chunk, task.id, task.key, values, stashed]);
    w.setReferenced(true);
    if (w.inflight.length === 1) this.supervision.headChanged(w);
    else if (w.inflight.length === 2) this.supervision.watchForStall(w);
    if (this.options.maxTasksPerWorker && ++w.assigned >= this.options.maxTasksPerWorker) {
      // Recycle: no more tasks for it; its replacement starts now, while it finishes.
      w.retiring = true;
      w.killReason = "recycled";
      this.fillWorkers();
    }
  }

  private spawnWorker(): void {
    const init = this.options.initializer;
    const w = new WorkerProcess(
      {
        id: this.nextWorkerId++,
        poolName: this.options.poolName,
        env: this.options.env,
        cwd: this.options.cwd,
        memoryLimitMb: this.options.memoryLimitMb,
        hasInitializer: !!init,
      },
      this,
    );
    this.workers.add(w);
    this.workerRecords.push(w.record);
    if (this.workerRecords.length > 1000) this.workerRecords.splice(0, this.workerRecords.length - 1000);
    if (init) {
      w.send([TO_WORKER.load, init.key, init.spec]);
      w.send([TO_WORKER.init, init.key, init.args]);
    }
    w.setReferenced(false);
  }

  // --- answers from workers ----------------------------------------------------------------

  onOps(w: WorkerProcess, ops: Op[]): void {
    const head = w.inflight[0];
    for (const op of ops) {
      switch (op[0]) {
        case TO_OWNER.ok:
          this.answered(w, op[1] as number, op[3] as number, op[4] as number, "ok", op[5] ? this.restoreResult(op) : op[2]);
          break;
        case TO_OWNER.error:
          this.answered(w, op[1] as number, op[3] as number, op[4] as number, "error", op[2], op[5] as number, op[6] as unknown[]);
          break;
        case TO_OWNER.skipped:
          this.answered(w, op[1] as number, 0, 0, "skipped");
          break;
        case TO_OWNER.running:
          // A cancelled task started before the request to skip it arrived (a rescued one may run on).
          if (this.sent.get(op[1] as number)?.cancelled && !this.sent.get(op[1] as number)?.rescuedBy) w.kill("aborted");
          break;
        case TO_OWNER.output:
          this.output(w, this.sent.get(op[1] as number)?.context ?? w.lastContext, op[2] === 2 ? "stderr" : "stdout", op[3] as string);
          break;
        case TO_OWNER.ready:
          w.record.ready = op[2] as number;
          this.bootFailures = 0;
          break;
        case TO_OWNER.initError:
          this.breakPool(w, op[1] as WireError);
          break;
      }
    }
    if (w.inflight[0] !== head) this.supervision.headChanged(w);
    if (w.inflight.length === 0) this.becameIdle(w);
    this.scheduleDispatch();
  }

  private answered(
    w: WorkerProcess,
    id: number,
    started: number,
    ended: number,
    kind: "ok" | "error" | "skipped",
    payload?: unknown,
    index = -1,
    partial?: unknown[],
  ): void {
    const task = this.sent.get(id);
    if (!task) return;
    this.sent.delete(id);
    const at = w.inflight[0] === task ? 0 : w.inflight.indexOf(task);
    if (at >= 0) w.inflight.splice(at, 1);
    if (kind === "skipped") return this.finishCancelled(task);
    task.started = started;
    task.ended = ended;
    w.record.tasksDone++;
    this.learnRunTime(ended - started);
    if (task.cancelled) return this.finishCancelled(task);
    if (kind === "ok") return this.settle(task, "ok", payload);
    const err = decodeError(payload as WireError, this.options.mapStack);
    withRemoteDetails(err, task, w, index);
    this.settle(task, "error", err, partial);
  }

  /** A result with big buffers that came through /dev/shm. */
  private restoreResult(op: Op): unknown {
    const task = this.sent.get(op[1] as number);
    return task?.kind === "chunk" ? restoreBig(op[2] as unknown[]) : restoreBig([op[2]])[0];
  }

  /** Keep ~PIPELINE_TARGET_MS of work queued on each worker: deep for tiny tasks, 1 for long ones. */
  private learnRunTime(ms: number): void {
    this.meanRunMs = Number.isNaN(this.meanRunMs) ? ms : this.meanRunMs * 0.9 + ms * 0.1;
    // At least two: the next task waits on the worker, so it never idles for a round trip.
    this.depth = Math.max(1, Math.min(MAX_DEPTH, Math.ceil(PIPELINE_TARGET_MS / Math.max(this.meanRunMs, 0.001))));
  }

  private output(w: WorkerProcess, context: unknown, stream: "stdout" | "stderr", text: string): void {
    if (stream === "stderr") w.appendStderr(text);
    forward(context, stream, text);
  }

  onRawOutput(w: WorkerProcess, stream: "stdout" | "stderr", text: string): void {
    const shown = stream === "stderr" ? withoutCrashReport(w, text) : text;
    if (shown) forward(w.inflight[0]?.context ?? w.lastContext, stream, shown);
  }

  private becameIdle(w: WorkerProcess): void {
    w.setReferenced(false);
    w.idleSince = now();
    if (w.retiring || (this.closing && this.queuedCount === 0)) return w.close(w.killReason ?? "shutdown");
    const idle = this.options.idleTimeout;
    if (idle !== undefined && idle >= 0) {
      const since = w.idleSince;
      setTimeout(() => {
        if (!w.exited && w.inflight.length === 0 && w.idleSince === since) w.close("idle");
      }, idle).unref();
    }
  }

  private closeIdleWorkers(): void {
    if (this.queuedCount > 0) return;
    for (const w of this.workers) if (w.inflight.length === 0) w.close(w.killReason ?? "shutdown");
  }

  // --- deaths ----------------------------------------------------------------------------

  onExit(w: WorkerProcess, exitCode: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(w);
    this.supervision.forget(w);
    const reason = w.killReason ?? "crashed";
    w.record.reason = reason;
    if (reason === "crashed" && w.record.ready === undefined && ++this.bootFailures >= MAX_BOOT_FAILURES && !this.broken) {
      this.broken = new BrokenPoolError(`workers cannot start: ${describeExit(exitCode, signal, w.stderr(), this.options.memoryLimitMb)}${w.stderr() ? `\n${w.stderr()}` : ""}`);
    }
    // The running task takes the blame; the others run again elsewhere: those before it had
    // finished (their answers died with the worker), those after it had not started.
    // A worker we killed for its first unanswered task, before it started any, was killed for that one.
    const killedFor = w.killReason === "timeout" || w.killReason === "aborted" ? w.inflight[0] : undefined;
    const culprit = runningOn(w).task ?? killedFor;
    for (const t of w.inflight.splice(0)) {
      this.sent.delete(t.id);
      t.worker = undefined;
      if (t.shipped) discardStashed(t.shipped);
      t.shipped = undefined;
      // A task that keeps being on a worker that dies without blaming anyone is blamed itself.
      const blamed = t === culprit || (culprit === undefined && (t.retries = (t.retries ?? 0) + 1) > MAX_UNEXPLAINED_RETRIES);
      if (t.cancelled && t === culprit && t.rescuedBy) {
        // It was rescued but started anyway (a busy worker reads its mail late): the crash is
        // its own, so its copy, if still waiting, gets the blame instead of a second run.
        let copy = t.rescuedBy;
        while (copy.rescuedBy) copy = copy.rescuedBy;
        this.finishCancelled(t);
        if (copy.state === "queued" && !copy.cancelled) {
          this.queue.cancelled(copy);
          copy.cancelled = true;
          copy.ended = now();
          const { outcome, error } = runningTaskError(w, copy, exitCode, signal, this.options.memoryLimitMb);
          this.settle(copy, outcome, error);
        }
      } else if (t.cancelled) this.finishCancelled(t);
      else if (blamed) {
        t.ended = now();
        const { outcome, error } = runningTaskError(w, t, exitCode, signal, this.options.memoryLimitMb);
        this.settle(t, outcome, error);
      } else this.queue.retry(t);
    }
    if (!culprit && reason === "crashed" && w.record.ready !== undefined) {
      // No task to blame: say so where the work came from, or it would go unnoticed.
      forward(w.lastContext, "stderr", `nbpool: worker ${w.id} (pid ${w.pid}) ${describeExit(exitCode, signal, w.stderr(), this.options.memoryLimitMb)} between tasks; it was replaced and its unfinished tasks run again\n`);
    }
    if (this.broken) this.failEverything(this.broken);
    // Replace a worker that died or was killed; one that idled out comes back on demand.
    if (!this.closing && reason !== "idle" && reason !== "recycled") this.fillWorkers();
    this.scheduleDispatch();
    if (this.workers.size === 0) for (const resolve of this.exitWaiters.splice(0)) resolve();
  }

  private breakPool(w: WorkerProcess, wire: WireError): void {
    const cause = decodeError(wire, this.options.mapStack);
    this.broken = new BrokenPoolError(`the pool's initializer failed in worker ${w.id} (pid ${w.pid}): ${cause.name}: ${cause.message}; create a new Pool with a working initializer`, { cause });
    w.killReason = "initializer";
    this.failEverything(this.broken);
  }

  private failEverything(error: Error): void {
    for (let t = this.queue.next(); t; t = this.queue.next()) this.settle(t, "error", error);
    for (const t of [...this.sent.values()]) this.cancel(t, error);
    for (const w of this.workers) w.kill("initializer");
  }

  // --- settling ----------------------------------------------------------------------------

  private settle(task: Task, outcome: NonNullable<Task["outcome"]>, value: unknown, partial?: unknown[], release = true): void {
    const callbacks = task.callbacks;
    task.callbacks = undefined;
    task.outcome = outcome;
    if (release) this.release(task);
    if (!callbacks) return;
    if (outcome === "ok") callbacks.resolve(value);
    else callbacks.reject(value, partial);
  }

  /** A cancelled task's worker answered (or died): it leaves the pool's books. */
  private finishCancelled(task: Task): void {
    task.ended ??= now();
    this.release(task);
  }

  private release(task: Task): void {
    if (task.state === "settled") return;
    task.state = "settled";
    // Files of big buffers a worker never read (it died, or the task was skipped).
    if (task.shipped) discardStashed(task.shipped);
    task.shipped = undefined;
    task.payload = undefined;
    task.spec = undefined;
    task.context = undefined;
    this.options.onSettled(task);
  }

  private workerOf(task: Task): WorkerProcess | undefined {
    for (const w of this.workers) if (w.id === task.worker) return w;
    return undefined;
  }

  /** A batch structured clone refused: find the op, fail its task with a message that names the value. */
  onUnsendable(w: WorkerProcess, op: Op, error: unknown): void {
    if (op[0] !== TO_WORKER.run && op[0] !== TO_WORKER.chunk) return;
    const task = this.sent.get(op[1] as number);
    if (!task) return;
    this.sent.delete(task.id);
    w.inflight.splice(w.inflight.indexOf(task), 1);
    this.settle(task, "error", findUnsendable(task, error));
    if (w.inflight.length === 0) this.becameIdle(w);
  }
}
