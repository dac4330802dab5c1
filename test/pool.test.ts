// The pool's everyday behaviour: results, order, values that cross the boundary, futures,
// asCompleted and wait. Real worker processes throughout.
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/procs";
import { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, Future, Pool, PoolClosedError, TimeoutError, asCompleted, wait } from "nbpool";

const pool = new Pool({ maxWorkers: 2, name: "basics" });
afterAll(() => pool.shutdown());

describe("submit and map", () => {
  it("runs a function in a worker process and returns its result", async () => {
    const [pid, value] = await pool.submit((x: number) => [process.pid, x * 2] as const, 21);
    expect(value).toBe(42);
    expect(pid).not.toBe(process.pid);
    expect(pool.pids).toContain(pid);
  });

  it("passes several arguments and awaits async functions", async () => {
    const out = await pool.submit(async (a: number, b: string) => {
      await new Promise((r) => setTimeout(r, 5));
      return `${b}${a}`;
    }, 7, "n");
    expect(out).toBe("n7");
  });

  it("map returns results in input order, across chunk sizes", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const expected = items.map((x) => x * x);
    // A random sleep makes chunks finish out of order.
    const slowSquare = async (x: number) => {
      if (x % 97 === 0) await new Promise((r) => setTimeout(r, 3));
      return x * x;
    };
    expect(await pool.map(slowSquare, items)).toEqual(expected);
    expect(await pool.map(slowSquare, items, { chunksize: 1 })).toEqual(expected);
    expect(await pool.map(slowSquare, items, { chunksize: 333 })).toEqual(expected);
    expect(await pool.map((x: number) => x, [])).toEqual([]);
  });

  it("map accepts any iterable and uses both workers", async () => {
    function* gen() {
      for (let i = 0; i < 8; i++) yield i;
    }
    const pids = await pool.map(
      (x: number) => {
        const end = Date.now() + 30;
        while (Date.now() < end);
        return process.pid;
      },
      gen(),
      { chunksize: 1 },
    );
    expect(new Set(pids).size).toBe(2);
  });

  it("rejects a bad chunksize with a clear message", async () => {
    await expect(pool.map((x: number) => x, [1], { chunksize: 0 })).rejects.toThrow(/chunksize must be a positive integer/);
  });

  it("round-trips Map, Set, Date, BigInt, typed arrays, nested data and cycles", async () => {
    const cyclic: { name: string; self?: unknown } = { name: "loop" };
    cyclic.self = cyclic;
    const value = {
      map: new Map<unknown, unknown>([["a", 1], [2, { deep: [1, 2, 3] }]]),
      set: new Set([1, "two", 3n]),
      date: new Date("2024-02-29T12:00:00Z"),
      big: 2n ** 70n,
      f64: new Float64Array([1.5, -2, Math.PI]),
      u8: new Uint8Array([0, 255]),
      cyclic,
      nothing: undefined,
      nan: NaN,
    };
    const back = await pool.submit((v: typeof value) => v, value);
    expect(back.map).toBeInstanceOf(Map);
    expect(back.map.get(2)).toEqual({ deep: [1, 2, 3] });
    expect(back.set).toEqual(new Set([1, "two", 3n]));
    expect(back.date).toBeInstanceOf(Date);
    expect(back.date.toISOString()).toBe("2024-02-29T12:00:00.000Z");
    expect(back.big).toBe(2n ** 70n);
    expect(back.f64).toBeInstanceOf(Float64Array);
    expect([...back.f64]).toEqual([1.5, -2, Math.PI]);
    expect(back.u8).toBeInstanceOf(Uint8Array);
    expect(back.cyclic.self).toBe(back.cyclic);
    expect("nothing" in back).toBe(true);
    expect(back.nan).toBeNaN();
  });
});

