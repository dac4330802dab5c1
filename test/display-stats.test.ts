import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { DISPLAY, PoolStats, readProcessUsage } from "../dist/pool/display/index.js";
import type { TaskRecord, WorkerRecord } from "../dist/pool/records.js";
import { all, byClass, parseHtmlFragment, parseSvg, textOf } from "./display-helpers";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** A real process that burns some CPU, then waits to be measured. */
async function busyChild(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", "const end = Date.now() + 300; while (Date.now() < end); console.log('ready'); setInterval(() => {}, 1000);"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  await once(child.stdout!, "data");
  return child;
}

function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

const T0 = 5_000_000;

function records(livePid: number) {
  const workers: WorkerRecord[] = [
    { id: 1, pid: livePid, spawned: T0, ready: T0 + 30, tasksDone: 150 },
    { id: 2, pid: process.pid, spawned: T0, ready: T0 + 35, exited: T0 + 2000, reason: "crashed", signal: "SIGKILL", exitCode: null, tasksDone: 47 },
  ];
  const tasks: TaskRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const started = T0 + 40 + i * 10;
    const run = 2 + (i % 10) * 0.7 + (i === 50 ? 150 : 0);
    tasks.push({ id: i + 1, call: 1, items: 5, firstIndex: i * 5, submitted: T0 + 35, started, ended: started + run, worker: 1 + (i % 2), outcome: i % 40 === 7 ? "error" : i === 199 ? "crashed" : "ok" });
  }
  tasks.push({ id: 201, call: 2, items: 1, firstIndex: 0, submitted: T0 + 2500, started: T0 + 2510, worker: 1 });
  tasks.push({ id: 202, call: 2, items: 1, firstIndex: 1, submitted: T0 + 2500 });
  tasks.push({ id: 203, call: 2, items: 1, firstIndex: 2, submitted: T0 + 2500, ended: T0 + 2600, outcome: "cancelled" });
  return { workers, tasks, now: T0 + 3000 };
}

