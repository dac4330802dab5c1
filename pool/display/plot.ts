/**
 * Small line and bar charts for the teaching notebooks: throughput against worker count,
 * chunk size against overhead, Amdahl's law against measured speed-ups. Axes with round
 * ticks, labels, a legend, several series; each chart is a displayable (SVG + a text table).
 */

import { Displayable, type MimeBundle } from "./bundle";
import { logTicks, niceTicks, tickLabel } from "./axis";
import { formatNumber, textTable } from "./format";
import { MUTED_COLOUR, el, label, line, num, rect, svgDocument, txt } from "./svg";

/** Okabe–Ito, without the yellow that vanishes on white. */
export const SERIES_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

export interface LineSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** "line+points" (default), "line" (a curve) or "points" (measurements). */
  mode?: "line" | "points" | "line+points";
  colour?: string;
  dashed?: boolean;
}

interface ChartFrame {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

export interface LineChartOptions extends ChartFrame {
  series: LineSeries[];
  xLog?: boolean;
  yLog?: boolean;
  /** Start the y axis at zero (default: when no value is negative, on a linear axis). */
  yFromZero?: boolean;
}

export interface BarChartOptions extends ChartFrame {
  categories: string[];
  series: Array<{ name: string; values: readonly number[]; colour?: string }>;
}

/** Curves with more points than this are summarised, not tabulated, in the text form. */
const MAX_TEXT_ROWS = 20;

const MARGIN = { left: 64, right: 20, top: 58, bottom: 46 };

/** A chart: an SVG picture plus the same data as a text table. */
export class Chart extends Displayable {
  constructor(
    readonly svg: string,
    private readonly text: string,
  ) {
    super();
  }

  toText(): string {
    return this.text;
  }

