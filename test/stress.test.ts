/**
 * Issue 8, short form, in-process parts: fault injection and back-pressure (the scenarios of
 * `npm run stress`, scaled down), and the known issues they surfaced, reproduced exactly.
 * Each run uses a fresh seed; a failure names it (`node stress/run.js --only NAME --seed N`).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { Pool, WorkerCrashedError } from "nbpool";

// The scenarios are plain CommonJS shared with stress/run.js; Node loads them, not Vite.
const load = createRequire(import.meta.url);
const faults = load("../stress/scenarios/faults.js");
const backpressure = load("../stress/scenarios/backpressure.js");

describe("fault injection (short form)", () => {
  it("40 tasks on 4 workers, 20% exiting, SIGKILLed, throwing, out of heap or past their timeout: right errors, right results, no orphan", { timeout: 120_000 }, async () => {
    const r = await faults.run("short");
    const why = `seed ${r.seed}: ${JSON.stringify(r.figures)}`;
    expect(r.failures, why).toEqual([]);
    expect(r.figures.faultsInjected, why).toBe(8);
    // Every fault came back as its class; tasks lost only to the known issue below.
    expect(r.figures.faultsSurvived + r.figures.blamedForAnotherCrash, why).toBeGreaterThanOrEqual(8);
    expect(r.figures.lost - r.figures.blamedForAnotherCrash, why).toBe(0);
    expect(r.figures.pending, why).toBe(0);
    expect(r.figures.finalWorkers, why).toBe(4);
    expect(r.figures.orphans, why).toBe(0);
  });
});

describe("back-pressure (short form)", () => {
  it("imap and imapUnordered over endless sources with slow consumers pull a bounded number of items ahead and close the source", { timeout: 120_000 }, async () => {
    const r = await backpressure.run("short");
    const why = `seed ${r.seed}: ${JSON.stringify(r.figures)}`;
    expect(r.failures, why).toEqual([]);
    expect(r.figures.streams, why).toBe(4);
    expect(r.figures.itemsConsumed, why).toBe(800);
    expect(r.figures.orphans, why).toBe(0);
  });
});

describe("issues the stress suite found, fixed", () => {
  // A worker sends its results in batches. When a later task of the same batch kills the
  // worker, the finished task must keep its result (it runs again elsewhere: beacon.ts) and
  // only the culprit is blamed.
  it("a finished task keeps its result when the next task on its worker kills the worker", async () => {
    const pool = new Pool({ maxWorkers: 1, progress: false });
    try {
      const finished = pool.submit((x: number) => x + 1, 1);
      const killer = pool.submit(() => process.exit(7));
      const [a, b] = await Promise.allSettled([finished, killer]);
      expect(b.status === "rejected" && b.reason instanceof WorkerCrashedError).toBe(true);
      expect(a).toEqual({ status: "fulfilled", value: 2 });
    } finally {
      await pool.shutdown({ kill: true });
    }
  });

  // A rejection nobody handles after a task returned must not kill its worker (and fail the
  // task running at that moment).
  it("a stray rejection left by a finished task does not fail the next task on that worker", async () => {
    const pool = new Pool({ maxWorkers: 1, progress: false });
    try {
      expect(await pool.submit(() => {
        void Promise.reject(new Error("stray"));
        return 1;
      })).toBe(1);
      expect(await pool.submit(async () => {
        await new Promise((r) => setTimeout(r, 200));
        return 2;
      })).toBe(2);
    } finally {
      await pool.shutdown({ kill: true });
    }
  });
});
