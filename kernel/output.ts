/**
 * Which cell an output belongs to. Every cell runs inside an AsyncLocalStorage context
 * whose store is the cell's run: timers, promises and pool tasks the cell starts inherit it,
 * so output they produce later (even after the next cell started) finds its own cell. Output
 * made outside any cell goes to the last cell that ran, as in ipykernel.
 *
 * The kernel's process.stdout/stderr are replaced once, here. Stream text is coalesced per
 * cell and stream (a loop of console.log makes a few messages, not thousands): a write is
 * published at once when nothing was published for a while, otherwise at the next turn of
 * the event loop, or at the next write after FLUSH_INTERVAL_MS, so that a cell printing
 * progress from a long synchronous loop is still seen while it runs. Buffered text is
 * always flushed before any other message of the same cell, so order within a cell is kept.
 */

import { AsyncLocalStorage } from "async_hooks";
import type { ExecuteContext } from "./engine";

/** What output is routed to: a cell run, publishing with its request as parent. */
export interface OutputTarget {
  readonly ctx: ExecuteContext;
}

export type StreamName = "stdout" | "stderr";
type Write = typeof process.stdout.write;

/** Flush a stream buffer at once beyond this size. */
const MAX_BUFFERED = 64 * 1024;
/** Publish buffered text at a write when the last publication is older than this. */
const FLUSH_INTERVAL_MS = 100;

export class OutputRouter<T extends OutputTarget> {
  private readonly storage = new AsyncLocalStorage<T>();
  private last?: T;
  private pending?: { target: T; name: StreamName; text: string };
  private flushTimer?: NodeJS.Immediate;
  private lastFlush = 0;
  private original?: { stdout: Write; stderr: Write };

  /** Runs `fn` (and everything it starts) as `target`'s code. */
  run<R>(target: T, fn: () => R): R {
    this.last = target;
    return this.storage.run(target, fn);
  }

  /** The cell whose code is running now, if any. */
  running(): T | undefined {
    return this.storage.getStore();
  }

  /** Where output made now goes: the running cell, else the last one. */
  current(): T | undefined {
    return this.storage.getStore() ?? this.last;
  }

  /** Stream text for `target` (the current cell when undefined). */
  write(target: T | undefined, name: StreamName, text: string): void {
    target ??= this.current();
    if (!target) {
      // No cell has run yet: this is the kernel's own output, for its log.
      this.writeToLog(name, text);
      return;
    }
    if (target.ctx.silent || text === "") return;
    const pending = this.pending;
    if (pending && (pending.target !== target || pending.name !== name)) this.flush();
    if (this.pending) this.pending.text += text;
    else this.pending = { target, name, text };
    if (this.pending.text.length > MAX_BUFFERED || Date.now() - this.lastFlush >= FLUSH_INTERVAL_MS) this.flush();
    else this.flushTimer ??= setImmediate(() => this.flush());
  }

  /** Any other iopub message for `target` (after its buffered stream text). */
  publish(target: T | undefined, msgType: string, content: Record<string, unknown>): void {
    target ??= this.current();
    if (!target || target.ctx.silent) return;
    this.flush();
    target.ctx.publish(msgType, content);
  }

  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    this.lastFlush = Date.now();
    pending.target.ctx.publish("stream", { name: pending.name, text: pending.text });
  }

  /** Sends process.stdout/stderr writes to the cells. */
  captureProcessOutput(): void {
    if (this.original) return;
    this.original = { stdout: process.stdout.write, stderr: process.stderr.write };
    for (const name of ["stdout", "stderr"] as const) {
      process[name].write = ((chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown) => {
        const encoding = typeof encodingOrCallback === "string" ? (encodingOrCallback as BufferEncoding) : undefined;
        this.write(undefined, name, decode(chunk, encoding));
        const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
        // Writers that wait for the callback (tslab's replacement never called it) go on.
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      }) as Write;
    }
  }

  restoreProcessOutput(): void {
    if (!this.original) return;
    this.flush();
    process.stdout.write = this.original.stdout;
    process.stderr.write = this.original.stderr;
    this.original = undefined;
  }

  private writeToLog(name: StreamName, text: string): void {
    const write = this.original?.[name] ?? process[name].write;
    write.call(process[name], text);
  }
}

function decode(chunk: string | Uint8Array, encoding: BufferEncoding | undefined): string {
  if (typeof chunk === "string") {
    return encoding && encoding !== "utf8" && encoding !== "utf-8" ? Buffer.from(chunk, encoding).toString("utf8") : chunk;
  }
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
}
