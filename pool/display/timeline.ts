/**
 * `pool.timeline()`: a Gantt chart of what the workers did. One lane per worker, one bar
 * per task coloured by outcome, worker start-up and exits marked, utilisation per lane and
 * overall. When bars would be thinner than a pixel (thousands of short tasks), each lane
 * is drawn as per-pixel-column occupancy instead, and the chart says so.
 */

import type { WorkerRecord } from "../records";
import { Displayable, type MimeBundle } from "./bundle";
import { niceTicks, tickLabel } from "./axis";
import { formatCount, formatDuration, formatPercent } from "./format";
import {
  ALIVE_COLOUR,
  BAD_EXIT_COLOUR,
  GOOD_EXIT_COLOUR,
  OUTCOME_COLOURS,
  OUTCOME_LABELS,
  OUTCOME_ORDER,
  STARTING_COLOUR,
  isBadExit,
  type DrawnOutcome,
} from "./palette";
import { MUTED_COLOUR, el, label, line, num, rect, svgDocument, txt } from "./svg";
import { buildTimeline, drawnOutcome, ownerNow, runInterval, type Lane, type TimelineInput, type TimelineModel } from "./timeline-model";

export type { TimelineInput, TimelineModel, Lane };

export interface TimelineOptions {
  /** Picture width in px (default 960). */
  width?: number;
}

/** More individual bars than this are aggregated even if each would be wide enough. */
export const MAX_BARS = 5000;

const LABEL_WIDTH = 160;
const RIGHT_WIDTH = 60;
const TOP = 72;
const MAX_LANE_HEIGHT = 18;
const MIN_LANE_HEIGHT = 3;
const LANES_HEIGHT_BUDGET = 720;
/** Failures stay visible in aggregated columns however short they were. */
const MIN_FAILURE_HEIGHT = 3;

export class Timeline extends Displayable {
  readonly model: TimelineModel;
  readonly width: number;
  /** Whether bars were aggregated into per-pixel occupancy. */
  readonly aggregated: boolean;
  private readonly now: number;

  constructor(input: TimelineInput, options: TimelineOptions = {}) {
    super();
    this.now = input.now ?? ownerNow();
    this.model = buildTimeline({ ...input, now: this.now });
    this.width = Math.max(400, options.width ?? 960);
    this.aggregated = this.shouldAggregate();
  }

  get utilisation(): number {
    return this.model.utilisation;
  }

  private get plotWidth(): number {
    return this.width - LABEL_WIDTH - RIGHT_WIDTH;
  }

  private get span(): number {
    return this.model.to - this.model.from;
  }

  private x(t: number): number {
    const span = this.span;
    return LABEL_WIDTH + (span > 0 ? ((t - this.model.from) / span) * this.plotWidth : 0);
  }

  private clip(interval: [number, number]): [number, number] {
    return [Math.max(interval[0], this.model.from), Math.min(interval[1], this.model.to)];
  }

  private shouldAggregate(): boolean {
    const widths: number[] = [];
    for (const lane of this.model.lanes) {
      for (const t of lane.tasks) {
        const [s, e] = this.clip(runInterval(t, this.now)!);
        widths.push(this.x(e) - this.x(s));
      }
    }
    if (widths.length > MAX_BARS) return true;
    if (widths.length === 0) return false;
    widths.sort((a, b) => a - b);
    return widths[Math.floor(widths.length / 2)]! < 1;
  }

