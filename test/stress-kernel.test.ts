/**
 * Issue 8, short form, kernel parts: interrupt storm, restart loop, soak and protocol fuzz
 * against real kernels (the scenarios of `npm run stress`, scaled down). A failure names its
 * seed (`node stress/run.js --only NAME --seed N` repeats it).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const load = createRequire(import.meta.url);
const interrupts = load("../stress/scenarios/interrupts.js");
const restarts = load("../stress/scenarios/restarts.js");
const soak = load("../stress/scenarios/soak.js");
const fuzz = load("../stress/scenarios/fuzz.js");

const why = (r: { seed?: number; figures: unknown }) => `seed ${r.seed ?? "-"}: ${JSON.stringify(r.figures)}`;

describe("the kernel under stress (short form)", { timeout: 180_000 }, () => {
  it("interrupted at random moments of maps in flight, it runs the next cell right each time and leaves no worker behind", async () => {
    const r = await interrupts.run("short");
    expect(r.failures, why(r)).toEqual([]);
    expect(r.figures.interrupts, why(r)).toBe(3);
    expect(r.figures.nextCellCorrect, why(r)).toBe(3);
    expect(r.figures.orphans, why(r)).toBe(0);
  });

  it("restarted with live pools (shutdown_request, SIGTERM, SIGKILL), no worker process survives", async () => {
    const r = await restarts.run("short");
    expect(r.failures, why(r)).toEqual([]);
    expect(r.figures.restarts, why(r)).toBe(3);
    expect(r.figures.workersSeen, why(r)).toBe(12);
    expect(r.figures.survivors, why(r)).toBe(0);
  });

  it("soaked with 20,000 tasks through one pool, every result is right and memory and workers stay bounded", async () => {
    const r = await soak.run("short");
    expect(r.failures, why(r)).toEqual([]);
    expect(r.figures.tasks, why(r)).toBe(20_000);
    expect(r.figures.wrongResults, why(r)).toBe(0);
    expect(r.figures.orphans, why(r)).toBe(0);
  });

  it("fuzzed with 300 malformed and badly signed messages, it stays up, answers, and runs nothing unsigned", async () => {
    const r = await fuzz.run("short");
    expect(r.failures, why(r)).toEqual([]);
    expect(r.figures.kernelAlive, why(r)).toBe(true);
    expect(r.figures.executedUnsigned, why(r)).toBe(0);
    expect(r.figures.replayRuns, why(r)).toBe(1);
    expect(r.figures.droppedByKernel, why(r)).toBeGreaterThanOrEqual(r.figures.mustDrop);
  });
});
