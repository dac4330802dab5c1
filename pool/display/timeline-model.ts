/**
 * What a timeline shows, before any drawing: which time window, which tasks, one lane per
 * worker with its busy time. Kept apart from the SVG so the numbers can be read (and
 * checked) without parsing a picture.
 */

import type { CallRecord, TaskRecord, WorkerRecord } from "../records";
import { unionLength } from "./distribution";
import { OUTCOME_ORDER, type DrawnOutcome } from "./palette";

export interface TimelineInput {
  tasks: readonly TaskRecord[];
  workers: readonly WorkerRecord[];
  calls?: readonly CallRecord[];
  /** Show this time window (owner clock, ms) instead of one call. */
  window?: { from: number; to: number };
  /** Show this call (a CallRecord id). Default: the last map/imap/imapUnordered call. */
  call?: number;
  /** "Now" for tasks and workers still running; default the current time. */
  now?: number;
  /** Worker slots (the pool's maxWorkers) for the overall utilisation; default the most workers alive at once. */
  slots?: number;
}

export interface Lane {
  /** The worker ids drawn in this lane: one, or (packed) several that replaced one another. */
  ids: number[];
  /** Their records, where the pool has them. */
  records: WorkerRecord[];
  /** Tasks of the scope that ran (or run) in this lane, in start order. */
  tasks: TaskRecord[];
  /** Time with at least one task running, within the window (ms). */
  busy: number;
  /** busy / window length. */
  utilisation: number;
}

/**
 * More worker lanes than this, when workers replaced one another (recycling, crashes), are
 * packed: a replacement takes the lane of a worker that had exited, so the chart has one
 * lane per worker slot instead of a staircase of short lanes.
 */
export const MAX_WORKER_LANES = 16;

export interface TimelineModel {
  from: number;
  to: number;
  /** "map #3", "window", "all tasks": what was selected. */
  scope: string;
  call?: CallRecord;
  /** Tasks in scope, including those that never started. */
  tasks: TaskRecord[];
  lanes: Lane[];
  /** Whether lanes hold several successive workers (see MAX_WORKER_LANES). */
  packed: boolean;
  /** Tasks in scope by drawn outcome, plus "queued" (never started, no outcome yet). */
  counts: Record<DrawnOutcome | "queued", number>;
  items: number;
  busy: number;
  slots: number;
  /** Sum of lane busy time / (window x slots). */
  utilisation: number;
}

export function ownerNow(): number {
  return performance.timeOrigin + performance.now();
}

export function drawnOutcome(task: TaskRecord): DrawnOutcome | "queued" {
  if (task.outcome) return task.outcome;
  return task.started === undefined ? "queued" : "running";
}

/** The interval a task occupied its worker, or undefined if it never ran. */
export function runInterval(task: TaskRecord, now: number): [number, number] | undefined {
  if (task.started === undefined || task.worker === undefined) return undefined;
  return [task.started, task.ended ?? Math.max(task.started, now)];
}

export function buildTimeline(input: TimelineInput): TimelineModel {
  const now = input.now ?? ownerNow();
  const { from, to, scope, call, tasks } = selectScope(input, now);
  const span = Math.max(0, to - from);

  const recordById = new Map(input.workers.map((w) => [w.id, w]));
  const tasksByWorker = new Map<number, TaskRecord[]>();
  for (const w of input.workers) {
    if (w.spawned <= to && (w.exited ?? Infinity) >= from) tasksByWorker.set(w.id, []);
  }
  for (const t of tasks) {
    if (!runInterval(t, now) || t.worker === undefined) continue;
    let list = tasksByWorker.get(t.worker);
    if (!list) tasksByWorker.set(t.worker, (list = []));
    list.push(t);
  }
  const perWorker: Lane[] = [...tasksByWorker.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([id, list]) => ({ ids: [id], records: recordById.has(id) ? [recordById.get(id)!] : [], tasks: list, busy: 0, utilisation: 0 }));
  const packedLanes = perWorker.length > MAX_WORKER_LANES ? pack(perWorker, now) : perWorker;
  const packed = packedLanes.length < perWorker.length;
  const lanes = packed ? packedLanes : perWorker;

  let busy = 0;
  for (const lane of lanes) {
    lane.tasks.sort((a, b) => a.started! - b.started!);
    lane.busy = unionLength(lane.tasks.map((t) => runInterval(t, now)!), from, to);
    lane.utilisation = span > 0 ? lane.busy / span : 0;
    busy += lane.busy;
  }

  const counts = Object.fromEntries([...OUTCOME_ORDER, "queued"].map((o) => [o, 0])) as TimelineModel["counts"];
  for (const t of tasks) counts[drawnOutcome(t)]++;

  const slots = Math.max(1, input.slots ?? maxConcurrentWorkers(input.workers, from, to, now));
  return {
    from,
    to,
    scope,
    call,
    tasks,
    lanes,
    packed,
    counts,
    items: tasks.reduce((s, t) => s + t.items, 0),
    busy,
    slots,
    utilisation: span > 0 ? busy / (span * slots) : 0,
  };
}