  toText(): string {
    const m = this.model;
    const span = this.span;
    const header =
      `nbpool timeline · ${m.scope} · ${formatCount(m.tasks.length)} tasks, ${formatCount(m.items)} items · ` +
      `${formatDuration(span)}`;
    const outcomes = [...OUTCOME_ORDER, "queued" as const]
      .filter((o) => m.counts[o] > 0)
      .map((o) => `${o === "queued" ? "never started" : OUTCOME_LABELS[o]} ${formatCount(m.counts[o])}`)
      .join(", ");
    const lines = [header, `  outcomes: ${outcomes || "no tasks"}`];
    lines.push(`  overall utilisation ${formatPercent(m.utilisation)} of ${m.slots} worker slot${m.slots === 1 ? "" : "s"}`);
    if (m.packed) lines.push(`  (${formatCount(m.lanes.reduce((n, l) => n + l.ids.length, 0))} workers packed into ${m.lanes.length} lanes: a lane holds workers that replaced one another)`);
    m.lanes.forEach((lane, i) => {
      const who = m.packed ? `lane ${i + 1}, ${laneName(lane)}` : laneName(lane);
      let row = `  ${who}: ${formatCount(lane.tasks.length)} tasks, busy ${formatDuration(lane.busy)}, ${formatPercent(lane.utilisation)}`;
      const exits = lane.records.filter((r) => r.exited !== undefined && r.exited <= m.to);
      if (!m.packed && exits.length === 1) row += `, ${exitWords(exits[0]!)}`;
      if (m.packed && exits.length > 0) row += `; exits: ${countWords(exits.map((r) => r.reason ?? "unknown"))}`;
      lines.push(row);
    });
    if (this.aggregated) lines.push(`  (${formatCount(barCount(m))} task bars thinner than a pixel: drawn as per-pixel occupancy)`);
    return lines.join("\n");
  }

  protected richBundle(): MimeBundle {
    return { "image/svg+xml": this.toSvg() };
  }

  toSvg(): string {
    const m = this.model;
    const lanes = m.lanes.length;
    const laneHeight = Math.max(MIN_LANE_HEIGHT, Math.min(MAX_LANE_HEIGHT, Math.floor(LANES_HEIGHT_BUDGET / Math.max(1, lanes)) - 4));
    const pitch = laneHeight + (laneHeight >= 10 ? 4 : 1);
    const lanesBottom = TOP + lanes * pitch;
    const notes: Array<[string, string]> = [];
    if (this.aggregated) {
      notes.push([
        "aggregation-note",
        `${formatCount(barCount(m))} task bars would be thinner than a pixel: each pixel column shows the share of time the worker was busy, by outcome.`,
      ]);
    }
    if (m.packed) {
      const workers = m.lanes.reduce((n, l) => n + l.ids.length, 0);
      notes.push(["packing-note", `${formatCount(workers)} workers packed into ${m.lanes.length} lanes: a lane holds workers that replaced one another.`]);
    }
    const height = lanesBottom + 40 + 16 * notes.length;
    const body: string[] = [];

    body.push(label(8, 18, `Timeline · ${m.scope}`, { "font-size": 14, "font-weight": "bold" }));
    body.push(
      label(
        8,
        36,
        `${formatCount(m.tasks.length)} tasks · ${formatCount(m.items)} items · ${formatDuration(this.span)} · ` +
          `utilisation ${formatPercent(m.utilisation)} of ${m.slots} worker slot${m.slots === 1 ? "" : "s"}`,
        { fill: MUTED_COLOUR, class: "summary" },
      ),
    );
    body.push(this.legend(54));
    body.push(this.axis(TOP, lanesBottom));

    m.lanes.forEach((lane, i) => body.push(this.lane(lane, TOP + i * pitch, laneHeight)));
    if (lanes === 0) body.push(label(LABEL_WIDTH, TOP + 14, "no workers or tasks in this window", { fill: MUTED_COLOUR }));

    notes.forEach(([cls, text], i) => body.push(label(8, height - 8 - 16 * (notes.length - 1 - i), text, { fill: MUTED_COLOUR, class: cls })));
    return svgDocument(this.width, height, `nbpool timeline, ${m.scope}`, body, {
      "data-from": String(m.from),
      "data-to": String(m.to),
      "data-utilisation": String(m.utilisation),
      "data-mode": this.aggregated ? "aggregated" : "bars",
    });
  }

