// What goes wrong in workers, and that the pool goes on: errors with their class, fields
// and causes; crashes, out of memory, timeouts, aborts; values structured clone refuses.
import { afterAll, describe, expect, it } from "vitest";
import { Pool, RemoteError, SerializationError, TaskTimeoutError, WorkerCrashedError, type RemoteDetails } from "nbpool";
import { isAlive, waitFor } from "./helpers/procs";

const pool = new Pool({ maxWorkers: 2, name: "failures" });
afterAll(() => pool.shutdown());

/** The pool still works and has its full worker count. */
async function stillWorks(p: Pool = pool): Promise<void> {
  expect(await p.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
  await waitFor(() => p.workerCount === p.maxWorkers, 5000, "the pool to be back to full size");
}

describe("errors thrown in a worker", () => {
  it("keep their built-in class, message, custom fields, cause chain and remote details", async () => {
    const err = await pool
      .submit((n: number) => {
        const root = new TypeError("root cause");
        const e = new RangeError(`value ${n} out of range`, { cause: new Error("middle", { cause: root }) });
        Object.assign(e, { code: "E_RANGE", details: { limit: 10 } });
        throw e;
      }, 42)
      .catch((e: unknown) => e as RangeError & RemoteDetails & { code: string; details: unknown });
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe("value 42 out of range");
    expect(err.code).toBe("E_RANGE");
    expect(err.details).toEqual({ limit: 10 });
    const cause = err.cause as Error;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.message).toBe("middle");
    expect(cause.cause).toBeInstanceOf(TypeError);
    expect((cause.cause as Error).message).toBe("root cause");
    expect(pool.pids).toContain(err.pid);
    expect(err.pid).not.toBe(process.pid);
    expect(err.workerId).toBeGreaterThan(0);
    expect(typeof err.taskIndex).toBe("number");
    expect(err.input).toBe("42");
    // The stack shows the remote frames first, then where the task was submitted from.
    expect(err.remoteStack).toMatch(/^RangeError: value 42 out of range\n\s+at /);
    expect(err.stack).toContain(err.remoteStack);
    expect(err.stack).toMatch(/at <nbpool: task \d+ in worker \d+ \(pid \d+\)>/);
    expect(err.stack).toContain("pool-failures.test.ts");
    // nbpool's own worker machinery is not in the user's traceback.
    expect(err.stack).not.toMatch(/worker[/\\]main\.js/);
  });

  it("of a custom class come back as RemoteError with the remote class name and fields", async () => {
    const err = await pool
      .submit(() => {
        class ValidationError extends Error {
          field = "email";
        }
        throw new ValidationError("bad email");
      })
      .catch((e: unknown) => e as RemoteError & { field: string });
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.name).toBe("ValidationError");
    expect(err.message).toBe("bad email");
    expect(err.field).toBe("email");
  });

  it("map reports the failing item's index and input", async () => {
    const err = await pool
      .map((x: number) => {
        if (x === 7) throw new Error(`no ${x}`);
        return x;
      }, Array.from({ length: 10 }, (_, i) => i), { chunksize: 3 })
      .catch((e: unknown) => e as Error & RemoteDetails);
    expect(err.message).toBe("no 7");
    expect(err.taskIndex).toBe(7);
    expect(err.input).toBe("7");
  });

  it("a thrown non-Error value becomes an Error that shows it", async () => {
    const err = await pool.submit(() => {
      throw "just a string";
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("just a string");
    await stillWorks();
  });
});

describe("workers that die", () => {
  it("process.exit rejects the task with WorkerCrashedError, and the pool goes on", async () => {
    const before = pool.pids;
    const err = await pool.submit(() => process.exit(3)).catch((e: unknown) => e as WorkerCrashedError);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.exitCode).toBe(3);
    expect(err.signal).toBeNull();
    expect(err.reason).toMatch(/exited with code 3/);
    expect(before).toContain(err.pid);
    await stillWorks();
    expect(pool.pids).not.toContain(err.pid);
  });

  it("a signal is reported, with the last lines of the worker's stderr", async () => {
    const err = await pool
      .submit(() => {
        process.stderr.write("about to die\n");
        process.kill(process.pid, "SIGKILL");
      })
      .catch((e: unknown) => e as WorkerCrashedError);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.signal).toBe("SIGKILL");
    expect(err.reason).toMatch(/killed by SIGKILL/);
    expect(err.stderr).toContain("about to die");
    await stillWorks();
  });

  it("running out of memory (memoryLimitMb) is named as such", async () => {
    const p = new Pool({ maxWorkers: 1, memoryLimitMb: 64 });
    try {
      const err = await p
        .submit(() => {
          const hoard: number[][] = [];
          for (;;) hoard.push(new Array(1e6).fill(1));
        })
        .catch((e: unknown) => e as WorkerCrashedError);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.reason).toMatch(/ran out of memory \(heap limit 64 MB\)/);
      await stillWorks(p);
    } finally {
      await p.shutdown();
    }
  });

  it("only the running task fails; tasks queued behind it on that worker run elsewhere", async () => {
    const p = new Pool({ maxWorkers: 1 });
    try {
      const fast = (x: number) => x;
      const results = await Promise.allSettled([
        p.submit(() => process.exit(1)),
        p.submit(fast, 1),
        p.submit(fast, 2),
      ]);
      expect(results[0].status).toBe("rejected");
      expect(results.slice(1)).toEqual([
        { status: "fulfilled", value: 1 },
        { status: "fulfilled", value: 2 },
      ]);
    } finally {
      await p.shutdown();
    }
  });
});