  protected richBundle(): MimeBundle {
    return { "image/svg+xml": this.svg };
  }
}

type Scale = { map(v: number): number; ticks: number[] };

function linearScale(lo: number, hi: number, from: number, to: number): Scale {
  const t = niceTicks(lo, hi, 6);
  return { ticks: t.ticks, map: (v) => from + ((v - t.lo) / (t.hi - t.lo)) * (to - from) };
}

function logScale(lo: number, hi: number, from: number, to: number): Scale {
  const t = logTicks(lo, hi);
  const a = Math.log10(t.lo);
  const b = Math.log10(t.hi);
  return { ticks: t.ticks, map: (v) => from + ((Math.log10(v) - a) / (b - a || 1)) * (to - from) };
}

function frame(opts: ChartFrame) {
  const width = Math.max(240, opts.width ?? 640);
  const height = Math.max(160, opts.height ?? 360);
  return {
    width,
    height,
    left: MARGIN.left,
    right: width - MARGIN.right,
    top: MARGIN.top,
    bottom: height - MARGIN.bottom,
  };
}

function titleAndLegend(opts: ChartFrame, entries: Array<{ name: string; colour: string; mode: string; dashed?: boolean }>): string[] {
  const parts: string[] = [];
  if (opts.title) parts.push(label(12, 20, opts.title, { "font-size": 14, "font-weight": "bold" }));
  let x = 12;
  for (const e of entries) {
    const swatch =
      e.mode === "bar"
        ? rect(x, 32, 12, 10, { fill: e.colour })
        : el("g", {},
            e.mode !== "points" ? line(x, 37, x + 16, 37, { stroke: e.colour, "stroke-width": 2, "stroke-dasharray": e.dashed ? "5 3" : undefined }) : "",
            e.mode !== "line" ? el("circle", { cx: x + 8, cy: 37, r: 3.5, fill: e.colour }) : "");
    parts.push(el("g", { class: "legend-entry", "data-name": e.name }, swatch, label(x + 20, 41, e.name)));
    x += 32 + e.name.length * 6.2;
  }
  return parts;
}

function axes(f: ReturnType<typeof frame>, xs: Scale | null, ys: Scale, opts: ChartFrame): string[] {
  const parts: string[] = [];
  for (const t of ys.ticks) {
    const y = ys.map(t);
    parts.push(line(f.left, y, f.right, y, { stroke: "#ececec" }));
    parts.push(label(f.left - 6, y + 4, tickLabel(t), { "text-anchor": "end", fill: MUTED_COLOUR, class: "y-tick" }));
  }
  if (xs) {
    for (const t of xs.ticks) {
      const x = xs.map(t);
      parts.push(line(x, f.bottom, x, f.bottom + 4, { stroke: "#999" }));
      parts.push(label(x, f.bottom + 16, tickLabel(t), { "text-anchor": "middle", fill: MUTED_COLOUR, class: "x-tick" }));
    }
  }
  parts.push(line(f.left, f.bottom, f.right, f.bottom, { stroke: "#999" }), line(f.left, f.top, f.left, f.bottom, { stroke: "#999" }));
  if (opts.xLabel) parts.push(label((f.left + f.right) / 2, f.height - 8, opts.xLabel, { "text-anchor": "middle" }));
  if (opts.yLabel) {
    const cy = (f.top + f.bottom) / 2;
    parts.push(label(14, cy, opts.yLabel, { "text-anchor": "middle", transform: `rotate(-90 14 ${num(cy)})` }));
  }
  return parts;
}

export function lineChart(opts: LineChartOptions): Chart {
  const f = frame(opts);
  const usable = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
  const all = opts.series.flatMap((s) => s.points.filter(([x, y]) => usable(x, opts.xLog) && usable(y, opts.yLog)));
  const range = (vals: number[], log?: boolean): [number, number] =>
    vals.length > 0 ? [Math.min(...vals), Math.max(...vals)] : log ? [1, 10] : [0, 1];
  const [xMin, xMax] = range(all.map(([x]) => x), opts.xLog);
  let [yMin, yMax] = range(all.map(([, y]) => y), opts.yLog);
  if (!opts.yLog && (opts.yFromZero ?? yMin >= 0)) yMin = Math.min(0, yMin);
  const xs = opts.xLog ? logScale(xMin, xMax, f.left, f.right) : linearScale(xMin, xMax, f.left, f.right);
  const ys = opts.yLog ? logScale(yMin, yMax, f.bottom, f.top) : linearScale(yMin, yMax, f.bottom, f.top);

  const body: string[] = [...axes(f, xs, ys, opts)];
  const entries: Array<{ name: string; colour: string; mode: string; dashed?: boolean }> = [];
  opts.series.forEach((s, i) => {
    const colour = s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    const mode = s.mode ?? "line+points";
    entries.push({ name: s.name, colour, mode, dashed: s.dashed });
    const parts: string[] = [];
    if (mode !== "points") {
      // A gap in the data (NaN, or <= 0 on a log axis) breaks the line rather than bridging it.
      let d = "";
      let pen = "M";
      for (const [x, y] of s.points) {
        if (!usable(x, opts.xLog) || !usable(y, opts.yLog)) {
          pen = "M";
          continue;
        }
        d += `${pen}${num(xs.map(x))} ${num(ys.map(y))}`;
        pen = "L";
      }
      if (d) parts.push(el("path", { d, fill: "none", stroke: colour, "stroke-width": 2, "stroke-dasharray": s.dashed ? "5 3" : undefined, class: "line" }));
    }
    if (mode !== "line") {
      for (const [x, y] of s.points) {
        if (!usable(x, opts.xLog) || !usable(y, opts.yLog)) continue;
        parts.push(
          el("circle", { cx: xs.map(x), cy: ys.map(y), r: 3.5, fill: colour, class: "point", "data-x": String(x), "data-y": String(y) },
            el("title", {}, txt(`${s.name}: ${formatNumber(x)}, ${formatNumber(y)}`))),
        );
      }
    }
    body.push(el("g", { class: "series", "data-name": s.name }, ...parts));
  });
  if (all.length === 0) body.push(label((f.left + f.right) / 2, (f.top + f.bottom) / 2, "no data", { "text-anchor": "middle", fill: MUTED_COLOUR }));
  body.unshift(...titleAndLegend(opts, entries));
  return new Chart(svgDocument(f.width, f.height, opts.title ?? "chart", body, { class: "nbpool-chart" }), lineChartText(opts));
}

export function barChart(opts: BarChartOptions): Chart {
  const f = frame(opts);
  const values = opts.series.flatMap((s) => s.values.filter(Number.isFinite));
  const ys = linearScale(Math.min(0, ...values), Math.max(0, ...values, values.length ? 0 : 1), f.bottom, f.top);
  const body: string[] = [...axes(f, null, ys, opts)];
  const n = Math.max(1, opts.categories.length);
  const band = (f.right - f.left) / n;
  const groupWidth = band * 0.8;
  const barWidth = groupWidth / Math.max(1, opts.series.length);
  const zero = ys.map(0);
  opts.categories.forEach((c, ci) => {
    body.push(label(f.left + band * (ci + 0.5), f.bottom + 16, c, { "text-anchor": "middle", fill: MUTED_COLOUR, class: "x-tick" }));
  });
  const entries: Array<{ name: string; colour: string; mode: string }> = [];
  opts.series.forEach((s, si) => {
    const colour = s.colour ?? SERIES_COLOURS[si % SERIES_COLOURS.length]!;
    entries.push({ name: s.name, colour, mode: "bar" });
    const bars: string[] = [];
    opts.categories.forEach((c, ci) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = f.left + band * ci + (band - groupWidth) / 2 + barWidth * si;
      const y = ys.map(v);
      bars.push(
        rect(x, Math.min(y, zero), barWidth - 1, Math.abs(zero - y), { fill: colour, class: "bar", "data-category": c, "data-value": String(v) }, `${s.name}, ${c}: ${formatNumber(v)}`),
      );
    });
    body.push(el("g", { class: "series", "data-name": s.name }, ...bars));
  });
  body.unshift(...titleAndLegend(opts, entries));
  const text = [opts.title ?? "chart", textTable([opts.xLabel ?? "", ...opts.series.map((s) => s.name)], opts.categories.map((c, ci) => [c, ...opts.series.map((s) => (s.values[ci] === undefined ? "–" : formatNumber(s.values[ci]!)))]))];
  return new Chart(svgDocument(f.width, f.height, opts.title ?? "chart", body, { class: "nbpool-chart" }), text.join("\n"));
}

