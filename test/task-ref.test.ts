// task(module, exportName): module code runs in workers by reference, CommonJS or ESM.
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { Pool, task } from "nbpool";

const fixtures = path.join(__dirname, "fixtures");
const pool = new Pool({ maxWorkers: 2 });
afterAll(() => pool.shutdown());

describe("task(module, exportName)", () => {
  it("runs a CommonJS export by path", async () => {
    const square = task<[number], number>(path.join(fixtures, "tasks.cjs"), "square");
    expect(await pool.map(square, [1, 2, 3])).toEqual([1, 4, 9]);
    expect(await pool.submit(square, 5)).toBe(25);
  });

  it("runs an ES module export by file URL", async () => {
    const double = task<[number], Promise<number>>(pathToFileURL(path.join(fixtures, "tasks.mjs")), "slowDouble");
    expect(await pool.map(double, [1, 2, 3])).toEqual([2, 4, 6]);
  });

  it("loads the module once per worker (module state persists)", async () => {
    const p = new Pool({ maxWorkers: 1 });
    try {
      const count = task(path.join(fixtures, "tasks.cjs"), "countCalls");
      expect(await p.map(count, [0, 0, 0], { chunksize: 1 })).toEqual([1, 2, 3]);
    } finally {
      await p.shutdown();
    }
  });

  it("says clearly what is wrong with a bad reference", async () => {
    expect(() => task(path.join(fixtures, "missing.js"), "x")).toThrow(/no such file: .*missing\.js/);
    expect(() => task("no-such-package-anywhere", "x")).toThrow(/cannot find the module/);
    const notFn = task(path.join(fixtures, "tasks.cjs"), "notAFunction");
    await expect(pool.submit(notFn)).rejects.toThrow(/has no exported function "notAFunction" \(found number\)/);
    // Calling a reference locally explains itself.
    expect(() => (notFn as () => void)()).toThrow(/is a task reference: run it with pool.submit/);
    expect(await pool.submit(task(path.join(fixtures, "tasks.cjs"), "square"), 3)).toBe(9);
  });
});