describe("timeouts and aborts", () => {
  it("taskTimeout rejects with TaskTimeoutError and replaces the stuck worker", async () => {
    const p = new Pool({ maxWorkers: 1, taskTimeout: 300 });
    try {
      const [pid] = p.pids;
      const err = await p.submit(() => {
        for (;;);
      }).catch((e: unknown) => e as TaskTimeoutError);
      expect(err).toBeInstanceOf(TaskTimeoutError);
      expect(err.timeout).toBe(300);
      await waitFor(() => !isAlive(pid), 3000, "the stuck worker to be killed");
      await stillWorks(p);
      expect(p.pids).not.toContain(pid);
    } finally {
      await p.shutdown();
    }
  });

  it("an AbortSignal rejects queued and running tasks with AbortError and kills the running worker", async () => {
    const p = new Pool({ maxWorkers: 1 });
    try {
      const [pid] = p.pids;
      const controller = new AbortController();
      const stuck = p.with({ signal: controller.signal }).submit(() => {
        for (;;);
      });
      const queued = p.with({ signal: controller.signal }).submit((x: number) => x, 1);
      await waitFor(() => stuck.state === "running", 5000, "the task to start");
      controller.abort(new Error("user stopped it"));
      await expect(stuck).rejects.toMatchObject({ name: "AbortError" });
      await expect(queued).rejects.toMatchObject({ name: "AbortError" });
      expect(stuck.state).toBe("cancelled");
      expect(((await stuck.catch((e) => e)) as Error).cause).toEqual(new Error("user stopped it"));
      await waitFor(() => !isAlive(pid), 3000, "the worker running the aborted task to be killed");
      await stillWorks(p);
    } finally {
      await p.shutdown();
    }
  });

  it("future.cancel() stops a running task; an already-aborted signal never runs it", async () => {
    const f = pool.submit(() => {
      for (;;);
    });
    await waitFor(() => f.state === "running", 5000, "the task to start");
    expect(f.cancel()).toBe(true);
    await expect(f).rejects.toMatchObject({ name: "AbortError" });
    const never = pool.with({ signal: AbortSignal.abort() }).submit(() => 1);
    await expect(never).rejects.toMatchObject({ name: "AbortError" });
    await stillWorks();
  });

  it("a map aborted midway rejects with AbortError and stops its tasks", async () => {
    const controller = new AbortController();
    const run = pool.map(
      async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)),
      [10, 10, 5000, 5000, 5000, 5000],
      { signal: controller.signal, chunksize: 1 },
    );
    setTimeout(() => controller.abort(), 200);
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    await stillWorks();
  });
});

describe("tasks stuck behind a long one", () => {
  it("a finished task's result is not held hostage by a task that never returns (no timeout set)", async () => {
    const p = new Pool({ maxWorkers: 2 });
    try {
      await p.map((x: number) => x, [1, 2], { chunksize: 1 }); // both workers up
      // Round robin: the first and third go to one worker, so the quick one is batched
      // ahead of the endless one there.
      const quick = p.submit((x: number) => x * 10, 1);
      const other = p.submit((x: number) => x * 10, 2);
      const endless = p.submit(() => {
        for (;;);
      });
      expect(await other).toBe(20);
      expect(await quick).toBe(10);
      expect(endless.state).toBe("running");
      endless.cancel();
      await expect(endless).rejects.toMatchObject({ name: "AbortError" });
      await stillWorks(p);
    } finally {
      await p.shutdown({ kill: true });
    }
  });
});

describe("values structured clone refuses", () => {
  it("an argument that cannot be sent is named, and the pool goes on", async () => {
    const err = await Promise.resolve()
      .then(() => pool.submit((a: number, b: unknown) => [a, b], 1, { callback: () => 1 }))
      .catch((e: unknown) => e as SerializationError);
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.what).toBe("argument 2");
    expect(err.message).toMatch(/argument 2 cannot be sent to a worker/);
    await stillWorks();
  });

  it("a map item that cannot be sent is named by its index", async () => {
    const err = await pool.map((x: unknown) => x, [1, 2, Symbol("nope"), 4], { chunksize: 1 }).catch((e: unknown) => e as SerializationError);
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.what).toBe("item 2");
    await stillWorks();
  });

  it("a result that cannot be sent back fails that task only", async () => {
    const err = await pool.submit(() => ({ fn: () => 1 })).catch((e: unknown) => e as Error);
    expect(err.name).toBe("SerializationError");
    expect(err.message).toMatch(/result cannot be sent back/);
    await stillWorks();
  });
});
