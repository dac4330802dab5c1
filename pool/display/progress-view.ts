/**
 * How a progress bar reads: one snapshot of a call's progress rendered as a text line (for
 * a terminal and text/plain) and as a small HTML bar (for a notebook). Pure functions of the
 * snapshot, so the reporter's timing and the wording can be tested apart.
 */

import { escapeHtml } from "./bundle";
import { formatCount, formatDuration, formatRate } from "./format";
import { OUTCOME_COLOURS } from "./palette";

export type ProgressEnd = "done" | "error" | "interrupted" | "cancelled";

export interface ProgressSnapshot {
  /** What is running: "map", "imapUnordered", "asCompleted". */
  label: string;
  /** Items in the call, when known. */
  total?: number;
  /** Items finished, failed ones included. */
  done: number;
  failed: number;
  elapsed: number;
  /** Set on the final snapshot. */
  end?: ProgressEnd;
  /** What is counted: "items". */
  unit: string;
}

const END_WORDS: Record<ProgressEnd, string> = {
  done: "✓",
  error: "✗ stopped by an error",
  interrupted: "✗ interrupted",
  cancelled: "✗ cancelled",
};

const END_COLOURS: Record<ProgressEnd | "running", string> = {
  done: OUTCOME_COLOURS.ok,
  error: OUTCOME_COLOURS.error,
  interrupted: OUTCOME_COLOURS.timeout,
  cancelled: OUTCOME_COLOURS.cancelled,
  running: "#0072B2",
};

function rate(s: ProgressSnapshot): number {
  return s.elapsed > 0 ? (s.done * 1000) / s.elapsed : 0;
}

function count(s: ProgressSnapshot): string {
  return s.total === undefined ? `${formatCount(s.done)} ${s.unit}` : `${formatCount(s.done)}/${formatCount(s.total)}`;
}

/** Everything but the bar: "412/1,000 · 41% · 2 failed · 1.30 s · 317 items/s · ETA 1.9 s". */
export function progressDetails(s: ProgressSnapshot): string {
  const failed = s.failed > 0 ? `${formatCount(s.failed)} failed` : "";
  if (s.end === "done") {
    // The state a saved notebook keeps: "map 1,000/1,000 ✓ 3.20 s, 312 items/s, 2 failed".
    return [`${count(s)} ${END_WORDS.done} ${formatDuration(s.elapsed)}`, s.done > 0 ? formatRate(rate(s), s.unit) : "", failed]
      .filter(Boolean)
      .join(", ");
  }
  if (s.end) {
    return [`${count(s)} ${END_WORDS[s.end]} after ${formatDuration(s.elapsed)}`, failed].filter(Boolean).join(", ");
  }
  const parts = [count(s)];
  if (s.total !== undefined && s.total > 0) parts.push(`${Math.floor((100 * s.done) / s.total)}%`);
  if (failed) parts.push(failed);
  parts.push(formatDuration(s.elapsed));
  if (s.done > 0) parts.push(formatRate(rate(s), s.unit));
  if (s.total !== undefined && s.done > 0 && s.done < s.total) parts.push(`ETA ${formatDuration(((s.total - s.done) * 1000) / rate(s))}`);
  return parts.join(" · ");
}

/** The text/plain form: the label, the details, and while running a bar of `barWidth` cells. */
export function progressText(s: ProgressSnapshot, barWidth = 20): string {
  if (s.end || s.total === undefined || barWidth <= 0) return `${s.label} ${progressDetails(s)}`;
  const filled = s.total > 0 ? Math.min(barWidth, Math.floor((barWidth * s.done) / s.total)) : 0;
  return `${s.label} [${"█".repeat(filled)}${"░".repeat(barWidth - filled)}] ${progressDetails(s)}`;
}

/** The text/html form: a bar (failed part in the error colour) followed by the same details. */
export function progressHtml(s: ProgressSnapshot): string {
  const state = s.end ?? "running";
  const total = s.total ?? 0;
  const okShare = total > 0 ? Math.min(100, (100 * (s.done - s.failed)) / total) : s.end === "done" ? 100 : 0;
  const failedShare = total > 0 ? Math.min(100 - okShare, (100 * s.failed) / total) : 0;
  const bar =
    s.total === undefined && !s.end
      ? ""
      : `<span style="display:inline-flex;width:16em;height:0.8em;background:#e6e6e6;border-radius:2px;overflow:hidden;vertical-align:middle">` +
        `<span style="width:${okShare.toFixed(2)}%;background:${END_COLOURS[state]}"></span>` +
        `<span style="width:${failedShare.toFixed(2)}%;background:${OUTCOME_COLOURS.error}"></span></span> `;
  return (
    `<div class="nbpool-progress" data-state="${state}" data-done="${s.done}" data-failed="${s.failed}"${s.total === undefined ? "" : ` data-total="${s.total}"`}` +
    ` style="font-family:var(--jp-code-font-family,monospace);font-size:0.9em">` +
    `<b>${escapeHtml(s.label)}</b> ${bar}${escapeHtml(progressDetails(s))}</div>`
  );
}
