/**
 * Executes a notebook's code cells in order on a fresh nbpool kernel, with our own zeromq
 * client, and fills in their outputs and execution counts. Stops at the first error in a
 * cell not tagged `raises-exception` (nbclient's rule), at a cell past its timeout (after
 * interrupting it), when the kernel dies, or when asked to stop. Every wait is bounded, and
 * the kernel is always shut down (killed if it will not go) before this returns.
 */

import { KernelClient } from "../client";
import type { Message } from "../wire";
import { hasTag, RAISES_EXCEPTION, type CodeCell, type Notebook } from "./notebook";
import { OUTPUT_MESSAGES, OutputCollector } from "./outputs";

export interface RunListener {
  markdown?(source: string): void;
  cellStart?(cell: CodeCell, label: string): void;
  /** An output message for `cell` (which may be an earlier cell than the one running). */
  output?(cell: CodeCell, label: string, msgType: string, content: Record<string, unknown>): void;
  cellEnd?(cell: CodeCell, outcome: CellOutcome): void;
  /** Something the runner itself has to say (a timeout, an unexpected success). */
  note?(text: string): void;
}

export type CellOutcome =
  | { status: "ok" }
  /** An error in a cell tagged raises-exception: expected, the run goes on. */
  | { status: "expected-error"; ename: string; evalue: string }
  | { status: "error"; ename: string; evalue: string }
  | { status: "timeout"; seconds: number }
  | { status: "interrupted" }
  | { status: "kernel-died"; message: string };

export interface RunResult {
  ok: boolean;
  /** The cell that stopped the run (index into nb.cells), when one did. */
  failedCell?: number;
  outcome?: CellOutcome;
  /** The cells that ran, in order. */
  executed: number;
}

export interface RunOptions {
  /** The kernel's working directory: the notebook's folder, as in Jupyter. */
  cwd: string;
  /** Seconds a cell may run; then it is interrupted and the run fails. 0 or undefined: no limit. */
  timeoutSeconds?: number;
  listener?: RunListener;
  /** Aborting interrupts the running cell and stops the run. */
  signal?: AbortSignal;
  /** Aborting kills the kernel (for a cell that ignores the interrupt). */
  killSignal?: AbortSignal;
  /** Added to the kernel's environment. */
  env?: NodeJS.ProcessEnv;
}

/** execute_request msg_id -> the cell it ran, so that late output finds its own cell. */
type CellsByRequest = Map<string, { cell: CodeCell; label: string; idle(): void }>;

/** How long an interrupted cell gets to finish before the kernel is killed. */
const INTERRUPT_GRACE_MS = 10_000;
/** How often an interrupt is repeated while the cell it was meant for has not ended. */
const INTERRUPT_REPEAT_MS = 500;
/** How long to wait for a cell's idle status after its reply (outputs still on their way). */
const IDLE_AFTER_REPLY_MS = 5_000;

export async function runNotebook(nb: Notebook, options: RunOptions): Promise<RunResult> {
  const listener = options.listener ?? {};
  const client = await KernelClient.start({ cwd: options.cwd, env: options.env });
  const collector = new OutputCollector();
  const cells: CellsByRequest = new Map();
  const stopListening = client.onIopub((msg: Message) => {
    const target = cells.get(String(msg.parent_header.msg_id ?? ""));
    if (!target) return;
    if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") target.idle();
    if (!OUTPUT_MESSAGES.has(msg.header.msg_type)) return;
    collector.apply(target.cell, msg.header.msg_type, msg.content);
    listener.output?.(target.cell, target.label, msg.header.msg_type, msg.content);
  });
  let killed = false;
  // An interrupt that reaches the kernel before it has begun the cell does nothing, so it is
  // repeated until the cell ends (the run stops after it).
  let repeat: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const interrupt = () => void client.interrupt().catch(() => {});
    interrupt();
    repeat ??= setInterval(interrupt, INTERRUPT_REPEAT_MS);
  };
  const onKill = () => {
    killed = true;
    client.kill("SIGKILL");
  };
  options.signal?.addEventListener("abort", onAbort);
  options.killSignal?.addEventListener("abort", onKill);

  try {
    const info = await client.request("shell", "kernel_info_request", {}, 30_000);
    if (info.content.language_info) nb.metadata.language_info = info.content.language_info;
    let executed = 0;
    for (let index = 0; index < nb.cells.length; index++) {
      const cell = nb.cells[index];
      if (cell.cell_type !== "code") {
        if (cell.cell_type === "markdown") listener.markdown?.(cell.source);
        continue;
      }
      // Jupyter does not send empty cells to the kernel.
      if (cell.source.trim() === "") continue;
      if (options.signal?.aborted) return { ok: false, failedCell: index, outcome: { status: "interrupted" }, executed };
      const label = `In [${executed + 1}]`;
      listener.cellStart?.(cell, label);
      const outcome = await executeCell(client, cell, label, cells, options, listener);
      executed++;
      listener.cellEnd?.(cell, outcome);
      if (outcome.status !== "ok" && outcome.status !== "expected-error") {
        return { ok: false, failedCell: index, outcome: killed ? { status: "interrupted" } : outcome, executed };
      }
    }
    return { ok: true, executed };
  } finally {
    clearInterval(repeat);
    options.signal?.removeEventListener("abort", onAbort);
    options.killSignal?.removeEventListener("abort", onKill);
    stopListening();
    await client.close();
  }
}

