/**
 * `pool.stats()`: what the pool did, as numbers. Tasks by outcome, queue wait and run time
 * distributions, throughput, and one row per worker with its memory and CPU time. Displays
 * as an HTML table (histograms inline as SVG) and as a plain-text table.
 */

import type { CallRecord, TaskRecord, TaskOutcome, WorkerRecord } from "../records";
import { Displayable, escapeHtml, type MimeBundle } from "./bundle";
import { histogram, summarise, unionLength, type Histogram, type Summary } from "./distribution";
import { formatBytes, formatCount, formatDuration, formatNumber, textTable } from "./format";
import { histogramSvg } from "./histogram";
import { OUTCOME_COLOURS, OUTCOME_LABELS, OUTCOME_ORDER } from "./palette";
import { readProcessUsage, type ProcessUsage } from "./proc";
import { ownerNow } from "./timeline-model";

export interface StatsInput {
  tasks: readonly TaskRecord[];
  workers: readonly WorkerRecord[];
  calls?: readonly CallRecord[];
  /** The pool's name, for the caption. */
  name?: string;
  now?: number;
  /** How to read a live worker's RSS and CPU time; default /proc (Linux), else nothing. */
  usage?: (pid: number) => ProcessUsage | undefined;
}

export type TaskState = TaskOutcome | "running" | "queued";
export const TASK_STATES: readonly TaskState[] = [...(OUTCOME_ORDER.filter((o) => o !== "running") as TaskOutcome[]), "running", "queued"];

export interface Distribution extends Summary {
  histogram: Histogram;
}

export interface WorkerStats {
  id: number;
  pid: number;
  state: "starting" | "idle" | "busy" | "exited";
  /** Why it exited, for exited workers. */
  reason?: string;
  tasksDone: number;
  /** The task it is running now (the oldest, if several are in flight). */
  currentTask?: { id: number; call: number; firstIndex: number; items: number; runningFor: number };
  /** Tasks in flight on it now. */
  inFlight: number;
  rss?: number;
  /** CPU time (user + system), ms. */
  cpu?: number;
  uptime: number;
}

/** Exited workers beyond this many (most recent first) are summarised in one line. */
export const MAX_EXITED_ROWS = 8;

export class PoolStats extends Displayable {
  readonly name?: string;
  readonly counts: Record<TaskState, number>;
  readonly total: number;
  readonly items: number;
  /** submitted -> started, for tasks that started. */
  readonly queueWait?: Distribution;
  /** started -> ended, for tasks that finished (any outcome). */
  readonly runTime?: Distribution;
  /** Completed (ok or error) tasks and their items per second of activity (time with any task submitted and unfinished). */
  readonly throughput: { completed: number; completedItems: number; activeTime: number; tasksPerSecond: number; itemsPerSecond: number };
  readonly workers: WorkerStats[];

  constructor(input: StatsInput) {
    super();
    const now = input.now ?? ownerNow();
    const usage = input.usage ?? readProcessUsage;
    this.name = input.name;

    this.counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
    const waits: number[] = [];
    const runs: number[] = [];
    const active: Array<[number, number]> = [];
    let completed = 0;
    let completedItems = 0;
    let items = 0;
    for (const t of input.tasks) {
      this.counts[t.outcome ?? (t.started === undefined ? "queued" : "running")]++;
      items += t.items;
      if (t.started !== undefined) waits.push(t.started - t.submitted);
      if (t.started !== undefined && t.ended !== undefined) runs.push(t.ended - t.started);
      active.push([t.submitted, t.ended ?? now]);
      if (t.outcome === "ok" || t.outcome === "error") {
        completed++;
        completedItems += t.items;
      }
    }
    this.total = input.tasks.length;
    this.items = items;
    this.queueWait = distribution(waits);
    this.runTime = distribution(runs);
    const activeTime = unionLength(active);
    this.throughput = {
      completed,
      completedItems,
      activeTime,
      tasksPerSecond: activeTime > 0 ? (completed * 1000) / activeTime : 0,
      itemsPerSecond: activeTime > 0 ? (completedItems * 1000) / activeTime : 0,
    };
    this.workers = workerRows(input, now, usage);
  }

