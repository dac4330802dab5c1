/**
 * The engine with real pools (dist/pool): worker errors as tracebacks that reach into the
 * notebook's cells, worker output in the cell that submitted the task, interrupts (request,
 * SIGINT, SIGINT to the whole process group) that stop the interrupted cell's tasks and
 * nothing else, pools shut down when a cell rebinds their name, and at engine shutdown.
 * Worker processes are counted by pid.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineProcess, streamText, tracebackText, waitUntil, type Outcome, expectError } from "./helpers/engine-client";
import { isAlive } from "./helpers/procs";

let notebookDir: string;
let engine: EngineProcess;

beforeAll(async () => {
  notebookDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-engine-pool-"));
  // Its own process group, as Jupyter starts kernels: the group can be signalled.
  engine = await EngineProcess.start({ cwd: notebookDir, detached: true });
  await engine.ok("import { Pool, getHost } from 'nbpool';\nimport * as fs from 'fs';\nconst pool = new Pool({ maxWorkers: 2 });");
}, 60_000);

afterAll(async () => {
  await engine?.kill();
  if (notebookDir) fs.rmSync(notebookDir, { recursive: true, force: true });
});

/** Runs `code` (whose last expression is an array of pids) and returns the pids. */
async function pidsOf(code: string): Promise<number[]> {
  const { text } = await engine.ok(code);
  const pids = JSON.parse(text!.replace(/'/g, '"')) as number[];
  expect(pids.length).toBeGreaterThan(0);
  return pids;
}

const BUSY = "(ms: number) => { console.log('started'); const t = Date.now(); while (Date.now() - t < ms) {} return ms; }";

describe("worker errors", () => {
  it("are errors of the original class with the calling cell, then the remote traceback in the defining cell", async () => {
    await engine.ok("function check(x: number) {\n  // only 3 is refused\n  if (x === 3) {\n    throw new RangeError(`bad input ${x}`);\n  }\n  return x * x;\n}");
    const { outcome, id } = await engine.run("const squares = await pool.map(check, [1, 2, 3, 4]);");
    const error = expectError(outcome);
    expect(error.ename).toBe("RangeError");
    expect(error.evalue).toBe("bad input 3");
    const text = tracebackText(error);
    const local = text.indexOf("----> 1 const squares = await pool.map(check, [1, 2, 3, 4]);");
    const remote = text.search(/Remote traceback \(worker \d+, pid \d+, task 2, input 3\)/);
    const thrower = text.search(/Cell In\[\d+\], line 4, in check\n(.*\n)*----> 4\s+throw new RangeError\(`bad input \$\{x\}`\);/);
    expect(local).toBeGreaterThan(0);
    expect(remote).toBeGreaterThan(local);
    expect(thrower).toBeGreaterThan(remote);
    expect(text).not.toMatch(/node:|worker\/main|evalmachine/);
    expect(id).toBeGreaterThan(0);
  });

  it("name what cannot travel, and the cell that tried", async () => {
    await engine.ok("function makeAdder() {\n  let offset = 10;\n  return (x: number) => x + offset;\n}\nconst addTen = makeAdder();");
    const error = expectError((await engine.run("const sums = await pool.map(addTen, [1, 2]);")).outcome);
    expect(error.ename).toBe("CaptureError");
    const text = tracebackText(error);
    expect(text).toContain("----> 1 const sums = await pool.map(addTen, [1, 2]);");
    expect(text).toContain("`offset`");
    expect(text).toMatch(/----> 2\s+let offset = 10;/);
    // The pool still works.
    expect((await engine.ok("await pool.map((x: number) => x + 1, [1, 2])")).text).toBe("[ 2, 3 ]");
  });
});

describe("worker output", () => {
  it("goes to the cell that submitted the task, even after a later cell started", async () => {
    const flag = path.join(notebookDir, "go");
    const a = await engine.run(
      `const waiting = pool.submit((file: string) => {\n  while (!require("fs").existsSync(file)) {}\n  console.log("from the worker");\n  return 1;\n}, ${JSON.stringify(flag)});`,
    );
    expect(a.outcome.status).toBe("ok");
    const b = await engine.run(`fs.writeFileSync(${JSON.stringify(flag)}, "");\nawait waiting;\nconsole.log("from cell B");`);
    expect(b.outcome.status).toBe("ok");
    await waitUntil(() => streamText(a.published, "stdout").includes("from the worker"), 20_000, "the worker's output in cell A");
    expect(streamText(b.published, "stdout")).toBe("from cell B\n");
  });
});

describe("host", () => {
  it("publishes displays and their updates in the cell, and gives the compiled cells", async () => {
    const { published, text } = await engine.ok(
      "const host = getHost()!;\nhost.display(host.currentContext(), { 'text/plain': 'v1' }, { displayId: 'd-1' });\nhost.display(host.currentContext(), { 'text/plain': 'v2' }, { displayId: 'd-1', update: true });\nArray.from(host.cells!()).filter((c) => c.source.includes('d-1') && c.source.includes('//# sourceURL=' + c.url)).length",
    );
    expect(published.map((p) => [p.msgType, p.content.data, p.content.transient])).toEqual([
      ["display_data", { "text/plain": "v1" }, { display_id: "d-1" }],
      ["update_display_data", { "text/plain": "v2" }, { display_id: "d-1" }],
    ]);
    expect(text).toBe("1");
  });
});

describe("interrupt", () => {
  it("by request: ends the cell, cancels its tasks, kills the workers running them; the pool goes on", async () => {
    const before = await pidsOf("pool.pids");
    const exec = engine.start(`await pool.map(${BUSY}, [60000, 60000, 60000, 60000]);`);
    await waitUntil(() => streamText(exec.published, "stdout").split("started").length - 1 >= 2, 30_000, "both workers to start a task");
    await engine.interrupt();
    const error = expectError(await exec.outcome);
    expect(error.ename).toBe("AbortError");
    // Two were running; how the rest were chunked is the pool's business.
    expect(error.evalue).toMatch(/interrupted; [234] pool tasks were cancelled/);
    await waitUntil(() => before.every((pid) => !isAlive(pid)), 10_000, "the busy workers to be killed");
    expect((await engine.ok("await pool.map((x: number) => x * 2, [1, 2, 3])")).text).toBe("[ 2, 4, 6 ]");
    const after = await pidsOf("pool.pids");
    expect(after.some((pid) => before.includes(pid))).toBe(false);
  });

  it("by SIGINT to the kernel's process group: only the interrupted cell's tasks stop, workers see no SIGINT", async () => {
    const bystander = await pidsOf("const other = new Pool({ maxWorkers: 1 });\nconst background = other.submit((ms: number) => { const t = Date.now(); while (Date.now() - t < ms) {} return 'bystander done'; }, 1500);\nother.pids");
    const busy = await pidsOf("pool.pids");
    const exec = engine.start(`await pool.map(${BUSY}, [60000, 60000]);`);
    await waitUntil(() => streamText(exec.published, "stdout").split("started").length - 1 >= 2, 30_000, "both workers to start a task");
    process.kill(-engine.pid, "SIGINT");
    expect(expectError(await exec.outcome).ename).toBe("AbortError");
    await waitUntil(() => busy.every((pid) => !isAlive(pid)), 10_000, "the interrupted cell's workers to be killed");
    expect(bystander.every(isAlive)).toBe(true);
    // The task of the earlier cell was not interrupted: it finishes.
    expect((await engine.ok("await background")).text).toBe("'bystander done'");
    expect(isAlive(engine.pid)).toBe(true);
    await engine.ok("await other.shutdown();");
  });
});

describe("rebinding a name that held a pool", () => {
  it("shuts the replaced pool down and says so in the cell", async () => {
    const first = await pidsOf("const rebound = new Pool({ maxWorkers: 2 });\nrebound.pids");
    const { stderr, text } = await engine.ok("const rebound = new Pool({ maxWorkers: 1 });\nrebound.pids");
    expect(stderr).toContain("nbpool: shut down the pool previously bound to `rebound` (2 workers)");
    await waitUntil(() => first.every((pid) => !isAlive(pid)), 10_000, "the replaced pool's workers to exit");
    const second = JSON.parse(text!) as number[];
    expect(second.every(isAlive)).toBe(true);
  });

  it("leaves a pool alone while another name still holds it", async () => {
    const pids = await pidsOf("const kept = new Pool({ maxWorkers: 1 });\nconst alias = kept;\nkept.pids");
    const { stderr } = await engine.ok("const kept = 5;");
    expect(stderr).toBe("");
    expect(pids.every(isAlive)).toBe(true);
    expect((await engine.ok("await alias.submit((x: number) => x + 1, 1)")).text).toBe("2");
  });
});

describe("shutdown", () => {
  it("ends every pool and its workers, then the engine can exit", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbpool-engine-shutdown-"));
    const own = await EngineProcess.start({ cwd: dir });
    try {
      await own.ok("import { Pool } from 'nbpool';\nconst a = new Pool({ maxWorkers: 2 });\nconst b = new Pool({ maxWorkers: 1 });");
      const { text } = await own.ok("[...a.pids, ...b.pids]");
      const pids = JSON.parse(text!) as number[];
      expect(pids).toHaveLength(3);
      own.start(`a.map(${BUSY}, [60000, 60000, 60000]);`);
      await own.shutdown();
      await waitUntil(() => pids.every((pid) => !isAlive(pid)), 10_000, "every worker to exit");
    } finally {
      await own.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