describe("big binary values", () => {
  it("typed arrays, Buffers, ArrayBuffers and DataViews of megabytes round-trip exactly, nested or not", async () => {
    const MB = 1 << 20;
    const f64 = Float64Array.from({ length: MB / 4 }, (_, i) => i * 0.5); // 2 MiB
    const bytes = Buffer.alloc(MB + 3, 7);
    const raw = new ArrayBuffer(2 * MB);
    new Uint8Array(raw)[5] = 9;
    const view = new DataView(new ArrayBuffer(MB));
    view.setFloat32(8, 1.5);
    const offsetView = new Int16Array(new ArrayBuffer(4 * MB), 2 * MB, MB / 2); // a view into a bigger buffer
    offsetView[3] = -4;
    const input = { f64, nested: { list: [bytes, raw] }, view, offsetView, small: new Uint8Array(3) };
    const back = await pool.submit((v: typeof input) => {
      v.f64[0] = 42; // the worker has its own copy
      return v;
    }, input);
    expect(f64[0]).toBe(0);
    expect(back.f64).toBeInstanceOf(Float64Array);
    expect(back.f64[0]).toBe(42);
    expect(back.f64[12345]).toBe(12345 * 0.5);
    expect(back.f64.length).toBe(f64.length);
    expect(Buffer.isBuffer(back.nested.list[0])).toBe(true);
    expect((back.nested.list[0] as Buffer).equals(bytes)).toBe(true);
    expect(back.nested.list[1]).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(back.nested.list[1] as ArrayBuffer)[5]).toBe(9);
    expect(back.view.getFloat32(8)).toBe(1.5);
    expect(back.offsetView).toBeInstanceOf(Int16Array);
    expect(back.offsetView.length).toBe(MB / 2);
    expect(back.offsetView[3]).toBe(-4);
    expect(back.small).toBeInstanceOf(Uint8Array);
    // Nothing is left behind in shared memory.
    const fs = await import("node:fs");
    const dir = `/dev/shm/nbpool-${process.getuid!()}-${process.pid}`;
    if (fs.existsSync(dir)) expect(fs.readdirSync(dir).filter((f) => !f.startsWith("worker-"))).toEqual([]);
  });

  it("map results that are big arrays come back in order", async () => {
    const out = await pool.map((n: number) => new Float64Array(300_000).fill(n), [1, 2, 3, 4], { chunksize: 2 });
    expect(out.map((a) => [a.length, a[0], a[299_999]])).toEqual([1, 2, 3, 4].map((n) => [300_000, n, n]));
  });
});

describe("imap and imapUnordered", () => {
  it("imap streams results in input order from an async iterable", async () => {
    async function* source() {
      for (let i = 0; i < 20; i++) yield i;
    }
    const out: number[] = [];
    for await (const v of pool.imap(async (x: number) => {
      await new Promise((r) => setTimeout(r, (20 - x) % 5));
      return x * 10;
    }, source())) out.push(v);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  });

  it("imapUnordered yields every result, the fast ones first", async () => {
    const out: number[] = [];
    for await (const v of pool.imapUnordered(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    }, [300, 1, 2, 3])) out.push(v);
    expect(out.sort((a, b) => a - b)).toEqual([1, 2, 3, 300]);
    expect(out[out.length - 1]).toBe(300);
  });

  it("a consumer that stops early stops the stream without error", async () => {
    let pulled = 0;
    function* endless() {
      for (;;) {
        pulled++;
        yield pulled;
      }
    }
    const out: number[] = [];
    for await (const v of pool.imap((x: number) => x, endless())) {
      out.push(v);
      if (out.length === 5) break;
    }
    expect(out).toEqual([1, 2, 3, 4, 5]);
    // Only a window of items was pulled, not the endless input.
    expect(pulled).toBeLessThan(50);
  });

  it("imap throws the failing item's error after the results before it", async () => {
    const out: number[] = [];
    const run = async () => {
      for await (const v of pool.imap((x: number) => {
        if (x === 3) throw new RangeError("three");
        return x;
      }, [0, 1, 2, 3, 4], { chunksize: 2 })) out.push(v);
    };
    await expect(run()).rejects.toThrow(RangeError);
    expect(out).toEqual([0, 1, 2]);
  });
});

