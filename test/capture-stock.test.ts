/**
 * Capture under the stock tslab kernel: tslab's own executor runs the cells, no host gives
 * their text. Names are resolved through the cell namespace and the functions it holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Notebook, installLocalPackage, runInChild } from "./fixtures/capture/notebook";
import { captureFunction, mapStack } from "../dist/pool/capture/index.js";
import { CaptureError } from "../dist/pool/errors.js";

let nb: Notebook;
let cacheDir: string;
const savedCwd = process.cwd();

beforeAll(async () => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-capture-stock-"));
  process.env.NBPOOL_CACHE_DIR = path.join(cacheDir, "cache");
  installLocalPackage();
  nb = new Notebook("stock");
  await nb.run(`import * as os from "os";
import { join } from "path";
import { triple } from "nb-local-pkg";
const K = 3;
function helper(x: number) { return x * K; }
function middle(x: number) { return helper(x) + 1; }
function sameCell(x: number) { return middle(x) + triple(x) + join("a", "b").length + os.EOL.length * 0; }
function makeAdder(n: number) { return (x: number) => x + n; }
const add5 = makeAdder(5);
class Acc { constructor(public base: number) {} add(k: number) { return this.base + helper(k); } }
const acc = new Acc(10);`);
});

afterAll(() => {
  nb?.close();
  process.chdir(savedCwd);
  delete process.env.NBPOOL_CACHE_DIR;
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function run(fn: Function, calls: unknown[][]) {
  const out = await runInChild(captureFunction(fn, { role: "task" }), calls);
  if (out.error) throw new Error(`${out.error.name}: ${out.error.message}\n${out.error.stack}`);
  return out.results;
}

describe("capture under the stock tslab kernel (no cell text)", () => {
  it("sends same-cell helpers, named imports and packages next to the notebook", async () => {
    // `(0, path_1.join)` and `(0, nb_local_pkg_1.triple)`: aliases recognised from the modules the cells imported.
    expect(await run(nb.get("sameCell"), [[2]])).toEqual([7 + 6 + 3]);
  });

  it("sends helpers of other cells and rebuilds class instances", async () => {
    await nb.run(`const later = (k: number) => acc.add(k) + middle(k) + os.EOL.length * 0;`);
    expect(await run(nb.get("later"), [[1]])).toEqual([13 + 4]);
  });

  it("refuses a closure's local, found inside the function that made the closure", () => {
    try {
      captureFunction(nb.get("add5"), { role: "task" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CaptureError);
      expect((error as Error).message).toContain("`n` is a local of `makeAdder`; pass it as an argument or make it a cell-level constant");
    }
  });

  it("refuses a closure it cannot place, with the same advice", async () => {
    await nb.run(`const hidden = ((secret: number) => (x: number) => x + secret)(1);`);
    try {
      captureFunction(nb.get("hidden"), { role: "task" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain("`secret` (used by the task function) is not a cell-level name nor a JavaScript or Node global");
      expect((error as Error).message).toContain("pass it as an argument or make it a cell-level constant");
    }
  });

  it("leaves remote stacks unmapped when no cell has a name", async () => {
    await nb.run(`const boom = (x: number) => { throw new Error("boom " + x); };`);
    const out = await runInChild(captureFunction(nb.get("boom"), { role: "task" }), [[1]]);
    expect(out.error?.message).toBe("boom 1");
    expect(mapStack(out.error!.stack)).toBe(out.error!.stack);
  });
});
