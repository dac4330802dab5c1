/**
 * One colour per task outcome, the same in every chart and table. Okabe–Ito colours, which
 * stay distinguishable for the common forms of colour blindness.
 */

import type { TaskOutcome } from "../records";

/** A task's state as drawn: its outcome, or "running" while it has none. */
export type DrawnOutcome = TaskOutcome | "running";

export const OUTCOME_COLOURS: Record<DrawnOutcome, string> = {
  ok: "#009E73",
  error: "#D55E00",
  timeout: "#E69F00",
  crashed: "#7B2D8E",
  cancelled: "#999999",
  running: "#56B4E9",
};

/** Drawing and listing order: success first, then failures by severity, then the rest. */
export const OUTCOME_ORDER: readonly DrawnOutcome[] = ["ok", "error", "timeout", "crashed", "cancelled", "running"];

export const OUTCOME_LABELS: Record<DrawnOutcome, string> = {
  ok: "ok",
  error: "error",
  timeout: "timed out",
  crashed: "crashed",
  cancelled: "cancelled",
  running: "running",
};

/** The worker's lifetime band and its start-up part (spawn until ready). */
export const ALIVE_COLOUR = "#F2F2F2";
export const STARTING_COLOUR = "#D9D9D9";
/** Exits that lost work (crash, timeout, memory) versus orderly ones (shutdown, idle, recycled). */
export const BAD_EXIT_COLOUR = "#C00000";
export const GOOD_EXIT_COLOUR = "#777777";

export function isBadExit(reason: string | undefined): boolean {
  return reason === "crashed" || reason === "timeout" || reason === "memory" || reason === undefined;
}