describe("futures", () => {
  it("report their state and are Promises", async () => {
    const f = pool.submit(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return 1;
    });
    expect(f).toBeInstanceOf(Promise);
    expect(f).toBeInstanceOf(Future);
    expect(["pending", "running"]).toContain(f.state);
    expect(f.done).toBe(false);
    expect(await f).toBe(1);
    expect(f.state).toBe("fulfilled");
    expect(f.done).toBe(true);
    expect(f.cancel()).toBe(false);
    // Derived promises are plain promises, not tasks.
    expect(f.then((x) => x)).not.toBeInstanceOf(Future);
  });

  it("a failed future nobody awaits does not crash the process; awaiting it later throws", async () => {
    const f = pool.submit(() => {
      throw new Error("kept for later");
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(f.state).toBe("rejected");
    await expect(f).rejects.toThrow("kept for later");
  });

  it("asCompleted yields futures as they finish", async () => {
    const sleep = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    };
    const futures = [400, 10, 200].map((ms) => pool.submit(sleep, ms));
    const order: number[] = [];
    for await (const f of asCompleted(futures)) {
      // The future itself, as in Python, not its value.
      expect(futures).toContain(f);
      order.push(await f);
    }
    expect(order).toEqual([10, 200, 400]);
  });

  it("asCompleted hands over a failed future without throwing out of the loop", async () => {
    const bad = pool.submit(() => {
      throw new Error("bad one");
    });
    const good = pool.submit(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return "good";
    });
    const seen: string[] = [];
    for await (const f of asCompleted([bad, good])) {
      try {
        seen.push(await f);
      } catch (e) {
        seen.push((e as Error).message);
      }
    }
    expect(seen).toEqual(["bad one", "good"]);
  });

  it("asCompleted throws TimeoutError when futures are late", async () => {
    const slow = pool.submit(async () => new Promise((r) => setTimeout(() => r(1), 2000)));
    const run = async () => {
      for await (const f of asCompleted([slow], { timeout: 100 })) await f;
    };
    await expect(run()).rejects.toThrow(TimeoutError);
    slow.cancel();
  });

  it("wait honours FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED and timeout", async () => {
    const sleep = async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms));
    const fail = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      throw new Error("boom");
    };
    const a = pool.submit(sleep, 20);
    const b = pool.submit(sleep, 1500);
    const first = await wait([a, b], { returnWhen: FIRST_COMPLETED });
    expect([...first.done]).toEqual([a]);
    expect([...first.notDone]).toEqual([b]);

    const c = pool.submit(fail, 10);
    const d = pool.submit(sleep, 1500);
    const firstError = await wait([c, d], { returnWhen: FIRST_EXCEPTION });
    expect(firstError.done.has(c)).toBe(true);
    expect(firstError.notDone.has(d)).toBe(true);

    const timedOut = await wait([b], { timeout: 50 });
    expect(timedOut.notDone.has(b)).toBe(true);

    const all = await wait([a, b, c, d], { returnWhen: ALL_COMPLETED });
    expect(all.done.size).toBe(4);
    expect(all.notDone.size).toBe(0);
  });
});

describe("per-call options", () => {
  it("pool.with applies a timeout to one submit", async () => {
    const f = pool.with({ timeout: 200 }).submit(() => {
      for (;;);
    });
    await expect(f).rejects.toThrow(/did not finish within 200 ms/);
    expect(await pool.submit((x: number) => x + 1, 1)).toBe(2);
  });

  it("map's timeout rejects the whole call with TimeoutError", async () => {
    const run = pool.map(async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)), [1, 5000], { timeout: 200, chunksize: 1 });
    await expect(run).rejects.toThrow(TimeoutError);
    expect(await pool.map((x: number) => x * 2, [1, 2])).toEqual([2, 4]);
  });
});

