/**
 * The owner's side of one worker process: spawning it the way DESIGN.md asks (a fresh
 * `node` running nbpool's own entry, no inspector flags, its own process group,
 * structured-clone IPC, piped stdio), batching what is sent to it, keeping the tail of its
 * stderr for crash reports, and telling the scheduler when it answers or dies.
 * It does not decide anything: scheduling lives in scheduler.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { Beacon } from "./beacon";
import { unwatchWorker, watchWorker } from "./orphan-watch";
import { scratchDirectory } from "./scratch-dir";
import type { Op } from "./protocol";
import type { WorkerRecord } from "./records";
import type { Task } from "./task";
import { now } from "./worker/chunk";

export const WORKER_ENTRY = path.join(__dirname, "worker", "main.js");
const STDERR_TAIL_LINES = 20;

export interface WorkerSpawnOptions {
  id: number;
  poolName: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  memoryLimitMb?: number;
  hasInitializer: boolean;
}

export interface WorkerListener {
  onOps(worker: WorkerProcess, ops: Op[]): void;
  /** Output that did not come through a task (raw writes to fd 1/2, native code, children). */
  onRawOutput(worker: WorkerProcess, stream: "stdout" | "stderr", text: string): void;
  onExit(worker: WorkerProcess, exitCode: number | null, signal: NodeJS.Signals | null): void;
  /** Structured clone refused this op (an argument that cannot be sent). */
  onUnsendable(worker: WorkerProcess, op: Op, error: unknown): void;
}

/** Inspector flags would make every worker fight for the debugger port (or wait for one). */
const INSPECTOR_FLAG = /^--(inspect|inspect-brk|inspect-port|inspect-publish-uid|debug|debug-brk|debug-port)(=|$)/;

export function workerExecArgv(execArgv: readonly string[], memoryLimitMb?: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (INSPECTOR_FLAG.test(arg)) {
      // "--inspect-port 9230": the value is a separate argument.
      if (!arg.includes("=") && /port$/.test(arg) && i + 1 < execArgv.length) i++;
      continue;
    }
    if (memoryLimitMb !== undefined && /^--max-old-space-size(=|$)/.test(arg)) continue;
    out.push(arg);
  }
  if (memoryLimitMb !== undefined) out.push(`--max-old-space-size=${Math.max(16, Math.floor(memoryLimitMb))}`);
  return out;
}

export function workerEnv(base: NodeJS.ProcessEnv, extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...base, ...extra };
  if (env.NODE_OPTIONS) env.NODE_OPTIONS = env.NODE_OPTIONS.split(/\s+/).filter((a) => a && !INSPECTOR_FLAG.test(a)).join(" ");
  return env;
}

export class WorkerProcess {
  readonly id: number;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly record: WorkerRecord;
  /** Tasks sent and not yet answered, in the order sent: the first one is running. */
  readonly inflight: Task[] = [];
  /** Function keys this worker has loaded (insertion order = age, for forgetting the oldest). */
  readonly loaded = new Set<string>();
  /** Set when the owner decided to end it: why (for the record and for the head task's error). */
  killReason?: "timeout" | "aborted" | "shutdown" | "idle" | "recycled" | "initializer";
  /** No new tasks go to a retiring worker; it ends once its in-flight tasks are answered. */
  retiring = false;
  exited = false;
  /** Tasks assigned over its life (for maxTasksPerWorker). */
  assigned = 0;
  /** Its first unanswered task has been running a long time: it gets no new tasks meanwhile. */
  stalled = false;
  /** Set when a task runs on it and when it became idle (for idleTimeout). */
  idleSince: number;
  /** Where it marks the task it starts (see beacon.ts); none where no scratch directory exists. */
  readonly beacon: Beacon | undefined;
  /** It printed V8's fatal-error report: what follows is not for the user's eyes. */
  dying = false;
  /** The context of the last task it ran, for raw output that names no task. */
  lastContext: unknown;

  private outbox: Op[] = [];
  private flushQueued = false;
  private stderrTail: string[] = [];
  /**
   * V8's "FATAL ERROR: ... heap out of memory" line. The native stack trace printed after it
   * can be longer than the tail, and this line is what says the worker ran out of memory.
   */
  private fatalLine?: string;
  private referenced = true;
  private readonly listener: WorkerListener;

