/**
 * Capture of real tslab-compiled cells (nbpool kernel mode: a host lists the cell scripts),
 * run in a fresh node process the way a pool worker loads them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Notebook, installLocalPackage, runInChild } from "./fixtures/capture/notebook";
import { captureFunction, lookupOrigin, mapStack } from "../dist/pool/capture/index.js";
import { CaptureError } from "../dist/pool/errors.js";

let nb: Notebook;
let cacheDir: string;
const savedCwd = process.cwd();

beforeAll(async () => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-capture-test-"));
  process.env.NBPOOL_CACHE_DIR = path.join(cacheDir, "cache");
  installLocalPackage();
  nb = new Notebook("nbpool");
  await nb.run(`import * as os from "os";
import { join } from "path";
import { triple } from "nb-local-pkg";
const K = 3;
const table = { scale: 2, names: ["a", "b"] };
function helper(x: number) { return x * K; }
function middle(x: number) { return helper(x) + 1; }
function top(x: number) { return middle(x) * table.scale; }
function sameCell(x: number) { return helper(x) + triple(x) + join("a", "b").length; }`);
  await nb.run(`class Acc {
  constructor(public base: number) {}
  add(k: number) { return this.base + helper(k); }
  get twice() { return this.base * 2; }
}
const acc = new Acc(10);
function makeAdder(n: number) { return (x: number) => x + n; }
const add5 = makeAdder(5);
async function slowDouble(x: number) { await new Promise((r) => setTimeout(r, 1)); return 2 * x; }
function* upTo(n: number) { for (let i = 0; i < n; i++) yield helper(i); }
const withDefaults = (x: number, { a, b } = { a: 1, b: 2 }, [c] = [10]) => x + a + b + c;
function fails(x: number) { return deeper(x); }
function deeper(x: number) { return deepest(x); }
function deepest(x: number): number { throw new RangeError("bad item " + x); }`);
});

afterAll(() => {
  nb?.close();
  process.chdir(savedCwd);
  delete process.env.NBPOOL_CACHE_DIR;
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function run(fn: Function, calls: unknown[][]) {
  const captured = captureFunction(fn, { role: "task" });
  const out = await runInChild(captured, calls);
  if (out.error) throw new Error(`${out.error.name}: ${out.error.message}\n${out.error.stack}`);
  return out.results;
}

function refusal(fn: Function): CaptureError {
  try {
    captureFunction(fn, { role: "task" });
  } catch (error) {
    expect(error).toBeInstanceOf(CaptureError);
    return error as CaptureError;
  }
  throw new Error("expected a CaptureError");
}

/** Line and column (1-based) of `text` in a cell script. */
function whereIn(source: string, text: string): { line: number; col: number } {
  const at = source.indexOf(text);
  expect(at).toBeGreaterThanOrEqual(0);
  const before = source.slice(0, at).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

describe("capture of notebook cells", () => {
  it("sends a helper from another cell, a constant, and a 3-level helper chain", async () => {
    await nb.run(`const usesTop = (x: number) => top(x) + K;`);
    expect(await run(nb.get("usesTop"), [[1], [2]])).toEqual([(3 + 1) * 2 + 3, (6 + 1) * 2 + 3]);
  });

  it("sends same-cell helpers and named imports, and resolves the notebook's own packages from its directory", async () => {
    // sameCell calls `helper` bare and `(0, path_1.join)` / `(0, nb_local_pkg_1.triple)`; the child runs with cwd "/".
    expect(await run(nb.get("sameCell"), [[2]])).toEqual([6 + 6 + "a/b".length]);
    expect(() => require.resolve("nb-local-pkg")).toThrow();
  });

  it("re-imports a builtin namespace import and a package import from another cell", async () => {
    await nb.run(`const usesImports = (x: number) => [os.EOL, join("x", String(x)), triple(x)];`);
    expect(await run(nb.get("usesImports"), [[4]])).toEqual([[require("node:os").EOL, "x/4", 12]]);
  });

  it("rebuilds an instance of a captured class, getters included", async () => {
    await nb.run(`const useAcc = (k: number) => [acc.add(k), acc.twice, acc instanceof Acc, acc.constructor.name];`);
    expect(await run(nb.get("useAcc"), [[1], [2]])).toEqual([[13, 20, true, "Acc"], [16, 20, true, "Acc"]]);
  });

  it("keeps instances of captured classes inside data, in arrays and maps, and round-trips cycles", async () => {
    await nb.run(`const accs = [new Acc(1), new Acc(2)];
const byName = new Map([["x", new Acc(5)]]);
const ring: any = { label: "ring" }; ring.self = ring; ring.accs = accs;
const useNested = (k: number) => [accs.map((a) => a.add(k)), byName.get("x")!.add(k), ring.self === ring, ring.accs === accs];`);
    expect(await run(nb.get("useNested"), [[1]])).toEqual([[[4, 5], 8, true, false]]);
  });

  it("runs async functions, generators, default parameters and destructuring", async () => {
    expect(await run(nb.get("slowDouble"), [[21]])).toEqual([42]);
    await nb.run(`const spread = (n: number) => [...upTo(n)];`);
    expect(await run(nb.get("spread"), [[4]])).toEqual([[0, 3, 6, 9]]);
    expect(await run(nb.get("withDefaults"), [[1], [1, { a: 10, b: 20 }, [100]]])).toEqual([14, 131]);
    const captured = captureFunction(nb.get("upTo"), { role: "task" });
    const out = await runInChild(captured, [[3]], true);
    expect(out.results).toEqual([[0, 3, 6]]);
  });

  it("sends subclasses of cell classes, static fields, and recursive functions", async () => {
    await nb.run(`class Shape { static sides = K; area() { return 0; } describe() { return this.constructor.name + ":" + this.area(); } }
class Square extends Shape { constructor(public side: number) { super(); } override area() { return this.side ** 2; } }
const squares = [new Square(2), new Square(3)];
const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
function isEven(n: number): boolean { return n === 0 ? true : isOdd(n - 1); }
function isOdd(n: number): boolean { return n === 0 ? false : isEven(n - 1); }
const shapes = (k: number) => [squares.map((s) => s.describe()), Shape.sides, squares[0] instanceof Shape, fib(k), isEven(k)];`);
    expect(await run(nb.get("shapes"), [[10]])).toEqual([[["Square:4", "Square:9"], 3, true, 55, true]]);
  });

  it("sends a class method that does not use this", async () => {
    await nb.run(`class Tools { scaleAll(xs: number[]) { return xs.map((x) => x * K); } }
const tools = new Tools();`);
    expect(await run(nb.get("tools").scaleAll, [[[1, 2]]])).toEqual([[3, 6]]);
  });

  it("uses the new code after a cell is redefined, and new data after it changes", async () => {
    await nb.run(`function bump(x: number) { return x + 1; }
const scaleTable = { factor: 2 };`);
    await nb.run(`const callsBump = (x: number) => bump(x) * scaleTable.factor;`);
    const fn = nb.get("callsBump");
    const first = captureFunction(fn, { role: "task" });
    expect(captureFunction(fn, { role: "task" })).toBe(first); // unchanged: the cached capture
    expect((await runInChild(first, [[1]])).results).toEqual([4]);

    await nb.run(`function bump(x: number) { return x + 100; }`);
    const second = captureFunction(fn, { role: "task" });
    expect(second.key).not.toBe(first.key);
    expect(second.modulePath).not.toBe(first.modulePath);
    expect((await runInChild(second, [[1]])).results).toEqual([202]);

    nb.get("scaleTable").factor = 3;
    const third = captureFunction(fn, { role: "task" });
    expect(third.key).not.toBe(second.key);
    expect(third.modulePath).toBe(second.modulePath); // same code, new data version
    expect((await runInChild(third, [[1]])).results).toEqual([303]);
  });

  it("writes modules into the private cache directory", () => {
    const captured = captureFunction(nb.get("usesTop"), { role: "task" });
    expect(path.dirname(captured.modulePath)).toBe(path.join(process.env.NBPOOL_CACHE_DIR!, "modules"));
    expect(fs.statSync(path.dirname(captured.modulePath)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(process.env.NBPOOL_CACHE_DIR!).mode & 0o777).toBe(0o700);
    expect(path.basename(captured.modulePath)).toMatch(/^[0-9a-f]{32}\.js$/);
  });
});

describe("remote errors map to cells", () => {
  it("maps a worker error thrown three calls deep to the cell and line of each frame", async () => {
    await nb.run(`const callsFails = (x: number) => fails(x);`);
    const captured = captureFunction(nb.get("callsFails"), { role: "task" });
    const out = await runInChild(captured, [[7]]);
    expect(out.error?.name).toBe("RangeError");
    expect(out.error?.message).toBe("bad item 7");
    const stack = out.error!.stack;
    expect(stack).toContain(captured.modulePath); // raw frames point into the generated module
    const mapped = mapStack(stack);
    expect(mapped).not.toContain(captured.modulePath);

    const cell2 = nb.cells[1]!;
    const throwAt = whereIn(cell2.source, 'new RangeError("bad item "');
    const deeperAt = whereIn(cell2.source, "deepest(x); }");
    const failsAt = whereIn(cell2.source, "deeper(x); }");
    const frames = mapped.split("\n").filter((l) => l.trim().startsWith("at "));
    // Cells call each other through the cell namespace (`exports.fails(x)`), hence "Object.".
    expect(frames[0]).toMatch(new RegExp(`at (Object\\.)?deepest \\(${cell2.url}:${throwAt.line}:${throwAt.col}\\)`));
    expect(frames[1]).toMatch(new RegExp(`at (Object\\.)?deeper \\(${cell2.url}:${deeperAt.line}:${deeperAt.col}\\)`));
    expect(frames[2]).toMatch(new RegExp(`at (Object\\.)?fails \\(${cell2.url}:${failsAt.line}:${failsAt.col}\\)`));
    const last = nb.cells[nb.cells.length - 1]!;
    const callAt = whereIn(last.source, "fails(x)");
    expect(frames[3]).toContain(`${last.url}:${callAt.line}:${callAt.col}`);
  });

  it("looks up origins of module positions, and leaves other frames alone", () => {
    const captured = captureFunction(nb.get("helper"), { role: "task" });
    const text = fs.readFileSync(captured.modulePath, "utf8");
    const lines = text.split("\n");
    const line = lines.findIndex((l) => l.startsWith("function helper")) + 1;
    const cell1 = nb.cells[0]!;
    const origin = whereIn(cell1.source, "function helper");
    expect(lookupOrigin(captured.modulePath, line, 1)).toEqual({ url: cell1.url, line: origin.line, col: origin.col });
    expect(lookupOrigin(captured.modulePath, 1, 1)).toBeUndefined(); // the prelude is nobody's cell
    const other = "Error: x\n    at foo (/somewhere/else.js:3:4)\n    at node:internal/process:1:2";
    expect(mapStack(other)).toBe(other);
  });
});

describe("what cannot travel is refused at capture, with the reason and the fix", () => {
  it("refuses a closure's local variable, naming the enclosing function", () => {
    const error = refusal(nb.get("add5"));
    expect(error.message).toContain("`n` is a local of `makeAdder`; pass it as an argument or make it a cell-level constant");
    expect(error.identifier).toBe("n");
  });

  it("refuses a local of an enclosing arrow function, and of a block", async () => {
    await nb.run(`const outer = (m: number) => (x: number) => x * m;
const timesTwo = outer(2);
let inBlock: (x: number) => number = (x) => x;
{ const local = 4; inBlock = (x: number) => x + local; }`);
    expect(refusal(nb.get("timesTwo")).message).toContain("`m` is a local of `outer`");
    expect(refusal(nb.get("inBlock")).message).toContain("`local` is a local of an enclosing block");
  });

  it("refuses bound and native functions", async () => {
    const bound = refusal(nb.get("helper").bind(null));
    expect(bound.message).toContain("is a bound function (bound helper)");
    expect(bound.message).toContain("pass the original function and the bound values as arguments");
    expect(refusal(Math.max).message).toContain("is a native function (max)");
    await nb.run(`const maxOf = Math.max;
const usesMaxOf = (xs: number[]) => maxOf(...xs);`);
    expect(refusal(nb.get("usesMaxOf")).message).toContain("`maxOf` is a native function (max)");
  });

  it("refuses data that structured clone cannot copy, naming where it is", async () => {
    await nb.run(`import * as net from "net";
const sock = new net.Socket();
const usesSock = () => sock.remoteAddress;
const pending = Promise.resolve(1);
const usesPending = () => pending;
const config = { name: "c", transform: (x: number) => x };
const usesConfig = () => config.name;
const weak = new WeakMap();
const usesWeak = () => weak;
const bad = { get value(): number { throw new Error("no value yet"); } };
const usesBad = () => bad.value;
const sym = Symbol("s");
const usesSym = () => sym;`);
    const sock = refusal(nb.get("usesSock"));
    expect(sock.message).toContain("`sock` is a Socket, which holds live state");
    expect(sock.message).toContain("create it inside the task");
    expect(refusal(nb.get("usesPending")).message).toContain("`pending` is a Promise, which cannot be sent to a worker; await it in the cell");
    const config = refusal(nb.get("usesConfig"));
    expect(config.message).toContain("`config.transform` is a function inside data");
    expect(config.identifier).toBe("config.transform");
    expect(refusal(nb.get("usesWeak")).message).toContain("`weak` is a WeakMap, which structured clone cannot copy");
    expect(refusal(nb.get("usesBad")).message).toContain("reading `bad.value` threw Error: no value yet");
    expect(refusal(nb.get("usesSym")).message).toContain("`sym` is a Symbol");
    (nb.get("sock") as import("node:net").Socket).destroy();
  });

  it("refuses data nested too deeply, and instances of classes with #private fields", async () => {
    await nb.run(`let deep: any = {};
for (let i = 0, c = deep; i < 200000; i++) c = c.next = {};
const usesDeep = () => deep;
class Secret { #key = 1; open() { return this.#key; } }
const secret = new Secret();
const usesSecret = () => secret.open();`);
    expect(refusal(nb.get("usesDeep")).message).toContain("`deep` is nested too deeply to send to a worker");
    expect(refusal(nb.get("usesSecret")).message).toContain("`secret` is an instance of `Secret`, which has #private fields");
  });

  it("refuses a name no cell defines", async () => {
    (globalThis as any).notACellName = 1;
    await nb.run(`declare const notACellName: number;
const usesGlobalAddedByHand = () => notACellName;`);
    const error = refusal(nb.get("usesGlobalAddedByHand"));
    expect(error.message).toContain("`notACellName` (used by `usesGlobalAddedByHand`) is not a cell-level name nor a JavaScript or Node global");
    delete (globalThis as any).notACellName;
  });

  it("refuses a pool used inside a task, directly or inside data", async () => {
    const entry = JSON.stringify(path.resolve(__dirname, "../dist/pool/index.js"));
    await nb.run(`const { Pool } = require(${entry});
const pool = new Pool({ maxWorkers: 1 });
const nested = (x: number) => pool.submit((y: number) => y, x);
const holder = { pools: [pool] };
const viaData = () => holder.pools.length;`);
    try {
      const error = refusal(nb.get("nested"));
      expect(error.message).toContain("`pool` is a Pool: pools cannot be sent to workers, and a task cannot use its own pool");
      expect(refusal(nb.get("viaData")).message).toContain("`holder.pools[0]` is a Pool");
    } finally {
      await nb.get("pool").shutdown();
    }
  });
});