async function executeCell(
  client: KernelClient,
  cell: CodeCell,
  label: string,
  cells: CellsByRequest,
  options: RunOptions,
  listener: RunListener,
): Promise<CellOutcome> {
  const expectError = hasTag(cell, RAISES_EXCEPTION);
  const msg = client.session.message("execute_request", {
    code: cell.source,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: !expectError,
  });
  let sawIdle!: () => void;
  const idle = new Promise<void>((resolve) => (sawIdle = resolve));
  cells.set(msg.header.msg_id, { cell, label, idle: () => sawIdle() });

  let reply: Message;
  let timedOut = false;
  try {
    const replied = client.send("shell", msg);
    const seconds = options.timeoutSeconds ?? 0;
    if (seconds > 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), seconds * 1000)));
      const first = await Promise.race([replied, expired]).finally(() => clearTimeout(timer));
      if (first === "timeout") {
        timedOut = true;
        listener.note?.(`${label} ran past the ${seconds} s timeout: interrupting it`);
        await client.interrupt().catch(() => {});
        reply = await withGrace(client, replied, `${label} did not stop within ${INTERRUPT_GRACE_MS / 1000} s of the interrupt; the kernel was killed`);
      } else {
        reply = first;
      }
    } else {
      reply = await replied;
    }
  } catch (err) {
    return { status: "kernel-died", message: (err as Error).message };
  }
  // Outputs published before the reply may still be in flight on iopub; its idle status ends them.
  let idleTimer: NodeJS.Timeout | undefined;
  await Promise.race([idle, new Promise((resolve) => (idleTimer = setTimeout(resolve, IDLE_AFTER_REPLY_MS)))]);
  clearTimeout(idleTimer);

  const content = reply.content;
  if (typeof content.execution_count === "number") cell.execution_count = content.execution_count;
  if (timedOut) return { status: "timeout", seconds: options.timeoutSeconds! };
  if (content.status === "ok") {
    if (expectError) listener.note?.(`${label} is tagged ${RAISES_EXCEPTION} but raised nothing`);
    return { status: "ok" };
  }
  const ename = String(content.ename ?? (content.status === "aborted" ? "Aborted" : "Error"));
  const evalue = String(content.evalue ?? "");
  // The reply has the error even when its iopub message was lost: the saved notebook shows it.
  if (!cell.outputs.some((o) => o.output_type === "error")) {
    cell.outputs.push({ output_type: "error", ename, evalue, traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [] });
  }
  if (options.signal?.aborted) return { status: "interrupted" };
  return expectError ? { status: "expected-error", ename, evalue } : { status: "error", ename, evalue };
}

/** The reply of an interrupted cell, or the kernel killed if it does not come in time. */
async function withGrace(client: KernelClient, replied: Promise<Message>, message: string): Promise<Message> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) =>
    (timer = setTimeout(() => {
      client.kill("SIGKILL");
      reject(new Error(message));
    }, INTERRUPT_GRACE_MS)),
  );
  return Promise.race([replied, late]).finally(() => clearTimeout(timer));
}
