/**
 * The teaching notebooks executed by nbclient (Jupyter's own executor, from Debian's
 * packages) against the installed `nbpool` kernelspec: the same notebooks must run under a
 * real Jupyter client as under `nbpool run`, tagged errors allowed and nothing else.
 *
 * Skips, saying why, when /usr/bin/python3 lacks the packages; CI installs them:
 *   apt-get install python3-jupyter-client python3-nbclient python3-nbformat python3-jupyter-kernel-test
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkNotebook } from "../dist/kernel/runner/validate.js";
import { SYSTEM_PYTHON, jupyterPython, repoRoot, tempDir } from "./helpers/kernel";
import { NOTEBOOKS, expectKeyOutputs, expectRanClean } from "./helpers/notebook-expectations";
import { jupyterEnv, nbformatValidate, readSaved, runCommand, type CliRun } from "./helpers/run-notebook";

const python = jupyterPython();
const notebooksDir = path.join(repoRoot, "notebooks");
let prefix: string;
let env: NodeJS.ProcessEnv;

/** nbclient with its defaults for errors: a cell tagged raises-exception may fail, any other error stops the run. */
const NBCLIENT = `
import json, os, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

source, target = sys.argv[1], sys.argv[2]
nb = nbformat.read(source, as_version=4)
client = NotebookClient(nb, kernel_name="nbpool", timeout=120, startup_timeout=60,
                        resources={"metadata": {"path": os.path.dirname(source)}})
try:
    client.execute()
except CellExecutionError as err:
    print(json.dumps({"error": str(err)[-4000:]}))
    sys.exit(1)
nbformat.write(nb, target)
print(json.dumps({"ok": True}))
`;

beforeAll(() => {
  if (!python.ok) return;
  prefix = tempDir("nbclient");
  env = jupyterEnv(prefix);
});
afterAll(() => {
  if (prefix) fs.rmSync(prefix, { recursive: true, force: true });
});

function nbclient(source: string, target: string): Promise<CliRun> {
  return runCommand(SYSTEM_PYTHON, ["-c", NBCLIENT, source, target], { env, timeoutMs: 240_000 });
}

describe.each(NOTEBOOKS)("%s, executed by nbclient", (name) => {
  it("runs to the end, with errors only in tagged cells, and shows what it teaches", async (ctx) => {
    if (!python.ok) ctx.skip(`Debian's Jupyter packages are not usable: ${python.reason}`);
    const target = path.join(prefix, name);
    const run = await nbclient(path.join(notebooksDir, name), target);
    expect(run.code, `${run.stdout}\n${run.stderr.slice(-3000)}`).toBe(0);
    const executed = readSaved(target);
    expectRanClean(executed);
    expectKeyOutputs(name, executed);
    expect(checkNotebook(executed)).toEqual([]);
    nbformatValidate(target);
  }, 250_000);
});
