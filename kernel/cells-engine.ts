/**
 * The engine half of the kernel (see engine.ts for the seam): cells compiled and run by
 * tslab's executor (cells.ts), their output routed to the cell that made it (output.ts),
 * results and displays as MIME bundles (display.ts), errors as IPython tracebacks
 * (traceback.ts), and the kernel's lifecycle applied to every live pool
 * (pool-lifecycle.ts). One engine per process: it owns process.stdout/stderr, tslab's
 * globals and the pool host.
 */

import * as fs from "fs";
import * as path from "path";
import { CellRunner, type Cell, type RunResult } from "./cells";
import { installGlobalDisplay, plainText, resultBundle, routeTslabDisplay } from "./display";
import type { Engine, ExecuteContext, ExecuteOutcome } from "./engine";
import { isComplete } from "./is-complete";
import { registerKernelHost } from "./kernel-host";
import { OutputRouter } from "./output";
import { interruptPools, shutDownReplacedPools, shutdownPools } from "./pool-lifecycle";
import { framesOf } from "./stack";
import { renderCompileError, renderError, renderInterrupt } from "./traceback";
import { loadTslab, type Tslab } from "./tslab";
import { pathForwarding } from "./type-lookup";

/** Modules and types resolve from process.cwd(), the notebook's directory (tslab's rule). */
export interface EngineOptions {
  /** The kernel's own log (never a notebook). Default: file descriptor 2. */
  log?: (text: string) => void;
}

/** One execution of a cell: the AsyncLocalStorage store of everything the cell starts. */
class CellRun {
  interrupted = false;
  /** Pool tasks the interrupt cancelled. */
  cancelled = 0;
  constructor(
    readonly cell: Cell,
    readonly ctx: ExecuteContext,
  ) {}
}

/** Enough frames to reach the cell from inside a library call. */
const STACK_TRACE_LIMIT = 30;

let created = false;

export function createEngine(options: EngineOptions = {}): Engine {
  if (created) throw new Error("nbpool: createEngine() was already called in this process; a kernel has one engine");
  created = true;
  return new CellsEngine(options);
}

class CellsEngine implements Engine {
  private readonly tslab: Tslab;
  private readonly cells: CellRunner;
  private readonly router = new OutputRouter<CellRun>();
  private readonly log: (text: string) => void;
  private running?: CellRun;
  private closed = false;

  constructor(options: EngineOptions) {
    const cwd = process.cwd();
    this.log = options.log ?? logToStderr;
    const forwarding = pathForwarding(cwd, path.dirname(require.resolve("tslab/package.json")));
    this.tslab = loadTslab(forwarding);
    const onBind = shutDownReplacedPools(
      () => (globalThis as { __tslab__?: { exports: Record<string, unknown> } }).__tslab__?.exports ?? {},
      (text) => this.router.write(undefined, "stderr", text),
      this.log,
    );
    this.cells = new CellRunner(this.tslab, cwd, forwarding, onBind);
    this.router.captureProcessOutput();
    routeTslabDisplay(this.tslab.jupyter, this.router);
    installGlobalDisplay(this.router);
    registerKernelHost(this.router, (c): c is CellRun => c instanceof CellRun, () => this.cells.scripts());
    this.reportStrayErrors();
    if (Error.stackTraceLimit < STACK_TRACE_LIMIT) Error.stackTraceLimit = STACK_TRACE_LIMIT;
  }

