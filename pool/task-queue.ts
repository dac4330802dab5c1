/**
 * Tasks waiting for a worker, oldest first. Tasks whose worker died before starting them
 * go ahead of everything else (they were next already). Cancelled tasks stay where they
 * are and are skipped when reached: removing them from the middle would cost more.
 */
import type { Task } from "./task";

export class TaskQueue {
  private tasks: Task[] = [];
  private head = 0;
  private retried: Task[] = [];
  /** The tasks waiting and not cancelled (a set, not a count: a task cancelled before it was ever queued must not count). */
  private readonly live = new Set<Task>();

  /** Tasks waiting, cancelled ones not counted. */
  get size(): number {
    return this.live.size;
  }

  push(task: Task): void {
    task.state = "queued";
    this.tasks.push(task);
    this.live.add(task);
  }

  /** A task that was sent to a worker that died before starting it. */
  retry(task: Task): void {
    task.state = "queued";
    this.retried.push(task);
    this.live.add(task);
  }

  /** A waiting task was cancelled: it no longer counts (it is skipped when reached). */
  cancelled(task: Task): void {
    this.live.delete(task);
  }

  /** The next task that is not cancelled, or undefined. */
  next(): Task | undefined {
    while (this.retried.length) {
      const t = this.retried.shift()!;
      if (!t.cancelled) return this.taken(t);
    }
    while (this.head < this.tasks.length) {
      const t = this.tasks[this.head++];
      // Drop the consumed front now and then, so a long-lived queue does not grow forever.
      if (this.head > 1024 && this.head * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.head);
        this.head = 0;
      }
      if (!t.cancelled) return this.taken(t);
    }
    return undefined;
  }

  private taken(task: Task): Task {
    this.live.delete(task);
    return task;
  }

  /** Every waiting task, in order. */
  all(): Task[] {
    return [...this.retried, ...this.tasks.slice(this.head)];
  }
}
