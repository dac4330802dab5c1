/** A small SVG histogram of durations, with the p50/p90/p99 marked, for the stats table. */

import type { Histogram, Summary } from "./distribution";
import { formatDuration } from "./format";
import { MUTED_COLOUR, el, label, line, rect, svgDocument, txt } from "./svg";

const WIDTH = 260;
const HEIGHT = 76;
const PAD_X = 6;
const TOP = 14;
const BOTTOM = 18;

export function histogramSvg(hist: Histogram, summary: Summary, title: string, colour = "#0072B2"): string {
  const plotW = WIDTH - 2 * PAD_X;
  const plotH = HEIGHT - TOP - BOTTOM;
  const lo = hist.edges[0]!;
  const hi = hist.edges[hist.edges.length - 1]!;
  const axis = hist.log ? Math.log : (v: number) => v;
  const x = (v: number) => PAD_X + ((axis(Math.min(hi, Math.max(lo, v))) - axis(lo)) / (axis(hi) - axis(lo) || 1)) * plotW;
  const tallest = Math.max(1, ...hist.counts);

  const parts: string[] = [];
  hist.counts.forEach((count, i) => {
    const x0 = x(hist.edges[i]!);
    const x1 = x(hist.edges[i + 1]!);
    const h = (count / tallest) * plotH;
    const tip = `${formatDuration(hist.edges[i]!)} – ${formatDuration(hist.edges[i + 1]!)}: ${count}`;
    parts.push(rect(x0 + 0.5, TOP + plotH - h, Math.max(0.5, x1 - x0 - 1), h, { fill: colour, class: "bin", "data-count": String(count) }, tip));
  });
  parts.push(line(PAD_X, TOP + plotH + 0.5, WIDTH - PAD_X, TOP + plotH + 0.5, { stroke: "#999" }));

  // Percentile markers; a label is skipped when it would overprint the previous one (the
  // table next to the histogram has the numbers anyway).
  const marks: Array<[string, number]> = [["p50", summary.p50], ["p90", summary.p90], ["p99", summary.p99]];
  let lastLabelX = -Infinity;
  for (const [name, value] of marks) {
    const mx = x(value);
    const showLabel = mx - lastLabelX >= 16;
    if (showLabel) lastLabelX = mx;
    parts.push(
      el("g", { class: "percentile", "data-name": name, "data-value": String(value) },
        el("title", {}, txt(`${name} = ${formatDuration(value)}`)),
        line(mx, TOP - 2, mx, TOP + plotH, { stroke: "#333", "stroke-dasharray": "2 2" }),
        showLabel ? label(Math.min(WIDTH - 10, Math.max(10, mx)), 9, name, { "font-size": 8, "text-anchor": "middle", fill: "#333" }) : "",
      ),
    );
  }
  parts.push(label(PAD_X, HEIGHT - 4, formatDuration(lo), { "font-size": 9, fill: MUTED_COLOUR }));
  parts.push(label(WIDTH - PAD_X, HEIGHT - 4, formatDuration(hi), { "font-size": 9, fill: MUTED_COLOUR, "text-anchor": "end" }));
  if (hist.log) parts.push(label(WIDTH / 2, HEIGHT - 4, "log scale", { "font-size": 9, fill: MUTED_COLOUR, "text-anchor": "middle" }));
  return svgDocument(WIDTH, HEIGHT, title, parts, { class: "nbpool-histogram" });
}
