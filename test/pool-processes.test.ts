// What worker processes are (DESIGN.md, "How a task travels" step 4) and that they never
// outlive their owner. Owners here are separate node processes, so that we can SIGKILL them.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Pool } from "nbpool";
import { cmdline, isAlive, processGroup, ROOT, runScript, waitFor } from "./helpers/procs";

const ENTRY = path.join(ROOT, "dist", "pool", "worker", "main.js");

describe("worker processes", () => {
  it("are fresh node processes running nbpool's entry, in their own process group", async () => {
    const pool = new Pool({ maxWorkers: 2 });
    try {
      const seen = await pool.map(() => ({ pid: process.pid, argv: process.argv, title: process.title }), [1, 2], { chunksize: 1 });
      for (const { pid, argv, title } of seen) {
        expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
        expect(argv[1]).toBe(ENTRY);
        expect(argv).not.toContain(process.argv[1]);
        // ps shows what it is.
        expect(title).toMatch(/^nbpool-worker /);
        expect(cmdline(pid)[0]).toMatch(/^nbpool-worker /);
        // Its own group (it leads it): the owner's SIGINT is not the worker's.
        expect(processGroup(pid)).toBe(pid);
        expect(processGroup(pid)).not.toBe(processGroup(process.pid));
      }
    } finally {
      await pool.shutdown();
    }
  });

  it("do not inherit inspector flags", async () => {
    const run = await runScript(
      `const { Pool } = require("nbpool");
       (async () => {
         const pool = new Pool({ maxWorkers: 1 });
         await pool.submit(() => 1);
         console.log(JSON.stringify({ owner: process.execArgv, worker: await pool.submit(() => process.execArgv) }));
         await pool.shutdown();
       })();`,
      { execArgv: ["--inspect=127.0.0.1:0", "--max-semi-space-size=16"] },
    );
    expect(run.code).toBe(0);
    const { owner, worker } = JSON.parse(run.stdout.trim().split("\n").pop()!);
    expect(owner.join(" ")).toContain("--inspect");
    expect(worker.join(" ")).not.toContain("--inspect");
    // Other flags are kept.
    expect(worker).toContain("--max-semi-space-size=16");
  });

  it("forward what workers print to the owner's stdout and stderr", async () => {
    const run = await runScript(`
      const { Pool } = require("nbpool");
      (async () => {
        const pool = new Pool({ maxWorkers: 1 });
        await pool.submit(() => { console.log("hello from the worker"); console.error("warning from the worker"); require("fs").writeSync(1, "raw write\\n"); });
        await pool.shutdown();
      })();`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("hello from the worker\n");
    expect(run.stdout).toContain("raw write\n");
    expect(run.stderr).toContain("warning from the worker\n");
  });

  it("never keep an idle owner alive", async () => {
    // No shutdown: the script ends when its own work ends, workers or not.
    const run = await runScript(`
      const { Pool } = require("nbpool");
      const pool = new Pool({ maxWorkers: 2 });
      pool.map((x) => x * 2, [1, 2, 3]).then((r) => console.log("result", r.join(",")));`,
    { timeoutMs: 15000 });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("result 2,4,6");
  });

  it("keep the owner alive while they have work", async () => {
    const run = await runScript(`
      const { Pool } = require("nbpool");
      const pool = new Pool({ maxWorkers: 1 });
      pool.submit(async () => { await new Promise((r) => setTimeout(r, 300)); return "late"; }).then((r) => console.log(r));`);
    expect(run.stdout).toContain("late");
  });

  it("exit when their owner is SIGKILLed, even in the middle of a synchronous loop", async () => {
    let pids: number[] = [];
    const run = await runScript(
      `const { Pool } = require("nbpool");
       const pool = new Pool({ maxWorkers: 2 });
       pool.submit(() => { for (;;); });          // busy: cannot see the channel close
       pool.submit(() => new Promise(() => {}));  // idle in its event loop
       setTimeout(() => console.log("PIDS " + JSON.stringify(pool.pids)), 500);
       setInterval(() => {}, 1000);`,
      {
        onLine(line, child) {
          if (!line.startsWith("PIDS ")) return;
          pids = JSON.parse(line.slice(5));
          child.kill("SIGKILL");
        },
      },
    );
    expect(run.signal).toBe("SIGKILL");
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 3000, "orphaned workers to exit");
  });

  it("are killed when the owner exits without shutting the pool down", async () => {
    let pids: number[] = [];
    await runScript(
      `const { Pool } = require("nbpool");
       const pool = new Pool({ maxWorkers: 1 });
       pool.submit(() => { for (;;); });
       setTimeout(() => { console.log("PIDS " + JSON.stringify(pool.pids)); process.exit(0); }, 500);`,
      { onLine: (line) => line.startsWith("PIDS ") && (pids = JSON.parse(line.slice(5))) },
    );
    expect(pids).toHaveLength(1);
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 3000, "workers to exit with their owner");
  });

  it("works the same from an ES module", async () => {
    const run = await runScript(
      `import { Pool, recommendedWorkers } from "nbpool";
       const pool = new Pool({ maxWorkers: 1 });
       console.log(await pool.map((x) => x + 1, [1, 2]), typeof recommendedWorkers());
       await pool.shutdown();`,
      { ext: ".mjs" },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("[ 2, 3 ] number");
  });
});
