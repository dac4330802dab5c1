/**
 * Issue 8, hostile inputs: huge and deeply nested values, functions that cannot travel,
 * getters and Proxy traps that throw, tasks that flood stdout or break the worker's IPC,
 * unsafe cache directories; in a plain pool and in notebook cells. Each ends in a clear error
 * (or the right result) and the pool goes on. The cases live in stress/scenarios/hostile.js
 * (shared with `npm run stress`); each is asserted on here by name.
 */
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";

const load = createRequire(import.meta.url);
const hostile = load("../stress/scenarios/hostile.js");

type Result = { figures: { byCase?: Record<string, string>; cases?: Record<string, string>; orphans: number }; failures: string[] };

describe("hostile inputs to a pool", { timeout: 180_000 }, () => {
  let r: Result;
  beforeAll(async () => {
    r = await hostile.run("short");
  }, 180_000);

  it("every case ends in a clear error or the right result, and the pool goes on", () => {
    expect(r.failures).toEqual([]);
    expect(r.figures.orphans).toBe(0);
  });

  it.each([
    "a 256 MiB argument",
    "a 256 MiB result",
    "a 256 MiB string result",
    "an argument nested 200000 levels",
    "a result nested 200000 levels",
    "a method that uses super",
    "an argument that is a Proxy with throwing traps",
    "a thrown revoked Proxy",
    "data that looks like nbpool's big-buffer marker, beside a big buffer",
    "a task writing 16 MiB straight to fd 1 and 2",
    "a task that closes its IPC channel",
    "unsafe cache directories",
  ])("%s", (name) => {
    expect(r.figures.byCase?.[name]).toMatch(/^ok /);
  });
});

describe("hostile inputs in notebook cells", { timeout: 120_000 }, () => {
  it("a cell value whose getter or Proxy trap throws during capture, and a closure over a local, give a CaptureError; the next cell runs", async () => {
    const k: Result = await hostile.runInKernel();
    expect(k.failures).toEqual([]);
    expect(Object.keys(k.figures.cases ?? {})).toHaveLength(3);
    expect(k.figures.orphans).toBe(0);
  });
});
