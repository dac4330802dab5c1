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

  /** Waiting tasks, cancelled ones included until they are reached. */
  get size(): number {
    return this.tasks.length - this.head + this.retried.length;
  }

  push(task: Task): void {
    task.state = "queued";
    this.tasks.push(task);
  }

  /** A task that was sent to a worker that died before starting it. */
  retry(task: Task): void {
    task.state = "queued";
    this.retried.push(task);
  }

  /** The next task that is not cancelled, or undefined. */
  next(): Task | undefined {
    while (this.retried.length) {
      const t = this.retried.shift()!;
      if (!t.cancelled) return t;
    }
    while (this.head < this.tasks.length) {
      const t = this.tasks[this.head++];
      // Drop the consumed front now and then, so a long-lived queue does not grow forever.
      if (this.head > 1024 && this.head * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.head);
        this.head = 0;
      }
      if (!t.cancelled) return t;
    }
    return undefined;
  }

  /** Every waiting task, in order. */
  all(): Task[] {
    return [...this.retried, ...this.tasks.slice(this.head)];
  }
}