  private legend(y: number): string {
    const items: Array<[string, string]> = OUTCOME_ORDER.filter((o) => o !== "running" || this.model.counts.running > 0).map(
      (o) => [OUTCOME_COLOURS[o], OUTCOME_LABELS[o]],
    );
    items.push([STARTING_COLOUR, "worker starting"]);
    const parts: string[] = [];
    let x = 8;
    for (const [colour, name] of items) {
      parts.push(rect(x, y - 9, 10, 10, { fill: colour }), label(x + 14, y, name));
      x += 24 + name.length * 6.2;
    }
    parts.push(exitMark(x + 5, y - 4, 4, BAD_EXIT_COLOUR), label(x + 14, y, "worker died"));
    x += 24 + 11 * 6.2;
    parts.push(exitMark(x + 5, y - 4, 4, GOOD_EXIT_COLOUR), label(x + 14, y, "worker stopped"));
    return el("g", { class: "legend" }, ...parts);
  }

  private axis(top: number, bottom: number): string {
    const span = this.span;
    const useSeconds = span >= 2000;
    const { ticks } = niceTicks(0, Math.max(span, 1e-3) / (useSeconds ? 1000 : 1), 8);
    const parts: string[] = [line(LABEL_WIDTH, bottom + 2, LABEL_WIDTH + this.plotWidth, bottom + 2, { stroke: "#999" })];
    for (const tick of ticks) {
      const ms = tick * (useSeconds ? 1000 : 1);
      if (ms > span + 1e-9) continue;
      const x = this.x(this.model.from + ms);
      parts.push(line(x, top - 4, x, bottom + 2, { stroke: "#e6e6e6" }));
      parts.push(line(x, bottom + 2, x, bottom + 6, { stroke: "#999" }));
      parts.push(label(x, bottom + 18, tickLabel(tick), { "text-anchor": "middle", fill: MUTED_COLOUR }));
    }
    parts.push(
      label(LABEL_WIDTH + this.plotWidth, bottom + 32, `time since start of ${this.model.scope} (${useSeconds ? "s" : "ms"})`, {
        "text-anchor": "end",
        fill: MUTED_COLOUR,
      }),
    );
    return el("g", { class: "axis" }, ...parts);
  }

  private lane(lane: Lane, y: number, h: number): string {
    const parts: string[] = [];
    for (const rec of lane.records) parts.push(...this.lifeBands(rec, y, h));
    parts.push(...(this.aggregated ? this.occupancy(lane, y, h) : this.bars(lane, y, h)));
    for (const rec of lane.records) parts.push(...this.lifeMarks(rec, y, h));
    const name = laneName(lane);
    const fontSize = Math.min(11, h);
    if (h >= 7) parts.push(label(LABEL_WIDTH - 8, y + h / 2 + fontSize * 0.35, name, { "text-anchor": "end", "font-size": fontSize }));
    if (h >= 7) parts.push(label(LABEL_WIDTH + this.plotWidth + 6, y + h / 2 + fontSize * 0.35, formatPercent(lane.utilisation), { "font-size": fontSize, class: "utilisation" }));
    const single = lane.ids.length === 1;
    return el(
      "g",
      {
        class: "lane",
        "data-worker": single ? String(lane.ids[0]) : undefined,
        "data-pid": single && lane.records[0] ? String(lane.records[0].pid) : undefined,
        "data-workers": lane.ids.join(" "),
        "data-busy-ms": String(lane.busy),
        "data-utilisation": String(lane.utilisation),
      },
      el("title", {}, txt(`${name}: ${formatCount(lane.tasks.length)} tasks, busy ${formatDuration(lane.busy)} (${formatPercent(lane.utilisation)})`)),
      ...parts,
    );
  }