/** The data as text: one table when the series share x values, else one block per series. */
function lineChartText(opts: LineChartOptions): string {
  const head = [opts.title ?? "chart"];
  const xKey = (s: LineSeries) => s.points.map(([x]) => x).join(",");
  const shared = opts.series.length > 0 && opts.series.every((s) => xKey(s) === xKey(opts.series[0]!));
  const xName = opts.xLabel ?? "x";
  if (shared) {
    const rows = opts.series[0]!.points.map(([x], i) => [formatNumber(x), ...opts.series.map((s) => formatNumber(s.points[i]![1]))]);
    return [...head, textTable([xName, ...opts.series.map((s) => s.name)], rows)].join("\n");
  }
  for (const s of opts.series) {
    if (s.mode === "line" && s.points.length > MAX_TEXT_ROWS) {
      // A drawn curve (a model, not measurements): its extent says enough in text.
      const xs = s.points.map(([x]) => x);
      const ys = s.points.map(([, y]) => y);
      head.push("", `${s.name}: curve of ${s.points.length} points, ${xName} ${formatNumber(Math.min(...xs))}–${formatNumber(Math.max(...xs))}, ` +
        `${opts.yLabel ?? "y"} ${formatNumber(Math.min(...ys))}–${formatNumber(Math.max(...ys))}`);
      continue;
    }
    head.push("", `${s.name}:`, textTable([xName, opts.yLabel ?? "y"], s.points.map(([x, y]) => [formatNumber(x), formatNumber(y)])));
  }
  return head.join("\n");
}
