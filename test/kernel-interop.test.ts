/**
 * The kernel under real Jupyter clients (Debian's python3 packages): jupyter_kernel_test in
 * full, nbclient executing a notebook, and the lifecycle through jupyter_client with real
 * signals. The kernelspec is installed fresh into a temporary prefix and found through
 * JUPYTER_PATH; the kernel runs in a directory outside the project, as a user's would.
 *
 * Skips, saying why, when /usr/bin/python3 lacks the packages; CI installs them:
 *   apt-get install python3-jupyter-client python3-nbclient python3-nbformat python3-jupyter-kernel-test
 */

import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_PYTHON, helpersDir, jupyterPython, tempDir } from "./helpers/kernel";
import { jupyterEnv, runCommand, type CliRun } from "./helpers/run-notebook";

const python = jupyterPython();
let env: NodeJS.ProcessEnv;
let notebookDir: string;

beforeAll(() => {
  if (!python.ok) return;
  notebookDir = tempDir("notebook");
  env = jupyterEnv(tempDir("interop"), { PYTHONPATH: helpersDir });
});

/** Run the system python in the notebook directory; resolves with its exit status and output. */
function runPython(args: string[], timeoutMs: number): Promise<CliRun> {
  return runCommand(SYSTEM_PYTHON, args, { cwd: notebookDir, env, timeoutMs });
}

function skipUnlessPython(ctx: { skip(note?: string): never }) {
  if (!python.ok) ctx.skip(`Debian's Jupyter packages are not usable: ${python.reason}`);
}

describe("under real Jupyter clients", { timeout: 240_000 }, () => {
  it("passes jupyter_kernel_test in full", async (ctx) => {
    skipUnlessPython(ctx);
    const out = await runPython(["-m", "unittest", "-v", "jkt_nbpool"], 200_000);
    const report = out.stderr;
    expect(report, report).toMatch(/\nOK( \(skipped=\d+\))?\n/);
    expect(out.code, report).toBe(0);
    // Everything our samples cover ran (skips are only the features with no samples: pager, clear_output, history ops).
    for (const name of ["kernel_info", "execute_stdout", "execute_stderr", "execute_result", "display_data", "error", "is_complete", "completion", "inspect"]) {
      expect(report, report).toMatch(new RegExp(`test_${name} \\(jkt_nbpool\\.NbpoolKernelTests\\.test_${name}\\)[^\\n]*\\.\\.\\. ok`));
    }
  });

  it("executes a notebook with nbclient, with an execution count on every cell", async (ctx) => {
    skipUnlessPython(ctx);
    const cells = ["const x: number = 21;", "x * 2", 'console.log("printed");', 'import * as tslab from "tslab";\ntslab.display.html("<i>shown</i>")'];
    const out = await runPython([path.join(helpersDir, "nbclient_run.py"), JSON.stringify(cells)], 200_000);
    expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
    const executed = JSON.parse(out.stdout) as { cells: { execution_count: number; outputs: Record<string, unknown>[] }[] };
    expect(executed.cells.map((c) => c.execution_count)).toEqual([1, 2, 3, 4]);
    expect(executed.cells[1].outputs).toEqual([{ output_type: "execute_result", execution_count: 2, data: { "text/plain": "42" }, metadata: {} }]);
    expect(executed.cells[2].outputs).toEqual([{ output_type: "stream", name: "stdout", text: "printed\n" }]);
    expect(executed.cells[3].outputs[0]).toMatchObject({ output_type: "display_data", data: { "text/html": "<i>shown</i>" } });
  });

  it("reports a failing cell to nbclient as a CellExecutionError with the error's name and message", async (ctx) => {
    skipUnlessPython(ctx);
    const out = await runPython([path.join(helpersDir, "nbclient_run.py"), JSON.stringify(['throw new TypeError("not a number")'])], 200_000);
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout).error).toMatch(/TypeError.*not a number/s);
  });

  it("survives interrupt, shutdown, restart and SIGKILL through jupyter_client without leaving workers", async (ctx) => {
    skipUnlessPython(ctx);
    const work = tempDir("lifecycle");
    const out = await runPython([path.join(helpersDir, "kernel_lifecycle.py"), path.join(helpersDir, "kernel-tasks.cjs"), work], 220_000);
    expect(out.code, out.stderr).toBe(0);
    const facts = JSON.parse(out.stdout);
    expect(facts.errors, JSON.stringify(facts, null, 1)).toBeUndefined();

    expect(facts.interrupt.reply.status).toBe("error");
    expect(facts.interrupt.reply.ename === "AbortError" || /interrupt/i.test(facts.interrupt.reply.evalue)).toBe(true);
    expect(facts.interrupt.workers_alive_after_3s).toEqual([]);
    expect(facts.interrupt.pool_usable_after).toEqual(["3"]);
    expect(facts.interrupt.kernel_alive).toBe(true);

    // Graceful: done before jupyter_client's 2 s SIGTERM escalation, no worker left.
    expect(facts.graceful_shutdown).toEqual({ returncode: 0, workers_alive_right_after: [], needed_sigterm: false });
    expect(facts.graceful_restart).toEqual({ workers_alive_right_after: [], needed_sigterm: false });
    // Forced: workers notice their kernel is gone and exit by themselves.
    expect(facts.immediate_restart.workers_alive_after_3s).toEqual([]);
    expect(facts.sigkill.workers_alive_after_3s).toEqual([]);
  });
});