  /** The worker's lifetime within the window, and its start-up (spawn until ready). */
  private lifeBands(rec: WorkerRecord, y: number, h: number): string[] {
    const parts: string[] = [];
    const end = Math.max(this.now, this.model.to);
    const [aliveFrom, aliveTo] = this.clip([rec.spawned, rec.exited ?? end]);
    if (aliveTo >= aliveFrom) parts.push(rect(this.x(aliveFrom), y, this.x(aliveTo) - this.x(aliveFrom), h, { fill: ALIVE_COLOUR, class: "alive" }));
    const [startFrom, startTo] = this.clip([rec.spawned, rec.ready ?? rec.exited ?? end]);
    if (startTo > startFrom) {
      const tip = rec.ready !== undefined ? `worker ${rec.id} starting: ready after ${formatDuration(rec.ready - rec.spawned)}` : `worker ${rec.id} starting`;
      parts.push(rect(this.x(startFrom), y, this.x(startTo) - this.x(startFrom), h, { fill: STARTING_COLOUR, class: "starting" }, tip));
    }
    return parts;
  }

  /**
   * Spawn (a triangle) and exit (an ✕, red when work was lost). In packed lanes, where
   * workers follow one another, orderly exits are hairlines and spawns are left to the
   * start-up band: dozens of glyphs per lane would hide the tasks.
   */
  private lifeMarks(rec: WorkerRecord, y: number, h: number): string[] {
    const m = this.model;
    const parts: string[] = [];
    if (rec.exited !== undefined && rec.exited >= m.from && rec.exited <= m.to) {
      const bad = isBadExit(rec.reason);
      const ex = this.x(rec.exited);
      const mark =
        m.packed && !bad
          ? line(ex, y, ex, y + h, { stroke: GOOD_EXIT_COLOUR, "stroke-width": 0.75 })
          : exitMark(ex, y + h / 2, Math.max(2, Math.min(5, h / 2 - 1)), bad ? BAD_EXIT_COLOUR : GOOD_EXIT_COLOUR);
      parts.push(el("g", { class: "exit", "data-reason": rec.reason ?? "unknown" }, el("title", {}, txt(`worker ${rec.id} (pid ${rec.pid}) ${exitWords(rec)}`)), mark));
    }
    if (!m.packed && rec.spawned >= m.from && rec.spawned <= m.to) {
      const sx = this.x(rec.spawned);
      const s = Math.max(2, Math.min(4, h / 3));
      parts.push(el("path", { d: `M${num(sx)} ${num(y + h / 2 - s)}L${num(sx + s * 1.5)} ${num(y + h / 2)}L${num(sx)} ${num(y + h / 2 + s)}Z`, fill: "#444", class: "spawn" }));
    }
    return parts;
  }

  private bars(lane: Lane, y: number, h: number): string[] {
    return lane.tasks.map((t) => {
      const [s, e] = this.clip(runInterval(t, this.now)!);
      const outcome = drawnOutcome(t) as DrawnOutcome;
      const last = t.firstIndex + t.items - 1;
      const tip =
        `task ${t.id} · ${t.items === 1 ? `item ${t.firstIndex}` : `items ${t.firstIndex}–${last}`} · worker ${t.worker} · ` +
        `ran ${formatDuration(runInterval(t, this.now)![1] - t.started!)} after ${formatDuration(t.started! - t.submitted)} queued · ${OUTCOME_LABELS[outcome]}`;
      // A sliver of at least 1 px: a bar one cannot see might as well not be drawn.
      const x0 = this.x(s);
      const w = Math.max(1, this.x(e) - x0);
      // A hairline of white between wide bars, so back-to-back tasks read as separate tasks.
      const edge = w > 3 ? { stroke: "#fff", "stroke-width": 0.5 } : {};
      return rect(x0, y + 1, w, h - 2, { fill: OUTCOME_COLOURS[outcome], class: "task", "data-task": String(t.id), "data-outcome": outcome, ...edge }, tip);
    });
  }