  constructor(options: WorkerSpawnOptions, listener: WorkerListener) {
    this.id = options.id;
    this.listener = listener;
    const scratch = scratchDirectory();
    this.beacon = scratch ? new Beacon(scratch.dir, options.id) : undefined;
    const args = [WORKER_ENTRY, String(options.id), options.poolName, options.hasInitializer ? "init" : "", this.beacon?.file ?? ""];
    this.child = spawn(process.execPath, [...workerExecArgv(process.execArgv, options.memoryLimitMb), ...args], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
      // Its own process group: the kernel's SIGINT (sent to the kernel's group) is not the
      // worker's, and killing the group also ends anything the task spawned.
      detached: true,
      env: options.env,
      cwd: options.cwd,
      windowsHide: true,
    });
    this.pid = this.child.pid ?? -1;
    watchWorker(this.pid);
    this.idleSince = now();
    this.record = { id: this.id, pid: this.pid, spawned: now(), tasksDone: 0 };
    this.child.on("message", (ops: Op[]) => listener.onOps(this, ops));
    this.child.on("error", (err) => this.appendStderr(`spawn failed: ${err.message}\n`));
    this.child.stdout!.setEncoding("utf8").on("data", (text: string) => listener.onRawOutput(this, "stdout", text));
    this.child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      this.appendStderr(text);
      listener.onRawOutput(this, "stderr", text);
    });
    this.child.on("exit", (code, signal) => this.onExit(code, signal));
  }

  /** Queue an op; everything queued in this turn goes in one message. */
  send(op: Op): void {
    this.outbox.push(op);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Send the batch now. If structured clone refuses it, send op by op to find the culprit. */
  flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0) return;
    const ops = this.outbox;
    this.outbox = [];
    if (this.exited || !this.child.connected) return;
    try {
      this.child.send(ops);
    } catch {
      for (const op of ops) {
        try {
          this.child.send([op]);
        } catch (err) {
          this.listener.onUnsendable(this, op, err);
        }
      }
    }
  }

  appendStderr(text: string): void {
    const lines = text.split("\n");
    if (this.stderrTail.length && lines.length) this.stderrTail[this.stderrTail.length - 1] += lines.shift();
    this.stderrTail.push(...lines);
    if (this.stderrTail.length > STDERR_TAIL_LINES + 1) this.stderrTail.splice(0, this.stderrTail.length - STDERR_TAIL_LINES - 1);
    // Complete lines only (the last one may still be arriving).
    this.fatalLine ??= this.stderrTail.slice(0, -1).find((line) => line.startsWith("FATAL ERROR:"));
  }

  stderr(): string {
    const tail = this.stderrTail.join("\n").trim();
    return this.fatalLine !== undefined && !this.stderrTail.includes(this.fatalLine) ? `${this.fatalLine}\n…\n${tail}` : tail;
  }

  /** An idle worker must not keep its owner alive; a busy one must. */
  setReferenced(busy: boolean): void {
    if (busy === this.referenced || this.exited) return;
    this.referenced = busy;
    const method = busy ? "ref" : "unref";
    this.child[method]();
    (this.child.channel as unknown as { ref(): void; unref(): void } | undefined)?.[method]();
    (this.child.stdout as unknown as { ref(): void; unref(): void } | null)?.[method]();
    (this.child.stderr as unknown as { ref(): void; unref(): void } | null)?.[method]();
  }

  /** End it now: SIGKILL to its process group (the worker and anything its task spawned). */
  kill(reason: NonNullable<WorkerProcess["killReason"]>): void {
    this.killReason ??= reason;
    this.retiring = true;
    if (this.exited) return;
    // Whoever waits for this worker's end (shutdown, a replacement) keeps the owner alive.
    this.setReferenced(true);
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      this.child.kill("SIGKILL");
    }
  }

  /** End it gently: closing the channel makes an idle worker exit by itself. */
  close(reason: NonNullable<WorkerProcess["killReason"]>): void {
    this.killReason ??= reason;
    this.retiring = true;
    if (this.exited) return;
    if (reason === "shutdown") this.setReferenced(true);
    if (this.child.connected) this.child.disconnect();
    else this.kill(reason);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    unwatchWorker(this.pid);
    this.record.exited = now();
    this.record.exitCode = code;
    this.record.signal = signal;
    // The last lines of stderr (an out-of-memory report, say) may still be in the pipe:
    // give them a moment, but never wait on a pipe a grandchild keeps open.
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      this.listener.onExit(this, code, signal);
      this.beacon?.remove();
    };
    if (this.child.stderr!.readableEnded) queueMicrotask(report);
    else this.child.stderr!.once("end", report);
    setTimeout(report, 100).unref();
    // Anything a task spawned in the worker's group goes with it.
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // The group is already empty.
    }
  }
}
