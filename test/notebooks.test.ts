/**
 * The teaching notebooks (notebooks/*.ipynb), end to end: each one executed by `nbpool run`
 * into a temporary file (never in place) runs with no unexpected error and shows what it
 * teaches; the committed copies are executed, valid nbformat 4.5 and read well saved; and
 * `npm start` prints the first notebook and leaves it alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkNotebook } from "../dist/kernel/runner/validate.js";
import { repoRoot, tempDir } from "./helpers/kernel";
import { NOTEBOOKS, expectKeyOutputs, expectRanClean } from "./helpers/notebook-expectations";
import { codeCells, hasPythonNbformat, joined, nbformatValidate, readSaved, runCli, runCommand, type CliRun, type SavedNotebook } from "./helpers/run-notebook";

const notebooksDir = path.join(repoRoot, "notebooks");
const python = hasPythonNbformat();
let outDir: string;

beforeAll(() => {
  outDir = tempDir("notebooks");
});
afterAll(() => {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

it("notebooks/ holds the six teaching notebooks", () => {
  expect(fs.readdirSync(notebooksDir).filter((f) => f.endsWith(".ipynb")).sort()).toEqual(NOTEBOOKS);
});

describe.each(NOTEBOOKS)("%s, executed by nbpool run", (name) => {
  let run: CliRun;
  let executed: SavedNotebook;
  const out = () => path.join(outDir, name);

  beforeAll(async () => {
    run = await runCli(["run", path.join(notebooksDir, name), "--out", out(), "--timeout", "120"], { timeoutMs: 240_000 });
    if (fs.existsSync(out())) executed = readSaved(out());
  }, 250_000);

  it("runs every cell, with errors only in the cells tagged raises-exception", () => {
    expect(run.code, `${run.stderr}\n${run.stdout.slice(-3000)}`).toBe(0);
    expectRanClean(executed);
  });

  it("shows what it teaches", () => {
    expectKeyOutputs(name, executed);
  });

  it("is valid nbformat 4.5", () => {
    expect(checkNotebook(executed)).toEqual([]);
    if (python) expect(nbformatValidate(out())).toBe(fs.readFileSync(out(), "utf8"));
  });
});

describe.each(NOTEBOOKS)("%s, as committed", (name) => {
  const file = path.join(notebooksDir, name);

  it("is saved executed, from a clean run, and valid nbformat 4.5", () => {
    const nb = readSaved(file);
    expect(checkNotebook(nb)).toEqual([]);
    if (python) expect(nbformatValidate(file)).toBe(fs.readFileSync(file, "utf8"));
    expect(nb.metadata.kernelspec?.name).toBe("nbpool");
    expectRanClean(nb);
    // One run, top to bottom: execution counts 1, 2, 3, ...
    const counts = codeCells(nb).filter((c) => joined(c.source).trim() !== "").map((c) => c.execution_count);
    expect(counts).toEqual(counts.map((_, i) => i + 1));
    expectKeyOutputs(name, nb);
  });

  it("reads well saved: text/plain in every display, progress bars in their final state", () => {
    for (const cell of codeCells(readSaved(file))) {
      for (const output of cell.outputs ?? []) {
        if (output.output_type !== "display_data" && output.output_type !== "execute_result") continue;
        expect(Object.keys(output.data ?? {}), joined(cell.source)).toContain("text/plain");
        const html = joined(output.data?.["text/html"]);
        if (html.includes("nbpool-progress")) expect(html).toMatch(/data-state="(done|error|interrupted|cancelled)"/);
      }
    }
  });
});

describe("npm start", () => {
  it("prints the first notebook's outputs, exits 0, and does not rewrite the notebook", async () => {
    const file = path.join(notebooksDir, NOTEBOOKS[0]);
    const before = fs.readFileSync(file, "utf8");
    const run = await runCommand("npm", ["start", "--silent"], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "" }, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/speedup: +\d+\.\d\dx/);
    expect(run.stdout).toMatch(/\[image\/svg\+xml \d+ KB\]/);
    expect(run.stderr).toContain("not saved: use --out FILE or --inplace to save it");
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  }, 150_000);
});
