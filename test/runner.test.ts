/**
 * `nbpool run`: the headless notebook runner, run as a user runs it (the CLI in a child
 * process, a real kernel, small notebooks in temporary folders). What the executed notebook
 * holds, that it is valid nbformat 4.5 (checked by our structural check, and by Python's
 * nbformat with the real schema where Debian's python3-nbformat is installed), what the
 * terminal shows, exit statuses, timeouts, Ctrl-C and a dying kernel.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkNotebook } from "../dist/kernel/runner/validate.js";
import { OutputCollector } from "../dist/kernel/runner/outputs.js";
import { TerminalPrinter } from "../dist/kernel/runner/terminal.js";
import type { CodeCell } from "../dist/kernel/runner/notebook.js";
import { tempDir } from "./helpers/kernel";
import { childrenOf, isAlive, waitFor } from "./helpers/procs";
import {
  cellText,
  codeCells,
  hasPythonNbformat,
  joined,
  makeNotebook,
  nbformatValidate,
  readSaved,
  runCli,
  writeNotebookFile,
  type SavedCell,
} from "./helpers/run-notebook";

const dirs: string[] = [];
function workDir(): string {
  const dir = tempDir("runner");
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const python = hasPythonNbformat();

describe("nbpool run, on a notebook that runs", () => {
  const cells = [
    { markdown: "# A title\nSome prose." },
    'console.log("one");\nconsole.log("two");\nconsole.error("warn");\n6 * 7',
    'display("first", { displayId: "status" });',
    'display("second", { displayId: "status", update: true });\nvoid setTimeout(() => console.log("late, from In [3]"), 300);',
    'await new Promise((r) => setTimeout(r, 1000));\n"after the wait"',
    "",
    { code: 'throw new TypeError("on purpose");', tags: ["raises-exception"] },
    'import { lineChart } from "nbpool";\nlineChart({ series: [{ name: "s", points: [[1, 1], [2, 4]] }] })',
    'import * as tslab from "tslab";\ntslab.display.html("<b>bold</b>");',
  ];
  let dir: string;
  let run: Awaited<ReturnType<typeof runCli>>;
  let saved: ReturnType<typeof readSaved>;
  let code: SavedCell[];

  it("exits 0 and saves the executed notebook with --out", async () => {
    dir = workDir();
    const input = writeNotebookFile(dir, "in.ipynb", makeNotebook(cells));
    run = await runCli(["run", input, "--out", path.join(dir, "out.ipynb")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`saved to ${path.join(dir, "out.ipynb")}`);
    saved = readSaved(path.join(dir, "out.ipynb"));
    code = codeCells(saved);
  });

  it("writes nbformat 4.5: cell ids, kernelspec, language_info from the kernel", () => {
    expect([saved.nbformat, saved.nbformat_minor]).toEqual([4, 5]);
    const ids = saved.cells.map((c) => c.id);
    expect(ids.every((id) => /^[a-zA-Z0-9-_]{1,64}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(saved.metadata.kernelspec).toEqual({ name: "nbpool", display_name: "TypeScript (nbpool)", language: "typescript" });
    expect(saved.metadata.language_info).toMatchObject({ name: "typescript", file_extension: ".ts" });
    expect(checkNotebook(saved)).toEqual([]);
  });

  it("numbers the cells it ran and skips empty ones, as Jupyter does", () => {
    expect(code.map((c) => c.execution_count)).toEqual([1, 2, 3, 4, null, 5, 6, 7]);
  });

  it("merges stream text per stream, and keeps the last value as execute_result", () => {
    expect(code[0].outputs).toEqual([
      { output_type: "stream", name: "stdout", text: ["one\n", "two\n"] },
      { output_type: "stream", name: "stderr", text: ["warn\n"] },
      { output_type: "execute_result", execution_count: 1, data: { "text/plain": ["42"] }, metadata: {} },
    ]);
  });

  it("applies an update_display_data to the display shown by an earlier cell", () => {
    expect(code[1].outputs).toEqual([{ output_type: "display_data", data: { "text/plain": ["'second'"] }, metadata: {} }]);
  });

  it("puts output that arrives after its cell finished into that cell", () => {
    expect(cellText(code[2])).toBe("late, from In [3]\n");
    expect(cellText(code[3])).toBe("'after the wait'");
  });

  it("keeps the error of a cell tagged raises-exception, with its traceback, and goes on", () => {
    const [error] = code[5].outputs!;
    expect(error).toMatchObject({ output_type: "error", ename: "TypeError", evalue: "on purpose" });
    expect(error.traceback!.join("\n")).toContain('throw new TypeError("on purpose");');
    expect(code[6].outputs![0].data).toHaveProperty("image/svg+xml");
    expect(code[7].outputs).toEqual([{ output_type: "display_data", data: { "text/html": ["<b>bold</b>"] }, metadata: {} }]);
  });

  it("prints headers, text, tracebacks and one-line notes for pictures and HTML, without colours when piped", () => {
    const out = run.stdout;
    expect(out).toContain("# A title");
    expect(out).toMatch(/In \[1\]: console\.log\("one"\);.*\n(.*\n)?one\ntwo\nwarn\n42\n/);
    expect(out).toContain("'second'");
    expect(out).toContain("(late output of In [3])\nlate, from In [3]\n(In [4] continues)\n'after the wait'");
    expect(out).toMatch(/TypeError +Traceback \(most recent call last\)/);
    expect(out).toMatch(/\[image\/svg\+xml \d+ (B|KB)\]/);
    expect(out).toContain("[text/html 11 B]");
    expect(out).not.toContain("\x1b[");
  });

  it.skipIf(!python)("is valid under the nbformat 4.5 schema, byte for byte what nbformat itself writes", () => {
    const file = path.join(dir, "out.ipynb");
    expect(nbformatValidate(file)).toBe(fs.readFileSync(file, "utf8"));
  });
});

describe("nbpool run, when a cell fails", () => {
  const cells = ['console.log("before");', 'throw new RangeError("bad input");', 'console.log("after");'];

  it("stops, exits 1, names the cell and the error, and leaves the notebook alone with --inplace", async () => {
    const dir = workDir();
    const input = writeNotebookFile(dir, "nb.ipynb", makeNotebook(cells));
    const before = fs.readFileSync(input, "utf8");
    const run = await runCli(["run", input, "--inplace"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cell 2 (In [2]) failed: RangeError: bad input");
    expect(run.stderr).toContain(`${input} left unchanged`);
    expect(run.stdout).toContain("RangeError: bad input");
    expect(run.stdout).not.toContain("after");
    expect(fs.readFileSync(input, "utf8")).toBe(before);
  });

  it("with --out, saves the partly executed notebook to look at", async () => {
    const dir = workDir();
    const input = writeNotebookFile(dir, "nb.ipynb", makeNotebook(cells));
    const out = path.join(dir, "partial.ipynb");
    const run = await runCli(["run", input, "--out", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`saved the partly executed notebook to ${out}`);
    const code = codeCells(readSaved(out));
    expect(code.map((c) => c.execution_count)).toEqual([1, 2, null]);
    expect(code[1].outputs).toMatchObject([{ output_type: "error", ename: "RangeError", evalue: "bad input" }]);
    expect(code[2].outputs).toEqual([]);
    expect(checkNotebook(readSaved(out))).toEqual([]);
  });
});

describe("nbpool run, bounded waits", () => {
  it("interrupts a cell past --timeout, fails, and writes nothing without --out", async () => {
    const dir = workDir();
    const input = writeNotebookFile(dir, "stuck.ipynb", makeNotebook(["let spins = 0;\nwhile (true) spins++;", 'console.log("never");']));
    const run = await runCli(["run", input, "--timeout", "1"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("In [1] ran past the 1 s timeout: interrupting it");
    expect(run.stderr).toContain("cell 1 (In [1]) ran past the 1 s timeout and was interrupted");
    expect(run.stdout).not.toContain("never");
    expect(fs.readdirSync(dir)).toEqual(["stuck.ipynb"]);
  });

  it("fails with the reason when the kernel dies", async () => {
    const dir = workDir();
    const input = writeNotebookFile(dir, "die.ipynb", makeNotebook(['process.kill(process.pid, "SIGKILL");', "1"]));
    const run = await runCli(["run", input]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cell 1 \(In \[1\]\): the kernel was killed by SIGKILL/);
  });

  it("on Ctrl-C interrupts the running cell, stops, exits 130 and leaves no kernel behind", async () => {
    const dir = workDir();
    const input = writeNotebookFile(dir, "wait.ipynb", makeNotebook(['console.log("waiting");\nawait new Promise((r) => setTimeout(r, 60_000));', 'console.log("never");']));
    let kernels: number[] = [];
    const run = await runCli(["run", input], {
      onStdout: (all, child) => {
        // The output line, not the cell's header (which quotes the source).
        if (kernels.length > 0 || !all.includes("\nwaiting\n")) return;
        kernels = childrenOf(child.pid!);
        child.kill("SIGINT");
      },
    });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("interrupted at cell 1");
    expect(run.stdout).not.toContain("never");
    expect(kernels.length).toBe(1);
    await waitFor(() => !isAlive(kernels[0]), 10_000, "the kernel to exit");
  });
});

describe("nbpool run, usage", () => {
  it.each([
    [[], /give the notebook to run/],
    [["a.ipynb", "--out", "b.ipynb", "--inplace"], /--out FILE or --inplace, not both/],
    [["a.ipynb", "b.ipynb", "--out", "c.ipynb"], /--out takes one notebook/],
    [["a.ipynb", "--timeout", "-1"], /--timeout must be a number of seconds >= 0/],
    [["a.ipynb", "--colour"], /unknown option --colour/],
  ])("%j is refused with status 2 and says why", async (args, message) => {
    const run = await runCli(["run", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain("usage: nbpool run");
  });

  it("--help prints the usage and exits 0", async () => {
    const run = await runCli(["run", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("usage: nbpool run NOTEBOOK.ipynb");
  });

  it("says what is wrong with a file that is not a runnable notebook", async () => {
    const dir = workDir();
    fs.writeFileSync(path.join(dir, "text.ipynb"), "not json");
    fs.writeFileSync(path.join(dir, "old.ipynb"), JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, cells: [] }));
    const cases: Array<[string, RegExp]> = [
      ["missing.ipynb", /cannot read .*missing\.ipynb/],
      ["text.ipynb", /text\.ipynb is not a notebook: it is not JSON/],
      ["old.ipynb", /old\.ipynb is nbformat 3; only nbformat 4 notebooks can be run/],
    ];
    for (const [name, message] of cases) {
      const run = await runCli(["run", path.join(dir, name)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
    }
  });
});

describe("the pieces, on their own", () => {
  const cell = (): CodeCell => ({ cell_type: "code", id: "c", metadata: {}, source: "", outputs: [], execution_count: null });

  it("clear_output empties a cell now, or at its next output when it says wait", () => {
    const outputs = new OutputCollector();
    const a = cell();
    outputs.apply(a, "stream", { name: "stdout", text: "old\n" });
    outputs.apply(a, "clear_output", { wait: true });
    expect(a.outputs).toHaveLength(1);
    outputs.apply(a, "stream", { name: "stdout", text: "new\n" });
    expect(a.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "new\n" }]);
    outputs.apply(a, "clear_output", { wait: false });
    expect(a.outputs).toEqual([]);
  });

  it("an update reaches every output shown with its display id, in any cell", () => {
    const outputs = new OutputCollector();
    const [a, b] = [cell(), cell()];
    const show = { data: { "text/plain": "1/3" }, metadata: {}, transient: { display_id: "bar" } };
    outputs.apply(a, "display_data", show);
    outputs.apply(b, "display_data", show);
    outputs.apply(b, "update_display_data", { data: { "text/plain": "3/3 done" }, metadata: {}, transient: { display_id: "bar" } });
    outputs.apply(b, "update_display_data", { data: { "text/plain": "ignored" }, metadata: {}, transient: { display_id: "never-shown" } });
    for (const c of [a, b]) expect(c.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "3/3 done" }, metadata: {} }]);
  });

  /** A stream that records what is written; `isTTY` as a terminal or a pipe would say. */
  const screen = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { isTTY, columns: 80, chunks, write: (text: string) => chunks.push(text) > 0 };
  };
  const progress = (text: string) => ({ data: { "text/plain": text, "text/html": "<div/>" }, metadata: {}, transient: { display_id: "p" } });
  const error = { ename: "RangeError", evalue: "bad", traceback: ["\x1b[0;31mRangeError\x1b[0m: bad"] };
  /** One cell: a display, its update, then an error. */
  const printSession = (out: ReturnType<typeof screen>) => {
    const printer = new TerminalPrinter(out as never);
    printer.cellStart("In [1]", "await pool.map(f, xs)");
    printer.output("In [1]", "display_data", progress("map 1/4"));
    printer.output("In [1]", "update_display_data", progress("map 4/4 done"));
    printer.output("In [1]", "error", error);
    printer.cellEnd();
  };

  it("on a terminal, redraws an updated display in place and keeps colours", () => {
    const out = screen(true);
    printSession(out);
    const text = out.chunks.join("");
    expect(text).toContain("map 1/4\n\x1b[1A\r\x1b[Jmap 4/4 done\n");
    expect(text).toContain("\x1b[0;31mRangeError\x1b[0m: bad");
  });

  it("in a log, prints only the last state of an updated display, and no colours", () => {
    const out = screen(false);
    printSession(out);
    expect(out.chunks.join("")).toBe("\nIn [1]: await pool.map(f, xs)\nmap 4/4 done\nRangeError: bad\n");
  });

  it("the structural check finds what the nbformat 4.5 schema forbids", () => {
    const problems = checkNotebook({
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: { name: "nbpool" } },
      cells: [
        { id: "a", cell_type: "code", metadata: { tags: ["x,y"] }, source: "", outputs: [{ output_type: "stream", name: "stdout" }] },
        { id: "a", cell_type: "markdown", metadata: {}, source: [1], outputs: [] },
        { id: "b", cell_type: "code", metadata: {}, source: "", execution_count: -1, outputs: [{ output_type: "display_data", data: { "text/plain": 5 }, metadata: {} }] },
      ],
    });
    expect(problems).toEqual([
      "nbformat_minor: must be an integer >= 5, not 4",
      "metadata.kernelspec.display_name: must be a string",
      'cells[0]: "execution_count" is missing',
      "cells[0].metadata.tags: must be a list of non-empty strings without commas",
      "cells[0].execution_count: must be an integer >= 0 or null",
      'cells[0].outputs[0]: "text" is missing',
      "cells[0].outputs[0].text: must be a string or a list of strings",
      'cells[1]: "outputs" is not allowed here',
      'cells[1].id: "a" is used by an earlier cell',
      "cells[1].source: must be a string or a list of strings",
      "cells[2].execution_count: must be an integer >= 0 or null",
      'cells[2].outputs[0].data["text/plain"]: must be a string or a list of strings',
    ]);
  });
});