  async execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
    if (this.closed) return { status: "error", ename: "Error", evalue: "the kernel is shutting down", traceback: [] };
    const run = new CellRun(this.cells.newCell(code, ctx.executionCount), ctx);
    this.running = run;
    const onAbort = () => this.interruptRun(run);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      if (ctx.signal.aborted) this.interruptRun(run);
      const result = run.interrupted ? undefined : await this.router.run(run, () => this.cells.run(run.cell));
      return await this.outcome(run, result);
    } catch (err) {
      return { status: "error", ...renderError(err, this.cells) };
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      if (this.running === run) this.running = undefined;
      this.router.flush();
    }
  }

  isComplete(code: string): ReturnType<Engine["isComplete"]> {
    try {
      return isComplete(this.tslab, code);
    } catch (err) {
      this.log(`is_complete failed: ${(err as Error)?.stack ?? err}`);
      return { status: "unknown" };
    }
  }

  complete(code: string, cursorPos: number): ReturnType<Engine["complete"]> {
    try {
      return this.cells.complete(code, cursorPos);
    } catch (err) {
      this.log(`complete failed: ${(err as Error)?.stack ?? err}`);
      return { matches: [], cursorStart: cursorPos, cursorEnd: cursorPos };
    }
  }

  inspect(code: string, cursorPos: number): ReturnType<Engine["inspect"]> {
    try {
      const text = this.cells.inspect(code, cursorPos);
      return text === undefined ? { found: false, data: {} } : { found: true, data: { "text/plain": text } };
    } catch (err) {
      this.log(`inspect failed: ${(err as Error)?.stack ?? err}`);
      return { found: false, data: {} };
    }
  }

  interrupt(): void {
    if (this.running) this.interruptRun(this.running);
  }

  async shutdown(_restart: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.running) this.interruptRun(this.running);
    await shutdownPools(this.log);
    this.router.restoreProcessOutput();
    try {
      this.cells.close();
    } catch (err) {
      this.log(`closing the compiler failed: ${(err as Error)?.stack ?? err}`);
    }
  }

  /** Release the cell if it awaits, and stop its pool tasks. Idempotent. */
  private interruptRun(run: CellRun): void {
    if (run.interrupted) return;
    run.interrupted = true;
    this.cells.interrupt();
    run.cancelled = interruptPools(run, this.log);
  }

  private async outcome(run: CellRun, result: RunResult | undefined): Promise<ExecuteOutcome> {
    if (result?.status === "error" && isSigintTermination(result.error) && !run.interrupted) {
      // SIGINT stopped synchronous cell code (vm's breakOnSigint): process.on("SIGINT")
      // handlers did not run, so the pools hear of it here.
      this.interruptRun(run);
    }
    if (!result || (run.interrupted && result.status !== "ok")) {
      return { status: "error", ...renderInterrupt(run.cell.count, run.cancelled) };
    }
    switch (result.status) {
      case "compile-error":
        return { status: "error", ...renderCompileError(result.diagnostics, run.cell.code, run.cell.count) };
      case "error":
        return { status: "error", ...renderError(result.error, this.cells) };
      case "ok":
        if (!result.value) return { status: "ok" };
        return { status: "ok", result: await resultBundle(result.value.value) };
    }
  }

  /**
   * An exception thrown by a cell's callback, or a rejection nobody handled, must not end
   * the kernel (Node's default). Shown in the cell that started the work; one that no cell
   * started (and whose stack names no cell) is the kernel's own and goes to its log.
   */
  private reportStrayErrors(): void {
    const show = (what: string, error: unknown) => {
      try {
        const fromCell = framesOf((error as Error | null)?.stack, this.cells).some((f) => f.kind === "cell");
        const target = this.router.running() ?? (fromCell ? this.router.current() : undefined);
        if (!target) return this.log(`${what}: ${(error as Error)?.stack ?? plainText(error)}`);
        const { traceback } = renderError(error, this.cells);
        const where = ` (from In[${target.cell.count}])`;
        this.router.write(target, "stderr", `${what}${where}:\n${traceback.join("\n")}\n`);
      } catch (err) {
        this.log(`${what}: ${(error as Error)?.stack ?? plainText(error)} (and showing it failed: ${err})`);
      }
    };
    process.on("uncaughtException", (err) => show("Uncaught exception", err));
    process.on("unhandledRejection", (reason) => show("Unhandled promise rejection", reason));
  }
}

function isSigintTermination(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}

function logToStderr(text: string): void {
  try {
    fs.writeSync(2, `[nbpool engine ${process.pid}] ${text}\n`);
  } catch {
    // stderr closed: nothing more to do.
  }
}