  toText(): string {
    const lines = [`nbpool stats${this.name ? ` · ${this.name}` : ""} · ${formatCount(this.total)} tasks, ${formatCount(this.items)} items`];
    lines.push(`  ${this.total === 0 ? "no tasks yet" : this.outcomeCells().map(([state, n]) => `${state} ${formatCount(n)}`).join(", ")}`);
    const t = this.throughput;
    lines.push(`  throughput: ${throughputWords(t)}`);
    const dist = this.distributionRows();
    if (dist.length > 0) {
      lines.push("", indent(textTable(["", "n", "p50", "p90", "p99", "max"], dist.map(([name, d]) => [name, formatCount(d.count), ...[d.p50, d.p90, d.p99, d.max].map(formatDuration)]))));
    }
    const { rows, hidden } = this.workerTableRows();
    if (rows.length > 0) {
      lines.push("", indent(textTable(WORKER_HEADER, rows)));
      if (hidden > 0) lines.push(`  … and ${hidden} earlier exited worker${hidden === 1 ? "" : "s"}`);
    }
    return lines.join("\n");
  }

  protected richBundle(): MimeBundle {
    return { "text/html": this.toHtml() };
  }

  toHtml(): string {
    const cell = (s: string, attrs = "") => `<td${attrs}>${escapeHtml(s)}</td>`;
    const right = ' style="text-align:right"';
    const parts: string[] = [`<div class="nbpool-stats">`];
    parts.push(`<table><caption style="text-align:left;font-weight:bold">nbpool stats${escapeHtml(this.name ? ` · ${this.name}` : "")} · ${formatCount(this.total)} tasks, ${formatCount(this.items)} items</caption>`);
    const outcomes = this.outcomeCells();
    parts.push(`<tr>${outcomes.map(([state]) => `<th>${escapeHtml(state)}</th>`).join("")}<th>total</th></tr>`);
    parts.push(`<tr class="outcomes">${outcomes.map(([state, n]) => `<td data-state="${escapeHtml(state)}" style="text-align:right;color:${colourOf(state)}">${formatCount(n)}</td>`).join("")}${cell(formatCount(this.total), right)}</tr>`);
    parts.push(`</table>`);
    parts.push(`<p class="throughput">${escapeHtml(`Throughput: ${throughputWords(this.throughput)}`)}</p>`);

    const dist = this.distributionRows();
    if (dist.length > 0) {
      parts.push(`<table class="distributions"><tr><th></th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>histogram</th></tr>`);
      for (const [name, d] of dist) {
        const svg = histogramSvg(d.histogram, d, `${name} histogram`);
        parts.push(`<tr data-name="${escapeHtml(name)}">${cell(name)}${cell(formatCount(d.count), right)}${[d.p50, d.p90, d.p99, d.max].map((v) => cell(formatDuration(v), right)).join("")}<td>${svg}</td></tr>`);
      }
      parts.push(`</table>`);
    }

    const { rows, hidden } = this.workerTableRows();
    if (rows.length > 0) {
      parts.push(`<table class="workers"><tr>${WORKER_HEADER.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`);
      for (const r of rows) parts.push(`<tr>${r.map((c, i) => cell(c, i === 0 || i === 2 || i === 4 ? "" : right)).join("")}</tr>`);
      parts.push(`</table>`);
      if (hidden > 0) parts.push(`<p>… and ${hidden} earlier exited worker${hidden === 1 ? "" : "s"}</p>`);
    }
    parts.push(`</div>`);
    return parts.join("\n");
  }

  /** Outcome columns worth showing: always ok and error, others when they happened. */
  private outcomeCells(): Array<[string, number]> {
    return TASK_STATES.filter((s) => s === "ok" || s === "error" || this.counts[s] > 0).map((s) => [stateLabel(s), this.counts[s]]);
  }

