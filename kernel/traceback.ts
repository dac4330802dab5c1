/**
 * Errors as IPython shows them: a red rule with the class name and "Traceback (most recent
 * call last)", the frames (oldest first) with `Cell In[N], line L` and the TypeScript around
 * that line, frames outside cells on one line, then `Name: message`. A worker's error adds
 * a "Remote traceback (worker k, pid p, task i, input …)" part with the worker's frames, and
 * causes come first, joined by "The above exception was the direct cause of the following
 * exception:", as in Python. Jupyter joins the traceback entries with newlines.
 */

import { inspect } from "util";
import type { CellRunner, CompileDiagnostic } from "./cells";
import { framesOf, type Frame } from "./stack";

export interface RenderedError {
  ename: string;
  evalue: string;
  traceback: string[];
}

const RED = "\x1b[0;31m";
const GREEN = "\x1b[0;32m";
const BOLD_GREEN = "\x1b[1;32m";
const CYAN = "\x1b[0;36m";
const BOLD = "\x1b[1m";
const RESET = "\x1b[0m";
const RULE = "-".repeat(75);
const TITLE = "Traceback (most recent call last)";
const CONTEXT_BEFORE = 2;
const CONTEXT_AFTER = 1;
const MAX_CAUSES = 5;

interface RemoteInfo {
  remoteStack: string;
  localStack?: string;
  pid?: number;
  workerId?: number;
  taskIndex?: number;
  input?: string;
}

export function renderError(error: unknown, cells: CellRunner): RenderedError {
  const { ename, evalue } = nameAndMessage(error);
  const traceback: string[] = [];
  const chain = causeChain(error);
  for (let i = chain.length - 1; i >= 0; i--) {
    traceback.push(...renderOne(chain[i], cells));
    if (i > 0) traceback.push("", "The above exception was the direct cause of the following exception:", "");
  }
  return { ename, evalue, traceback };
}

/** A cell that did not compile: each diagnostic with the line it is about and a caret. */
export function renderCompileError(diagnostics: CompileDiagnostic[], cellCode: string, count: number): RenderedError {
  const first = diagnostics[0];
  const where = (d: CompileDiagnostic) => (d.file ? `${d.file}:${d.line}:${d.col}` : `In[${count}], line ${d.line}`);
  const evalue = first ? `${first.message} (${where(first)})${diagnostics.length > 1 ? ` and ${diagnostics.length - 1} more` : ""}` : "the cell did not compile";
  const traceback = [header("TSError").join("\n")];
  for (const d of diagnostics) {
    if (d.file) {
      traceback.push(`File ${GREEN}${d.file}:${d.line}:${d.col}${RESET}`, `${RED}TSError${RESET}: ${d.message}`);
      continue;
    }
    const lines = cellCode.split("\n");
    const entry = [`Cell ${GREEN}In[${count}], line ${d.line}${RESET}`, ...excerpt(lines, d.line, d.col)];
    traceback.push(entry.join("\n"), `${RED}TSError${RESET}: ${d.message}`);
  }
  return { ename: "TSError", evalue, traceback };
}

/** The running cell was interrupted (SIGINT or interrupt_request). */
export function renderInterrupt(count: number, cancelled: number): RenderedError {
  const what = cancelled > 0 ? `; ${cancelled} pool task${cancelled === 1 ? " was" : "s were"} cancelled` : "";
  const evalue = `In[${count}] was interrupted${what}`;
  return { ename: "AbortError", evalue, traceback: [header("AbortError").join("\n"), `${RED}AbortError${RESET}: ${evalue}`] };
}

function renderOne(error: unknown, cells: CellRunner): string[] {
  const { ename, evalue } = nameAndMessage(error);
  const out = [header(ename).join("\n")];
  const remote = remoteInfo(error);
  const stack = error instanceof Error || isErrorLike(error) ? (error as Error).stack : undefined;
  const local = framesOf(remote ? remote.localStack : stack, cells);
  out.push(...local.reverse().map((f) => renderFrame(f)));
  if (remote) {
    out.push(`${BOLD}Remote traceback${RESET} (${remoteWhere(remote)})`);
    out.push(...framesOf(remote.remoteStack, cells).reverse().map((f) => renderFrame(f)));
  }
  out.push(evalue ? `${RED}${ename}${RESET}: ${evalue}` : `${RED}${ename}${RESET}`);
  out.push(...notes(error, cells));
  return out;
}

function header(ename: string): string[] {
  return [`${RED}${RULE}${RESET}`, `${RED}${ename}${RESET}${" ".repeat(Math.max(1, RULE.length - ename.length - TITLE.length))}${TITLE}`];
}

function renderFrame(frame: Frame): string {
  const fn = frame.fn ? `, in ${CYAN}${frame.fn}${RESET}` : "";
  if (frame.kind === "file") return `File ${GREEN}${frame.file}:${frame.line}${RESET}${fn}`;
  const { cell, line } = frame.at;
  const lines = cell.code.split("\n");
  return [`Cell ${GREEN}In[${cell.count}], line ${line}${RESET}${fn}`, ...excerpt(lines, line)].join("\n");
}

