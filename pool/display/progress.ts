/**
 * The progress reporter a pool creates for each map / imap / imapUnordered / asCompleted
 * call. The pool tells it how many items are done; it decides whether to show anything,
 * and how often.
 *
 * - Shown when the call has more than SHOW_MIN_ITEMS items (at once), or is still running
 *   after SHOW_AFTER_MS (however few items): a 3-item map that takes 40 ms needs no bar,
 *   a 3-item map that takes a minute does.
 * - At most one redraw per MIN_INTERVAL_MS (4/s); a burst of updates costs nothing, and the
 *   latest state is drawn when the interval is up. While nothing finishes, a redraw every
 *   HEARTBEAT_MS keeps elapsed time and ETA current.
 * - `finish` always draws the final state (done, error, interrupted, cancelled) if the bar
 *   was shown, so a saved notebook keeps a readable last line.
 * - Timers are unref'd (a bar never keeps a process alive) and nothing it does throws into
 *   the pool: a failing front end just stops getting updates.
 */

import { chooseSink, type ProgressSink } from "./progress-sinks";
import type { ProgressEnd, ProgressSnapshot } from "./progress-view";

export type { ProgressEnd, ProgressSnapshot };

export const SHOW_MIN_ITEMS = 8;
export const SHOW_AFTER_MS = 500;
export const MIN_INTERVAL_MS = 250;
export const HEARTBEAT_MS = 1000;

export interface ProgressOptions {
  /** What is running, as the user wrote it: "map", "imapUnordered", "asCompleted". */
  label: string;
  /** Items in the call, if known (an iterable's length is known only at its end: see setTotal). */
  total?: number;
  /** The host context (the calling cell); default the host's current context. */
  context?: unknown;
  /** The call's `progress` option; false shows nothing. */
  enabled?: boolean;
  /** What is counted; default "items". */
  unit?: string;
  /** Where to draw; default chosen from the environment (host, TTY on stderr, or nothing). */
  sink?: ProgressSink;
}

export interface ProgressReporter {
  /** `done` items finished so far (failed ones included), `failed` of them failed. */
  update(done: number, failed?: number): void;
  /** The total, once known (an imap over an iterable learns it at the end). */
  setTotal(total: number): void;
  /** The call ended; draws the final state if anything was shown. Later calls are ignored. */
  finish(end: ProgressEnd): void;
}

const SILENT: ProgressReporter = { update() {}, setTotal() {}, finish() {} };

export function createProgress(options: ProgressOptions): ProgressReporter {
  if (options.enabled === false || progressDisabledByEnv()) return SILENT;
  let sink: ProgressSink | undefined;
  try {
    sink = options.sink ?? chooseSink(options.context);
  } catch {
    return SILENT;
  }
  return sink ? new Progress(options, sink) : SILENT;
}

/** NBPOOL_PROGRESS=0 turns every bar off (for CI logs and scripts that share a terminal). */
function progressDisabledByEnv(): boolean {
  const v = process.env.NBPOOL_PROGRESS;
  return v !== undefined && /^(0|false|no|off)$/i.test(v.trim());
}

class Progress implements ProgressReporter {
  private readonly startedAt = performance.now();
  private total: number | undefined;
  private done = 0;
  private failed = 0;
  private shown = false;
  private ended: ProgressEnd | undefined;
  private broken = false;
  private lastDraw = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;

  constructor(
    private readonly options: ProgressOptions,
    private readonly sink: ProgressSink,
  ) {
    this.total = options.total;
    if (this.total !== undefined && this.total > SHOW_MIN_ITEMS) this.draw();
    else this.schedule(SHOW_AFTER_MS);
  }

  update(done: number, failed = 0): void {
    if (this.ended) return;
    this.done = done;
    this.failed = failed;
    if (!this.shown) return; // the show timer (or finish) decides
    const since = performance.now() - this.lastDraw;
    if (since >= MIN_INTERVAL_MS) this.draw();
    else this.schedule(MIN_INTERVAL_MS - since);
  }

  setTotal(total: number): void {
    if (this.ended) return;
    this.total = total;
    if (!this.shown && total > SHOW_MIN_ITEMS) this.draw();
  }

  finish(end: ProgressEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.cancelTimer();
    if (this.shown || this.elapsed() >= SHOW_AFTER_MS) this.draw();
  }

  private elapsed(): number {
    return performance.now() - this.startedAt;
  }

  /** Draw at the latest `delay` ms from now (an earlier pending draw stays). */
  private schedule(delay: number): void {
    const due = performance.now() + delay;
    if (this.timer && this.timerDue <= due) return;
    this.cancelTimer();
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.draw();
    }, Math.max(0, delay));
    this.timer.unref();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }

  private draw(): void {
    if (this.broken) return;
    const snapshot: ProgressSnapshot = {
      label: this.options.label,
      total: this.total,
      done: this.done,
      failed: this.failed,
      elapsed: this.elapsed(),
      end: this.ended,
      unit: this.options.unit ?? "items",
    };
    try {
      this.sink.show(snapshot);
    } catch {
      // A front end that cannot take the update (closed socket, broken pipe) must not turn
      // a working map into a failed one. Stop drawing instead.
      this.broken = true;
      this.cancelTimer();
      return;
    }
    this.shown = true;
    this.lastDraw = performance.now();
    if (!this.ended) this.schedule(HEARTBEAT_MS);
  }
}