describe("PoolStats", () => {
  it("counts tasks by outcome and reports queue wait and run time percentiles from the records", async () => {
    const child = await busyChild();
    const r = records(child.pid!);
    const stats = new PoolStats({ ...r, name: "demo" });

    const count = (o: string) => r.tasks.filter((t) => t.outcome === o).length;
    expect(stats.counts).toEqual({ ok: count("ok"), error: count("error"), timeout: 0, crashed: 1, cancelled: 1, running: 1, queued: 1 });
    expect(count("ok")).toBe(194);
    expect(stats.total).toBe(203);

    const waits = r.tasks.filter((t) => t.started !== undefined).map((t) => t.started! - t.submitted);
    const runs = r.tasks.filter((t) => t.started !== undefined && t.ended !== undefined).map((t) => t.ended! - t.started!);
    for (const [d, values] of [[stats.queueWait!, waits], [stats.runTime!, runs]] as const) {
      expect(d.count).toBe(values.length);
      expect(d.p50).toBe(nearestRank(values, 50));
      expect(d.p90).toBe(nearestRank(values, 90));
      expect(d.p99).toBe(nearestRank(values, 99));
      expect(d.max).toBe(Math.max(...values));
      expect(d.histogram.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    }

    // Activity: from the first submission to the last end of call 1, then call 2's 500 ms.
    const call1End = Math.max(...r.tasks.filter((t) => t.call === 1).map((t) => t.ended!));
    const active = call1End - (T0 + 35) + (r.now - (T0 + 2500));
    expect(stats.throughput.activeTime).toBeCloseTo(active, 6);
    const completed = count("ok") + count("error");
    expect(stats.throughput.completed).toBe(completed);
    expect(stats.throughput.tasksPerSecond).toBeCloseTo((completed * 1000) / active, 6);
    expect(stats.throughput.itemsPerSecond).toBeCloseTo((completed * 5 * 1000) / active, 6);
  });

  it("lists workers with pid, tasks done, current task, and RSS and CPU time of live ones from /proc", async () => {
    const child = await busyChild();
    const r = records(child.pid!);
    const stats = new PoolStats(r);
    const [live, dead] = stats.workers;

    expect(live).toMatchObject({ id: 1, pid: child.pid, state: "busy", tasksDone: 150, currentTask: { id: 201, call: 2, firstIndex: 0, runningFor: 490 } });
    if (process.platform === "linux") {
      const direct = readProcessUsage(child.pid!)!;
      expect(live!.rss).toBeGreaterThan(10 * 1024 * 1024); // a node process holds more than 10 MiB
      expect(Math.abs(live!.rss! - direct.rss)).toBeLessThan(8 * 1024 * 1024);
      expect(live!.cpu).toBeGreaterThanOrEqual(200); // it spun for 300 ms before saying ready
    }
    // A dead worker is not measured, even though its pid (this test process) is alive:
    // the pid could belong to someone else by now.
    expect(dead).toMatchObject({ id: 2, state: "exited", reason: "crashed", tasksDone: 47, rss: undefined, cpu: undefined, currentTask: undefined });
  });

  it("displays as an HTML table with inline SVG histograms, and as text", async () => {
    const child = await busyChild();
    const r = records(child.pid!);
    const stats = new PoolStats({ ...r, name: "demo <&>" });
    const bundle = stats[DISPLAY]();
    expect(Object.keys(bundle).sort()).toEqual(["text/html", "text/plain"]);

    const html = parseHtmlFragment(bundle["text/html"] as string);
    const outcomeCells = all(html, "td").filter((td) => td.getAttribute("data-state"));
    expect(Object.fromEntries(outcomeCells.map((td) => [td.getAttribute("data-state"), Number(textOf(td))]))).toEqual({
      ok: 194, error: 5, crashed: 1, cancelled: 1, running: 1, queued: 1,
    });
    expect(textOf(all(html, "caption")[0]!)).toContain("demo <&>");

    const svgs = all(html, "svg");
    expect(svgs).toHaveLength(2);
    for (const [svg, d] of [[svgs[0]!, stats.queueWait!], [svgs[1]!, stats.runTime!]] as const) {
      parseSvg(svg.toString());
      const bins = byClass(svg, "rect", "bin");
      expect(bins.map((b) => Number(b.getAttribute("data-count")))).toEqual(d.histogram.counts);
      const marks = Object.fromEntries(byClass(svg, "g", "percentile").map((g) => [g.getAttribute("data-name"), Number(g.getAttribute("data-value"))]));
      expect(marks).toEqual({ p50: d.p50, p90: d.p90, p99: d.p99 });
    }
    const workerRows = all(byClass(html, "table", "workers")[0]!, "tr").slice(1);
    expect(workerRows.map((tr) => textOf(all(tr, "td")[1]!))).toEqual([String(child.pid), String(process.pid)]);

    const text = bundle["text/plain"] as string;
    expect(text).toBe(String(stats));
    expect(text).toContain("ok 194, error 5, crashed 1, cancelled 1, running 1, queued 1");
    expect(text).toMatch(/run time\s+200\s/);
    expect(text).toMatch(new RegExp(`worker 1\\s+${child.pid}\\s+busy\\s+150\\s+task 201`));
    expect(text).toMatch(/worker 2\s+\d+\s+exited \(crashed\)\s+47\s+–/);
  });

  it("shows only the most recent exited workers of a long-recycling pool", () => {
    const workers: WorkerRecord[] = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, pid: 900000 + i, spawned: T0 + i, exited: T0 + i + 1, reason: "recycled", tasksDone: 1 }));
    const stats = new PoolStats({ tasks: [], workers, now: T0 + 100 });
    expect(stats.toText()).toContain("… and 22 earlier exited workers");
    expect(stats.toText()).toContain("no tasks yet");
    const html = parseHtmlFragment(stats.toHtml());
    expect(all(byClass(html, "table", "workers")[0]!, "tr")).toHaveLength(1 + 8);
  });

  it("degrades to blank memory and CPU cells when usage cannot be read", () => {
    const r = records(process.pid);
    const stats = new PoolStats({ ...r, usage: () => undefined });
    expect(stats.workers[0]).toMatchObject({ rss: undefined, cpu: undefined, state: "busy" });
    expect(stats.toText()).toMatch(/worker 1 .*–\s+–\s+3\.00 s/);
  });
});

describe("readProcessUsage", () => {
  it.runIf(process.platform === "linux")("reads CPU time that agrees with the process's own accounting", () => {
    const end = Date.now() + 300;
    while (Date.now() < end);
    const own = process.cpuUsage();
    const read = readProcessUsage(process.pid)!;
    // /proc counts in clock ticks (10 ms at USER_HZ = 100): allow a few ticks of difference.
    expect(Math.abs(read.cpuUser + read.cpuSystem - (own.user + own.system) / 1000)).toBeLessThan(50);
    expect(Math.abs(read.rss - process.memoryUsage().rss)).toBeLessThan(16 * 1024 * 1024);
  });

  it("returns undefined for a process that has gone, and for nonsense pids", async () => {
    const child = await busyChild();
    const pid = child.pid!;
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(readProcessUsage(pid)).toBeUndefined();
    expect(readProcessUsage(-1)).toBeUndefined();
    expect(readProcessUsage(1.5)).toBeUndefined();
  });
});
