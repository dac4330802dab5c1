import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import { DISPLAY, Timeline } from "../dist/pool/display/index.js";
import type { CallRecord, TaskRecord, WorkerRecord } from "../dist/pool/records.js";
import { all, byClass, parseSvg, textOf } from "./display-helpers";
import type { Element } from "@xmldom/xmldom";

const T0 = 1_000_000;

/** Three workers (one crashes and is replaced), every outcome, a task that never started. */
function fixture() {
  const workers: WorkerRecord[] = [
    { id: 1, pid: 101, spawned: T0, ready: T0 + 20, tasksDone: 5 },
    { id: 2, pid: 102, spawned: T0, ready: T0 + 25, exited: T0 + 300, reason: "crashed", signal: "SIGKILL", exitCode: null, tasksDone: 1 },
    { id: 3, pid: 103, spawned: T0 + 300, ready: T0 + 330, exited: T0 + 1000, reason: "shutdown", exitCode: 0, tasksDone: 2 },
  ];
  const task = (id: number, call: number, worker: number | undefined, s: number | undefined, e: number | undefined, outcome?: TaskRecord["outcome"]): TaskRecord => ({
    id, call, items: 1, firstIndex: id - 1, submitted: T0 + 1, worker,
    started: s === undefined ? undefined : T0 + s, ended: e === undefined ? undefined : T0 + e, outcome,
  });
  const tasks: TaskRecord[] = [
    task(1, 1, 1, 30, 130, "ok"),
    task(2, 1, 2, 30, 150, "ok"),
    task(3, 1, 1, 130, 250, "error"),
    task(4, 1, 2, 150, 300, "crashed"),
    task(5, 1, 1, 250, 400, "timeout"),
    task(6, 1, 3, 340, 500, "ok"),
    task(7, 1, 1, 400, 600, "ok"),
    task(8, 1, 3, 500, 800, "ok"),
    { ...task(9, 1, undefined, undefined, 600, "cancelled") },
    task(10, 1, 1, 600, 700, "cancelled"),
    task(11, 1, 3, 800, undefined),
    task(12, 2, 1, 20, 30, "ok"),
  ];
  const calls: CallRecord[] = [
    { id: 1, kind: "map", started: T0, items: 11 },
    { id: 2, kind: "submit", started: T0 + 15, ended: T0 + 30, items: 1 },
  ];
  return { workers, tasks, calls, now: T0 + 950 };
}

/** Busy time per worker within [from, to], computed the simple way (the fixture's tasks never overlap on a worker). */
function expectedBusy(tasks: TaskRecord[], from: number, to: number, now: number): Map<number, number> {
  const busy = new Map<number, number>();
  for (const t of tasks) {
    if (t.started === undefined || t.worker === undefined) continue;
    const d = Math.max(0, Math.min(t.ended ?? now, to) - Math.max(t.started, from));
    busy.set(t.worker, (busy.get(t.worker) ?? 0) + d);
  }
  return busy;
}

const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

/** colour -> label, as the chart's own legend says. */
function legendColours(root: Element): Map<string, string> {
  const legend = byClass(root, "g", "legend")[0]!;
  const rects = all(legend, "rect");
  const texts = all(legend, "text");
  return new Map(rects.map((r, i) => [r.getAttribute("fill")!, textOf(texts[i]!)]));
}

const OUTCOME_WORDS: Record<string, string> = { ok: "ok", error: "error", timeout: "timed out", crashed: "crashed", cancelled: "cancelled", running: "running" };