  private distributionRows(): Array<[string, Distribution]> {
    const rows: Array<[string, Distribution]> = [];
    if (this.queueWait) rows.push(["queue wait", this.queueWait]);
    if (this.runTime) rows.push(["run time", this.runTime]);
    return rows;
  }

  private workerTableRows(): { rows: string[][]; hidden: number } {
    const live = this.workers.filter((w) => w.state !== "exited");
    const exited = this.workers.filter((w) => w.state === "exited");
    const shown = [...live, ...exited.slice(-MAX_EXITED_ROWS).reverse()];
    const rows = shown.map((w) => [
      `worker ${w.id}`,
      String(w.pid),
      w.state === "exited" ? `exited (${w.reason ?? "unknown"})` : w.state,
      formatCount(w.tasksDone),
      w.currentTask
        ? `task ${w.currentTask.id} (call ${w.currentTask.call}, item ${w.currentTask.firstIndex}${w.currentTask.items > 1 ? `+${w.currentTask.items - 1}` : ""}) for ${formatDuration(w.currentTask.runningFor)}${w.inFlight > 1 ? ` +${w.inFlight - 1} more` : ""}`
        : "–",
      w.rss === undefined ? "–" : formatBytes(w.rss),
      w.cpu === undefined ? "–" : formatDuration(w.cpu),
      formatDuration(w.uptime),
    ]);
    return { rows, hidden: exited.length - Math.min(exited.length, MAX_EXITED_ROWS) };
  }
}

const WORKER_HEADER = ["worker", "pid", "state", "tasks done", "current task", "RSS", "CPU time", "uptime"];

function distribution(values: number[]): Distribution | undefined {
  const summary = summarise(values);
  const hist = histogram(values);
  return summary && hist ? { ...summary, histogram: hist } : undefined;
}

function workerRows(input: StatsInput, now: number, usage: (pid: number) => ProcessUsage | undefined): WorkerStats[] {
  const running = new Map<number, TaskRecord[]>();
  for (const t of input.tasks) {
    if (t.worker === undefined || t.started === undefined || t.ended !== undefined || t.outcome) continue;
    let list = running.get(t.worker);
    if (!list) running.set(t.worker, (list = []));
    list.push(t);
  }
  return [...input.workers]
    .sort((a, b) => a.id - b.id)
    .map((w) => {
      const tasks = (running.get(w.id) ?? []).sort((a, b) => a.started! - b.started!);
      const exited = w.exited !== undefined;
      // Only live workers are measured: a dead worker's pid may already belong to someone else.
      const u = exited ? undefined : usage(w.pid);
      const current = exited ? undefined : tasks[0];
      return {
        id: w.id,
        pid: w.pid,
        state: exited ? "exited" : w.ready === undefined ? "starting" : current ? "busy" : "idle",
        reason: w.reason,
        tasksDone: w.tasksDone,
        currentTask: current && { id: current.id, call: current.call, firstIndex: current.firstIndex, items: current.items, runningFor: now - current.started! },
        inFlight: exited ? 0 : tasks.length,
        rss: u?.rss,
        cpu: u ? u.cpuUser + u.cpuSystem : undefined,
        uptime: (w.exited ?? now) - w.spawned,
      } satisfies WorkerStats;
    });
}

function throughputWords(t: PoolStats["throughput"]): string {
  if (t.completed === 0) return "no completed tasks yet";
  return (
    `${formatCount(t.completed)} tasks (${formatCount(t.completedItems)} items) completed in ${formatDuration(t.activeTime)} of activity: ` +
    `${formatNumber(t.tasksPerSecond)} tasks/s, ${formatNumber(t.itemsPerSecond)} items/s`
  );
}

function stateLabel(s: TaskState): string {
  return s === "queued" || s === "running" ? s : OUTCOME_LABELS[s];
}

function colourOf(label: string): string {
  const state = OUTCOME_ORDER.find((o) => OUTCOME_LABELS[o] === label);
  return state && state !== "ok" && state !== "running" ? OUTCOME_COLOURS[state] : "inherit";
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ");
}
