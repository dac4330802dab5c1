// pool.stats() and pool.timeline() show what a real pool recorded.
import { describe, expect, it } from "vitest";
import { Pool } from "nbpool";
import { all, byClass, parseHtmlFragment, parseSvg } from "./display-helpers";

const DISPLAY = Symbol.for("Jupyter.display");
type Bundle = Record<string, string>;

describe("a pool's pictures", () => {
  it("timeline: one lane per worker, one bar per task of the last map, outcomes as recorded", async () => {
    const pool = new Pool({ maxWorkers: 2 });
    try {
      await pool.map((x: number) => x, [1, 2, 3]); // an earlier call, not shown by default
      await pool
        .map((x: number) => {
          const end = Date.now() + 20;
          while (Date.now() < end);
          if (x === 5) throw new Error("five");
          return x;
        }, [0, 1, 2, 3, 4, 5, 6, 7], { chunksize: 1 })
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300)); // let the last chunks finish (map rejected early)
      const timeline = pool.timeline();
      const bundle = (timeline as unknown as { [DISPLAY](): Bundle })[DISPLAY]();
      expect(bundle["text/plain"]).toContain("worker");
      const svg = parseSvg(bundle["image/svg+xml"]);
      const bars = byClass(svg, "rect", "task");
      const { tasks, calls } = pool.records();
      const lastMap = calls[calls.length - 1].id;
      const ran = tasks.filter((t) => t.call === lastMap && t.started !== undefined);
      expect(bars.length).toBe(ran.length);
      expect(bars.filter((b) => b.getAttribute("data-outcome") === "error")).toHaveLength(1);
      expect(new Set(bars.map((b) => b.getAttribute("data-task")))).toEqual(new Set(ran.map((t) => String(t.id))));
      expect(byClass(svg, "g", "lane")).toHaveLength(2);
    } finally {
      await pool.shutdown();
    }
  });

  it("stats: counts by outcome and one row per live worker with its pid", async () => {
    const pool = new Pool({ maxWorkers: 2 });
    try {
      await pool.map((x: number) => x * 2, Array.from({ length: 40 }, (_, i) => i), { chunksize: 1 });
      await pool.submit(() => {
        throw new Error("x");
      }).catch(() => undefined);
      const stats = pool.stats();
      const bundle = (stats as unknown as { [DISPLAY](): Bundle })[DISPLAY]();
      const text = bundle["text/plain"];
      expect(text).toMatch(/\bok\b[^\n]*\b40\b/);
      expect(text).toMatch(/\berror\b[^\n]*\b1\b/);
      const table = parseHtmlFragment(bundle["text/html"]);
      const cells = all(table, "td").map((td) => td.textContent ?? "");
      for (const pid of pool.pids) expect(cells).toContain(String(pid));
    } finally {
      await pool.shutdown();
    }
  });

  it("recommendedWorkers.explain() displays how the count was reached", async () => {
    const { recommendedWorkers } = await import("nbpool");
    const why = recommendedWorkers.explain({ kind: "io-heavy", facts: { logicalCpus: 4, physicalCores: 2, memoryMb: 1000 } });
    const bundle = (why as unknown as { [DISPLAY](): Bundle })[DISPLAY]();
    expect(why.workers).toBe(4);
    expect(bundle["text/plain"]).toContain("recommended workers: 4");
    expect(bundle["text/html"]).toContain("io-heavy: 2 x 2 cores = 4");
  });
});