describe("Timeline", () => {
  it("draws one lane per worker and one bar per task of the last map, coloured by outcome", () => {
    const f = fixture();
    const timeline = new Timeline(f);
    const root = parseSvg(timeline.toSvg());
    expect(root.getAttribute("data-mode")).toBe("bars");

    const scope = f.tasks.filter((t) => t.call === 1);
    const ran = scope.filter((t) => t.started !== undefined);
    const bars = byClass(root, "rect", "task");
    expect(bars.map((b) => Number(b.getAttribute("data-task"))).sort((a, b) => a - b)).toEqual(ran.map((t) => t.id));

    const colours = legendColours(root);
    for (const label of ["ok", "error", "timed out", "crashed", "cancelled", "running"]) expect([...colours.values()]).toContain(label);
    for (const bar of bars) {
      const rec = f.tasks.find((t) => t.id === Number(bar.getAttribute("data-task")))!;
      const expected = rec.outcome ?? "running";
      expect(bar.getAttribute("data-outcome")).toBe(expected);
      expect(colours.get(bar.getAttribute("fill")!)).toBe(OUTCOME_WORDS[expected]);
    }

    // Bars sit on a linear time axis: x = a + b * start, width = b * duration.
    const geometry = bars.map((b) => {
      const rec = f.tasks.find((t) => t.id === Number(b.getAttribute("data-task")))!;
      return { x: Number(b.getAttribute("x")), w: Number(b.getAttribute("width")), s: rec.started!, e: rec.ended ?? f.now };
    });
    const [p, q] = [geometry[0]!, geometry.find((g) => g.s !== geometry[0]!.s)!];
    const scale = (q.x - p.x) / (q.s - p.s);
    for (const g of geometry) {
      expect(g.x).toBeCloseTo(p.x + scale * (g.s - p.s), 1);
      expect(g.w).toBeCloseTo(scale * (g.e - g.s), 1);
    }

    const lanes = byClass(root, "g", "lane");
    expect(lanes.map((l) => l.getAttribute("data-pid"))).toEqual(["101", "102", "103"]);
    const busy = expectedBusy(scope, T0, f.now, f.now);
    const span = f.now - T0;
    for (const lane of lanes) {
      const id = Number(lane.getAttribute("data-worker"));
      const shown = byClass(lane, "text", "utilisation").map(textOf);
      expect(shown).toEqual([pct(busy.get(id)! / span)]);
      expect(all(lane, "text").map(textOf)).toContain(`worker ${id} · pid ${100 + id}`);
      // every bar in the lane belongs to a task that ran on that worker
      for (const bar of byClass(lane, "rect", "task")) expect(f.tasks.find((t) => t.id === Number(bar.getAttribute("data-task")))!.worker).toBe(id);
    }
    // Two worker slots were filled at any moment (worker 3 replaced worker 2).
    const overall = [...busy.values()].reduce((a, b) => a + b, 0) / (span * 2);
    expect(textOf(byClass(root, "text", "summary")[0]!)).toContain(`utilisation ${pct(overall)} of 2 worker slots`);
    expect(timeline.utilisation).toBeCloseTo(overall, 10);

    // The crash is marked; worker 3's orderly exit is after the window and is not.
    const exits = byClass(root, "g", "exit");
    expect(exits.map((e) => e.getAttribute("data-reason"))).toEqual(["crashed"]);
    expect(textOf(all(exits[0]!, "title")[0]!)).toMatch(/pid 102.*crashed.*SIGKILL/);
    // Spawns inside the window: all three (workers 1 and 2 at its very start).
    expect(byClass(root, "path", "spawn")).toHaveLength(3);
  });

  it("summarises the same numbers as text, and follows the display convention", () => {
    const f = fixture();
    const timeline = new Timeline(f);
    const text = timeline.toText();
    const scope = f.tasks.filter((t) => t.call === 1);
    const busy = expectedBusy(scope, T0, f.now, f.now);
    expect(text).toContain("map #1 · 11 tasks, 11 items");
    const count = (o: string | undefined) => scope.filter((t) => t.outcome === o).length;
    expect(text).toContain(
      `outcomes: ok ${count("ok")}, error ${count("error")}, timed out ${count("timeout")}, crashed ${count("crashed")}, ` +
        `cancelled ${count("cancelled")}, running ${count(undefined)}`,
    );
    for (const [id, b] of busy) {
      const n = scope.filter((t) => t.worker === id && t.started !== undefined).length;
      expect(text).toContain(`worker ${id} · pid ${100 + id}: ${n} tasks, busy ${b} ms, ${pct(b / 950)}`);
    }
    expect(text).toMatch(/worker 2 · .*exited: crashed \(signal SIGKILL\)/);

    const bundle = timeline[DISPLAY]();
    expect(Object.keys(bundle).sort()).toEqual(["image/svg+xml", "text/plain"]);
    expect(bundle["text/plain"]).toBe(text);
    expect(String(timeline)).toBe(text);
    expect(inspect(timeline)).toBe(text);
  });

  it("shows a chosen time window, clipping the tasks that cross its edges", () => {
    const f = fixture();
    const window = { from: T0 + 200, to: T0 + 600 };
    const root = parseSvg(new Timeline({ ...f, window }).toSvg());
    const inWindow = f.tasks.filter((t) => t.started !== undefined && t.started < window.to && (t.ended ?? f.now) > window.from);
    expect(byClass(root, "rect", "task").map((b) => Number(b.getAttribute("data-task"))).sort((a, b) => a - b)).toEqual(inWindow.map((t) => t.id));
    const busy = expectedBusy(inWindow, window.from, window.to, f.now);
    for (const lane of byClass(root, "g", "lane")) {
      const id = Number(lane.getAttribute("data-worker"));
      expect(byClass(lane, "text", "utilisation").map(textOf)).toEqual([pct((busy.get(id) ?? 0) / 400)]);
    }
    expect(busy.get(1)).toBe(400); // worker 1 was busy the whole window
  });

  it("can show an earlier call by id, and says clearly when asked for one that does not exist", () => {
    const f = fixture();
    const root = parseSvg(new Timeline({ ...f, call: 2 }).toSvg());
    expect(byClass(root, "rect", "task").map((b) => b.getAttribute("data-task"))).toEqual(["12"]);
    expect(() => new Timeline({ ...f, call: 99 })).toThrow(/no call with id 99 \(known: 1, 2\)/);
    expect(() => new Timeline({ ...f, window: { from: 10, to: 5 } })).toThrow(/from <= to/);
  });

  it("draws an empty pool without failing", () => {
    const t = new Timeline({ tasks: [], workers: [], calls: [], now: T0 });
    const root = parseSvg(t.toSvg());
    expect(byClass(root, "g", "lane")).toHaveLength(0);
    expect(t.toText()).toContain("no tasks");
  });

  it("keeps any label well-formed XML", () => {
    const f = fixture();
    f.workers[1]!.reason = `<"crashed" & 'gone'>\u0001\u0007\uD800`;
    const root = parseSvg(new Timeline(f).toSvg());
    const title = textOf(all(byClass(root, "g", "exit")[0]!, "title")[0]!);
    expect(title).toContain(`<"crashed" & 'gone'>`);
  });

  it("packs a recycling pool's many short-lived workers into one lane per worker slot", () => {
    // maxTasksPerWorker = 1 on 2 slots: 60 workers, each replaced after one task.
    const workers: WorkerRecord[] = [];
    const tasks: TaskRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const s = T0 + Math.floor(i / 2) * 50;
      workers.push({ id: i + 1, pid: 5000 + i, spawned: s, ready: s + 20, exited: s + 50, reason: i === 31 ? "crashed" : "recycled", exitCode: 0, tasksDone: 1 });
      tasks.push({ id: i + 1, call: 1, items: 1, firstIndex: i, submitted: T0, started: s + 20, ended: s + 48, worker: i + 1, outcome: i === 31 ? "crashed" : "ok" });
    }
    const timeline = new Timeline({ tasks, workers, calls: [{ id: 1, kind: "map", started: T0, ended: T0 + 1500, items: 60 }] });
    const root = parseSvg(timeline.toSvg());
    const lanes = byClass(root, "g", "lane");
    expect(lanes).toHaveLength(2);
    // Every worker is in exactly one lane, and lanes never hold two workers alive at once.
    const ids = lanes.flatMap((l) => l.getAttribute("data-workers")!.split(" ").map(Number));
    expect(ids.sort((a, b) => a - b)).toEqual(workers.map((w) => w.id));
    for (const lane of lanes) {
      const members = lane.getAttribute("data-workers")!.split(" ").map((id) => workers[Number(id) - 1]!);
      for (let i = 1; i < members.length; i++) expect(members[i]!.spawned).toBeGreaterThanOrEqual(members[i - 1]!.exited!);
    }
    expect(byClass(root, "rect", "task")).toHaveLength(60);
    expect(byClass(root, "g", "exit")).toHaveLength(60);
    expect(byClass(root, "g", "exit").filter((e) => e.getAttribute("data-reason") === "crashed")).toHaveLength(1);
    expect(textOf(byClass(root, "text", "packing-note")[0]!)).toContain("60 workers packed into 2 lanes");
    // 28 ms busy in every 50 ms of each lane
    for (const lane of lanes) expect(byClass(lane, "text", "utilisation").map(textOf)).toEqual([pct((30 * 28) / 1500)]);
    expect(timeline.toText()).toMatch(/lane 1, 30 workers #1…#59: 30 tasks, busy 840 ms, 56\.0%; exits: recycled \d+/);
  });

  it("stays legible at 10,000 tasks: per-pixel occupancy whose area matches busy time", () => {
    const W = 4;
    const workers: WorkerRecord[] = Array.from({ length: W }, (_, i) => ({ id: i + 1, pid: 2000 + i, spawned: T0, ready: T0 + 40, tasksDone: 0 }));
    const next = workers.map((w) => w.ready!);
    const tasks: TaskRecord[] = [];
    for (let i = 0; i < 10_000; i++) {
      const w = i % W;
      const s = next[w]!;
      const e = s + 0.3 + (i % 7) * 0.1;
      next[w] = e + 0.05;
      tasks.push({ id: i + 1, call: 1, items: 1, firstIndex: i, submitted: T0 + 1, started: s, ended: e, worker: w + 1, outcome: i % 997 === 0 ? "error" : "ok" });
    }
    const end = Math.max(...next);
    const timeline = new Timeline({ tasks, workers, calls: [{ id: 1, kind: "map", started: T0, ended: end, items: 10_000 }], now: end });
    const svg = timeline.toSvg();
    const root = parseSvg(svg);

    expect(root.getAttribute("data-mode")).toBe("aggregated");
    expect(timeline.aggregated).toBe(true);
    expect(byClass(root, "rect", "task")).toHaveLength(0);
    expect(svg.length).toBeLessThan(250_000);
    expect(textOf(byClass(root, "text", "aggregation-note")[0]!)).toContain("10,000 task bars");
    expect(timeline.toText()).toContain("drawn as per-pixel occupancy");
    // Failures stay visible.
    expect(byClass(root, "path", "occupancy").some((p) => p.getAttribute("data-outcome") === "error")).toBe(true);

    const span = end - T0;
    const busy = expectedBusy(tasks, T0, end, end);
    for (const lane of byClass(root, "g", "lane")) {
      const id = Number(lane.getAttribute("data-worker"));
      const u = busy.get(id)! / span;
      expect(byClass(lane, "text", "utilisation").map(textOf)).toEqual([pct(u)]);
      // The lane's alive band spans the whole plot (the worker lived through the window).
      const alive = byClass(lane, "rect", "alive")[0]!;
      const plotArea = Number(alive.getAttribute("width")) * Number(alive.getAttribute("height"));
      let area = 0;
      for (const path of byClass(lane, "path", "occupancy")) {
        for (const m of path.getAttribute("d")!.matchAll(/M[-\d.]+ [-\d.]+h([-\d.]+)v([-\d.]+)h[-\d.]+z/g)) area += Number(m[1]) * Number(m[2]);
      }
      expect(Math.abs(area / plotArea - u)).toBeLessThan(0.04);
    }
  });
});
