/**
 * `nbpool run NOTEBOOK.ipynb... [--out FILE | --inplace] [--timeout S]`: execute notebooks
 * headlessly on the nbpool kernel, print each cell's outputs as they come, and save the
 * executed notebook where asked. No Jupyter needed.
 *
 * Without --out or --inplace nothing is written (`npm start` shows a notebook, it does not
 * rewrite it). Exit status: 0 when every cell ran (cells tagged raises-exception may fail),
 * 1 when a cell failed, timed out or the kernel died, 2 for a usage error, 130 on Ctrl-C.
 */

import { flags, readArgs } from "../cli-args";
import * as path from "path";
import { runNotebook, type CellOutcome, type RunResult } from "./execute";
import { prepareNotebook, readNotebook, serializeNotebook, writeNotebook, type Notebook } from "./notebook";
import { TerminalPrinter } from "./terminal";
import { checkNotebook } from "./validate";

export const DEFAULT_TIMEOUT_SECONDS = 600;

const USAGE = `usage: nbpool run NOTEBOOK.ipynb... [--out FILE | --inplace] [--timeout S]

Executes the notebook's code cells in order on the nbpool kernel and prints their outputs.
  --out FILE     save the executed notebook to FILE (one notebook only)
  --inplace      save each executed notebook over its file (only when every cell ran)
  --timeout S    seconds a cell may run before it is interrupted and the run fails
                 (default ${DEFAULT_TIMEOUT_SECONDS}; 0 for no limit)
Without --out or --inplace nothing is written.
Cells tagged "raises-exception" may fail; any other error stops the run with status 1.`;

export interface RunArgs {
  notebooks: string[];
  out?: string;
  inplace: boolean;
  timeoutSeconds: number;
}

export function parseArgs(args: string[]): RunArgs | "help" {
  const notebooks: string[] = [];
  let out: string | undefined;
  let inplace = false;
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  for (const { arg, flag, value } of flags(args)) {
    if (flag === "-h" || flag === "--help") return "help";
    else if (flag === "--out" || flag === "-o") out = value();
    else if (flag === "--inplace") inplace = true;
    else if (flag === "--timeout") {
      const v = value();
      timeoutSeconds = Number(v);
      if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 0)) throw new Error(`--timeout must be a number of seconds >= 0, not ${JSON.stringify(v)}`);
    } else if (flag.startsWith("-") && flag !== "-") throw new Error(`unknown option ${arg}`);
    else notebooks.push(arg);
  }
  if (notebooks.length === 0) throw new Error("give the notebook to run");
  if (out !== undefined && inplace) throw new Error("give --out FILE or --inplace, not both");
  if (out !== undefined && notebooks.length > 1) throw new Error("--out takes one notebook; use --inplace for several");
  return { notebooks, out, inplace, timeoutSeconds };
}

export async function main(args: string[]): Promise<number> {
  const parsed = readArgs("run", USAGE, args, parseArgs);
  if (typeof parsed === "number") return parsed;

  // Ctrl-C interrupts the running cell (the run then stops); a second one kills the kernel.
  const stop = new AbortController();
  const kill = new AbortController();
  const onSigint = () => {
    const first = !stop.signal.aborted;
    process.stderr.write(first ? "\nnbpool run: interrupting (Ctrl-C again to kill the kernel)\n" : "\nnbpool run: killing the kernel\n");
    (first ? stop : kill).abort();
  };
  process.on("SIGINT", onSigint);
  try {
    let status = 0;
    for (const file of parsed.notebooks) {
      const code = await runOne(file, parsed, stop.signal, kill.signal);
      status = Math.max(status, code);
      if (code === 130) break;
    }
    return status;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

async function runOne(file: string, args: RunArgs, signal: AbortSignal, killSignal: AbortSignal): Promise<number> {
  let nb: Notebook;
  try {
    nb = readNotebook(file);
  } catch (err) {
    process.stderr.write(`nbpool run: ${(err as Error).message}\n`);
    return 1;
  }
  prepareNotebook(nb);
  const printer = new TerminalPrinter(process.stdout);
  process.stderr.write(`nbpool run: ${file}\n`);
  let result: RunResult;
  try {
    result = await runNotebook(nb, {
      cwd: path.dirname(path.resolve(file)),
      timeoutSeconds: args.timeoutSeconds,
      signal,
      killSignal,
      listener: {
        markdown: (source) => printer.markdown(source),
        cellStart: (cell, label) => printer.cellStart(label, cell.source),
        output: (_cell, label, msgType, content) => printer.output(label, msgType, content),
        cellEnd: () => printer.cellEnd(),
        note: (text) => printer.note(text),
      },
    });
  } catch (err) {
    printer.cellEnd();
    process.stderr.write(`nbpool run: ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  printer.cellEnd();

  const failure = result.ok ? undefined : describe(result.outcome!, result.failedCell!, result.executed);
  const target = args.out ?? (args.inplace ? file : undefined);
  const problems = target === undefined ? [] : checkNotebook(JSON.parse(serializeNotebook(nb)));
  if (problems.length > 0) {
    process.stderr.write(`nbpool run: not saved: the executed notebook is not valid nbformat 4.5:\n  ${problems.join("\n  ")}\n`);
    return 1;
  }
  // A failed run still saves to --out (to look at), but never overwrites the notebook itself.
  if (target !== undefined && (result.ok || args.out !== undefined)) {
    try {
      writeNotebook(target, nb);
    } catch (err) {
      process.stderr.write(`nbpool run: cannot save ${target}: ${(err as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`nbpool run: ${result.ok ? "saved" : "saved the partly executed notebook"} to ${target}\n`);
  } else if (target !== undefined) {
    process.stderr.write(`nbpool run: ${file} left unchanged\n`);
  }
  if (failure) {
    process.stderr.write(`nbpool run: ${file}: ${failure}\n`);
    return result.outcome!.status === "interrupted" ? 130 : 1;
  }
  process.stderr.write(`nbpool run: ${file}: ${result.executed} cells ran${target === undefined ? " (not saved: use --out FILE or --inplace to save it)" : ""}\n`);
  return 0;
}

/** Why the run stopped; cells are counted as a notebook shows them, code and markdown alike. */
function describe(outcome: CellOutcome, cellIndex: number, executed: number): string {
  const where = outcome.status === "interrupted" ? `cell ${cellIndex + 1}` : `cell ${cellIndex + 1} (In [${executed}])`;
  switch (outcome.status) {
    case "error":
    case "expected-error":
      return `${where} failed: ${outcome.ename}: ${firstLine(outcome.evalue)} (tag it "raises-exception" if the error is meant to happen)`;
    case "timeout":
      return `${where} ran past the ${outcome.seconds} s timeout and was interrupted (--timeout S to change it)`;
    case "interrupted":
      return `interrupted at ${where}`;
    case "kernel-died":
      return `${where}: ${outcome.message}`;
    case "ok":
      return "";
  }
}

function firstLine(text: string): string {
  const line = text.split("\n")[0];
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