/** The lines around `line` (1-based), IPython's arrow on it, a caret under `col` if given. */
function excerpt(lines: string[], line: number, col?: number): string[] {
  const out: string[] = [];
  const from = Math.max(1, line - CONTEXT_BEFORE);
  const to = Math.min(lines.length, line + CONTEXT_AFTER);
  const width = Math.max(String(to).length, 4);
  for (let n = from; n <= to; n++) {
    const text = lines[n - 1] ?? "";
    if (n === line) {
      out.push(`${GREEN}----> ${String(n).padStart(width - 3)}${RESET} ${text}`);
      if (col !== undefined) out.push(`${" ".repeat(width + 4 + col - 1)}${RED}^${RESET}`);
    } else {
      out.push(`${BOLD_GREEN}${String(n).padStart(width + 3)}${RESET} ${text}`);
    }
  }
  return out;
}

function remoteWhere(r: RemoteInfo): string {
  const parts: string[] = [];
  if (r.workerId !== undefined) parts.push(`worker ${r.workerId}`);
  if (r.pid !== undefined) parts.push(`pid ${r.pid}`);
  if (r.taskIndex !== undefined) parts.push(`task ${r.taskIndex}`);
  if (r.input !== undefined) parts.push(`input ${r.input}`);
  return parts.join(", ");
}

/** Extra lines: what cannot travel (CaptureError), the errors of an AggregateError. */
function notes(error: unknown, cells: CellRunner): string[] {
  const out: string[] = [];
  const identifier = (error as { identifier?: unknown } | null)?.identifier;
  if (typeof identifier === "string" && identifier) {
    out.push(`${CYAN}cannot travel to a worker${RESET}: \`${identifier}\``);
    const use = findIdentifier(identifier, cells);
    if (use) out.push(renderFrame({ kind: "cell", at: use }));
  }
  if (error instanceof AggregateError) {
    error.errors.forEach((e, i) => {
      const { ename, evalue } = nameAndMessage(e);
      out.push(`  [${i}] ${RED}${ename}${RESET}: ${evalue}`);
    });
  }
  return out;
}

/** The most recent cell line that mentions the identifier (its first segment: `config` of `config.x`). */
function findIdentifier(identifier: string, cells: CellRunner): { cell: NonNullable<ReturnType<CellRunner["cell"]>>; line: number; col: number } | undefined {
  const name = identifier.split(/[.[]/)[0];
  if (!name || !/^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(name)) return undefined;
  const word = new RegExp(`(?<![\\p{L}\\p{N}_$.])${name.replace(/\$/g, "\\$")}(?![\\p{L}\\p{N}_$])`, "u");
  const scripts = Array.from(cells.scripts());
  for (let i = scripts.length - 1; i >= 0; i--) {
    const cell = cells.cell(scripts[i].url);
    if (!cell) continue;
    const lines = cell.code.split("\n");
    for (let n = 0; n < lines.length; n++) {
      const m = word.exec(lines[n]);
      if (m && !lines[n].trimStart().startsWith("//")) return { cell, line: n + 1, col: m.index + 1 };
    }
  }
  return undefined;
}

function remoteInfo(error: unknown): RemoteInfo | undefined {
  const e = error as Partial<RemoteInfo> | null;
  if (!e || typeof e !== "object" || typeof e.remoteStack !== "string") return undefined;
  return {
    remoteStack: e.remoteStack,
    localStack: typeof e.localStack === "string" ? e.localStack : undefined,
    pid: typeof e.pid === "number" ? e.pid : undefined,
    workerId: typeof e.workerId === "number" ? e.workerId : undefined,
    taskIndex: typeof e.taskIndex === "number" ? e.taskIndex : undefined,
    input: typeof e.input === "string" ? e.input : undefined,
  };
}

function causeChain(error: unknown): unknown[] {
  const chain = [error];
  const seen = new Set<unknown>([error]);
  let current = error;
  while (chain.length <= MAX_CAUSES) {
    const cause = current !== null && typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
    if (cause === undefined || cause === null || seen.has(cause)) break;
    chain.push(cause);
    seen.add(cause);
    current = cause;
  }
  return chain;
}

function isErrorLike(value: unknown): value is { name: string; message: string; stack?: string } {
  return value !== null && typeof value === "object" && typeof (value as { message?: unknown }).message === "string" && typeof (value as { name?: unknown }).name === "string";
}

/** ename/evalue as Jupyter wants them; a thrown non-error is "Uncaught" with its inspection. */
export function nameAndMessage(error: unknown): { ename: string; evalue: string } {
  if (error instanceof Error || isErrorLike(error)) {
    let ename = "Error";
    let evalue = "";
    try {
      ename = String(error.name || error.constructor?.name || "Error");
      evalue = String(error.message ?? "");
    } catch {
      // a hostile getter: keep the defaults
    }
    return { ename, evalue };
  }
  let text: string;
  try {
    text = typeof error === "string" ? JSON.stringify(error) : inspect(error, { depth: 2, breakLength: Infinity });
  } catch {
    text = String(error);
  }
  return { ename: "Uncaught", evalue: text };
}