function selectScope(
  input: TimelineInput,
  now: number,
): { from: number; to: number; scope: string; call?: CallRecord; tasks: TaskRecord[] } {
  if (input.window) {
    const { from, to } = input.window;
    if (!(to >= from)) throw new RangeError(`timeline window must have from <= to (got from=${from}, to=${to})`);
    const tasks = input.tasks.filter((t) => {
      const run = runInterval(t, now);
      if (!run) return t.submitted >= from && t.submitted <= to;
      // Overlap of positive length; a task that only touches an edge of the window is outside.
      return run[0] === run[1] ? run[0] >= from && run[0] <= to : run[0] < to && run[1] > from;
    });
    return { from, to, scope: "window", tasks };
  }

  const calls = input.calls ?? [];
  const call =
    input.call !== undefined
      ? calls.find((c) => c.id === input.call)
      : [...calls].reverse().find((c) => c.kind !== "submit");
  if (input.call !== undefined && !call) {
    throw new RangeError(`timeline: no call with id ${input.call} (known: ${calls.map((c) => c.id).join(", ") || "none"})`);
  }
  const tasks = call ? input.tasks.filter((t) => t.call === call.id) : [...input.tasks];
  // Loops, not Math.max(...spread): a pool's history can exceed the engine's argument limit.
  let first = Infinity;
  let last = -Infinity;
  for (const t of tasks) {
    first = Math.min(first, t.submitted);
    last = Math.max(last, t.ended ?? (t.started !== undefined ? now : t.submitted));
  }
  if (call) return { from: call.started, to: Math.max(call.ended ?? now, last), scope: `${call.kind} #${call.id}`, call, tasks };
  if (tasks.length === 0) return { from: now, to: now, scope: "all tasks", tasks };
  return { from: first, to: last, scope: "all tasks", tasks };
}

/** When a lane's worker lived: its record, or else the span of its tasks. */
function lifetime(lane: Lane, now: number): [number, number] {
  const r = lane.records[0];
  if (r) return [r.spawned, r.exited ?? Infinity];
  let first = Infinity;
  let last = -Infinity;
  for (const t of lane.tasks) {
    const [s, e] = runInterval(t, now)!;
    first = Math.min(first, s);
    last = Math.max(last, e);
  }
  return [first, last];
}

/** Greedy interval packing: each worker, in spawn order, joins the first lane free by then. */
function pack(perWorker: Lane[], now: number): Lane[] {
  const lanes: Array<Lane & { freeAt: number }> = [];
  const order = perWorker.map((l) => ({ lane: l, life: lifetime(l, now) })).sort((a, b) => a.life[0] - b.life[0] || a.lane.ids[0]! - b.lane.ids[0]!);
  for (const { lane, life } of order) {
    const target = lanes.find((l) => l.freeAt <= life[0]);
    if (target) {
      target.ids.push(...lane.ids);
      target.records.push(...lane.records);
      target.tasks.push(...lane.tasks);
      target.freeAt = life[1];
    } else {
      lanes.push({ ...lane, ids: [...lane.ids], records: [...lane.records], tasks: [...lane.tasks], freeAt: life[1] });
    }
  }
  return lanes.map(({ freeAt: _, ...lane }) => lane);
}

/** The most workers alive at the same moment within [from, to]: the slots they filled. */
function maxConcurrentWorkers(workers: readonly WorkerRecord[], from: number, to: number, now: number): number {
  const events: Array<[number, number]> = [];
  for (const w of workers) {
    const s = Math.max(w.spawned, from);
    const e = Math.min(w.exited ?? Math.max(now, to), to);
    if (e < s) continue;
    events.push([s, 1], [e, -1]);
  }
  // Starts before ends at the same instant would count a replacement and its predecessor
  // together; ends first.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let alive = 0;
  let most = 0;
  for (const [, delta] of events) {
    alive += delta;
    most = Math.max(most, alive);
  }
  return most;
}
