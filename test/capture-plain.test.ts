/**
 * Capture in a plain Node program (no tslab cell scope): self-contained functions travel;
 * module-scope names are refused with the way out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runInChild } from "./fixtures/capture/notebook";
import { captureFunction } from "../dist/pool/capture/index.js";
import { CaptureError } from "../dist/pool/errors.js";

let cacheDir: string;
beforeAll(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-capture-plain-"));
  process.env.NBPOOL_CACHE_DIR = path.join(cacheDir, "cache");
});
afterAll(() => {
  delete process.env.NBPOOL_CACHE_DIR;
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function run(fn: Function, calls: unknown[][], iterate = false) {
  const out = await runInChild(captureFunction(fn, { role: "task" }), calls, iterate);
  if (out.error) throw new Error(`${out.error.name}: ${out.error.message}\n${out.error.stack}`);
  return out.results;
}

function refusal(fn: unknown, role: "task" | "initializer" = "task"): CaptureError {
  try {
    captureFunction(fn as Function, { role });
  } catch (error) {
    expect(error).toBeInstanceOf(CaptureError);
    return error as CaptureError;
  }
  throw new Error("expected a CaptureError");
}

const moduleScoped = 42;
function moduleHelper(x: number) {
  return x + 1;
}

describe("capture in a plain Node program", () => {
  it("runs self-contained functions that use JavaScript and Node globals and require()", async () => {
    const fn = (x: number) => [Math.max(x, 2), JSON.stringify({ x }), Buffer.from("ab").length, typeof process.pid, require("node:os").EOL];
    expect(await run(fn, [[5]])).toEqual([[5, '{"x":5}', 2, "number", os.EOL]]);
  });

  it("runs async functions, generators, default parameters, destructuring and getters", async () => {
    expect(await run(async (x: number) => (await Promise.resolve(x)) * 2, [[4]])).toEqual([8]);
    expect(await run(function* count(n: number) { for (let i = 0; i < n; i++) yield i; }, [[3]], true)).toEqual([[0, 1, 2]]);
    expect(await run(async function* tick(n: number) { for (let i = 0; i < n; i++) yield i * 2; }, [[2]], true)).toEqual([[0, 2]]);
    const defaults = ({ a = 1, b: [c, d] = [2, 3] }: { a?: number; b?: number[] } = {}, ...rest: number[]) => a + c! + d! + rest.length;
    expect(await run(defaults, [[], [{ a: 10, b: [20, 30] }, 1, 1]])).toEqual([6, 62]);
    const getters = (x: number) => {
      class Box { constructor(private v: number) {} get doubled() { return this.v * 2; } static of(v: number) { return new Box(v); } }
      return Box.of(x).doubled;
    };
    expect(await run(getters, [[21]])).toEqual([42]);
  });

  it("runs methods, async methods, generator methods and getters taken off objects", async () => {
    const tools = {
      double(x: number) { return 2 * x; },
      async later(x: number) { return x + 1; },
      *pairs(n: number) { for (let i = 0; i < n; i++) yield [i, i]; },
      get answer() { return 42; },
      ["computed" + "Name"](x: number) { return -x; },
    };
    expect(await run(tools.double, [[3]])).toEqual([6]);
    expect(await run(tools.later, [[3]])).toEqual([4]);
    expect(await run(tools.pairs, [[2]], true)).toEqual([[[0, 0], [1, 1]]]);
    expect(await run(Object.getOwnPropertyDescriptor(tools, "answer")!.get!, [[]])).toEqual([42]);
    expect(await run((tools as any).computedName, [[3]])).toEqual([-3]);
  });

  it("refuses module-scope names and says how to run module code", () => {
    const uses = (x: number) => x + moduleScoped;
    const error = refusal(uses);
    expect(error.message).toBe(
      "cannot send `uses` to a worker: `moduleScoped` (used by `uses`) is not a JavaScript or Node global; module-scope names cannot travel in a plain script; pass it as an argument, make the function self-contained, or use task(module, export)",
    );
    expect(error.identifier).toBe("moduleScoped");
    expect(refusal((x: number) => moduleHelper(x)).message).toContain("`moduleHelper` (used by the task function)");
    expect(refusal(function usesExports() { return exports; }).message).toContain("`exports` (used by `usesExports`) is module scope");
  });

  it("refuses native and bound functions, non-functions, and names the initializer", () => {
    expect(refusal(Math.max).message).toContain("`max` is a native function (max)");
    const bound = function scale(this: number, x: number) { return x * this; }.bind(3);
    expect(refusal(bound).message).toContain("is a bound function (bound scale)");
    expect(refusal(42).message).toBe("the task must be a function, got number");
    expect(refusal(() => moduleScoped, "initializer").message).toMatch(/^cannot send the initializer to a worker: `moduleScoped`/);
  });

  it("does not let a function's text smuggle in other code", () => {
    // Function.prototype.toString cannot be overridden per function; Function() text is one function.
    const made = new Function("x", "return x * 2") as (x: number) => number;
    const captured = captureFunction(made, { role: "task" });
    expect(fs.readFileSync(captured.modulePath, "utf8")).toContain("function anonymous(x\n) {\nreturn x * 2\n}");
  });

  it("reuses the capture of an unchanged function", () => {
    const fn = (x: number) => x * 3;
    const first = captureFunction(fn, { role: "task" });
    expect(captureFunction(fn, { role: "task" })).toBe(first);
    // Closures made in a loop are new objects with the same text: one capture serves them all.
    const make = () => (x: number) => x * 5;
    const a = captureFunction(make(), { role: "task" });
    expect(captureFunction(make(), { role: "task" })).toBe(a);
    expect(a.key).not.toBe(first.key);
    expect(fs.readFileSync(first.modulePath, "utf8")).toContain("module.exports = function build(");
  });
});
