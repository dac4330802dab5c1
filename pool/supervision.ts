/**
 * Watching the tasks on a worker: timeouts, cancelled tasks that may have started, and
 * tasks stuck behind a long one. The owner learns what a worker runs from its beacon
 * (beacon.ts), because answers come in batches: the first unanswered task may have finished
 * (its answer waits in the batch) while a later one runs.
 */
import { TO_WORKER } from "./protocol";
import type { Task } from "./task";
import type { WorkerProcess } from "./worker-process";
import { now } from "./worker/chunk";

/** A cancelled task that a worker may have started gets this long to be skipped before the worker is killed. */
const CANCEL_GRACE_MS = 200;
/** A worker whose first unanswered task is unanswered this long has its other tasks rescued. */
const STALL_MS = 250;
/** Checking again soon for a task that a worker is about to start. */
const RECHECK_MS = 20;

export interface Running {
  /** The task running now, if any of the worker's unanswered tasks has started. */
  task?: Task;
  /** Its index in the worker's in-flight list (-1: none started). Before it: finished. */
  position: number;
  /** When it started (the worker's clock, which is the owner's). */
  started?: number;
}

/**
 * The task a worker is running, from its beacon. Without one, the first unanswered task is
 * taken to be running.
 */
export function runningOn(w: WorkerProcess): Running {
  if (!w.beacon) return { task: w.inflight[0], position: w.inflight.length ? 0 : -1 };
  const reading = w.beacon.read();
  const position = reading ? w.inflight.findIndex((t) => t.id === reading.taskId) : -1;
  return position >= 0 ? { task: w.inflight[position], position, started: reading!.started } : { position: -1 };
}

export class Supervision {
  private readonly timeouts = new Map<WorkerProcess, NodeJS.Timeout>();
  private readonly stalls = new Map<WorkerProcess, NodeJS.Timeout>();

  /** `requeue` puts a rescued task's copy back in line (ahead of new work). */
  constructor(private readonly requeue: (copy: Task) => void, private readonly newTaskId: () => number) {}

  /** The worker's first unanswered task changed (an answer came, or it got its first task). */
  headChanged(w: WorkerProcess): void {
    this.forget(w);
    w.stalled = false;
    const head = w.inflight[0];
    if (!head) return;
    w.lastContext = head.context;
    // An estimate for stats and timeline while it runs; the worker's own time replaces it.
    head.started ??= now();
    if (head.timeout !== undefined && !head.cancelled) this.armTimeout(w, head.timeout);
    this.watchForStall(w);
  }

  forget(w: WorkerProcess): void {
    for (const timers of [this.timeouts, this.stalls]) {
      clearTimeout(timers.get(w));
      timers.delete(w);
    }
  }

  /**
   * A cancelled task on a worker: kill the worker if the task runs; if it has not started,
   * ask the worker to skip it, and look again a moment later in case it started before the
   * request arrived (a synchronous task never reads it). A finished one's answer is on its way.
   */
  stop(w: WorkerProcess, task: Task, asked = false): void {
    if (w.exited || !w.inflight.includes(task)) return;
    const running = runningOn(w);
    if (running.task === task) return w.kill("aborted");
    if (running.position >= w.inflight.indexOf(task)) return;
    if (!asked) w.send([TO_WORKER.cancel, task.id]);
    setTimeout(() => this.stop(w, task, true), CANCEL_GRACE_MS).unref();
  }

  /**
   * When the first unanswered task's limit is up, see what really runs: the answer may just
   * be in a batch not sent yet, and the running task may have started later.
   */
  private armTimeout(w: WorkerProcess, ms: number): void {
    const timer = setTimeout(() => {
      this.timeouts.delete(w);
      if (w.exited) return;
      const running = runningOn(w);
      const task = running.task;
      if (!task) {
        // Between tasks, or stuck before the first one started (a module that never loads).
        const head = w.inflight[0];
        if (!head || head.timeout === undefined || head.cancelled) return;
        if (now() - (head.started ?? now()) > head.timeout + RECHECK_MS) return w.kill("timeout");
        return this.armTimeout(w, RECHECK_MS);
      }
      if (task.timeout === undefined || task.cancelled) return;
      const left = (running.started ?? task.started ?? now()) + task.timeout - now();
      if (left > 0) return this.armTimeout(w, Math.min(left, task.timeout));
      w.kill("timeout");
    }, ms);
    this.timeouts.set(w, timer);
  }

  /**
   * Tasks pipelined behind a long one wait for it, and a finished task's answer waits in
   * its worker's batch until the running task yields. When a worker's first unanswered task
   * has been unanswered for STALL_MS, the others are rescued: each is given up on that worker
   * (skipped there if it has not started) and queued again, to run elsewhere. A task whose
   * answer was only held up may run twice; its first answer counts.
   */
  watchForStall(w: WorkerProcess): void {
    clearTimeout(this.stalls.get(w));
    this.stalls.delete(w);
    if (w.inflight.length < 2) return;
    const head = w.inflight[0];
    const timer = setTimeout(() => {
      this.stalls.delete(w);
      if (w.exited || w.inflight[0] !== head) return;
      // No more work for it until it answers.
      w.stalled = true;
      const running = runningOn(w);
      for (const t of [...w.inflight]) if (t !== running.task && !t.cancelled) this.rescue(w, t, running);
    }, STALL_MS);
    timer.unref();
    this.stalls.set(w, timer);
  }

  /** Give a task up on its worker and queue a fresh copy that inherits its callbacks. */
  private rescue(w: WorkerProcess, task: Task, running: Running): void {
    const copy: Task = { ...task, id: this.newTaskId(), worker: undefined, shipped: undefined, started: undefined, retries: 0 };
    task.callbacks = undefined;
    task.cancelled = true;
    task.outcome = "cancelled";
    task.rescuedBy = copy;
    if (running.position < w.inflight.indexOf(task)) w.send([TO_WORKER.cancel, task.id]);
    this.requeue(copy);
  }
}
