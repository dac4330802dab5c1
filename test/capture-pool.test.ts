/**
 * End to end: notebook cells (tslab's compiler, nbpool kernel mode) call a real Pool, whose
 * workers load the captured modules. Covers what issue 3 says must "just work", the refusals
 * at submit time, and remote errors mapped to cells.
 *
 * NBPOOL_TEST_DIST points the test at another build of the package (default: ../dist).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Notebook, installLocalPackage } from "./fixtures/capture/notebook";

const dist = path.resolve(__dirname, process.env.NBPOOL_TEST_DIST ?? "../dist");
const entry = JSON.stringify(path.join(dist, "pool/index.js"));
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { CaptureError } = require(path.join(dist, "pool/errors.js"));
// The pool takes its capture from pool/capture/ once the stub is gone.
const stubbed = fs.readFileSync(path.join(dist, "pool/pool.js"), "utf8").includes("capture-stub");

let nb: Notebook;
let cacheDir: string;
const savedCwd = process.cwd();

beforeAll(async () => {
  if (stubbed) return;
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-capture-pool-"));
  process.env.NBPOOL_CACHE_DIR = path.join(cacheDir, "cache");
  installLocalPackage();
  nb = new Notebook("nbpool");
  await nb.run(`const { Pool } = require(${entry});
const pool = new Pool({ maxWorkers: 2 });`);
  await nb.run(`import * as os from "os";
import { triple } from "nb-local-pkg";
const K = 3;
function helper(x: number) { return x * K; }
function middle(x: number) { return helper(x) + 1; }
function top(x: number) { return middle(x) * 2; }
class Acc {
  constructor(public base: number) {}
  add(k: number) { return this.base + helper(k); }
  get twice() { return this.base * 2; }
}
const acc = new Acc(10);
function makeAdder(n: number) { return (x: number) => x + n; }
const add5 = makeAdder(5);
async function slowDouble(x: number) { await new Promise((r) => setTimeout(r, 1)); return 2 * x; }
function* upTo(n: number) { for (let i = 0; i < n; i++) yield i; }
function fails(x: number) { return deeper(x); }
function deeper(x: number) { return deepest(x); }
function deepest(x: number): number { throw new RangeError("bad item " + x); }`);
}, 60_000);

afterAll(async () => {
  if (stubbed) return;
  await nb?.get("pool")?.shutdown();
  nb?.close();
  process.chdir(savedCwd);
  delete process.env.NBPOOL_CACHE_DIR;
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

describe.skipIf(stubbed)("cell functions through a real pool", () => {
  it("maps a 3-level helper chain, a constant, imports and a package next to the notebook", async () => {
    await nb.run(`const chain = await pool.map((x: number) => top(x) + K, [1, 2, 3]);
const imports = await pool.map((x: number) => [triple(x), os.EOL], [2]);`);
    expect(nb.get("chain")).toEqual([11, 17, 23]);
    expect(nb.get("imports")).toEqual([[6, require("node:os").EOL]]);
  });

  it("maps a method of a class instance, and submits an async function", async () => {
    await nb.run(`const viaAcc = await pool.map((k: number) => acc.add(k), [1, 2, 3]);
const twice = await pool.submit(() => [acc.twice, acc instanceof Acc]);
const doubled = await pool.submit(slowDouble, 21);`);
    expect(nb.get("viaAcc")).toEqual([13, 16, 19]);
    expect(nb.get("twice")).toEqual([20, true]);
    expect(nb.get("doubled")).toBe(42);
  });

  it("feeds imap from a generator and maps over 20k items with a captured function", async () => {
    await nb.run(`const streamed: number[] = [];
for await (const r of pool.imap(middle, upTo(5))) streamed.push(r);
const many = await pool.map((x: number) => helper(x) + K, Array.from({ length: 20000 }, (_, i) => i), { chunksize: 1000 });`);
    expect(nb.get("streamed")).toEqual([1, 4, 7, 10, 13]);
    const many = nb.get("many") as number[];
    expect(many.length).toBe(20000);
    expect(many[19999]).toBe(19999 * 3 + 3);
  });

  it("uses a redefined cell's code on the next map, without a restart", async () => {
    await nb.run(`const before = await pool.map((x: number) => helper(x), [1]);`);
    await nb.run(`function helper(x: number) { return x * 1000; }`);
    await nb.run(`const after = await pool.map((x: number) => helper(x), [1]);`);
    expect(nb.get("before")).toEqual([3]);
    expect(nb.get("after")).toEqual([1000]);
  });

  it("refuses a closure's local at submit time, and the pool goes on", async () => {
    const pool = nb.get("pool");
    let error: any;
    try {
      await pool.map(nb.get("add5"), [1]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CaptureError);
    expect(error.message).toContain("`n` is a local of `makeAdder`; pass it as an argument or make it a cell-level constant");
    expect(() => pool.submit(nb.get("add5"), 1)).toThrow("`n` is a local of `makeAdder`");
    expect(await pool.submit((x: number) => x + 1, 1)).toBe(2);
  });

  it("maps a worker error thrown three calls deep to the cell and line", async () => {
    await nb.run(`let caught: any;
try { await pool.submit((x: number) => fails(x), 7); } catch (e) { caught = e; }`);
    const error = nb.get("caught");
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe("bad item 7");
    const cell = nb.cells[1]!;
    const at = cell.source.indexOf('new RangeError("bad item "');
    const before = cell.source.slice(0, at).split("\n");
    const origin = `${cell.url}:${before.length}:${before[before.length - 1]!.length + 1}`;
    expect(error.remoteStack).toContain(`deepest (${origin})`);
    expect(error.remoteStack).toMatch(/deeper \(cell-2\.ts:\d+:\d+\)/);
    expect(error.remoteStack).toMatch(/fails \(cell-2\.ts:\d+:\d+\)/);
    expect(error.remoteStack).not.toContain(path.join(process.env.NBPOOL_CACHE_DIR!, "modules"));
  });
});