  /** Per-pixel-column share of time busy, stacked by outcome; runs of equal columns merged. */
  private occupancy(lane: Lane, y: number, h: number): string[] {
    const columns = Math.max(1, Math.floor(this.plotWidth));
    const colMs = this.span / columns;
    if (!(colMs > 0)) return [];
    const byOutcome = new Map<DrawnOutcome, Float64Array>(OUTCOME_ORDER.map((o) => [o, new Float64Array(columns)]));
    for (const t of lane.tasks) {
      const [s, e] = this.clip(runInterval(t, this.now)!);
      const acc = byOutcome.get(drawnOutcome(t) as DrawnOutcome)!;
      const c0 = Math.max(0, Math.floor((s - this.model.from) / colMs));
      const c1 = Math.min(columns - 1, Math.floor((e - this.model.from) / colMs));
      for (let c = c0; c <= c1; c++) {
        const colStart = this.model.from + c * colMs;
        acc[c]! += Math.max(0, Math.min(e, colStart + colMs) - Math.max(s, colStart));
      }
    }
    const stackAt = (c: number): number[] => {
      let room = h;
      return OUTCOME_ORDER.map((o) => {
        const ms = byOutcome.get(o)![c]!;
        if (ms <= 0 || room <= 0) return 0;
        let px = (ms / colMs) * h;
        if (o !== "ok" && o !== "running") px = Math.max(px, MIN_FAILURE_HEIGHT);
        // Whole pixels: finer steps are invisible and would break runs of equal columns.
        px = Math.min(room, Math.round(px));
        room -= px;
        return px;
      });
    };
    // One <path> per outcome made of rectangle subpaths: a quarter of the bytes of <rect>s,
    // which matters with dozens of lanes of hundreds of columns.
    const paths = new Map<DrawnOutcome, string[]>(OUTCOME_ORDER.map((o) => [o, []]));
    const colWidth = this.plotWidth / columns;
    let runStart = 0;
    let runStack = stackAt(0);
    const flush = (end: number) => {
      let bottom = y + h;
      OUTCOME_ORDER.forEach((o, i) => {
        const px = runStack[i]!;
        if (px <= 0) return;
        bottom -= px;
        const w = (end - runStart) * colWidth;
        paths.get(o)!.push(`M${num(LABEL_WIDTH + runStart * colWidth)} ${num(bottom)}h${num(w)}v${num(px)}h${num(-w)}z`);
      });
    };
    for (let c = 1; c < columns; c++) {
      const stack = stackAt(c);
      if (stack.some((v, i) => v !== runStack[i])) {
        flush(c);
        runStart = c;
        runStack = stack;
      }
    }
    flush(columns);
    return OUTCOME_ORDER.filter((o) => paths.get(o)!.length > 0).map((o) =>
      el("path", { d: paths.get(o)!.join(""), fill: OUTCOME_COLOURS[o], class: "occupancy", "data-outcome": o }),
    );
  }
}

function barCount(m: TimelineModel): number {
  return m.lanes.reduce((s, l) => s + l.tasks.length, 0);
}

/** "worker 3 · pid 1234", or for a packed lane "40 workers #1…#79". */
function laneName(lane: Lane): string {
  if (lane.ids.length === 1) return `worker ${lane.ids[0]} · pid ${lane.records[0]?.pid ?? "?"}`;
  return `${lane.ids.length} workers #${lane.ids[0]}…#${lane.ids[lane.ids.length - 1]}`;
}

/** ["recycled", "recycled", "crashed"] -> "recycled 2, crashed 1". */
function countWords(words: string[]): string {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].map(([w, n]) => `${w} ${n}`).join(", ");
}

function exitWords(w: WorkerRecord): string {
  const how = w.signal ? `signal ${w.signal}` : w.exitCode !== undefined && w.exitCode !== null ? `code ${w.exitCode}` : "";
  return `exited: ${w.reason ?? "unknown reason"}${how ? ` (${how})` : ""}`;
}

/** An ✕ drawn as two strokes (no font has to carry the glyph). */
function exitMark(cx: number, cy: number, r: number, colour: string): string {
  return el("path", { d: `M${num(cx - r)} ${num(cy - r)}L${num(cx + r)} ${num(cy + r)}M${num(cx + r)} ${num(cy - r)}L${num(cx - r)} ${num(cy + r)}`, stroke: colour, "stroke-width": 2, fill: "none" });
}