describe("shutdown", () => {
  it("ends every worker and refuses new work with PoolClosedError", async () => {
    const p = new Pool({ maxWorkers: 2 });
    await p.submit(() => 1);
    const pids = p.pids;
    expect(pids.length).toBe(2);
    await p.shutdown();
    expect(p.workerCount).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(() => p.submit(() => 1)).toThrow(PoolClosedError);
    await expect(p.map((x: number) => x, [1])).rejects.toThrow(PoolClosedError);
  });

  it("waits for queued work unless told to cancel it", async () => {
    const p = new Pool({ maxWorkers: 1 });
    const sleep = async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms));
    const running = p.submit(sleep, 100);
    const queued = p.submit(sleep, 10);
    await p.shutdown();
    expect(await running).toBe(100);
    expect(await queued).toBe(10);

    const q = new Pool({ maxWorkers: 1 });
    const first = q.submit(sleep, 200);
    const dropped = q.submit(sleep, 10);
    await waitFor(() => first.state === "running", 10_000, "the first task to start");
    expect(dropped.state).toBe("pending");
    await q.shutdown({ cancelPending: true });
    expect(await first).toBe(200);
    await expect(dropped).rejects.toMatchObject({ name: "AbortError" });
    expect(dropped.state).toBe("cancelled");
  });

  it("shutdown does not wait for tasks that were cancelled before they ran", async () => {
    const p = new Pool({ maxWorkers: 1 });
    const sleep = async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms));
    const never = p.with({ signal: AbortSignal.abort() }).submit(sleep, 1);
    const first = p.submit(sleep, 100);
    const second = p.submit(sleep, 100); // waits in the pool's queue behind `first`
    expect(second.cancel()).toBe(true);
    await p.shutdown(); // must return once `first` is done
    expect(await first).toBe(100);
    await expect(never).rejects.toMatchObject({ name: "AbortError" });
    await expect(second).rejects.toMatchObject({ name: "AbortError" });
    expect(p.workerCount).toBe(0);
  });

  it("Symbol.asyncDispose shuts the pool down", async () => {
    const p = new Pool({ maxWorkers: 1 });
    await p.submit(() => 1);
    const [pid] = p.pids;
    await p[Symbol.asyncDispose]();
    expect(p.closed).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("options", () => {
  it("refuses nonsense options with messages that say what is wrong", () => {
    expect(() => new Pool({ maxWorkers: 0 })).toThrow(/maxWorkers must be a positive integer, not 0/);
    expect(() => new Pool({ taskTimeout: -1 })).toThrow(/taskTimeout must be a number of milliseconds/);
    expect(() => new Pool({ memoryLimitMb: 1 })).toThrow(/memoryLimitMb must be at least 16/);
  });

  it("initializer runs once per worker before its tasks, with initArgs", async () => {
    const p = new Pool({
      maxWorkers: 2,
      initializer: (scale: number) => {
        (globalThis as { scale?: number }).scale = scale;
      },
      initArgs: [3],
    });
    try {
      const out = await p.map((x: number) => x * (globalThis as { scale?: number }).scale!, [1, 2, 3, 4], { chunksize: 1 });
      expect(out).toEqual([3, 6, 9, 12]);
    } finally {
      await p.shutdown();
    }
  });

  it("maxTasksPerWorker recycles workers and loses no task", async () => {
    const p = new Pool({ maxWorkers: 2, maxTasksPerWorker: 3 });
    try {
      const pids = await p.map(() => process.pid, Array.from({ length: 12 }), { chunksize: 1 });
      // 12 tasks, at most 3 per worker: at least 4 distinct workers ran them.
      expect(new Set(pids).size).toBeGreaterThanOrEqual(4);
      // The recycled workers end; the pool settles back to its size.
      await waitFor(() => p.workerCount === 2, 5000, "recycled workers to exit");
      expect(p.records().workers.filter((w) => w.reason === "recycled").length).toBeGreaterThanOrEqual(2);
    } finally {
      await p.shutdown();
    }
  });

  it("env and cwd reach the workers", async () => {
    const p = new Pool({ maxWorkers: 1, env: { NBPOOL_TEST_VALUE: "hello" }, cwd: "/tmp" });
    try {
      expect(await p.submit(() => [process.env.NBPOOL_TEST_VALUE, process.cwd()])).toEqual(["hello", "/tmp"]);
    } finally {
      await p.shutdown();
    }
  });
});
