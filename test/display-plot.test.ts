import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import { DISPLAY, barChart, displayBundle, explainDisplay, isDisplayable, lineChart } from "../dist/pool/display/index.js";
import { all, byClass, parseHtmlFragment, parseSvg, textOf } from "./display-helpers";

const amdahl = (p: number, n: number) => 1 / (1 - p + p / n);

describe("lineChart", () => {
  it("draws every series with its points, a legend and axes with round ticks", () => {
    const measured: Array<[number, number]> = [[1, 1], [2, 1.8], [4, 3.0], [8, 4.4]];
    const curve = Array.from({ length: 71 }, (_, i) => [1 + i / 10, amdahl(0.9, 1 + i / 10)] as [number, number]);
    const chart = lineChart({
      title: "Amdahl's law <p = 0.9>",
      xLabel: "workers",
      yLabel: "speed-up",
      series: [
        { name: "Amdahl & co", points: curve, mode: "line", dashed: true },
        { name: "measured", points: measured, mode: "points" },
      ],
    });
    const root = parseSvg(chart.svg);
    const series = byClass(root, "g", "series");
    expect(series.map((s) => s.getAttribute("data-name"))).toEqual(["Amdahl & co", "measured"]);
    expect(byClass(series[0]!, "path", "line")).toHaveLength(1);
    expect(byClass(series[0]!, "circle", "point")).toHaveLength(0);
    // The curve's path visits every point.
    expect(byClass(series[0]!, "path", "line")[0]!.getAttribute("d")!.match(/[ML]/g)).toHaveLength(curve.length);
    const points = byClass(series[1]!, "circle", "point").map((c) => [Number(c.getAttribute("data-x")), Number(c.getAttribute("data-y"))]);
    expect(points).toEqual(measured);
    // Higher y is drawn higher up: cy decreases as speed-up increases.
    const cys = byClass(series[1]!, "circle", "point").map((c) => Number(c.getAttribute("cy")));
    expect(cys).toEqual([...cys].sort((a, b) => b - a));

    expect(byClass(root, "g", "legend-entry").map((e) => e.getAttribute("data-name"))).toEqual(["Amdahl & co", "measured"]);
    const xTicks = byClass(root, "text", "x-tick").map((t) => Number(textOf(t)));
    expect(xTicks[0]).toBeLessThanOrEqual(1);
    expect(xTicks.at(-1)).toBeGreaterThanOrEqual(8);
    const yTicks = byClass(root, "text", "y-tick").map((t) => Number(textOf(t)));
    expect(yTicks[0]).toBe(0); // speed-ups start from zero
    for (const t of [...xTicks, ...yTicks]) expect(String(t)).toMatch(/^\d+(\.\d)?$/);
    expect(all(root, "text").map(textOf)).toEqual(expect.arrayContaining(["Amdahl's law <p = 0.9>", "workers", "speed-up"]));

    const text = chart.toText();
    expect(text).toContain("Amdahl & co: curve of 71 points, workers 1–8");
    expect(text).toMatch(/measured:\nworkers\s+speed-up\n\s+1\s+1\n\s+2\s+1\.8\n\s+4\s+3\n\s+8\s+4\.4/);
  });

  it("supports log axes, breaks lines at gaps, and draws an empty chart", () => {
    const chart = lineChart({
      xLog: true,
      yLog: true,
      xLabel: "chunksize",
      series: [{ name: "µs per item", points: [[1, 60], [10, 9], [100, NaN], [1000, 0.4], [10000, 0.3]] }],
    });
    const root = parseSvg(chart.svg);
    const d = byClass(root, "path", "line")[0]!.getAttribute("d")!;
    expect(d.match(/M/g)).toHaveLength(2); // the NaN splits the line in two
    expect(byClass(root, "circle", "point")).toHaveLength(4);
    expect(byClass(root, "text", "x-tick").map(textOf)).toEqual(["1", "10", "100", "1000", "10k"]);
    expect(chart.toText()).toMatch(/chunksize\s+µs per item/);

    const empty = lineChart({ series: [] });
    expect(all(parseSvg(empty.svg), "text").map(textOf)).toContain("no data");
  });
});

describe("barChart", () => {
  it("draws one bar per category and series with its value, and the same table as text", () => {
    const categories = ["1", "10", "100", "1000"];
    const series = [
      { name: "nbpool", values: [60, 9, 1.2, 0.4] },
      { name: "Python", values: [58, 8, 1, 0.3] },
    ];
    const chart = barChart({ title: "µs per item", xLabel: "chunksize", yLabel: "µs", categories, series });
    const root = parseSvg(chart.svg);
    const groups = byClass(root, "g", "series");
    expect(groups).toHaveLength(2);
    groups.forEach((g, si) => {
      const bars = byClass(g, "rect", "bar");
      expect(bars.map((b) => b.getAttribute("data-category"))).toEqual(categories);
      expect(bars.map((b) => Number(b.getAttribute("data-value")))).toEqual(series[si]!.values);
      // heights are proportional to values (same baseline, linear axis)
      const h = bars.map((b) => Number(b.getAttribute("height")));
      expect(h[1]! / h[0]!).toBeCloseTo(series[si]!.values[1]! / series[si]!.values[0]!, 1);
    });
    expect(byClass(root, "text", "x-tick").map(textOf)).toEqual(categories);
    expect(chart.toText()).toMatch(/chunksize\s+nbpool\s+Python\n\s+1\s+60\s+58\n/);
  });
});

describe("explainDisplay", () => {
  it("shows how the worker count was reached, as a table and as text", () => {
    const d = explainDisplay({
      workers: 2,
      kind: "cpu",
      cores: 4,
      physicalCores: 2,
      cpuQuota: 1.5,
      memoryCap: null,
      reasons: ["CPU-bound: one worker per physical core (2)", "cgroup cpu.max allows 1.5 cores <rounded up>"],
    });
    const html = parseHtmlFragment(displayBundle(d)!["text/html"] as string);
    const rows = Object.fromEntries(all(html, "tr").map((tr) => [textOf(all(tr, "th")[0]!), textOf(all(tr, "td")[0]!)]));
    expect(rows).toEqual({ workload: "cpu", "logical cores": "4", "physical cores": "2", "CPU quota": "1.5 cores", "memory cap": "none" });
    expect(textOf(all(html, "caption")[0]!)).toBe("recommended workers: 2");
    expect(all(html, "li").map(textOf)).toEqual(["CPU-bound: one worker per physical core (2)", "cgroup cpu.max allows 1.5 cores <rounded up>"]);
    expect(d.toText()).toMatch(/^recommended workers: 2\n\s+workload\s+cpu\n[\s\S]*CPU quota\s+1\.5 cores[\s\S]*because:\n\s+- CPU-bound/);
  });
});

describe("the display convention", () => {
  it("gives every displayable text/plain equal to toString() and util.inspect()", () => {
    const values = [
      lineChart({ series: [{ name: "a", points: [[0, 1]] }] }),
      barChart({ categories: ["x"], series: [{ name: "a", values: [1] }] }),
      explainDisplay({ workers: 1, reasons: [] }),
    ];
    for (const v of values) {
      expect(isDisplayable(v)).toBe(true);
      const bundle = v[DISPLAY]();
      expect(typeof bundle["text/plain"]).toBe("string");
      expect(bundle["text/plain"]).toBe(String(v));
      expect(inspect(v)).toBe(String(v));
      expect(Symbol.keyFor(DISPLAY)).toBe("Jupyter.display");
    }
    expect(isDisplayable({})).toBe(false);
    expect(displayBundle(42)).toBeUndefined();
  });
});
