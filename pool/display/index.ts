/** nbpool's displays: progress, timeline, statistics, charts. The pool wires them in. */

export { DISPLAY, Displayable, displayBundle, isDisplayable } from "./bundle";
export { Timeline, MAX_BARS, type TimelineInput, type TimelineModel, type TimelineOptions, type Lane } from "./timeline";
export { PoolStats, type StatsInput, type WorkerStats, type Distribution } from "./stats";
export { readProcessUsage, type ProcessUsage } from "./proc";
export {
  createProgress,
  SHOW_MIN_ITEMS,
  SHOW_AFTER_MS,
  MIN_INTERVAL_MS,
  type ProgressOptions,
  type ProgressReporter,
  type ProgressEnd,
} from "./progress";
export { lineChart, barChart, Chart, type LineChartOptions, type BarChartOptions, type LineSeries } from "./plot";
export { explainDisplay, WorkerCountDisplay, type WorkerCountExplanation } from "./explain";
