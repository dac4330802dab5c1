/**
 * Shared by the runner and notebook suites: run `nbpool run` as a user would (a child process
 * of the CLI), build small notebooks, read executed ones, and validate them against the real
 * nbformat schema through Debian's python3-nbformat when it is installed.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { binPath, SYSTEM_PYTHON } from "./kernel";

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `node bin/nbpool.js ARGS`, with its output collected. `onStarted` gets the child (to signal
 * it); a run past `timeoutMs` is killed and fails the test with what it printed.
 */
export function runCli(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; onStdout?: (all: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliRun> {
  return runCommand(process.execPath, [binPath, ...args], { ...options, env: { ...process.env, NO_COLOR: "", ...options.env } });
}

/** Any command, its output collected; killed (failing the test with what it printed) past `timeoutMs`. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; onStdout?: (all: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliRun> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    options.onStdout?.(stdout, child);
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const what = [path.basename(command), ...args].join(" ").slice(0, 200);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A temporary Jupyter installation: the nbpool kernelspec installed under `prefix`, and the
 * environment that makes Jupyter's Python tools find it and keep their files there.
 */
export function jupyterEnv(prefix: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  execFileSync(process.execPath, [binPath, "install", "--prefix", prefix], { stdio: "pipe" });
  return {
    ...process.env,
    JUPYTER_PATH: path.join(prefix, "share", "jupyter"),
    JUPYTER_RUNTIME_DIR: path.join(prefix, "runtime"),
    JUPYTER_DATA_DIR: path.join(prefix, "data"),
    JUPYTER_CONFIG_DIR: path.join(prefix, "config"),
    PYTHONDONTWRITEBYTECODE: "1",
    ...extra,
  };
}

export type CellSpec = string | { markdown: string } | { code: string; tags?: string[] };

/** An nbformat 4.4 notebook (no cell ids: the runner must add them), as Jupyter would save it. */
export function makeNotebook(cells: CellSpec[]): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 4,
    metadata: {},
    cells: cells.map((spec) => {
      if (typeof spec !== "string" && "markdown" in spec) return { cell_type: "markdown", metadata: {}, source: spec.markdown };
      const { code, tags } = typeof spec === "string" ? { code: spec, tags: undefined } : spec;
      return { cell_type: "code", metadata: tags ? { tags } : {}, source: code.split(/(?<=\n)/), outputs: [], execution_count: null };
    }),
  };
}

export function writeNotebookFile(dir: string, name: string, nb: Record<string, unknown>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(nb, null, 1));
  return file;
}

export interface SavedOutput {
  output_type: string;
  name?: string;
  text?: string[] | string;
  data?: Record<string, string[] | string>;
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface SavedCell {
  id: string;
  cell_type: string;
  source: string[] | string;
  metadata: { tags?: string[] };
  outputs?: SavedOutput[];
  execution_count?: number | null;
}

export interface SavedNotebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: SavedCell[];
}

export function readSaved(file: string): SavedNotebook {
  return JSON.parse(fs.readFileSync(file, "utf8")) as SavedNotebook;
}

export function joined(text: string[] | string | undefined): string {
  return Array.isArray(text) ? text.join("") : (text ?? "");
}

/** What a text-only viewer shows for a cell: streams, text/plain, and error names and values. */
export function cellText(cell: SavedCell): string {
  return (cell.outputs ?? [])
    .map((o) => (o.output_type === "stream" ? joined(o.text) : o.output_type === "error" ? `${o.ename}: ${o.evalue}` : joined(o.data?.["text/plain"])))
    .join("\n");
}

export function codeCells(nb: SavedNotebook): SavedCell[] {
  return nb.cells.filter((c) => c.cell_type === "code");
}

export function isTagged(cell: SavedCell, tag: string): boolean {
  return (cell.metadata.tags ?? []).includes(tag);
}

/**
 * Validate `file` with Python's nbformat (the real JSON schema) and return the text nbformat
 * itself would write for it, to compare with the file byte for byte. Throws with nbformat's
 * message when the notebook is invalid.
 */
export function nbformatValidate(file: string): string {
  const script = [
    "import sys, nbformat",
    "nb = nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT)",
    "nbformat.validate(nb, version=4, version_minor=5, repair_duplicate_cell_ids=False)",
    "sys.stdout.write(nbformat.writes(nb) + '\\n')",
  ].join("\n");
  try {
    return execFileSync(SYSTEM_PYTHON, ["-c", script, file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  } catch (err) {
    throw new Error(`nbformat rejects ${file}:\n${String((err as { stderr?: string }).stderr ?? err)}`);
  }
}

/** Whether /usr/bin/python3 can import nbformat (Debian's python3-nbformat). */
export function hasPythonNbformat(): boolean {
  try {
    execFileSync(SYSTEM_PYTHON, ["-c", "import nbformat"], { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
